-- Usage limits (migration ..._usage_limits.sql): a generation is charged its model's cost_weight × images
-- when accepted; per-user hour/day windows, anonymous users' own limits and pending images, the project's
-- hourly cap; a refusal writes nothing; a generation that failed before any prediction is refunded.
-- One transaction: now() stands still, so "time passing" is charges moved into the past.
begin;
select plan(42);

insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-00000000000a', 'a@example.test'),
  ('b0000000-0000-4000-8000-00000000000b', 'b@example.test'),
  ('c0000000-0000-4000-8000-00000000000c', null);

update public.usage_settings
   set user_units_per_hour = 100, user_units_per_day = 150,
       anonymous_units_per_hour = 10, anonymous_units_per_day = 20, anonymous_max_pending_images = 2,
       project_units_per_hour = 1000;

create function pg_temp.start(p_user uuid, p_model text, p_images integer,
                              p_anonymous boolean default false, p_max_pending integer default 10)
  returns jsonb language sql as $$
    select public.start_generation(
      p_user_id => p_user, p_prompt => 'a lighthouse', p_replicate_model => p_model,
      p_params => jsonb_build_object('num_outputs', p_images), p_max_pending => p_max_pending,
      p_anonymous => p_anonymous)
  $$;
create function pg_temp.counts(p_user uuid) returns text language sql as $$
  select format('generations=%s jobs=%s charges=%s',
    (select count(*) from public.image_generations where user_id = p_user),
    (select count(*) from public.job_queue where owner_id = p_user),
    (select count(*) from public.usage_charges where user_id = p_user))
$$;
create function pg_temp.project_units() returns bigint language sql as $$
  select coalesce(sum(units), 0) from public.usage_project_buckets
$$;
create temporary table answers (name text primary key, answer jsonb);

-- the weights come from the catalog
select is((select cost_weight from public.models where replicate_id = 'black-forest-labs/flux-schnell'), 3,
  'flux-schnell weighs 3 units ($0.003) per image');
select is((select cost_weight from public.models where replicate_id = 'black-forest-labs/flux-dev'), 25,
  'flux-dev weighs 25 units per image');

-- charged when accepted: weight × images
insert into answers values ('a1', pg_temp.start('a0000000-0000-4000-8000-00000000000a', 'black-forest-labs/flux-dev', 1));
select is((select answer->>'outcome' from answers where name = 'a1'), 'created', 'under every limit: created');
select is((select units from public.usage_charges where generation_id = (select (answer->>'generation_id')::uuid from answers where name = 'a1')),
  25, 'and charged one image of flux-dev');
select is((select owner_id from public.job_queue where payload->>'generation_id' = (select answer->>'generation_id' from answers where name = 'a1')),
  'a0000000-0000-4000-8000-00000000000a'::uuid, 'its job carries its owner (fair claiming)');
select is(pg_temp.project_units(), 25::bigint, 'and counted for the project');

-- the hourly window
insert into answers values ('a-over', pg_temp.start('a0000000-0000-4000-8000-00000000000a', 'black-forest-labs/flux-dev', 4));
select is((select answer - 'retry_after_seconds' from answers where name = 'a-over'),
  '{"outcome":"usage_limit","scope":"user_hour","limit":100,"used":25,"units":100}'::jsonb,
  'four more images would pass the hour: refused, saying which limit');
select is((select (answer->>'retry_after_seconds')::int from answers where name = 'a-over'), 3600,
  'retry when the charge that holds the room leaves the hour');
select is(pg_temp.counts('a0000000-0000-4000-8000-00000000000a'), 'generations=1 jobs=1 charges=1',
  'a refusal writes no generation, job or charge');
select is(pg_temp.project_units(), 25::bigint, 'nor project units');
select is((pg_temp.start('a0000000-0000-4000-8000-00000000000a', 'black-forest-labs/flux-dev', 3))->>'outcome',
  'created', 'exactly up to the limit: created (25 + 75 = 100)');
