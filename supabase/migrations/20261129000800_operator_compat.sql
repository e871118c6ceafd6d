-- The original system's operator calls and views, resolving against this project's queue
-- (docs/ARCHITECTURE.md, "Operators' calls"). Operators run them in the SQL editor or with the service key;
-- API clients never get queue access.
--
-- Overload resolution is part of the design: each original call form must pick exactly one function.
--   enqueue_job('generate-image', '{}'::jsonb, 0)  integer third argument: only the priority form takes it;
--     its p_priority has no default, so two-argument calls still mean this project's enqueue_job.
--   claim_next_job()                                this project's form needs a worker id.
--   complete_job(<id>, NULL, NULL)                  three untyped NULLs: Postgres prefers the candidate
--     taking text in third place (complete_job(bigint, text, text) below); this project's form takes a
--     boolean there, and the jsonb form serves typed details and the one- and two-argument calls.

-- When the current attempt was claimed (the original's started_at; stuck_jobs reads it).
alter table public.job_queue add column started_at timestamptz;

create function public.job_queue_started_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status = 'processing' and new.attempt_number is distinct from old.attempt_number then
    new.started_at := now();
  end if;
  return new;
end;
$$;
revoke execute on function public.job_queue_started_at() from public, anon, authenticated;

create trigger job_queue_started_at
  before update of status, attempt_number on public.job_queue
  for each row execute function public.job_queue_started_at();

-- A number from an original job payload's text, or null when it is not one (the old clients' JSON).
create function public.original_payload_number(p text) returns numeric
language sql
immutable
set search_path = ''
as $$ select case when btrim(p) ~ '^-?[0-9]+(\.[0-9]+)?$' then btrim(p)::numeric end $$;

-- The original start-generation's request, for a generation this project's worker should run: fills its
-- replicate_model and params from the original job payload (generation_id, model_id, model_version,
-- width, height, num_inference_steps, guidance_scale, seed, negative_prompt, source_image_url, strength),
-- falling back to the row's own columns and models row; pending becomes queued. Used for the work an
-- upgraded database had in flight (..._recover_original_work.sql) and by the original enqueue_job call
-- form (the original functions may still run for a moment after the push). A row that already has a
-- request is left alone. Answers 'adopted', 'kept' (had one), 'no_model' or 'not_found'.
create function public.adopt_original_request(p_generation_id uuid, p_payload jsonb) returns text
language plpgsql
set search_path = ''
as $$
declare
  v_gen public.image_generations;
  v_payload jsonb := coalesce(p_payload, '{}'::jsonb);
  v_model text;
  v_version text;
  v_num text;
begin
  select * into v_gen from public.image_generations where id = p_generation_id for update;
  if not found then
    return 'not_found';
  end if;
  if v_gen.replicate_model is not null then
    return 'kept';
  end if;
  -- The catalog id: the payload's model_id (a Replicate id, perhaps an alias or owner/name:version: the
  -- worker's parser takes those), else the models row the generation names.
  v_model := coalesce(
    nullif(btrim(v_payload ->> 'model_id'), ''),
    (select m.replicate_id from public.models m where m.id = v_gen.model_id),
    (select m.replicate_id from public.models m
      where v_gen.model is not null and (m.name = v_gen.model or m.display_name = v_gen.model)
      order by m.is_active desc nulls last limit 1));
  if v_model is null then
    return 'no_model';
  end if;
  -- A pinned version only in the form Replicate takes (64 hex); anything else is left out.
  v_version := nullif(btrim(v_payload ->> 'model_version'), '');
  if v_version !~ '^[0-9a-f]{64}$' then
    v_version := null;
  end if;
  update public.image_generations
     set replicate_model = v_model,
         params = jsonb_strip_nulls(jsonb_build_object(
           'width', coalesce(round(public.original_payload_number(v_payload ->> 'width'))::integer, width),
           'height', coalesce(round(public.original_payload_number(v_payload ->> 'height'))::integer, height),
           'num_outputs', 1,
           'num_inference_steps',
             coalesce(round(public.original_payload_number(v_payload ->> 'num_inference_steps'))::integer, steps),
           'guidance_scale', coalesce(public.original_payload_number(v_payload ->> 'guidance_scale'), guidance_scale),
           'seed', coalesce(round(public.original_payload_number(v_payload ->> 'seed'))::bigint, seed),
           'negative_prompt', coalesce(nullif(v_payload ->> 'negative_prompt', ''), negative_prompt),
           'image_url', coalesce(nullif(v_payload ->> 'source_image_url', ''), source_image_url),
           'strength', coalesce(public.original_payload_number(v_payload ->> 'strength'), generation_strength),
           'model_version', v_version)),
         status = case when status = 'pending' then 'queued' else status end
   where id = p_generation_id;
  return 'adopted';
