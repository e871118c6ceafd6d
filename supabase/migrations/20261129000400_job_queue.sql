-- The job queue: rows worked by process-jobs. Only the backend (database owner, service_role) may see
-- or change it. The claim/complete functions, leases and retries come in the queue migration.

create table public.job_queue (
  id bigint generated always as identity primary key,
  job_type text not null check (job_type in ('generate-image', 'download-image')),
  payload jsonb not null default '{}'::jsonb check (jsonb_typeof(payload) = 'object'),
  -- cancelled: its generation was cancelled by the user before the job ran.
  status text not null default 'pending'
    check (status in ('pending', 'processing', 'completed', 'failed', 'cancelled')),
  -- Higher runs first among due jobs (the original enqueue_job's third argument); 0 for everything
  -- this backend enqueues, so claiming stays first-in first-out.
  priority integer not null default 0,
  attempt_number integer not null default 0 check (attempt_number >= 0),
  max_attempts integer not null default 3 check (max_attempts >= 1),
  run_at timestamptz not null default now(),
  locked_by text,
  locked_until timestamptz,
  -- A failed job's reason as its user reads it (it becomes the generation's error_message)...
  error_message text,
  -- ... and what operators need: {"code": <stable failure code>, "detail": <SQL/Storage/network text>}.
  -- Kept off the generation row, which its user may select.
  error_details jsonb,
  -- Identifies one logical step (e.g. 'generate-image:<generation id>') so enqueueing it twice while it
  -- is unfinished returns the existing job.
  dedupe_key text,
  -- The user the job works for (its generation's), so claiming can keep one user's backlog from holding
  -- every worker slot (usage_settings.user_jobs_in_flight); null for jobs of no one user.
  owner_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz
);

comment on table public.job_queue is 'Background jobs for process-jobs; not reachable by API clients.';

create unique index job_queue_dedupe_key_unfinished
  on public.job_queue (dedupe_key)
  where dedupe_key is not null and status in ('pending', 'processing');

-- Claimable rows in claim order; partial, so finished jobs never bloat it.
create index job_queue_pending_run_at
  on public.job_queue (priority desc, run_at, id)
  where status = 'pending';

create trigger job_queue_updated_at
  before update on public.job_queue
  for each row execute function public.set_updated_at();

alter table public.job_queue enable row level security;
revoke all on public.job_queue from anon, authenticated;
revoke all on sequence public.job_queue_id_seq from anon, authenticated;

-- Owners of jobs being processed: claiming counts them (fair claiming).
create index job_queue_processing_owner
  on public.job_queue (owner_id)
  where status = 'processing' and owner_id is not null;

-- Enqueues a job and returns its id; with a dedupe_key already held by an unfinished job, returns that
-- job's id and writes nothing.
create function public.enqueue_job(
  job_type text,
  payload jsonb default '{}'::jsonb,
  run_at timestamptz default now(),
  max_attempts integer default 3,
  dedupe_key text default null,
  owner_id uuid default null
) returns bigint
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_id bigint;
begin
  -- Two rounds: the unfinished job holding the key may finish between the insert and the lookup.
  for round in 1..2 loop
    insert into public.job_queue (job_type, payload, run_at, max_attempts, dedupe_key, owner_id)
    values (enqueue_job.job_type, coalesce(enqueue_job.payload, '{}'::jsonb),
            coalesce(enqueue_job.run_at, now()), coalesce(enqueue_job.max_attempts, 3),
            enqueue_job.dedupe_key, enqueue_job.owner_id)
    on conflict (dedupe_key) where dedupe_key is not null and status in ('pending', 'processing')
    do nothing
    returning id into v_id;
    if v_id is not null then
      return v_id;
    end if;
    select id into v_id
      from public.job_queue
     where dedupe_key = enqueue_job.dedupe_key and status in ('pending', 'processing');
    if v_id is not null then
      return v_id;
    end if;
  end loop;
  raise exception 'enqueue_job: could not enqueue or find job for dedupe_key %', enqueue_job.dedupe_key;
end;
$$;

revoke execute on function public.enqueue_job(text, jsonb, timestamptz, integer, text, uuid)
  from public, anon, authenticated;
grant execute on function public.enqueue_job(text, jsonb, timestamptz, integer, text, uuid) to service_role;
