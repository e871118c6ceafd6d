-- Paid once: the create intent recorded before every create (begin_prediction_create), what a lost create
-- looks like afterwards, the re-send of a create whose window held nothing, and the cap on creates.
begin;
select plan(22);

insert into auth.users (id, email) values ('a0000000-0000-4000-8000-00000000000a', 'a@example.test');
insert into public.image_generations (id, user_id, prompt, status, replicate_model) values
  ('c0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a', 'a lighthouse', 'processing',
   'black-forest-labs/flux-schnell'),
  ('c0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-00000000000a', 'cancelled', 'failed',
   'black-forest-labs/flux-schnell');
create function pg_temp.begin(p_resend integer default null, p_max integer default 2) returns jsonb language sql as $$
  select public.begin_prediction_create('c0000000-0000-4000-8000-000000000001', p_max, p_resend)
$$;
create temporary table seen (name text primary key, sent_at timestamptz);

select is((select prediction_creates from public.image_generations where id = 'c0000000-0000-4000-8000-000000000001'),
  0, 'a new generation has sent no create');
select is(pg_temp.begin(), '{"outcome":"create","create_number":1}'::jsonb, 'the first create is create 1');
insert into seen select 'first', prediction_create_sent_at from public.image_generations
  where id = 'c0000000-0000-4000-8000-000000000001';
select ok((select sent_at = now() from seen where name = 'first'), 'its intent time is recorded before the POST');

-- No prediction id was recorded: the create's answer was lost.
select is(pg_temp.begin() - 'sent_at' - 'age_secs', '{"outcome":"uncertain","create_number":1}'::jsonb,
  'a create with no recorded prediction is uncertain: look for it first');
select ok((select (pg_temp.begin()->>'sent_at')::timestamptz = sent_at from seen where name = 'first'),
  'with the time its window starts from');
select ok((pg_temp.begin()->>'age_secs')::numeric >= 0, 'and its age on the database clock');
select is(pg_temp.begin(p_resend => 2)->>'outcome', 'uncertain', 'a re-send of another create number changes nothing');
select is((select prediction_creates from public.image_generations where id = 'c0000000-0000-4000-8000-000000000001'),
  1, 'still one create counted');

-- Its window was searched to the end, nothing found: the same create goes again, uncounted.
select is(pg_temp.begin(p_resend => 1), '{"outcome":"create","create_number":1}'::jsonb,
  'the searched create is sent again under the same number');
select ok((select g.prediction_creates = 1 and g.prediction_create_sent_at = s.sent_at
             from public.image_generations g, seen s
            where g.id = 'c0000000-0000-4000-8000-000000000001' and s.name = 'first'),
  'not counted again, and its window still starts at the first send');

-- Its prediction is recorded: nothing more is created.
select is(public.record_prediction('c0000000-0000-4000-8000-000000000001', 'p1')->>'outcome', 'recorded',
  'the prediction is recorded');
select is(pg_temp.begin(), '{"outcome":"held","replicate_prediction_id":"p1"}'::jsonb,
  'with a prediction recorded, no create: resume it');

-- It failed without running: forgotten, and the next create is a counted re-create.
select is(public.clear_prediction('c0000000-0000-4000-8000-000000000001', 'p1')->>'outcome', 'cleared',
  'the failed prediction is forgotten');
select ok((select prediction_create_sent_at is null and replicate_prediction_id is null
             from public.image_generations where id = 'c0000000-0000-4000-8000-000000000001'),
  'with its intent, so the next attempt creates rather than searches');
select is(pg_temp.begin(), '{"outcome":"create","create_number":2}'::jsonb, 'the re-create is create 2');
select is(public.record_prediction('c0000000-0000-4000-8000-000000000001', 'p2')->>'outcome', 'recorded',
  'and its prediction recorded');
select is(public.clear_prediction('c0000000-0000-4000-8000-000000000001', 'p2')->>'outcome', 'cleared',
  'that one failed too');
select is(pg_temp.begin(), '{"outcome":"cap_reached","creates":2}'::jsonb, 'the cap stops a third create');
select ok((select prediction_creates = 2 and prediction_create_sent_at is null
             from public.image_generations where id = 'c0000000-0000-4000-8000-000000000001'),
  'and changes nothing');

-- Bad input and finished or missing generations change nothing.
select throws_ok($$select pg_temp.begin(p_max => 0)$$, '22023', null, 'a cap below 1 is refused');
select is(public.begin_prediction_create('c0000000-0000-4000-8000-000000000002', 2, null),
  '{"outcome":"finished","status":"failed"}'::jsonb, 'a cancelled generation sends nothing');
select is(public.begin_prediction_create(gen_random_uuid(), 2, null), '{"outcome":"not_found"}'::jsonb,
  'a missing generation sends nothing');

select * from finish();
rollback;