end;
$$;

-- enqueue_job(p_job_type, p_payload, p_priority, p_scheduled_at, p_max_attempts): the original signature.
-- A generate-image job for a generation (the original start-generation's call) becomes this project's: the
-- generation gets its request (adopt_original_request) and the job the generation's dedupe key, so it runs
-- once, by this project's worker.
create function public.enqueue_job(
  p_job_type text,
  p_payload jsonb,
  p_priority integer,
  p_scheduled_at timestamptz default now(),
  p_max_attempts integer default 3
) returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_generation uuid;
  v_id bigint;
begin
  if p_job_type = 'generate-image' and (p_payload ->> 'generation_id') ~ '^[0-9a-fA-F-]{36}$' then
    v_generation := (p_payload ->> 'generation_id')::uuid;
    if public.adopt_original_request(v_generation, p_payload) = 'adopted' then
      return public.enqueue_job(
        job_type => 'generate-image',
        payload => jsonb_build_object('generation_id', v_generation),
        run_at => coalesce(p_scheduled_at, now()),
        max_attempts => coalesce(p_max_attempts, 3),
        dedupe_key => 'generate-image:' || v_generation::text,
        owner_id => (select user_id from public.image_generations where id = v_generation));
    end if;
  end if;
  insert into public.job_queue (job_type, payload, priority, run_at, max_attempts)
  values (p_job_type, coalesce(p_payload, '{}'::jsonb), coalesce(p_priority, 0),
          coalesce(p_scheduled_at, now()), coalesce(p_max_attempts, 3))
  returning id into v_id;
  return v_id;
end;
$$;

-- claim_next_job(p_job_types): claims one due job (of the given types, or any) for the caller's session,
-- with the worker's lease, and returns it.
create function public.claim_next_job(p_job_types text[] default null)
returns setof public.job_queue
language sql
set search_path = ''
as $$
  update public.job_queue j
     set status = 'processing',
         attempt_number = j.attempt_number + 1,
         locked_by = 'sql:' || pg_backend_pid(),
         locked_until = now() + interval '300 seconds'
   where j.id = (select id from public.job_queue
                  where status = 'pending' and run_at <= now()
                    and (p_job_types is null or job_type = any (p_job_types))
                  order by priority desc, run_at, id
                  limit 1
                  for update skip locked)
  returning j.*
$$;

-- complete_job(p_job_id, p_error_message, p_error_details): finishes a processing job whoever holds it:
-- no error → completed; an error → retried with backoff while attempts remain, else failed (and its
-- generation with it), as the worker's own completion does. The job keeps the operator's message; its
-- generation, which the user reads, gets a fixed sentence (failure.rs, code job_failed), and the message
-- goes to error_details with any details given.
create function public.complete_job(
  p_job_id bigint,
  p_error_message text default null,
  p_error_details jsonb default null
) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_holder text;
begin
  select locked_by into v_holder from public.job_queue
   where id = p_job_id and status = 'processing'
     for update;
  if not found then
    raise exception 'complete_job: job % is not processing (or does not exist)', p_job_id
      using errcode = 'P0002';
  end if;
  if p_error_message is null then
    perform public.complete_job(job_id => p_job_id, worker_id => v_holder, success => true);
    if p_error_details is not null then
      update public.job_queue set error_details = p_error_details where id = p_job_id;
    end if;
  else
    perform public.complete_job(
      job_id => p_job_id, worker_id => v_holder, success => false,
      error => 'The image could not be generated; please try again.',
      error_details => case when jsonb_typeof(p_error_details) = 'object' then p_error_details
                            when p_error_details is not null
                            then jsonb_build_object('details', p_error_details)
                            else '{}'::jsonb end
                       || jsonb_build_object('code', 'job_failed', 'detail', p_error_message));
    update public.job_queue set error_message = p_error_message where id = p_job_id;
  end if;
end;
$$;

-- The form `complete_job(<id>, NULL, NULL)` resolves to (see the top of this file).
create function public.complete_job(p_job_id bigint, p_error_message text, p_error_details text)
returns void
language sql
set search_path = ''
as $$
  select public.complete_job(p_job_id, p_error_message, p_error_details::jsonb)
$$;

-- Per job type and status: how many, oldest and newest, average time from creation to finish (or now),
-- average attempts.
create view public.queue_health
with (security_invoker = true)
as
select job_type,
       status,
       count(*) as count,
       min(created_at) as oldest_job,
       max(created_at) as newest_job,
       avg(extract(epoch from (coalesce(completed_at, now()) - created_at))) as avg_duration_seconds,
       avg(attempt_number) as avg_attempts
  from public.job_queue
 group by job_type, status;

-- Failed jobs of the last 24 hours, newest first.
create view public.failed_jobs_recent
with (security_invoker = true)
as
select id, job_type, payload, attempt_number as attempts, error_message, error_details, created_at,
       completed_at
  from public.job_queue
 where status = 'failed'
   and created_at > now() - interval '24 hours'
 order by created_at desc;

-- Jobs processing for more than 10 minutes, longest first. locked_until tells whether the worker is
-- still alive (it extends the lease while it works); an expired lease is reclaimed by the next claim.
create view public.stuck_jobs
with (security_invoker = true)
as
select id, job_type, payload, started_at,
       extract(epoch from (now() - started_at)) / 60 as minutes_stuck,
       locked_by, locked_until
  from public.job_queue
 where status = 'processing'
   and started_at < now() - interval '10 minutes'
 order by started_at;

do $$
declare
  f text;
begin
  foreach f in array array[
    'public.original_payload_number(text)',
    'public.adopt_original_request(uuid, jsonb)',
    'public.enqueue_job(text, jsonb, integer, timestamptz, integer)',
    'public.claim_next_job(text[])',
    'public.complete_job(bigint, text, jsonb)',
    'public.complete_job(bigint, text, text)'
  ] loop
    execute format('revoke execute on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end;
$$;
revoke all on public.queue_health, public.failed_jobs_recent, public.stuck_jobs from anon, authenticated;
grant select on public.queue_health, public.failed_jobs_recent, public.stuck_jobs to service_role;

-- The seed's manual trigger (`curl -X POST .../process-jobs -H "Authorization: Bearer <anon key>"`) is
-- answered, but such a caller may only wake the worker, and any number of wakes within
-- p_min_interval_secs count as one: the first wins the slot (process-jobs then wakes the worker with the
-- service key, as start-generation's kick does), the rest are coalesced. The counters say how often each
-- happened.
create table public.worker_wakeups (
  id boolean primary key default true check (id),
  last_woken_at timestamptz not null default '-infinity',
  woken bigint not null default 0,
  coalesced bigint not null default 0
);
insert into public.worker_wakeups default values;
alter table public.worker_wakeups enable row level security;
revoke all on public.worker_wakeups from anon, authenticated;

-- Answers {"woken": true} to the call that should wake the worker, {"woken": false} to the rest.
create function public.request_worker_wake(p_min_interval_secs integer default 10) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_won boolean;
begin
  update public.worker_wakeups
     set last_woken_at = now(), woken = woken + 1
   where id and last_woken_at <= now() - make_interval(secs => greatest(coalesce(p_min_interval_secs, 10), 1))
  returning true into v_won;
  if v_won is null then
    update public.worker_wakeups set coalesced = coalesced + 1 where id;
    return jsonb_build_object('woken', false);
  end if;
  return jsonb_build_object('woken', true);
end;
$$;
revoke execute on function public.request_worker_wake(integer) from public, anon, authenticated;
grant execute on function public.request_worker_wake(integer) to service_role;
