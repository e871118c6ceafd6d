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
