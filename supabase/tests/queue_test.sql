-- The queue functions' contracts: claiming, leases, completion, retries with backoff, dead jobs,
-- dedupe, lease takeover and refused late completions, the stats view, retention, the wake-up call,
-- and the seed's monitoring SQL. now() is fixed within a transaction, so "time passing" is simulated by
-- moving run_at / locked_until into the past.
begin;
select plan(66);

insert into auth.users (id, email) values ('a0000000-0000-4000-8000-00000000000a', 'a@example.test');

create function pg_temp.job(p_id bigint) returns public.job_queue language sql as
  $$ select * from public.job_queue where id = p_id $$;
create function pg_temp.claim(p_worker text, p_batch integer default 1, p_lease integer default 300)
  returns setof bigint language sql as
  $$ select id from public.claim_next_job(p_worker, p_batch, p_lease) order by id $$;
create temporary table ids (name text primary key, id bigint);

-- enqueue_job
insert into ids values ('a', public.enqueue_job('download-image', '{"n":"a"}'));
select ok((select status = 'pending' and attempt_number = 0 and max_attempts = 3 and run_at = now()
                  and locked_by is null and dedupe_key is null
             from pg_temp.job((select id from ids where name = 'a'))), 'enqueue_job: defaults');
insert into ids values ('future', public.enqueue_job('download-image', '{}', now() + interval '1 hour', 5));
select is((pg_temp.job((select id from ids where name = 'future'))).max_attempts, 5, 'enqueue_job: max_attempts');
select throws_ok($$select public.enqueue_job('paint-house', '{}')$$, '23514', null, 'enqueue_job: unknown job type refused');
select throws_ok($$select public.enqueue_job('download-image', '[1]')$$, '23514', null, 'enqueue_job: payload must be an object');

-- claim_next_job: due only, fixed order, batch, lease fields
insert into ids values ('b', public.enqueue_job('download-image', '{"n":"b"}', now() - interval '1 minute'));
insert into ids values ('c', public.enqueue_job('generate-image', '{"n":"c"}'));
select results_eq($$select pg_temp.claim('w1', 2)$$,
  $$select id from ids where name in ('a', 'b') order by id$$,
  'claim: the two earliest due jobs, in run_at order');
select ok((select status = 'processing' and attempt_number = 1 and locked_by = 'w1'
                  and locked_until = now() + interval '300 seconds'
             from pg_temp.job((select id from ids where name = 'b'))), 'claim: sets processing, attempt, holder, lease');
select results_eq($$select pg_temp.claim('w2', 10, 60)$$, $$select id from ids where name = 'c'$$,
  'claim: held and future jobs are not claimable');
select is((pg_temp.job((select id from ids where name = 'c'))).locked_until, now() + interval '60 seconds',
  'claim: lease length is honoured');
select is_empty($$select pg_temp.claim('w3')$$, 'claim: nothing left');
select throws_ok($$select pg_temp.claim('', 1)$$, '22023', null, 'claim: worker id required');
select throws_ok($$select pg_temp.claim('w', 0)$$, '22023', null, 'claim: batch must be positive');
select throws_ok($$select pg_temp.claim('w', 1, 0)$$, '22023', null, 'claim: lease must be positive');

-- complete_job: success, and only by the holder
select is(public.complete_job((select id from ids where name = 'a'), 'w2', true) ->> 'outcome', 'lease_lost',
  'complete: a non-holder gets lease_lost');
select is((pg_temp.job((select id from ids where name = 'a'))).status, 'processing', 'complete: ...and nothing changed');
select is(public.complete_job((select id from ids where name = 'a'), 'w1', true, result => '{"stored":"x.png"}'),
  '{"outcome":"completed"}'::jsonb, 'complete: the holder completes');
select ok((select status = 'completed' and completed_at = now() and result = '{"stored":"x.png"}'
                  and locked_by is null and locked_until is null and error_message is null
             from pg_temp.job((select id from ids where name = 'a'))), 'complete: completed row');
select is(public.complete_job((select id from ids where name = 'a'), 'w1', true) ->> 'outcome', 'lease_lost',
  'complete: completing twice is refused');
select is(public.complete_job(999999, 'w1', true) ->> 'outcome', 'not_found', 'complete: unknown job');

