-- The client contract in the database (docs/CLIENT_CONTRACT.md §1, §3-§5, §8 and docs/ARCHITECTURE.md
-- "Data model"): what each API role may touch, and row security as the Picture apps meet it through
-- PostgREST (`set local role` + the request's JWT claims). Runs in a fresh database made from the migrated
-- template, in a transaction that is rolled back.
--
-- A refusal may show as an error (no grant, a WITH CHECK policy, a guard trigger) or as zero rows (a USING
-- policy hides the row): contract_tap.try() answers the SQLSTATE or 'ok:<rows>', and a refused write is
-- checked as "not ok:1" plus the row left unchanged.
-- Assumptions where the design is silent:
-- - anon may read models and nothing else here; whether anon reads public images is left open.
-- - profiles: a user reads their own; anon writes nothing. Nothing else about profiles is pinned.
-- - image_generations.model_id is nullable (the mobile app's insert does not send it).
-- - A job id is written as an operator types it: complete_job(<number>, NULL, NULL) for bigint ids.
begin;
select plan(100);

create schema contract_tap;
grant usage on schema contract_tap to anon, authenticated, service_role;
create function contract_tap.try(statement text) returns text
language plpgsql as $$
declare
  n bigint;
begin
  execute statement;
  get diagnostics n = row_count;
  return 'ok:' || n;
exception when others then
  return sqlstate;
end;
$$;
grant execute on function contract_tap.try(text) to anon, authenticated, service_role;

-- Every column of a relation carries `privilege` for `role` (what select('*') needs).
create function contract_tap.all_columns(role text, relation text, privilege text) returns boolean
language sql as $$
  select coalesce(bool_and(has_column_privilege(role, relation::regclass, a.attname, privilege)), false)
    from pg_attribute a
   where a.attrelid = relation::regclass and a.attnum > 0 and not a.attisdropped
$$;

-- Any write at all (table or column level) for `role`.
create function contract_tap.can_write(role text, relation text) returns boolean
language sql as $$
  select has_any_column_privilege(role, relation::regclass, 'INSERT')
      or has_any_column_privilege(role, relation::regclass, 'UPDATE')
      or has_table_privilege(role, relation::regclass, 'DELETE')
      or has_table_privilege(role, relation::regclass, 'TRUNCATE')
$$;

-- Whether `role` may execute any / every overload of a public function.
create function contract_tap.executes(role text, fn text, every boolean) returns boolean
language sql as $$
  select case when every then bool_and(has_function_privilege(role, p.oid, 'EXECUTE'))
              else bool_or(has_function_privilege(role, p.oid, 'EXECUTE')) end
    from pg_proc p
   where p.pronamespace = 'public'::regnamespace and p.proname = fn
$$;

-- ---------------------------------------------------------------------------------------------------
-- Fixtures (as the backend: the database owner).
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-00000000000a', 'a@example.test'),
  ('b0000000-0000-4000-8000-00000000000b', 'b@example.test');

insert into public.image_generations (id, user_id, prompt, model, status) values
  ('a0000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-00000000000a', 'pending', 'FLUX Schnell', 'pending'),
  ('a0000000-0000-4000-8000-0000000000a2', 'a0000000-0000-4000-8000-00000000000a', 'queued', 'FLUX Schnell', 'queued'),
  ('a0000000-0000-4000-8000-0000000000a3', 'a0000000-0000-4000-8000-00000000000a', 'processing', 'FLUX Schnell', 'processing'),
  ('a0000000-0000-4000-8000-0000000000a4', 'a0000000-0000-4000-8000-00000000000a', 'downloading', 'FLUX Schnell', 'downloading'),
  ('a0000000-0000-4000-8000-0000000000a5', 'a0000000-0000-4000-8000-00000000000a', 'completed', 'FLUX Schnell', 'completed'),
  ('a0000000-0000-4000-8000-0000000000a6', 'a0000000-0000-4000-8000-00000000000a', 'untouched', 'FLUX Schnell', 'pending'),
  ('b0000000-0000-4000-8000-0000000000b1', 'b0000000-0000-4000-8000-00000000000b', 'b pending', 'FLUX Schnell', 'pending'),
  ('b0000000-0000-4000-8000-0000000000b2', 'b0000000-0000-4000-8000-00000000000b', 'b private', 'FLUX Schnell', 'completed'),
  ('b0000000-0000-4000-8000-0000000000b3', 'b0000000-0000-4000-8000-00000000000b', 'b public', 'FLUX Schnell', 'completed');

insert into public.images (id, user_id, generation_id, filename, storage_path, public_url, prompt, format, is_public)
values
  ('a0000000-0000-4000-8000-0000000000c5', 'a0000000-0000-4000-8000-00000000000a',
   'a0000000-0000-4000-8000-0000000000a5', 'a5.webp', 'a0000000-0000-4000-8000-00000000000a/a5.webp',
   'http://127.0.0.1:54321/storage/v1/object/public/generated-images/a0000000-0000-4000-8000-00000000000a/a5.webp',
   'completed', 'webp', false),
  ('b0000000-0000-4000-8000-0000000000c2', 'b0000000-0000-4000-8000-00000000000b',
   'b0000000-0000-4000-8000-0000000000b2', 'b2.webp', 'b0000000-0000-4000-8000-00000000000b/b2.webp',
   'http://127.0.0.1:54321/storage/v1/object/public/generated-images/b0000000-0000-4000-8000-00000000000b/b2.webp',
   'b private', 'webp', false),
  ('b0000000-0000-4000-8000-0000000000c3', 'b0000000-0000-4000-8000-00000000000b',
   'b0000000-0000-4000-8000-0000000000b3', 'b3.webp', 'b0000000-0000-4000-8000-00000000000b/b3.webp',
   'http://127.0.0.1:54321/storage/v1/object/public/generated-images/b0000000-0000-4000-8000-00000000000b/b3.webp',
   'b public', 'webp', true);

insert into storage.objects (bucket_id, name) values
  ('generated-images', 'a0000000-0000-4000-8000-00000000000a/a5.webp'),
  ('generated-images', 'b0000000-0000-4000-8000-00000000000b/b2.webp');

-- ---------------------------------------------------------------------------------------------------
-- Shape the clients rely on.
select is((select count(*)::int from public.profiles where id in
            ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-00000000000b')), 2,
  'a new auth user gets a profile');
select fk_ok('public', 'image_generations', array['user_id'], 'public', 'profiles', array['id'],
  'image_generations.user_id references profiles.id');
select fk_ok('public', 'image_generations', array['model_id'], 'public', 'models', array['id'],
  'image_generations.model_id references models.id');
select col_type_is('public', 'image_generations', 'model_id', 'uuid', 'image_generations.model_id is a uuid');
select fk_ok('public', 'images', array['generation_id'], 'public', 'image_generations', array['id'],
  'images.generation_id references image_generations.id (history embeds images through it)');
select col_type_is('public', 'models', 'id', 'uuid', 'models.id is a uuid');
select set_has(
  $$select tablename::text from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'public'$$,
  $$values ('image_generations'), ('images')$$,
  'image_generations and images are in the supabase_realtime publication'
);

-- ---------------------------------------------------------------------------------------------------
-- Grants by role.
select ok(not contract_tap.can_write('anon', 'public.image_generations')
          and not has_any_column_privilege('anon', 'public.image_generations', 'SELECT'),
  'anon: nothing on image_generations');
select ok(contract_tap.all_columns('authenticated', 'public.image_generations', 'SELECT'),
  'authenticated: every image_generations column readable (select(''*''))');
select ok(has_any_column_privilege('authenticated', 'public.image_generations', 'INSERT'),
  'authenticated: may insert image_generations (own pending rows, by RLS)');
select ok(has_any_column_privilege('authenticated', 'public.image_generations', 'UPDATE'),
  'authenticated: may update image_generations (own, to failed, by RLS)');
select ok(not has_table_privilege('authenticated', 'public.image_generations', 'DELETE')
          and not has_table_privilege('authenticated', 'public.image_generations', 'TRUNCATE'),
  'authenticated: no delete on image_generations');
select ok(has_table_privilege('service_role', 'public.image_generations', 'SELECT, INSERT, UPDATE, DELETE'),
  'service_role: everything on image_generations');

select ok(contract_tap.all_columns('authenticated', 'public.images', 'SELECT'),
  'authenticated: every images column readable');
select ok(has_any_column_privilege('authenticated', 'public.images', 'UPDATE')
          and has_table_privilege('authenticated', 'public.images', 'DELETE'),
  'authenticated: may update and delete images (own, by RLS)');
select ok(not has_any_column_privilege('authenticated', 'public.images', 'INSERT'),
  'authenticated: no insert on images (the backend writes them)');
select ok(not contract_tap.can_write('anon', 'public.images'), 'anon: no writes on images');
select ok(has_table_privilege('service_role', 'public.images', 'SELECT, INSERT, UPDATE, DELETE'),
  'service_role: everything on images');

select ok(contract_tap.all_columns('anon', 'public.models', 'SELECT'), 'anon: every models column readable');
select ok(contract_tap.all_columns('authenticated', 'public.models', 'SELECT'),
  'authenticated: every models column readable');
select ok(not contract_tap.can_write('anon', 'public.models')
          and not contract_tap.can_write('authenticated', 'public.models'),
  'anon, authenticated: no writes on models');
select ok(has_table_privilege('service_role', 'public.models', 'SELECT'), 'service_role: reads models');

select ok(not contract_tap.can_write('anon', 'public.profiles'), 'anon: no writes on profiles');

select ok(not contract_tap.can_write(r, 'public.job_queue')
          and not has_any_column_privilege(r, 'public.job_queue', 'SELECT'),
  format('%s: nothing on job_queue', r))
  from unnest(array['anon', 'authenticated']) as r;
select ok(has_table_privilege('service_role', 'public.job_queue', 'SELECT, INSERT, UPDATE, DELETE'),
  'service_role: everything on job_queue');
select ok(not has_table_privilege(r, 'public.' || v, 'SELECT'), format('%s: cannot read %s', r, v))
  from unnest(array['anon', 'authenticated']) as r,
       unnest(array['queue_health', 'failed_jobs_recent', 'stuck_jobs']) as v;
select ok(has_table_privilege('service_role', 'public.' || v, 'SELECT'), format('service_role: reads %s', v))
  from unnest(array['queue_health', 'failed_jobs_recent', 'stuck_jobs']) as v;
select ok(not coalesce(contract_tap.executes(r, f, false), false), format('%s: cannot execute %s', r, f))
  from unnest(array['anon', 'authenticated']) as r,
       unnest(array['enqueue_job', 'claim_next_job', 'complete_job']) as f;
select ok(coalesce(contract_tap.executes('service_role', f, true), false), format('service_role: executes %s', f))
  from unnest(array['enqueue_job', 'claim_next_job', 'complete_job']) as f;

-- ---------------------------------------------------------------------------------------------------
-- Row security as user A, with the claims PostgREST sets.
set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"a0000000-0000-4000-8000-00000000000a","role":"authenticated"}', true);
select set_config('request.jwt.claim.sub', 'a0000000-0000-4000-8000-00000000000a', true);

select is(auth.uid(), 'a0000000-0000-4000-8000-00000000000a'::uuid, 'auth.uid() is A');

-- INSERT: the mobile app's own pending row (imageGeneration.ts), returned as `.select().single()` asks.
select is(contract_tap.try($$
  insert into public.image_generations (id, user_id, prompt, negative_prompt, model, style, width, height, steps,
                                        guidance_scale, status)
  values ('a0000000-0000-4000-8000-0000000000a7', 'a0000000-0000-4000-8000-00000000000a', 'a lighthouse', null,
          'FLUX Schnell', null, 1024, 1024, 4, 0, 'pending')
  returning *$$), 'ok:1', 'A inserts their own pending row and reads it back');
select is(contract_tap.try($$
  insert into public.image_generations (id, user_id, prompt, model, width, height, steps, guidance_scale,
                                        source_image_url, generation_strength, status)
  values ('a0000000-0000-4000-8000-0000000000a8', 'a0000000-0000-4000-8000-00000000000a', 'a remix',
          'FLUX Dev', 1024, 1024, 28, 3.5, 'https://example.com/a.webp', 0.7, 'pending')
  returning *$$), 'ok:1', 'A inserts a remix row (source_image_url, generation_strength)');
select is(contract_tap.try($$
  insert into public.image_generations (user_id, prompt, model, status)
  values ('b0000000-0000-4000-8000-00000000000b', 'as b', 'FLUX Schnell', 'pending')$$), '42501',
  'A cannot insert a row for B');
select is(contract_tap.try($$
  insert into public.image_generations (user_id, prompt, model, status)
  values ('a0000000-0000-4000-8000-00000000000a', 'done', 'FLUX Schnell', 'completed')$$), '42501',
  'A cannot insert a completed row');
select is(contract_tap.try($$
  insert into public.image_generations (user_id, prompt, model, status)
  values ('a0000000-0000-4000-8000-00000000000a', 'queued', 'FLUX Schnell', 'queued')$$), '42501',
  'A cannot insert a queued row');

-- SELECT: own rows only.
select set_eq(
  $$select id::text from public.image_generations$$,
  $$values ('a0000000-0000-4000-8000-0000000000a1'), ('a0000000-0000-4000-8000-0000000000a2'),
           ('a0000000-0000-4000-8000-0000000000a3'), ('a0000000-0000-4000-8000-0000000000a4'),
           ('a0000000-0000-4000-8000-0000000000a5'), ('a0000000-0000-4000-8000-0000000000a6'),
           ('a0000000-0000-4000-8000-0000000000a7'), ('a0000000-0000-4000-8000-0000000000a8')$$,
  'A sees exactly their own generations'
);
select is_empty($$select 1 from public.image_generations where user_id = 'b0000000-0000-4000-8000-00000000000b'$$,
  'A cannot see B''s generations');

-- UPDATE: own rows to failed (cancel) from every unfinished status; nothing else.
select is(contract_tap.try(format($$update public.image_generations
    set status = 'failed', error_message = 'Cancelled by user' where id = %L$$, id)), 'ok:1',
  format('A cancels their %s row', s))
  from (values ('a0000000-0000-4000-8000-0000000000a1', 'pending'), ('a0000000-0000-4000-8000-0000000000a2', 'queued'),
               ('a0000000-0000-4000-8000-0000000000a3', 'processing'),
               ('a0000000-0000-4000-8000-0000000000a4', 'downloading')) as c (id, s);
select is(
  (select string_agg(distinct status || '/' || error_message, ',') from public.image_generations
    where id in ('a0000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-0000000000a2',
                 'a0000000-0000-4000-8000-0000000000a3', 'a0000000-0000-4000-8000-0000000000a4')),
  'failed/Cancelled by user', 'the cancelled rows say so');

select isnt(contract_tap.try($$update public.image_generations set status = 'completed'
  where id = 'a0000000-0000-4000-8000-0000000000a6'$$), 'ok:1', 'A cannot complete their row');
select isnt(contract_tap.try($$update public.image_generations set status = 'processing'
  where id = 'a0000000-0000-4000-8000-0000000000a6'$$), 'ok:1', 'A cannot move their row to processing');
select isnt(contract_tap.try($$update public.image_generations set prompt = 'changed'
  where id = 'a0000000-0000-4000-8000-0000000000a6'$$), 'ok:1', 'A cannot change the prompt');
select isnt(contract_tap.try($$update public.image_generations set status = 'failed', prompt = 'changed'
  where id = 'a0000000-0000-4000-8000-0000000000a6'$$), 'ok:1', 'A cannot change other columns while failing it');
select isnt(contract_tap.try($$update public.image_generations set status = 'failed',
  user_id = 'b0000000-0000-4000-8000-00000000000b' where id = 'a0000000-0000-4000-8000-0000000000a6'$$), 'ok:1',
  'A cannot hand their row to B');
select isnt(contract_tap.try($$update public.image_generations set status = 'failed', completed_at = now(),
  generation_time_seconds = 1 where id = 'a0000000-0000-4000-8000-0000000000a6'$$), 'ok:1',
  'A cannot set backend columns');
select is((select status || '/' || prompt || '/' || user_id from public.image_generations
            where id = 'a0000000-0000-4000-8000-0000000000a6'),
  'pending/untouched/a0000000-0000-4000-8000-00000000000a', 'the refused updates changed nothing');
select isnt(contract_tap.try($$update public.image_generations set status = 'failed', error_message = 'x'
  where id = 'a0000000-0000-4000-8000-0000000000a5'$$), 'ok:1', 'A cannot fail a completed row');
select is((select status from public.image_generations where id = 'a0000000-0000-4000-8000-0000000000a5'),
  'completed', 'the completed row stays completed');
select is(contract_tap.try($$update public.image_generations set status = 'failed', error_message = 'x'
  where id = 'b0000000-0000-4000-8000-0000000000b1'$$), 'ok:0', 'A cannot touch B''s row');
select isnt(contract_tap.try($$delete from public.image_generations
  where id = 'a0000000-0000-4000-8000-0000000000a6'$$), 'ok:1', 'A cannot delete their generation');

-- images: own and public visible; own updated and deleted; none inserted.
select set_eq($$select id::text from public.images$$,
  $$values ('a0000000-0000-4000-8000-0000000000c5'), ('b0000000-0000-4000-8000-0000000000c3')$$,
  'A sees their own images and public ones');
select is(contract_tap.try($$update public.images set is_favorite = true, archived_at = now()
  where id = 'a0000000-0000-4000-8000-0000000000c5'$$), 'ok:1', 'A favourites and archives their image');
select isnt(contract_tap.try($$update public.images set is_favorite = true
  where id = 'b0000000-0000-4000-8000-0000000000c3'$$), 'ok:1', 'A cannot update B''s public image');
select isnt(contract_tap.try($$delete from public.images where id = 'b0000000-0000-4000-8000-0000000000c3'$$),
  'ok:1', 'A cannot delete B''s public image');
select is(contract_tap.try($$delete from public.images where id = 'a0000000-0000-4000-8000-0000000000c5'$$),
  'ok:1', 'A deletes their image');
select is(contract_tap.try($$insert into public.images (user_id, generation_id, filename, storage_path, prompt)
  values ('a0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-0000000000a6', 'x.webp',
          'a0000000-0000-4000-8000-00000000000a/x.webp', 'x')$$), '42501', 'A cannot insert images');

-- Storage: the user deletes objects in their own folder only (as Storage runs it, with the user's role).
select is(contract_tap.try($$delete from storage.objects where bucket_id = 'generated-images'
  and name = 'a0000000-0000-4000-8000-00000000000a/a5.webp'$$), 'ok:1', 'A deletes an object in their folder');
select is(contract_tap.try($$delete from storage.objects where bucket_id = 'generated-images'
  and name = 'b0000000-0000-4000-8000-00000000000b/b2.webp'$$), 'ok:0', 'A cannot delete B''s object');

-- profiles, models, and no queue.
select is((select count(*)::int from public.profiles where id = 'a0000000-0000-4000-8000-00000000000a'), 1,
  'A reads their profile');
select ok((select count(*) from public.models where is_active) > 0, 'A reads the models');
select is(contract_tap.try(s), '42501', format('A: %s is refused', s))
  from unnest(array[
    'select * from public.job_queue',
    'select * from public.queue_health',
    'select * from public.failed_jobs_recent',
    'select * from public.stuck_jobs',
    $$select public.enqueue_job('generate-image', '{}'::jsonb, 0)$$,
    'select * from public.claim_next_job()',
    'select public.complete_job(1, NULL, NULL)'
  ]) as s;
reset role;

-- ---------------------------------------------------------------------------------------------------
-- anon (the anon key, signed out).
set local role anon;
select set_config('request.jwt.claims', '{"role":"anon"}', true);
select set_config('request.jwt.claim.sub', '', true);
select ok((select count(*) from public.models where is_active) > 0, 'anon reads the models');
select is(contract_tap.try(s), '42501', format('anon: %s is refused', what))
  from (values
    ('reading generations', 'select * from public.image_generations'),
    ('inserting a generation', $$insert into public.image_generations (user_id, prompt, status)
      values ('a0000000-0000-4000-8000-00000000000a', 'x', 'pending')$$),
    ('updating models', 'update public.models set is_active = false'),
    ('inserting models', $$insert into public.models (name, display_name, replicate_id) values ('x', 'x', 'x/y')$$),
    ('deleting models', 'delete from public.models'),
    ('reading the queue', 'select * from public.job_queue'),
    ('enqueue_job', $$select public.enqueue_job('generate-image', '{}'::jsonb, 0)$$)
  ) as c (what, s);
select isnt(contract_tap.try($$update public.images set is_public = false$$), 'ok:1', 'anon cannot update images');
select is(contract_tap.try($$delete from storage.objects where bucket_id = 'generated-images'$$), 'ok:0',
  'anon cannot delete Storage objects');
reset role;

-- ---------------------------------------------------------------------------------------------------
-- service_role: everything, including the operators' queue calls.
set local role service_role;
select set_config('request.jwt.claims', '{"role":"service_role"}', true);
select is((select count(*)::int from public.image_generations), 11, 'service_role sees every generation');
select matches(contract_tap.try($$select public.enqueue_job('generate-image', '{}'::jsonb, 0)$$), '^ok:',
  'service_role enqueues (type, payload, priority)');
select is((select count(*)::int from public.claim_next_job()), 1, 'service_role claims with claim_next_job()');
select matches(contract_tap.try(format('select public.complete_job(%s, NULL, NULL)',
    (select id from public.job_queue where status = 'processing' limit 1))), '^ok:',
  'service_role completes with complete_job(<id>, NULL, NULL)');
select is((select count(*)::int from public.queue_health where status = 'completed'), 1,
  'service_role reads queue_health');
reset role;

select * from finish();
rollback;
