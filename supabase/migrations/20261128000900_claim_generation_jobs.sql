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