-- failure with attempts left: back to pending after backoff with jitter
select is(public.complete_job((select id from ids where name = 'b'), 'w1', false, 'Replicate 503') ->> 'outcome',
  'retrying', 'fail: retryable with attempts left retries');
select ok((select status = 'pending' and locked_by is null and locked_until is null
                  and error_message = 'Replicate 503'
                  and run_at between now() + interval '7.5 seconds' and now() + interval '12.5 seconds'
             from pg_temp.job((select id from ids where name = 'b'))), 'fail: first retry in 10 s ± 25%');
select is_empty($$select pg_temp.claim('w1')$$, 'fail: not claimable before its run_at');
update public.job_queue set run_at = now() - interval '1 second' where id = (select id from ids where name = 'b');
select results_eq($$select pg_temp.claim('w1')$$, $$select id from ids where name = 'b'$$, 'fail: claimable when due');
select is((pg_temp.job((select id from ids where name = 'b'))).attempt_number, 2, 'fail: attempt 2');
select ok((public.complete_job((select id from ids where name = 'b'), 'w1', false, 'again', retry_delay_seconds => 30)
           ->> 'run_at')::timestamptz = now() + interval '30 seconds', 'fail: an explicit retry delay (retry_after) wins');
update public.job_queue set run_at = now() - interval '1 second' where id = (select id from ids where name = 'b');
select results_eq($$select pg_temp.claim('w1')$$, $$select id from ids where name = 'b'$$, 'fail: third attempt claimed');

-- dead after max attempts: the job and its generation fail with the reason
insert into public.image_generations (user_id, prompt, replicate_model)
  values ('a0000000-0000-4000-8000-00000000000a', 'a fox', 'black-forest-labs/flux-schnell');
update public.job_queue set payload = (select jsonb_build_object('generation_id', id) from public.image_generations limit 1)
 where id = (select id from ids where name = 'b');
select is(public.complete_job((select id from ids where name = 'b'), 'w1', false, 'Replicate is down') ->> 'outcome',
  'failed', 'dead: the last attempt fails the job');
select ok((select status = 'failed' and error_message = 'Replicate is down' and completed_at = now()
             from pg_temp.job((select id from ids where name = 'b'))), 'dead: failed row with the reason');
select ok((select status = 'failed' and error_message = 'Replicate is down' and completed_at is not null
             from public.image_generations limit 1), 'dead: the generation fails with the same reason');
select results_eq($$SELECT error_message FROM job_queue WHERE status='failed';$$,
  array['Replicate is down'], 'the seed''s failed-jobs query shows the reason');

-- non-retryable failure fails at once, whatever attempts are left
insert into ids values ('d', public.enqueue_job('generate-image', '{}'));
select pg_temp.claim('w1');
select is(public.complete_job((select id from ids where name = 'd'), 'w1', false, 'NSFW content detected',
  retryable => false) ->> 'outcome', 'failed', 'permanent: non-retryable fails on attempt 1');
select is(public.complete_job((select id from ids where name = 'c'), 'w2', false, '  ') ->> 'outcome', 'retrying',
  'a blank reason still retries');
select is((pg_temp.job((select id from ids where name = 'c'))).error_message,
  'The image could not be generated; please try again.', 'a blank reason is replaced by a readable one');

-- backoff schedule: doubling, capped, jittered within bounds
select ok((select bool_and(d between make_interval(secs => least(600, 10 * power(2, n - 1)) * 0.75)
                                 and make_interval(secs => least(600, 10 * power(2, n - 1)) * 1.25))
             from (select n, public.job_retry_delay(n) as d from generate_series(1, 12) n, generate_series(1, 20)) s),
  'backoff: 10 s doubling per attempt, capped at 600 s, ±25%');
select ok((select count(distinct public.job_retry_delay(1)) > 1 from generate_series(1, 20)), 'backoff: jittered');
select is(public.job_retry_delay(3, 2, 100, 0), interval '8 seconds', 'backoff: base * 2^(attempt-1) without jitter');
select is(public.job_retry_delay(20, 2, 100, 0), interval '100 seconds', 'backoff: capped');

-- leases: extension, takeover after expiry, refused late completion
insert into ids values ('e', public.enqueue_job('download-image', '{"n":"e"}'));
select results_eq($$select pg_temp.claim('slow', 1, 30)$$, $$select id from ids where name = 'e'$$, 'lease: claimed by slow');
select is(public.extend_lease((select id from ids where name = 'e'), 'slow', 600) ->> 'outcome', 'extended',
  'lease: the holder extends');
