-- Replicate webhooks: each delivery recorded once per webhook-id, the first terminal state of the
-- generation's current prediction stored and its parked job woken; redeliveries, out-of-order and
-- non-terminal events, other predictions and unknown generations change nothing; a delivery before the
-- create's answer records the prediction; park_job; the cancel trigger with a parked prediction.
begin;
select plan(36);

insert into auth.users (id, email) values ('a0000000-0000-4000-8000-00000000000a', 'a@example.test');
insert into public.image_generations (id, user_id, prompt, status, replicate_model) values
  ('c1000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a', 'parked', 'processing', 'black-forest-labs/flux-schnell'),
  ('c1000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-00000000000a', 'early', 'processing', 'black-forest-labs/flux-schnell'),
  ('c1000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-00000000000a', 'park me', 'processing', 'black-forest-labs/flux-schnell'),
  ('c1000000-0000-4000-8000-000000000004', 'a0000000-0000-4000-8000-00000000000a', 'cancel parked', 'processing', 'black-forest-labs/flux-schnell'),
  ('c1000000-0000-4000-8000-000000000005', 'a0000000-0000-4000-8000-00000000000a', 'cancel queued', 'queued', 'black-forest-labs/flux-schnell');
-- Generations 1, 3 and 4 run predictions p1, p3, p4 (create 1 sent and recorded); 2's create is on its way.
select public.begin_prediction_create(id, 2) from public.image_generations where prompt <> 'cancel queued';
select public.record_prediction('c1000000-0000-4000-8000-000000000001', 'p1');
select public.record_prediction('c1000000-0000-4000-8000-000000000003', 'p3');
select public.record_prediction('c1000000-0000-4000-8000-000000000004', 'p4');
-- Parked generate-image jobs (due in an hour), one running job, one queued job.
insert into public.job_queue (job_type, payload, dedupe_key, status, run_at, attempt_number, locked_by, locked_until)
select 'generate-image', jsonb_build_object('generation_id', g.id), 'generate-image:' || g.id, s.status,
       now() + interval '1 hour', 1, s.locked_by, s.locked_until
  from public.image_generations g
  join (values ('parked', 'pending', null, null), ('early', 'pending', null, null),
               ('park me', 'processing', 'w1', now() + interval '5 minutes'),
               ('cancel parked', 'pending', null, null), ('cancel queued', 'pending', null, null))
       as s(prompt, status, locked_by, locked_until) on s.prompt = g.prompt;

create function pg_temp.p(p_id text, p_status text) returns jsonb language sql as $$
  select jsonb_build_object('id', p_id, 'status', p_status, 'model', 'black-forest-labs/flux-schnell',
    'version', 'hidden', 'input', '{}'::jsonb, 'created_at', '2026-11-29T10:00:00Z',
    'urls', jsonb_build_object('get', 'g', 'cancel', 'c'),
    'output', case when p_status = 'succeeded' then '["https://replicate.delivery/p/out-0.webp"]'::jsonb end)
$$;
create function pg_temp.deliver(p_webhook text, p_gen text, p_pred text, p_status text, p_create integer default 1)
returns jsonb language sql as $$
  select public.record_replicate_webhook(p_webhook, ('c1000000-0000-4000-8000-00000000000' || p_gen)::uuid,
                                         p_create, pg_temp.p(p_pred, p_status))
$$;
create function pg_temp.job(p_gen text) returns public.job_queue language sql as $$
  select * from public.job_queue where dedupe_key = 'generate-image:c1000000-0000-4000-8000-00000000000' || p_gen
$$;

-- A non-terminal event stores nothing and wakes nothing.
select is(pg_temp.deliver('msg_start', '1', 'p1', 'processing'), '{"outcome":"not_final","woken":false}',
  'a start/processing event is not an outcome');
select ok((pg_temp.job('1')).run_at > now(), 'the parked job stays parked');

-- The completed webhook: stored, and the parked job is due now.
select is(pg_temp.deliver('msg_done', '1', 'p1', 'succeeded'), '{"outcome":"recorded","woken":true}',
  'the completed webhook is recorded and wakes the job');
select is((pg_temp.job('1')).run_at, now(), 'the parked job is due at once');
select is((pg_temp.job('1')).status, 'pending', 'and still pending, for the worker to claim');
select is(public.recorded_prediction_outcome('c1000000-0000-4000-8000-000000000001') ->> 'status', 'succeeded',
  'the worker reads the outcome without calling Replicate');
select is(public.recorded_prediction_outcome('c1000000-0000-4000-8000-000000000001') -> 'output',
  '["https://replicate.delivery/p/out-0.webp"]', 'with its outputs as delivered');

-- Replays, retries with the same webhook-id, later and out-of-order deliveries change nothing.
select is(pg_temp.deliver('msg_done', '1', 'p1', 'succeeded'), '{"outcome":"duplicate"}',
  'the same webhook-id again is a duplicate');
select is(pg_temp.deliver('msg_done', '1', 'p1', 'failed'), '{"outcome":"duplicate"}',
  'even with another body (a replay cannot rewrite an outcome)');
select is(pg_temp.deliver('msg_late', '1', 'p1', 'failed'), '{"outcome":"already_recorded","woken":false}',
  'another terminal delivery of the same prediction does not replace the first');