select is((pg_temp.start('a0000000-0000-4000-8000-00000000000a', 'black-forest-labs/flux-schnell', 1))->>'scope',
  'user_hour', 'then even the cheapest image waits');

-- two hours later: the hour is free again, the day is not
update public.usage_charges set charged_at = now() - interval '2 hours'
 where user_id = 'a0000000-0000-4000-8000-00000000000a';
select is((pg_temp.start('a0000000-0000-4000-8000-00000000000a', 'black-forest-labs/flux-dev', 2))->>'outcome',
  'created', 'a new hour: 50 units fit (day 150 of 150)');
insert into answers values ('a-day', pg_temp.start('a0000000-0000-4000-8000-00000000000a', 'black-forest-labs/flux-schnell', 1));
select is((select answer->>'scope' from answers where name = 'a-day'), 'user_day', 'the day is full');
select is((select (answer->>'retry_after_seconds')::int from answers where name = 'a-day'), 79200,
  'retry when the oldest charges leave the day (22 h)');

-- a request larger than the limit itself
update public.usage_settings set user_units_per_hour = 60;
select is(pg_temp.start('b0000000-0000-4000-8000-00000000000b', 'black-forest-labs/flux-dev', 4),
  '{"outcome":"usage_request_too_large","scope":"user_hour","limit":60,"units":100}'::jsonb,
  'a request over the hourly limit itself: refused, no retry time');
update public.usage_settings set user_units_per_hour = 100;

-- anonymous users: their own pending images and windows
insert into answers values ('g1', pg_temp.start('c0000000-0000-4000-8000-00000000000c', 'black-forest-labs/flux-schnell', 2, true));
select is((select answer->>'outcome' from answers where name = 'g1'), 'created', 'a guest starts two images');
select is(pg_temp.start('c0000000-0000-4000-8000-00000000000c', 'black-forest-labs/flux-schnell', 1, true),
  '{"outcome":"pending_limit","pending":2,"limit":2,"images":1}'::jsonb,
  'a guest may have 2 images in progress (not MAX_PENDING_GENERATIONS)');
update public.image_generations set status = 'completed', completed_at = now()
 where id = (select (answer->>'generation_id')::uuid from answers where name = 'g1');
select is((pg_temp.start('c0000000-0000-4000-8000-00000000000c', 'black-forest-labs/flux-schnell', 2, true))->>'scope',
  'anonymous_hour', 'the guest''s hour holds 10 units: 6 + 6 is refused');
select is((pg_temp.start('c0000000-0000-4000-8000-00000000000c', 'black-forest-labs/flux-dev', 1, true))->>'outcome',
  'usage_request_too_large', 'a guest cannot run a 25-unit model at all');
select is((pg_temp.start('c0000000-0000-4000-8000-00000000000c', 'black-forest-labs/flux-dev', 1))->>'outcome',
  'created', 'the same user signed in has the user limits');

-- pending images weigh their outputs
select is(pg_temp.start('b0000000-0000-4000-8000-00000000000b', 'black-forest-labs/flux-schnell', 4, p_max_pending => 4)->>'outcome',
  'created', 'four images fit a pending limit of four');
select is(pg_temp.start('b0000000-0000-4000-8000-00000000000b', 'black-forest-labs/flux-schnell', 1, p_max_pending => 4),
  '{"outcome":"pending_limit","pending":4,"limit":4,"images":1}'::jsonb,
  'one generation of four images counts four');
select is(pg_temp.start('b0000000-0000-4000-8000-00000000000b', 'black-forest-labs/flux-schnell', 5, p_max_pending => 8)->>'outcome',
  'pending_limit', '4 in progress and 5 more pass a limit of 8');

-- refunds: failed before any prediction → refunded; after a prediction → kept
select is((select count(*)::int from public.usage_charges where refunded_at is not null), 0, 'nothing refunded yet');
update public.image_generations set status = 'failed', error_message = 'Cancelled'
 where id = (select (answer->>'generation_id')::uuid from answers where name = 'a1');
select isnt((select refunded_at from public.usage_charges
              where generation_id = (select (answer->>'generation_id')::uuid from answers where name = 'a1')),
  null, 'a generation cancelled while queued is refunded');