select is((pg_temp.job((select id from ids where name = 'e'))).locked_until, now() + interval '600 seconds',
  'lease: extended to now() + seconds');
select is(public.extend_lease((select id from ids where name = 'e'), 'other', 600) ->> 'outcome', 'lease_lost',
  'lease: a non-holder cannot extend');
select is_empty($$select pg_temp.claim('fast')$$, 'lease: a live lease is not taken');
update public.job_queue set locked_until = now() - interval '1 second' where id = (select id from ids where name = 'e');
select results_eq($$select pg_temp.claim('fast')$$, $$select id from ids where name = 'e'$$,
  'lease: an expired lease is claimable again (crash recovery)');
select ok((select locked_by = 'fast' and attempt_number = 2 from pg_temp.job((select id from ids where name = 'e'))),
  'lease: the new holder, attempt counted');
select ok((select public.complete_job((select id from ids where name = 'e'), 'slow', true)
                   @> '{"outcome":"lease_lost","locked_by":"fast"}'), 'lease: the old holder is told who holds it');
select is((pg_temp.job((select id from ids where name = 'e'))).status, 'processing', 'lease: its completion changed nothing');
select is(public.extend_lease((select id from ids where name = 'e'), 'slow', 60) ->> 'outcome', 'lease_lost',
  'lease: nor can it extend');
select is(public.complete_job((select id from ids where name = 'e'), 'fast', true) ->> 'outcome', 'completed',
  'lease: the new holder completes');

-- an expired lease on the last attempt fails the job instead of exceeding max_attempts
insert into ids values ('f', public.enqueue_job('generate-image', '{}', max_attempts => 1));
select pg_temp.claim('crashy');
update public.job_queue set locked_until = now() - interval '1 second' where id = (select id from ids where name = 'f');
select is_empty($$select pg_temp.claim('w9')$$, 'crash on the last attempt: not claimed again');
select ok((select status = 'failed' and error_message = 'The generation was interrupted; please try again.'
                  and error_details ->> 'code' = 'worker_stopped'
                  and error_details ->> 'detail' like 'lease expired during attempt 1 of 1 (worker crashy%'
             from pg_temp.job((select id from ids where name = 'f'))),
  'crash on the last attempt: failed with the user''s sentence, which worker stopped in error_details');

-- error text: the generation (which its user reads) gets `error`, the detail stays on the job.
-- pg_temp.hold claims one job by id as claim_next_job would (other due jobs are left alone).
create function pg_temp.hold(p_id bigint, p_worker text) returns void language sql as
  $$ update public.job_queue set status = 'processing', attempt_number = attempt_number + 1,
            locked_by = p_worker, locked_until = now() + interval '5 minutes' where id = p_id $$;
insert into public.image_generations (id, user_id, prompt, status, replicate_model)
values ('e0000000-0000-4000-8000-0000000000e1', 'a0000000-0000-4000-8000-00000000000a', 'p', 'queued', 'm/n');
insert into ids values ('g1', public.enqueue_job('download-image',
  '{"generation_id": "e0000000-0000-4000-8000-0000000000e1"}', max_attempts => 2));
select pg_temp.hold((select id from ids where name = 'g1'), 'w-err');
select is(public.complete_job((select id from ids where name = 'g1'), 'w-err', false,
  'Saving the image failed; please try again.',
  error_details => '{"code": "storage_error", "detail": "Storage answered 503: too many connections"}')
  ->> 'outcome', 'retrying', 'error text: a retry');
select is((select error_details ->> 'detail' from pg_temp.job((select id from ids where name = 'g1'))),
  'Storage answered 503: too many connections', 'error text: a retry keeps its detail on the job');
select pg_temp.hold((select id from ids where name = 'g1'), 'w-err');
select public.complete_job((select id from ids where name = 'g1'), 'w-err', false,
  'Saving the image failed; please try again.',
  error_details => '{"code": "storage_error", "detail": "Storage refused the image (403): bucket secret-bucket"}');
select results_eq(
  $$select g.status, g.error_message, j.error_details ->> 'detail'
      from public.image_generations g, public.job_queue j
     where g.id = 'e0000000-0000-4000-8000-0000000000e1' and j.id = (select id from ids where name = 'g1')$$,
  $$values ('failed', 'Saving the image failed; please try again.',
            'Storage refused the image (403): bucket secret-bucket')$$,
  'error text: the generation holds the sentence, the job the detail');