select is(pg_temp.deliver('msg_old', '1', 'p1', 'starting'), '{"outcome":"not_final","woken":false}',
  'an older event arriving after the end changes nothing');
select is(public.recorded_prediction_outcome('c1000000-0000-4000-8000-000000000001') ->> 'status', 'succeeded',
  'the first outcome stands');
select is((select count(*)::int from public.replicate_webhook_deliveries where prediction_id = 'p1'), 4,
  'one delivery row per webhook-id');

-- Deliveries for predictions the generation does not hold, or generations that do not exist.
select is(pg_temp.deliver('msg_other', '3', 'p-earlier', 'succeeded'), '{"outcome":"not_current","woken":false}',
  'an earlier create''s prediction is not the current one');
select is(pg_temp.deliver('msg_taken', '3', 'p1', 'succeeded'), '{"outcome":"not_current","woken":false}',
  'nor is another generation''s prediction');
select is(public.record_replicate_webhook('msg_ghost', 'c1000000-0000-4000-8000-0000000000ff', 1,
  pg_temp.p('p-ghost', 'succeeded')), '{"outcome":"unknown_generation","woken":false}', 'a deleted generation');
select is((select count(*)::int from public.replicate_prediction_outcomes), 1, 'none of them stored an outcome');

-- The webhook comes before the create's answer: the mark names the current create, so it is recorded.
select is(pg_temp.deliver('msg_wrong_create', '2', 'p2', 'succeeded', 2), '{"outcome":"not_current","woken":false}',
  'a delivery naming another create number than the one on its way is not taken');
select is(pg_temp.deliver('msg_early', '2', 'p2', 'succeeded', 1), '{"outcome":"recorded","woken":true}',
  'the delivery of the create on its way is recorded');
select is((select replicate_prediction_id from public.image_generations where id = 'c1000000-0000-4000-8000-000000000002'),
  'p2', 'and the prediction recorded on the generation, as the worker would have');
select is(public.record_prediction('c1000000-0000-4000-8000-000000000002', 'p2') ->> 'outcome', 'recorded',
  'the worker''s own record of the same id then agrees');

-- park_job: pending again without spending an attempt, due at the recheck...
select is(public.park_job((pg_temp.job('3')).id, 'w2', 60) ->> 'outcome', 'lease_lost',
  'only the lease holder parks its job');
select is(public.park_job((pg_temp.job('3')).id, 'w1', 60) - 'run_at', '{"outcome":"parked","ready":false}',
  'a running prediction parks its job');
select ok((pg_temp.job('3')).status = 'pending' and (pg_temp.job('3')).run_at = now() + interval '60 seconds',
  'due again at the recheck');
select is((pg_temp.job('3')).attempt_number, 0, 'its attempt given back');
-- ... or at once when the webhook came while the job was running (before it parked).
update public.job_queue set status = 'processing', locked_by = 'w3', attempt_number = 1
 where id = (pg_temp.job('3')).id;
select is(pg_temp.deliver('msg_p3', '3', 'p3', 'succeeded'), '{"outcome":"recorded","woken":false}',
  'a webhook for a running job wakes nothing (it is not parked)');
select is(public.park_job((pg_temp.job('3')).id, 'w3', 60) - 'run_at', '{"outcome":"parked","ready":true}',
  'the job then parks as ready');
select is((pg_temp.job('3')).run_at, now(), 'due at once: the webhook that came early is not waited for');

-- A cancel while parked: the job runs (to stop the prediction at Replicate) instead of being cancelled.
update public.image_generations set status = 'failed', error_message = 'Cancelled by user'
 where id in ('c1000000-0000-4000-8000-000000000004', 'c1000000-0000-4000-8000-000000000005');
select ok((pg_temp.job('4')).status = 'pending' and (pg_temp.job('4')).run_at = now(),
  'a parked job of a cancelled generation is made due, to cancel its prediction');
select is((pg_temp.job('5')).status, 'cancelled', 'a queued job with no prediction is cancelled as before');

-- Bad input is refused and stores nothing.
select throws_ok($$select public.record_replicate_webhook('', 'c1000000-0000-4000-8000-000000000001', 1, pg_temp.p('p1', 'succeeded'))$$,
  '22023', null, 'a webhook id is required');
select throws_ok($$select public.record_replicate_webhook('msg_x', 'c1000000-0000-4000-8000-000000000001', 1, '{"status":"succeeded"}')$$,
  '22023', null, 'a prediction id is required');
select ok(not exists (select from public.replicate_webhook_deliveries where webhook_id in ('', 'msg_x')),
  'refused deliveries leave no row');

-- Only the backend.
set local role authenticated;
select throws_ok($$select public.record_replicate_webhook('msg_u', 'c1000000-0000-4000-8000-000000000001', 1, '{}')$$,
  '42501', null, 'users cannot record deliveries');
select throws_ok($$select * from public.replicate_prediction_outcomes$$, '42501', null, 'nor read outcomes');
reset role;

-- Retention.
update public.replicate_webhook_deliveries set received_at = now() - interval '2 days' where webhook_id = 'msg_start';
select is(public.prune_replicate_webhooks() ->> 'deliveries_deleted', '1', 'deliveries a day old are pruned');

select * from finish();
rollback;
