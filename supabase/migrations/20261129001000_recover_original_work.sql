-- Upgrade in place, last step: the work the original system left unfinished is carried over to this
-- project's queue, once (the migration runs once). On an empty database, or one without the original
-- queue, it does nothing.
--
-- Every generation the original left in flight (queued, processing or downloading, or pending with an
-- unfinished original job) gets this project's request columns (replicate_model, params), filled from its
-- original job's payload where there is one and from its own columns otherwise (adopt_original_request,
-- ..._operator_compat.sql), and one generate-image job. The worker then runs it as any other: a generation
-- whose replicate_prediction_id is recorded resumes that prediction (no second one is paid for); one that
-- cannot be run (no model known) is failed now, with a reason. Its status is kept (pending becomes queued): clients see it carry on.
-- The original jobs that were unfinished are marked cancelled in job_queue_v1, with where their work went,
-- so nothing there runs again (also after a rollback to the original functions).

do $$
declare
  v_gen record;
  v_carried integer := 0;
  v_failed integer := 0;
begin
  if to_regclass('public.job_queue_v1') is null then
    return;
  end if;

  for v_gen in
    select g.id, g.user_id,
           (select j.payload from public.job_queue_v1 j
             where j.payload ->> 'generation_id' = g.id::text and j.job_type = 'generate-image'
             order by (j.status in ('pending', 'processing')) desc, j.created_at desc
             limit 1) as payload
      from public.image_generations g
     where g.replicate_model is null
       and (g.status in ('queued', 'processing', 'downloading')
            or (g.status = 'pending'
                and exists (select 1 from public.job_queue_v1 j
                             where j.payload ->> 'generation_id' = g.id::text
                               and j.status in ('pending', 'processing'))))
     order by g.created_at
  loop
    if public.adopt_original_request(v_gen.id, v_gen.payload) = 'no_model' then
      update public.image_generations
         set status = 'failed',
             -- What its user reads (failure.rs, not_resumable); the reason is in the notice below.
             error_message = 'This generation could not be resumed; please start it again.'
       where id = v_gen.id;
      v_failed := v_failed + 1;
      continue;
    end if;
    perform public.enqueue_job(
      job_type => 'generate-image',
      payload => jsonb_build_object('generation_id', v_gen.id, 'carried_over', true),
      dedupe_key => 'generate-image:' || v_gen.id::text,
      owner_id => v_gen.user_id
    );
    v_carried := v_carried + 1;
  end loop;

  update public.job_queue_v1
     set status = 'cancelled',
         completed_at = now(),
         error_message = 'moved to job_queue at the upgrade (its generation is run there)'
   where status in ('pending', 'processing');

  raise notice 'upgrade: % generation(s) carried over to the new queue, % failed (model unknown: not_resumable)',
    v_carried, v_failed;
end
$$;