insert into ids values ('g2', public.enqueue_job('download-image', '{}'));
select pg_temp.hold((select id from ids where name = 'g2'), 'w-ok');
select public.complete_job((select id from ids where name = 'g2'), 'w-ok', false, 'x',
  error_details => '{"code": "database_error", "detail": "d"}');
select pg_temp.hold((select id from ids where name = 'g2'), 'w-ok');
select public.complete_job((select id from ids where name = 'g2'), 'w-ok', true);
select ok((select error_message is null and error_details is null
             from pg_temp.job((select id from ids where name = 'g2'))),
  'error text: success clears the last error and its detail');
-- (gone again, so the stats below count what they always did)
delete from public.job_queue where id in (select id from ids where name in ('g1', 'g2'));

-- dedupe among unfinished jobs
select is(public.enqueue_job('download-image', '{}', dedupe_key => 'k'),
          public.enqueue_job('download-image', '{}', dedupe_key => 'k'), 'dedupe: same unfinished step, same job');

-- the seed's manual reset still works and means what it meant
update public.job_queue set status = 'completed', completed_at = now() where dedupe_key = 'k';
insert into ids values ('g', public.enqueue_job('download-image', '{}'));
select results_eq($$select pg_temp.claim('stuck')$$, $$select id from ids where name = 'g'$$, 'reset: a job gets stuck');
-- Backdate updated_at as 20 minutes without a heartbeat would (triggers off, or they would stamp now()).
set local session_replication_role = replica;
update public.job_queue set updated_at = now() - interval '20 minutes' where id = (select id from ids where name = 'g');
set local session_replication_role = origin;
select lives_ok($$UPDATE job_queue SET status='pending', attempt_number=0 WHERE status='processing' AND updated_at < now() - interval '15 minutes';$$,
  'the seed''s reset query runs verbatim');
select ok((select status = 'pending' and attempt_number = 0 and locked_by is null and locked_until is null
             from pg_temp.job((select id from ids where name = 'g'))), 'reset: pending, no holder');
select is(public.complete_job((select id from ids where name = 'g'), 'stuck', true) ->> 'outcome', 'lease_lost',
  'reset: the stuck worker can no longer complete it');
select results_eq($$select pg_temp.claim('fresh')$$, $$select id from ids where name = 'g'$$, 'reset: claimable again');
select lives_ok($$SELECT status, COUNT(*) FROM job_queue GROUP BY status;$$, 'the seed''s depth query runs verbatim');

-- stats view
select results_eq(
  $$select job_type, pending, due, processing, expired_leases, failed, completed_last_hour, failed_last_hour
      from public.job_queue_stats order by job_type$$,
  $$values ('download-image', 1::bigint, 0::bigint, 1::bigint, 0::bigint, 1::bigint, 3::bigint, 1::bigint),
           ('generate-image', 1::bigint, 0::bigint, 0::bigint, 0::bigint, 2::bigint, 0::bigint, 2::bigint)$$,
  'stats: depth by type and status, finished in the last hour');
update public.job_queue set run_at = now() - interval '90 seconds' where id = (select id from ids where name = 'future');
select is((select oldest_due_age from public.job_queue_stats where job_type = 'download-image'), interval '90 seconds',
  'stats: age of the oldest due job');

-- retention
update public.job_queue set completed_at = now() - interval '8 days' where id = (select id from ids where name = 'a');
select is(public.prune_job_queue() ->> 'jobs_deleted', '1', 'retention: old completed jobs are deleted');
select ok(not exists (select 1 from public.job_queue where id = (select id from ids where name = 'a'))
          and exists (select 1 from public.job_queue where id = (select id from ids where name = 'e')),
  'retention: recent ones are kept');

-- the wake-up call
update public.job_queue set run_at = now() + interval '1 hour' where status = 'pending';
select is(public.invoke_process_jobs(), 'idle', 'wake-up: idle when nothing is due');
insert into ids values ('h', public.enqueue_job('download-image', '{}'));
select is(public.invoke_process_jobs(), 'notify', 'wake-up: NOTIFY process_jobs where pg_net is absent');

select * from finish();
rollback;
