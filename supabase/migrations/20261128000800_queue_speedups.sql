-- Queue speed-ups found by scripts/bench queue (measured against graphile-worker 0.18 on this machine):
-- the processing-lease index no longer captures lookups by id, claim_next_job plans once, and batch
-- completion/enqueue functions cut round trips. Figures in docs/BENCHMARKS.md.

-- 1. The processing-lease index also requires `locked_until is not null`. Every processing job has a
-- lease, so it holds the same rows as before, and the lease scans (`locked_until < now()` implies not
-- null) still use it. But a lookup by id that says `status = 'processing'` (complete_job, extend_lease,
-- complete_jobs below) no longer matches its predicate. Before, the planner chose this "tiny" index for
-- those lookups and walked all of it for one id (`Index Cond: (id = $1)` on its second column): with
-- one dead entry per job claimed since the last vacuum, each completion got slower as the queue ran
-- (after 20,000 jobs without a vacuum: 80 buffers and 0.54 ms for one lookup, against 4 and 0.05 ms by
-- primary key).
drop index if exists public.job_queue_processing_locked_until;
create index job_queue_processing_locked_until
  on public.job_queue (locked_until, id)
  where status = 'processing' and locked_until is not null;

-- 2. claim_next_job: `where id = any(array(<locked ids>))` instead of `from <cte> where id = cte.id`, and
-- the lease-recovery statements only when some lease has expired.
-- With `limit batch` a parameter, the join form's generic plan is a hash join over a sequential scan of
-- the whole table, so PL/pgSQL replanned it on every call instead (~150-200 µs of planning per claim).
-- The array form plans to primary-key lookups whatever the limit, so one cached generic plan serves.
-- Same semantics, same order, same SKIP LOCKED.
create or replace function public.claim_next_job(
  worker_id text,
  batch integer default 1,
  lease_seconds integer default 300
) returns setof public.job_queue
language plpgsql
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
  v_claimed integer := 0;
  v_dead record;
begin
  if worker_id is null or worker_id = '' or batch is null or batch < 1 or batch > 1000
     or lease_seconds is null or lease_seconds < 1 then
    raise exception 'claim_next_job: need a worker_id, 1 <= batch <= 1000 and lease_seconds >= 1'
      using errcode = '22023';
  end if;

  -- Crash recovery is rare: one index probe decides whether the two lease statements run at all.
  if exists (select 1 from public.job_queue where status = 'processing' and locked_until < now()) then
  -- Expired leases on their final attempt: give up with a reason instead of exceeding max_attempts.
  for v_dead in
    update public.job_queue j
       set status = 'failed',
           error_message = format('lease expired during attempt %s of %s (worker %s stopped responding)',
                                  j.attempt_number, j.max_attempts, j.locked_by),
           completed_at = now(), locked_until = null
     where j.id = any(array(
             select id from public.job_queue
              where status = 'processing' and locked_until < now() and attempt_number >= max_attempts
              order by locked_until, id
              limit batch
              for update skip locked))
    returning j.payload, j.error_message
  loop
    perform public.fail_generation_of_job(v_dead.payload, v_dead.error_message);
  end loop;

  return query
    update public.job_queue j
       set attempt_number = j.attempt_number + 1,
           locked_by = claim_next_job.worker_id,
           locked_until = now() + make_interval(secs => lease_seconds)
     where j.id = any(array(
             select id from public.job_queue
              where status = 'processing' and locked_until < now()
              order by locked_until, id
              limit batch
              for update skip locked))
    returning j.*;
  get diagnostics v_claimed = row_count;
  end if;

  if v_claimed < batch then
    return query
      update public.job_queue j
         set status = 'processing',
             attempt_number = j.attempt_number + 1,
             locked_by = claim_next_job.worker_id,
             locked_until = now() + make_interval(secs => lease_seconds)
       where j.id = any(array(
               select id from public.job_queue
                where status = 'pending' and run_at <= now()
                order by run_at, id
                limit batch - v_claimed
                for update skip locked))
      returning j.*;
  end if;
end;
$$;

-- 3. complete_jobs: completes a batch the worker holds in one round trip and one statement (per-job
-- complete_job calls cost a round trip each; graphile-worker completes in batches). Returns the ids it
-- completed; any other id was not this worker's any more (ask job_lease_lost). results[i], when given,
-- is stored for job_ids[i]. PL/pgSQL rather than SQL so the plan is cached per session (a non-inlined
-- SQL function is planned again on every call in Postgres 15).
create or replace function public.complete_jobs(
  job_ids bigint[],
  worker_id text,
  results jsonb[] default null
) returns table (id bigint)
language plpgsql
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
begin
  return query
    update public.job_queue j
       set status = 'completed', result = r.result, error_message = null,
           completed_at = now(), locked_by = null, locked_until = null
      from unnest(job_ids, results) as r(id, result)
     where j.id = r.id and j.status = 'processing' and j.locked_by = complete_jobs.worker_id
    returning j.id;
end;
$$;
revoke execute on function public.complete_jobs(bigint[], text, jsonb[]) from public, anon, authenticated;
grant execute on function public.complete_jobs(bigint[], text, jsonb[]) to service_role;

-- 4. enqueue_jobs: many jobs of one type in one INSERT (enqueue_job runs a PL/pgSQL call and an INSERT
-- per job even inside one statement). No dedupe keys: for fan-out, not for the start_generation path.
create or replace function public.enqueue_jobs(
  job_type text,
  payloads jsonb[],
  run_at timestamptz default now(),
  max_attempts integer default 3
) returns setof bigint
language sql
set search_path = ''
as $$
  insert into public.job_queue (job_type, payload, run_at, max_attempts)
  select enqueue_jobs.job_type, coalesce(p.payload, '{}'::jsonb), coalesce(enqueue_jobs.run_at, now()),
         coalesce(enqueue_jobs.max_attempts, 3)
    from unnest(payloads) with ordinality as p(payload, n)
   order by p.n
  returning id
$$;
revoke execute on function public.enqueue_jobs(text, jsonb[], timestamptz, integer)
  from public, anon, authenticated;
grant execute on function public.enqueue_jobs(text, jsonb[], timestamptz, integer) to service_role;