select is(pg_temp.project_units(),
  (select sum(units) from public.usage_charges where refunded_at is null)::bigint,
  'and its units leave the project''s bucket');
create temporary table ran as
  select id from public.image_generations
   where user_id = 'a0000000-0000-4000-8000-00000000000a' and status = 'queued' limit 1;
update public.image_generations set replicate_prediction_id = 'p-ran' where id = (select id from ran);
update public.image_generations set status = 'failed', error_message = 'The model failed.'
 where id = (select id from ran);
select is((select refunded_at from public.usage_charges where generation_id = (select id from ran)), null,
  'a generation whose prediction ran is not refunded');
create temporary table sent as
  select id from public.image_generations
   where user_id = 'a0000000-0000-4000-8000-00000000000a' and status = 'queued' and id <> (select id from ran)
   limit 1;
update public.image_generations set prediction_creates = 1, prediction_create_sent_at = now()
 where id = (select id from sent);
update public.image_generations set status = 'failed', error_message = 'The model did not start.'
 where id = (select id from sent);
select is((select refunded_at from public.usage_charges where generation_id = (select id from sent)), null,
  'a generation whose create was sent (its answer maybe lost) is not refunded');
update public.image_generations set status = 'failed', error_message = 'again'
 where id = (select (answer->>'generation_id')::uuid from answers where name = 'a1');
select is(pg_temp.project_units(),
  (select sum(units) from public.usage_charges where refunded_at is null)::bigint,
  'a second update of the failed row refunds nothing more');

-- the project's hourly cap
update public.usage_settings set project_units_per_hour = pg_temp.project_units() + 10;
create temporary table before_cap as select pg_temp.project_units() as units;
insert into answers values ('b-cap', pg_temp.start('b0000000-0000-4000-8000-00000000000b', 'black-forest-labs/flux-dev', 1));
select is((select answer->>'scope' from answers where name = 'b-cap'), 'project_hour',
  'the project''s cap refuses what the user''s own limits allow');
select ok((select (answer->>'retry_after_seconds')::int between 1 and 3600 from answers where name = 'b-cap'),
  'with a retry time within the hour');
select is(pg_temp.project_units(), (select units from before_cap), 'the refused units are taken back out');
select is((pg_temp.start('b0000000-0000-4000-8000-00000000000b', 'black-forest-labs/flux-schnell', 3))->>'outcome',
  'created', 'nine units still fit under the cap');
update public.usage_project_buckets set bucket_start = bucket_start - interval '2 hours';
select is((pg_temp.start('b0000000-0000-4000-8000-00000000000b', 'black-forest-labs/flux-dev', 1))->>'outcome',
  'created', 'buckets older than the hour no longer count');

-- null = no limit
update public.usage_settings
   set user_units_per_hour = null, user_units_per_day = null, project_units_per_hour = null;
select is((pg_temp.start('a0000000-0000-4000-8000-00000000000a', 'black-forest-labs/flux-dev', 4, p_max_pending => 100))->>'outcome',
  'created', 'limits set to null do not limit');

-- settings are checked
select throws_ok($$update public.usage_settings set user_units_per_hour = -1$$, '23514', null,
  'a negative limit is refused');
select throws_ok($$insert into public.usage_settings (singleton) values (false)$$, '23514', null,
  'there is one settings row');

-- retention keeps a day
select throws_ok($$select public.prune_usage(interval '1 hour')$$, '22023', null,
  'pruning inside the day window is refused');
update public.usage_charges set charged_at = now() - interval '3 days'
 where user_id = 'c0000000-0000-4000-8000-00000000000c';
select is((public.prune_usage())->>'charges', '2', 'charges older than two days are deleted');

-- nothing here is for the API roles
set local role authenticated;
select throws_ok($$select * from public.usage_charges$$, '42501', null, 'users cannot read charges');
select throws_ok($$update public.usage_settings set user_units_per_hour = 1000000$$, '42501', null,
  'users cannot raise their limits');
reset role;

select * from finish();
rollback;
