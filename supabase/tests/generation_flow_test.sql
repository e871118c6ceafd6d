-- A generation's life in SQL: the mobile app's own row attached by generate-image, the statuses clients
-- follow, completion writing the images rows in the same transaction, and cancel by the user.
begin;
select plan(31);

insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-00000000000a', 'a@example.test'),
  ('b0000000-0000-4000-8000-00000000000b', 'b@example.test');

select is((select count(*)::int from public.profiles), 2, 'every auth user gets a profile');

create temporary table ids (name text primary key, id uuid);
create function pg_temp.as_user(p_user uuid) returns void language sql as $$
  select set_config('request.jwt.claims', json_build_object('sub', p_user, 'role', 'authenticated')::text, true);
$$;
create function pg_temp.attach(p_user uuid, p_id uuid, p_limit integer default 10) returns jsonb language sql as $$
  select public.attach_generation(p_user, p_id, 'a lighthouse', 'black-forest-labs/flux-schnell',
    '{"width":1024,"height":1024,"num_outputs":1,"num_inference_steps":4}',
    '[{"field":"num_inference_steps","requested":30,"applied":4,"reason":"clamped"}]', p_limit)
$$;

-- The mobile app inserts its own pending row, as the user, with the columns it sends.
insert into ids values ('mobile', 'c0000000-0000-4000-8000-000000000001'),
                       ('early', 'c0000000-0000-4000-8000-000000000002');
set local role authenticated;
select pg_temp.as_user('a0000000-0000-4000-8000-00000000000a');
insert into public.image_generations (id, user_id, prompt, negative_prompt, model, style, width, height, steps,
                                      guidance_scale, status)
values ('c0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a', 'a lighthouse', null,
        'FLUX Schnell', 'photo', 1344, 768, 30, 3.5, 'pending');
reset role;
select is((select status from public.image_generations where id = (select id from ids where name = 'mobile')),
  'pending', 'the client''s row is pending');
select is((select count(*)::int from public.job_queue), 0, 'a client-inserted row runs nothing by itself');

-- generate-image attaches the validated request: another user's id is refused and changes nothing.
select is(pg_temp.attach('b0000000-0000-4000-8000-00000000000b', (select id from ids where name = 'mobile')),
  '{"outcome":"not_found"}'::jsonb, 'another user''s generation_id is not found');
select is(pg_temp.attach('b0000000-0000-4000-8000-00000000000b', gen_random_uuid()),
  '{"outcome":"not_found"}'::jsonb, 'a missing generation_id answers the same');
select is((select replicate_model from public.image_generations where id = (select id from ids where name = 'mobile')),
  null, 'the refused attach changed nothing');
create temporary table answers (name text primary key, answer jsonb);
insert into answers values ('attach', pg_temp.attach('a0000000-0000-4000-8000-00000000000a',
                                                    (select id from ids where name = 'mobile')));
select is((select answer->>'outcome' from answers where name = 'attach'), 'attached', 'the owner''s row is attached');
select ok(
  (select row(g.status, g.replicate_model, g.width, g.height, g.steps, g.model, g.style, jsonb_array_length(g.adjusted))
            = row('queued', 'black-forest-labs/flux-schnell', 1024, 1024, 4, 'FLUX Schnell', 'photo', 1)
     from public.image_generations g where g.id = (select id from ids where name = 'mobile')),
  'queued with the applied values and what was adjusted; the client''s display name and style are kept');
select is((select dedupe_key from public.job_queue where id = (select (answer->>'job_id')::bigint from answers
                                                               where name = 'attach')),
  'generate-image:' || (select id from ids where name = 'mobile'), 'its job is enqueued');
select is(pg_temp.attach('a0000000-0000-4000-8000-00000000000a', (select id from ids where name = 'mobile'))->>'outcome',
  'existing', 'a replayed attach finds the same generation');
select is((select count(*)::int from public.job_queue), 1, 'and enqueues nothing more');

-- The statuses the clients follow.
select is(public.start_generation_processing((select id from ids where name = 'mobile'))->>'status', 'processing',
  'the generate-image step makes it processing');
select is(public.record_prediction((select id from ids where name = 'mobile'), 'pred-1')->>'outcome', 'recorded',
  'its prediction is recorded');
select is(public.start_generation_download((select id from ids where name = 'mobile'))->>'status', 'downloading',
  'the download step makes it downloading');
insert into answers values ('complete', public.complete_generation((select id from ids where name = 'mobile'),
  '[{"storage_path":"a0000000-0000-4000-8000-00000000000a/x.webp","url":"https://h/x.webp","format":"webp","file_size":1234}]'));
