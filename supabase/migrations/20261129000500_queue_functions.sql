-- The queue's working parts: claiming with leases, completion with retries and backoff, lease
-- extension, stats, retention, and the pg_cron sweeper that wakes process-jobs.
-- Shape borrowed from River (JobGetAvailable) and graphile-worker (getJobs): a materialized CTE picks
-- rows in a fixed order with FOR UPDATE SKIP LOCKED, then one UPDATE ... RETURNING claims them.

-- A hot queue table churns: vacuum after a fixed number of dead rows, not a fraction of the table
-- (Oban's advice), so claim scans never wade through dead tuples.
alter table public.job_queue set (
  autovacuum_vacuum_scale_factor = 0,
  autovacuum_vacuum_threshold = 500,
  autovacuum_analyze_scale_factor = 0,
  autovacuum_analyze_threshold = 500
);

alter table public.job_queue add column result jsonb;
comment on column public.job_queue.result is 'What the job produced, stored by complete_job on success.';
comment on column public.job_queue.completed_at is 'When the job finished, completed or failed.';
comment on column public.job_queue.locked_until is
  'End of the current lease; a processing job past it is claimable again (its worker is presumed dead).';

-- Processing jobs whose lease ran out: the crash-recovery half of every claim.
-- `locked_until is not null` keeps lookups by id that say `status = 'processing'` (complete_job,
-- extend_lease) off this index: the planner otherwise chose it and walked it for one id, slower with every
-- dead entry since the last vacuum (scripts/bench queue found it; docs/BENCHMARKS.md).
create index job_queue_processing_locked_until
  on public.job_queue (locked_until, id)
  where status = 'processing' and locked_until is not null;

-- Retention deletes old finished rows by age.
create index job_queue_finished_completed_at
  on public.job_queue (completed_at)
  where status in ('completed', 'failed');

-- A job put back to pending by hand (the seed's reset query) or by a retry has no holder: clearing the
-- lock here keeps a stale worker from completing it and keeps the manual reset meaning what it meant.
create function public.job_queue_clear_lock() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status = 'pending' and old.status = 'processing' then
    new.locked_by := null;
    new.locked_until := null;
  end if;
  return new;
end;
$$;

create trigger job_queue_clear_lock
  before update of status on public.job_queue
  for each row execute function public.job_queue_clear_lock();

-- Delay before retry number `attempt` (1 = first retry): base * 2^(attempt-1), capped, then spread by
-- ±jitter so jobs that failed together (a Replicate outage) do not all come back in the same second.
create function public.job_retry_delay(
  attempt integer,
  base_seconds double precision default 10,
  cap_seconds double precision default 600,
  jitter double precision default 0.25
) returns interval
language sql
volatile
set search_path = ''
as $$
  select make_interval(secs =>
    least(cap_seconds, base_seconds * power(2, greatest(attempt, 1) - 1))
    * (1 - jitter + 2 * jitter * random()))
$$;

-- Marks a job's generation failed with the job's reason (no-op once the generation has finished). The
-- reason is what its user reads: callers pass a fixed sentence (failure.rs), never internal detail.
create function public.fail_generation_of_job(p_payload jsonb, p_reason text) returns void
language sql
set search_path = ''
as $$
  update public.image_generations
     set status = 'failed', error_message = p_reason, completed_at = now()
   where id = (p_payload ->> 'generation_id')::uuid
     and status in ('pending', 'queued', 'processing', 'downloading')
$$;

-- Claims up to `batch` jobs for `worker_id` with a lease of `lease_seconds`. Takes processing jobs whose
-- lease expired first (they have waited longest), then pending jobs that are due. A job whose lease
-- expired on its last attempt is not retried: it fails with a reason, and so does its generation (the
-- user's sentence is failure.rs's for worker_stopped; which worker stopped goes to error_details).
-- Due jobs go by priority (higher first), then run_at and id.
-- `where id = any(array(<locked ids>))` rather than `from <cte> where id = cte.id`, and the
-- lease-recovery statements only when some lease has expired (scripts/bench queue measured both):
-- with `limit batch` a parameter, the join form's generic plan is a hash join over a sequential scan of
-- the whole table, so PL/pgSQL replanned it on every call instead (~150-200 µs of planning per claim).
-- The array form plans to primary-key lookups whatever the limit, so one cached generic plan serves.
create function public.claim_next_job(
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
  v_cap integer;
  v_capped uuid[];
  v_ids bigint[];
  v_owners uuid[];
  v_chosen bigint[];
  v_turned_away uuid[];
  v_flight jsonb;
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
           error_message = 'The generation was interrupted; please try again.',
           error_details = jsonb_build_object('code', 'worker_stopped', 'detail',
             format('lease expired during attempt %s of %s (worker %s stopped responding)',
                    j.attempt_number, j.max_attempts, j.locked_by)),
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

  if v_claimed >= batch then
    return;
  end if;

  v_cap := (select user_jobs_in_flight from public.usage_settings);
  if v_cap is null then
    return query
      update public.job_queue j
         set status = 'processing',
             attempt_number = j.attempt_number + 1,
             locked_by = claim_next_job.worker_id,
             locked_until = now() + make_interval(secs => lease_seconds)
       where j.id = any(array(
               select id from public.job_queue
                where status = 'pending' and run_at <= now()
                order by priority desc, run_at, id
                limit batch - v_claimed
                for update skip locked))
      returning j.*;
    return;
  end if;

  -- Fair claiming: a user may have `user_jobs_in_flight` jobs processing at once. Users at that cap are
  -- skipped in the scan (their backlog is walked past, never claimed), and a user gets only the slots
  -- left under the cap. When a round fills someone's cap before the batch is full, the next round scans
  -- past that user's backlog, so another user's job waiting behind it starts in this same claim.
  -- Concurrent claims may each give a user one of the last slots: the cap can be exceeded by at most one
  -- job per concurrent claimer.
  v_capped := array(select owner_id from public.job_queue
                      where status = 'processing' and owner_id is not null
                      group by owner_id
                     having count(*) >= v_cap);
  for v_round in 1..8 loop
    -- Candidates in claim order, locked, users at their cap skipped; enough for the batch even when a
    -- cap turns some away. Two statements rather than one with a window function: most candidates
    -- have an owner with free slots or none at all, and this keeps the common claim a plain index walk
    -- (scripts/bench queue measured the window form at twice the claim time).
    select coalesce(array_agg(id order by priority desc, run_at, id), '{}'),
           coalesce(array_agg(owner_id order by priority desc, run_at, id), '{}')
      into v_ids, v_owners
      from (select id, owner_id, priority, run_at
              from public.job_queue
             where status = 'pending' and run_at <= now()
               and (owner_id is null or owner_id <> all (v_capped))
             order by priority desc, run_at, id
             limit (batch - v_claimed) + v_cap
             for update skip locked) d;
    exit when cardinality(v_ids) = 0;

    if cardinality(array_remove(v_owners, null)) = 0 then
      v_chosen := v_ids[1:batch - v_claimed];
      v_turned_away := '{}';
    else
      -- Each owner's jobs in flight, then the candidates in order while their owner has a slot.
      select coalesce(jsonb_object_agg(owner_id, n), '{}') into v_flight
        from (select owner_id, count(*) as n from public.job_queue
               where status = 'processing' and owner_id = any (v_owners)
               group by owner_id) f;
      v_chosen := '{}';
      v_turned_away := '{}';
      for i in 1..cardinality(v_ids) loop
        exit when cardinality(v_chosen) >= batch - v_claimed;
        if v_owners[i] is null then
          v_chosen := v_chosen || v_ids[i];
        elsif coalesce((v_flight ->> v_owners[i]::text)::integer, 0) < v_cap then
          v_chosen := v_chosen || v_ids[i];
          v_flight := v_flight || jsonb_build_object(
            v_owners[i]::text, coalesce((v_flight ->> v_owners[i]::text)::integer, 0) + 1);
        elsif not v_owners[i] = any (v_turned_away) then
          v_turned_away := v_turned_away || v_owners[i];
        end if;
      end loop;
    end if;

    return query
      update public.job_queue j
         set status = 'processing',
             attempt_number = j.attempt_number + 1,
             locked_by = claim_next_job.worker_id,
             locked_until = now() + make_interval(secs => lease_seconds)
       where j.id = any (v_chosen)
      returning j.*;
    v_claimed := v_claimed + cardinality(v_chosen);
    -- Done when the batch is full, or nobody was turned away (the due jobs ran out); else go again,
    -- skipping the users whose cap this round filled.
    exit when v_claimed >= batch or cardinality(v_turned_away) = 0;
    v_capped := v_capped || v_turned_away;
  end loop;
end;
$$;

-- Extends the lease of a job its worker still holds. Answers {"outcome":"extended","locked_until":...}
-- or {"outcome":"lease_lost",...} (the job is no longer this worker's), changing nothing then.
create function public.extend_lease(job_id bigint, worker_id text, seconds integer default 300)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_until timestamptz;
begin
  if seconds is null or seconds < 1 then
    raise exception 'extend_lease: seconds must be >= 1' using errcode = '22023';
  end if;
  update public.job_queue
     set locked_until = now() + make_interval(secs => seconds)
   where id = extend_lease.job_id and status = 'processing' and locked_by = extend_lease.worker_id
  returning locked_until into v_until;
  if v_until is null then
    return public.job_lease_lost(job_id, worker_id);
  end if;
  return jsonb_build_object('outcome', 'extended', 'locked_until', v_until);
end;
$$;

-- The "lease lost" answer: says who holds the job now, or what became of it.
create function public.job_lease_lost(p_job_id bigint, p_worker_id text) returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(
    (select jsonb_build_object(
       'outcome', 'lease_lost',
       'status', status,
       'locked_by', locked_by,
       'message', case
         when status = 'processing' then format('job %s is now held by %s', id, locked_by)
         else format('job %s is %s; worker %s no longer holds it', id, status, p_worker_id)
       end)
       from public.job_queue where id = p_job_id),
    jsonb_build_object('outcome', 'not_found', 'message', format('job %s does not exist', p_job_id)))
$$;

-- Finishes a job held by `worker_id`.
--   success                       -> completed, `result` stored            {"outcome":"completed"}
--   failure, retryable, attempts left -> pending again at now() + backoff {"outcome":"retrying","run_at":..}
--                                     (or + retry_delay_seconds when given, e.g. Replicate's retry_after)
--   otherwise                     -> failed with `error`, and the job's generation fails with it
--                                                                          {"outcome":"failed"}
-- `error` is what the generation's user reads (a fixed sentence, failure.rs); `error_details` is what
-- operators read ({"code", "detail"}: SQL, Storage or network text), kept on the job only.
-- A worker that no longer holds the job gets {"outcome":"lease_lost",...} and nothing changes.
create function public.complete_job(
  job_id bigint,
  worker_id text,
  success boolean,
  error text default null,
  result jsonb default null,
  retryable boolean default true,
  retry_delay_seconds integer default null,
  error_details jsonb default null
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_job public.job_queue;
  v_reason text;
  v_run_at timestamptz;
begin
  select * into v_job from public.job_queue
   where id = complete_job.job_id and status = 'processing' and locked_by = complete_job.worker_id
     for update;
  if not found then
    return public.job_lease_lost(job_id, worker_id);
  end if;

  if success then
    update public.job_queue
       set status = 'completed', result = complete_job.result, error_message = null,
           error_details = null, completed_at = now(), locked_by = null, locked_until = null
     where id = v_job.id;
    return jsonb_build_object('outcome', 'completed');
  end if;

  v_reason := coalesce(nullif(btrim(error), ''), 'The image could not be generated; please try again.');
  if coalesce(retryable, true) and v_job.attempt_number < v_job.max_attempts then
    v_run_at := now() + case when retry_delay_seconds is null
                             then public.job_retry_delay(v_job.attempt_number)
                             else make_interval(secs => greatest(retry_delay_seconds, 0)) end;
    update public.job_queue
       set status = 'pending', run_at = v_run_at, error_message = v_reason,
           error_details = complete_job.error_details
     where id = v_job.id;
    return jsonb_build_object('outcome', 'retrying', 'run_at', v_run_at,
                              'attempt', v_job.attempt_number, 'max_attempts', v_job.max_attempts);
  end if;

  update public.job_queue
     set status = 'failed', error_message = v_reason, error_details = complete_job.error_details,
         completed_at = now(), locked_until = null
   where id = v_job.id;
  perform public.fail_generation_of_job(v_job.payload, v_reason);
  return jsonb_build_object('outcome', 'failed', 'error', v_reason);
end;
$$;

-- What the queue finished lately: the original process-jobs answered "Processed n job(s) with m
-- error(s)" after running its jobs inside the request; this one answers at once (the drain runs in the
-- background), so its n and m are the jobs finished (completed or failed) in the last
-- `window_seconds` and the failed ones among them, whoever ran them.
create function public.recent_job_outcomes(window_seconds integer default 60) returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object('processed', count(*), 'errors', count(*) filter (where status = 'failed'))
    from public.job_queue
   where status in ('completed', 'failed')
     and completed_at > now() - make_interval(secs => greatest(coalesce(window_seconds, 60), 1))
$$;

-- Queue health at a glance, per job type.
create view public.job_queue_stats
with (security_invoker = true)
as
select job_type,
       count(*) filter (where status = 'pending') as pending,
       count(*) filter (where status = 'pending' and run_at <= now()) as due,
       count(*) filter (where status = 'processing') as processing,
       count(*) filter (where status = 'processing' and locked_until < now()) as expired_leases,
       count(*) filter (where status = 'failed') as failed,
       count(*) filter (where status = 'completed' and completed_at > now() - interval '1 hour')
         as completed_last_hour,
       count(*) filter (where status = 'failed' and completed_at > now() - interval '1 hour')
         as failed_last_hour,
       now() - min(run_at) filter (where status = 'pending' and run_at <= now()) as oldest_due_age
  from public.job_queue
 group by job_type;

-- Deletes finished jobs older than the given ages, in chunks so the table is never locked for long,
-- pg_cron's run history (never cleaned automatically) and old usage charges. Returns what it deleted.
create function public.prune_job_queue(
  completed_older_than interval default interval '7 days',
  failed_older_than interval default interval '30 days',
  cron_history_older_than interval default interval '7 days'
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_jobs bigint := 0;
  v_step bigint;
  v_cron bigint := 0;
begin
  loop
    delete from public.job_queue
     where id in (select id from public.job_queue
                   where (status = 'completed' and completed_at < now() - completed_older_than)
                      or (status = 'failed' and completed_at < now() - failed_older_than)
                   limit 10000);
    get diagnostics v_step = row_count;
    v_jobs := v_jobs + v_step;
    exit when v_step < 10000;
  end loop;
  if to_regclass('cron.job_run_details') is not null then
    execute 'delete from cron.job_run_details where end_time < now() - $1' using cron_history_older_than;
    get diagnostics v_cron = row_count;
  end if;
  -- Usage charges past the longest window (a day) and old project buckets go with them, and webhook
  -- deliveries a day old (…_replicate_webhooks.sql).
  return jsonb_build_object('jobs_deleted', v_jobs, 'cron_runs_deleted', v_cron,
                            'usage', public.prune_usage(),
                            'webhooks', public.prune_replicate_webhooks());
end;
$$;

-- Wakes the worker when there is work. On Supabase (pg_net and Vault present) it POSTs to
-- <project_url>/functions/v1/process-jobs with the key stored in Vault as `service_key`; elsewhere it
-- sends NOTIFY process_jobs, which the local stack (scripts/dev) forwards as that same POST.
-- Returns what it did: 'idle' (nothing due), 'notify', 'http:<pg_net request id>' or 'misconfigured'.
create function public.invoke_process_jobs() returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_url text;
  v_key text;
  v_request bigint;
begin
  if not exists (select 1 from public.job_queue where status = 'pending' and run_at <= now())
     and not exists (select 1 from public.job_queue where status = 'processing' and locked_until < now()) then
    return 'idle';
  end if;
  if to_regnamespace('net') is null or to_regnamespace('vault') is null then
    perform pg_notify('process_jobs', jsonb_build_object('source', 'pg_cron', 'at', now())::text);
    return 'notify';
  end if;
  execute $q$select decrypted_secret from vault.decrypted_secrets where name = 'project_url'$q$ into v_url;
  execute $q$select decrypted_secret from vault.decrypted_secrets where name = 'service_key'$q$ into v_key;
  if v_url is null or v_key is null then
    raise warning 'invoke_process_jobs: store project_url and service_key in Vault (see docs/DEPLOYMENT_GUIDE.md)';
    return 'misconfigured';
  end if;
  -- pg_net sends after commit; cron.job_run_details says "succeeded" even if the call later fails, so
  -- the worker's own answer (net._http_response) is what to check.
  execute $q$select net.http_post(url := $1, headers := $2, body := $3, timeout_milliseconds := 5000)$q$
    into v_request
    using rtrim(v_url, '/') || '/functions/v1/process-jobs',
          -- apikey as well: a secret API key (sb_secret_…) is not a JWT, and the gateway takes it from apikey.
          jsonb_build_object('Content-Type', 'application/json', 'apikey', v_key,
                             'Authorization', 'Bearer ' || v_key),
          jsonb_build_object('source', 'pg_cron');
  return 'http:' || v_request;
end;
$$;

-- complete_jobs: completes a batch the worker holds in one round trip and one statement (per-job
-- complete_job calls cost a round trip each; graphile-worker completes in batches). Returns the ids it
-- completed; any other id was not this worker's any more (ask job_lease_lost). results[i], when given,
-- is stored for job_ids[i]. PL/pgSQL rather than SQL so the plan is cached per session (a non-inlined
-- SQL function is planned again on every call in Postgres 15).
create function public.complete_jobs(
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

-- enqueue_jobs: many jobs of one type in one INSERT (enqueue_job runs a PL/pgSQL call and an INSERT
-- per job even inside one statement). No dedupe keys: for fan-out, not for the start_generation path.
create function public.enqueue_jobs(
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

-- For the legacy synchronous generate-image function: claim the due jobs of ONE generation (its
-- generate-image step, later its download-image step), with the same lease and attempt semantics as
-- claim_next_job, so the request runs its own generation through the worker's code right away.
-- The dedupe keys ('<job type>:<generation id>') find them through the unique index on unfinished jobs.
create function public.claim_generation_jobs(
  p_generation_id uuid,
  worker_id text,
  lease_seconds integer default 300
) returns setof public.job_queue
language plpgsql
set search_path = ''
as $$
begin
  if p_generation_id is null or worker_id is null or worker_id = '' or lease_seconds is null or lease_seconds < 1 then
    raise exception 'claim_generation_jobs: need a generation id, a worker_id and lease_seconds >= 1'
      using errcode = '22023';
  end if;
  return query
    update public.job_queue j
       set status = 'processing',
           attempt_number = j.attempt_number + 1,
           locked_by = claim_generation_jobs.worker_id,
           locked_until = now() + make_interval(secs => lease_seconds)
     where j.id = any(array(
             select id from public.job_queue
              where dedupe_key in ('generate-image:' || p_generation_id, 'download-image:' || p_generation_id)
                and ((status = 'pending' and run_at <= now())
                     or (status = 'processing' and locked_until < now() and attempt_number < max_attempts))
              order by id
              for update skip locked))
    returning j.*;
end;
$$;

revoke execute on function public.claim_generation_jobs(uuid, text, integer) from public, anon, authenticated;
grant execute on function public.claim_generation_jobs(uuid, text, integer) to service_role;

-- A job whose work is still running elsewhere (a Replicate prediction that outlived the invocation's
-- budget) goes back to the queue without spending an attempt: the next claim resumes the prediction.
-- Without this, a prediction longer than max_attempts budgets would fail before the generation's deadline.
-- Answers {"outcome":"deferred","run_at":...}, or lease_lost/not_found like complete_job.
create function public.defer_job(job_id bigint, worker_id text, delay_seconds integer default 1) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_run_at timestamptz := now() + make_interval(secs => greatest(coalesce(delay_seconds, 1), 0));
begin
  update public.job_queue
     set status = 'pending',
         run_at = v_run_at,
         -- The claim counted an attempt; this one did not fail, so it does not count.
         attempt_number = greatest(attempt_number - 1, 0)
   where id = defer_job.job_id and status = 'processing' and locked_by = defer_job.worker_id;
  if not found then
    return public.job_lease_lost(job_id, worker_id);
  end if;
  return jsonb_build_object('outcome', 'deferred', 'run_at', v_run_at);
end;
$$;

revoke execute on function public.defer_job(bigint, text, integer) from public, anon, authenticated;
grant execute on function public.defer_job(bigint, text, integer) to service_role;

-- Only the backend may run the queue.
do $$
declare
  f text;
begin
  foreach f in array array[
    'public.job_queue_clear_lock()',
    'public.job_retry_delay(integer, double precision, double precision, double precision)',
    'public.fail_generation_of_job(jsonb, text)',
    'public.claim_next_job(text, integer, integer)',
    'public.extend_lease(bigint, text, integer)',
    'public.job_lease_lost(bigint, text)',
    'public.complete_job(bigint, text, boolean, text, jsonb, boolean, integer, jsonb)',
    'public.recent_job_outcomes(integer)',
    'public.prune_job_queue(interval, interval, interval)',
    'public.invoke_process_jobs()'
  ] loop
    execute format('revoke execute on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end;
$$;
revoke all on public.job_queue_stats from anon, authenticated;

-- pg_cron: the sweeper every minute (pg_cron 1.4 has no second schedules) and nightly retention.
-- pg_cron lives in one database per cluster (cron.database_name); anywhere else (e.g. test databases
-- cloned from a template) the extension cannot be created and the schedules are skipped.
do $$
begin
  if not exists (select from pg_extension where extname = 'pg_cron') then
    begin
      create extension pg_cron;
    exception when others then
      raise notice 'pg_cron not available in database %: %', current_database(), sqlerrm;
      return;
    end;
  end if;
  perform cron.schedule('process-jobs', '* * * * *', 'select public.invoke_process_jobs()');
  perform cron.schedule('prune-job-queue', '17 3 * * *', 'select public.prune_job_queue()');
end;
$$;
