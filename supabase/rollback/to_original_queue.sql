-- Rollback of an upgrade in place: puts the original Picture queue and its SQL functions back in front of
-- the same data, for the original Edge Functions (redeployed from the original sources; docs/
-- DEPLOYMENT_GUIDE.md, "Upgrading from the original functions", says the whole procedure). Not a
-- migration: run it once, by hand, in one transaction (`psql -v ON_ERROR_STOP=1 -1 -f ...`).
--
-- What it does:
--   - this project's pg_cron jobs stop; its queue is kept, renamed job_queue_v2;
--   - the original queue (job_queue_v1 since the upgrade) takes its name back, with its indexes;
--   - every generation this project's queue had not finished gets an original generate-image job (the
--     payload the original start-generation wrote), and this project's unfinished jobs are cancelled;
--   - the original enqueue_job / claim_next_job / complete_job and the three views are created again,
--     with the original signatures;
--   - this project's trigger that cancels queue jobs when a row is cancelled is dropped (it addresses
--     columns the original queue does not have).
-- Tables, rows and this project's added columns stay: the original clients and functions ignore the
-- added columns, and the row-security policies in place are the ones the original clients need.

do $$
begin
  if to_regclass('public.job_queue_v1') is null then
    raise exception 'no original queue (job_queue_v1) to roll back to: this database was not upgraded in place';
  end if;
  if to_regnamespace('cron') is not null then
    perform cron.unschedule(jobid) from cron.job where jobname in ('process-jobs', 'prune-job-queue');
  end if;
end
$$;

drop trigger if exists image_generations_cancel_jobs on public.image_generations;
drop view if exists public.queue_health, public.failed_jobs_recent, public.stuck_jobs;
drop function if exists public.enqueue_job(text, jsonb, integer, timestamptz, integer);
drop function if exists public.claim_next_job(text[]);
drop function if exists public.complete_job(bigint, text, text);
drop function if exists public.complete_job(bigint, text, jsonb);

-- Swap the tables, and their index names with them.
alter table public.job_queue rename to job_queue_v2;
alter table public.job_queue_v1 rename to job_queue;
do $$
declare
  v_index record;
begin
  for v_index in
    select c.relname from pg_index i join pg_class c on c.oid = i.indexrelid
     where i.indrelid = 'public.job_queue_v2'::regclass and c.relname like 'job_queue%'
  loop
    execute format('alter index public.%I rename to %I', v_index.relname,
                   regexp_replace(v_index.relname, '^job_queue', 'job_queue_v2'));
  end loop;
  for v_index in
    select c.relname from pg_index i join pg_class c on c.oid = i.indexrelid
     where i.indrelid = 'public.job_queue'::regclass and c.relname like 'job_queue_v1%'
  loop
    execute format('alter index public.%I rename to %I', v_index.relname,
                   regexp_replace(v_index.relname, '^job_queue_v1', 'job_queue'));
  end loop;
end
$$;
comment on table public.job_queue is 'Background jobs (the original Picture queue, back after a rollback).';
comment on table public.job_queue_v2 is 'The upgraded backend''s queue, kept as it was at the rollback.';

-- Unfinished generations of the upgraded backend go back to the original worker, as the original
-- start-generation enqueued them.
insert into public.job_queue (job_type, payload, priority, created_by)
select 'generate-image',
       jsonb_build_object(
         'generation_id', g.id, 'user_id', g.user_id, 'prompt', g.prompt,
         'negative_prompt', g.negative_prompt, 'model_id', g.replicate_model,
         'model_version', g.params ->> 'model_version', 'width', g.width, 'height', g.height,
         'num_inference_steps', g.steps, 'guidance_scale', g.guidance_scale, 'seed', g.seed,
         'source_image_url', g.source_image_url, 'strength', g.generation_strength),
       0, g.user_id
  from public.image_generations g
 where g.status in ('queued', 'processing', 'downloading') and g.replicate_model is not null;
