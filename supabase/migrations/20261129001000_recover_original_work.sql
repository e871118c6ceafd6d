-- Upgrade in place, last step: the work the original system left unfinished is carried over to this
-- project's queue, once (the migration runs once). On an empty database, or one without the original
-- queue, it does nothing.
--
-- Every generation the original left in flight (queued, processing or downloading, or pending with an
-- unfinished original job) gets this project's request columns (replicate_model, params), filled from its
-- original job's payload where there is one and from its own columns otherwise, and one generate-image
-- job. The worker then runs it as any other: a generation whose replicate_prediction_id is recorded resumes
-- that prediction (no second one is paid for); one that cannot be run (no model known) is failed now, with
-- a reason. Its status is kept (pending becomes queued): clients see it carry on.
-- The original jobs that were unfinished are marked cancelled in job_queue_v1, with where their work went,
-- so nothing there runs again (also after a rollback to the original functions).

-- A number from a job payload's text, or null when it is not one (the payload is the old clients' JSON).
create function pg_temp.num(p text) returns numeric
language sql immutable
as $$ select case when btrim(p) ~ '^-?[0-9]+(\.[0-9]+)?$' then btrim(p)::numeric end $$;

do $$
declare
  v_gen record;
  v_payload jsonb;
  v_model text;
  v_version text;
  v_carried integer := 0;
  v_failed integer := 0;
begin
  if to_regclass('public.job_queue_v1') is null then
    return;
  end if;

  for v_gen in
    select g.id, g.status, g.model, g.model_id, g.width, g.height, g.steps, g.guidance_scale, g.seed,
           g.negative_prompt, g.source_image_url, g.generation_strength,
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
       for update of g
  loop
    v_payload := coalesce(v_gen.payload, '{}'::jsonb);
    -- The catalog id: the original job's model_id (a Replicate id, perhaps an alias or owner/name:version:
    -- the worker's parser takes those), else the models row the generation names.
    v_model := coalesce(
      nullif(btrim(v_payload ->> 'model_id'), ''),
      (select m.replicate_id from public.models m where m.id = v_gen.model_id),
      (select m.replicate_id from public.models m
        where v_gen.model is not null and (m.name = v_gen.model or m.display_name = v_gen.model)
        order by m.is_active desc nulls last limit 1));
    if v_model is null then
      update public.image_generations
         set status = 'failed',
             error_message = 'This generation was in progress when the backend was upgraded and could '
                             || 'not be resumed (its model is unknown). Please start it again.'
       where id = v_gen.id;
      v_failed := v_failed + 1;
      continue;
    end if;
    -- A pinned version only in the form Replicate takes (64 hex); anything else is left out.
    v_version := nullif(btrim(v_payload ->> 'model_version'), '');
    if v_version !~ '^[0-9a-f]{64}$' then
      v_version := null;
    end if;

    update public.image_generations
       set replicate_model = v_model,
           params = jsonb_strip_nulls(jsonb_build_object(
             'width', coalesce(round(pg_temp.num(v_payload ->> 'width'))::integer, v_gen.width),
             'height', coalesce(round(pg_temp.num(v_payload ->> 'height'))::integer, v_gen.height),
             'num_outputs', 1,
             'num_inference_steps', coalesce(round(pg_temp.num(v_payload ->> 'num_inference_steps'))::integer, v_gen.steps),
             'guidance_scale', coalesce(pg_temp.num(v_payload ->> 'guidance_scale'), v_gen.guidance_scale),
             'seed', coalesce(round(pg_temp.num(v_payload ->> 'seed'))::bigint, v_gen.seed),
             'negative_prompt', coalesce(nullif(v_payload ->> 'negative_prompt', ''), v_gen.negative_prompt),
             'image_url', coalesce(nullif(v_payload ->> 'source_image_url', ''), v_gen.source_image_url),
             'strength', coalesce(pg_temp.num(v_payload ->> 'strength'), v_gen.generation_strength),
             'model_version', v_version)),
           status = case when status = 'pending' then 'queued' else status end
     where id = v_gen.id;
    perform public.enqueue_job(
      job_type => 'generate-image',
      payload => jsonb_build_object('generation_id', v_gen.id, 'carried_over', true),
      dedupe_key => 'generate-image:' || v_gen.id::text
    );
    v_carried := v_carried + 1;
  end loop;

  update public.job_queue_v1
     set status = 'cancelled',
         completed_at = now(),
         error_message = 'moved to job_queue at the upgrade (its generation is run there)'
   where status in ('pending', 'processing');

  raise notice 'upgrade: % generation(s) carried over to the new queue, % failed (model unknown)',
    v_carried, v_failed;
end
$$;