select is((select answer->>'outcome' from answers where name = 'complete'), 'completed', 'completion answers completed');
select ok(
  (select row(i.user_id, i.generation_id, i.filename, i.public_url, i.format, i.file_size, i.width, i.height,
              i.prompt, i.model, i.style, i.is_public, i.is_favorite)
            = row('a0000000-0000-4000-8000-00000000000a'::uuid, (select id from ids where name = 'mobile'), 'x.webp',
                  'https://h/x.webp', 'webp', 1234::bigint, 1024, 1024, 'a lighthouse', 'FLUX Schnell', 'photo', false,
                  false)
     from public.images i where i.generation_id = (select id from ids where name = 'mobile')),
  'its images row holds the stored file and the generation''s details');
select is((select answer->'image'->>'id' from answers where name = 'complete'),
  (select id::text from public.images where generation_id = (select id from ids where name = 'mobile')),
  'completion answers the images row');
select ok((select status = 'completed' and generation_time_seconds >= 0 and completed_at is not null
                  and image_url = 'https://h/x.webp'
             from public.image_generations where id = (select id from ids where name = 'mobile')),
  'the row is completed with its generation time');
select is(public.complete_generation((select id from ids where name = 'mobile'),
  '[{"storage_path":"a0000000-0000-4000-8000-00000000000a/x.webp","url":"u"}]')->>'outcome', 'completed',
  'a repeated completion reports the finished status');
select is((select count(*)::int from public.images), 1, 'and writes no second images row');

-- Cancel: the user's UPDATE to failed, at each stage before completion.
select public.start_generation('a0000000-0000-4000-8000-00000000000a', 'cancel me', 'black-forest-labs/flux-schnell');
insert into ids select 'queued', id from public.image_generations where prompt = 'cancel me';
create temporary table queued_id as select id from ids where name = 'queued';
grant select on queued_id to authenticated;
set local role authenticated;
select pg_temp.as_user('a0000000-0000-4000-8000-00000000000a');
update public.image_generations set status = 'failed', error_message = 'Cancelled by user'
 where id = (select id from queued_id);
update public.image_generations set status = 'failed', error_message = 'x'
 where id = 'c0000000-0000-4000-8000-000000000001';
reset role;
select is((select status from public.image_generations where id = (select id from ids where name = 'mobile')),
  'completed', 'a completed row cannot be failed by its user (row security hides it from the update)');
select ok((select status = 'failed' and error_message = 'Cancelled by user' and completed_at is not null
             from public.image_generations where id = (select id from ids where name = 'queued')),
  'a cancelled row is failed and finished');
select is((select status from public.job_queue where dedupe_key = 'generate-image:' || (select id from ids where name = 'queued')),
  'cancelled', 'its waiting job is cancelled');
select is((select count(*)::int from public.claim_next_job('w', 10)
            where payload->>'generation_id' = (select id::text from ids where name = 'queued')), 0,
  'so no worker runs it');
select is(public.start_generation_processing((select id from ids where name = 'queued'))->>'status', 'failed',
  'a worker that had claimed it finds it failed');
select is(public.record_prediction((select id from ids where name = 'queued'), 'pred-late')->>'outcome', 'finished',
  'and a prediction created meanwhile is reported as unwanted');
select is(public.complete_generation((select id from ids where name = 'queued'),
  '[{"storage_path":"a/y.webp","url":"u"}]')->>'outcome', 'failed', 'and nothing completes it');
select is((select count(*)::int from public.images where generation_id = (select id from ids where name = 'queued')), 0,
  'no image is stored for it');

-- A pending client row cancelled before generate-image: the attach is refused.
set local role authenticated;
select pg_temp.as_user('a0000000-0000-4000-8000-00000000000a');
insert into public.image_generations (id, user_id, prompt, status)
values ('c0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-00000000000a', 'x', 'pending');
update public.image_generations set status = 'failed', error_message = 'Cancelled by user'
 where id = 'c0000000-0000-4000-8000-000000000002';
reset role;
select is(pg_temp.attach('a0000000-0000-4000-8000-00000000000a', (select id from ids where name = 'early'))->>'outcome',
  'not_pending', 'a cancelled row is not attached');

-- Clients see the models; the uuid the web app sends resolves to its catalog model.
select is(public.resolve_model((select id from public.models where replicate_id = 'black-forest-labs/flux-schnell'))->>'replicate_id',
  'black-forest-labs/flux-schnell', 'resolve_model maps a models.id to its catalog id');
select is(public.resolve_model(gen_random_uuid()), null, 'an unknown models.id resolves to nothing');

select * from finish();
rollback;