update public.job_queue_v2
   set status = 'cancelled', completed_at = now(), error_message = 'rolled back to the original queue'
 where status in ('pending', 'processing');

-- The original functions (signatures and behaviour of the original job-queue migration).
create function public.enqueue_job(
  p_job_type text,
  p_payload jsonb,
  p_priority integer default 0,
  p_scheduled_at timestamptz default now(),
  p_max_attempts integer default 3
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  insert into public.job_queue (job_type, payload, priority, scheduled_at, max_attempts, created_by)
  values (p_job_type, p_payload, coalesce(p_priority, 0), coalesce(p_scheduled_at, now()),
          coalesce(p_max_attempts, 3), auth.uid())
  returning id into v_id;
  return v_id;
end;
$$;

create function public.claim_next_job(p_job_types text[] default null)
returns setof public.job_queue
language plpgsql
set search_path = ''
as $$
declare
  v_id uuid;
begin
  select id into v_id from public.job_queue
   where status = 'pending' and scheduled_at <= now()
     and (p_job_types is null or job_type = any (p_job_types))
   order by priority desc, created_at
   limit 1
   for update skip locked;
  if v_id is null then
    return;
  end if;
  update public.job_queue set status = 'processing', started_at = now(), updated_at = now() where id = v_id;
  return query select * from public.job_queue where id = v_id;
end;
$$;

create function public.complete_job(
  p_job_id uuid,
  p_error_message text default null,
  p_error_details jsonb default null
) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_job public.job_queue;
begin
  select * into v_job from public.job_queue where id = p_job_id for update;
  if v_job.id is null then
    raise exception 'Job not found: %', p_job_id;
  end if;
  if p_error_message is null then
    update public.job_queue set status = 'completed', completed_at = now(), updated_at = now()
     where id = p_job_id;
  elsif v_job.attempts < v_job.max_attempts then
    update public.job_queue
       set status = 'pending', attempts = attempts + 1,
           scheduled_at = now() + make_interval(secs => power(2, attempts + 1)),
           error_message = p_error_message, error_details = p_error_details, updated_at = now()
     where id = p_job_id;
  else
    update public.job_queue
       set status = 'failed', completed_at = now(), error_message = p_error_message,
           error_details = p_error_details, updated_at = now()
     where id = p_job_id;
  end if;
end;
$$;

create view public.queue_health as
select job_type, status, count(*) as count, min(created_at) as oldest_job, max(created_at) as newest_job,
       avg(extract(epoch from (coalesce(completed_at, now()) - created_at))) as avg_duration_seconds,
       avg(attempts) as avg_attempts
  from public.job_queue
 group by job_type, status;

create view public.failed_jobs_recent as
select id, job_type, payload, attempts, error_message, created_at, completed_at
  from public.job_queue
 where status = 'failed' and created_at > now() - interval '24 hours'
 order by created_at desc;

create view public.stuck_jobs as
select id, job_type, payload, started_at, extract(epoch from (now() - started_at)) / 60 as minutes_stuck
  from public.job_queue
 where status = 'processing' and started_at < now() - interval '10 minutes'
 order by started_at;

-- Operators and the original functions (service role) only.
revoke execute on function public.enqueue_job(text, jsonb, integer, timestamptz, integer) from public, anon;
revoke execute on function public.claim_next_job(text[]) from public, anon, authenticated;
revoke execute on function public.complete_job(uuid, text, jsonb) from public, anon, authenticated;
grant execute on function public.enqueue_job(text, jsonb, integer, timestamptz, integer) to service_role;
grant execute on function public.claim_next_job(text[]) to service_role;
grant execute on function public.complete_job(uuid, text, jsonb) to service_role;
revoke all on public.queue_health, public.failed_jobs_recent, public.stuck_jobs from anon, authenticated;
grant select on public.queue_health, public.failed_jobs_recent, public.stuck_jobs to service_role;
