-- A generation's life, as SQL calls made by the edge functions (service role only):
--   start_generation      new row + its generate-image job (start-generation, generate-image)
--   attach_generation     a client-inserted pending row gets its validated request + job (generate-image)
--   resolve_model         a models.id uuid → the catalog model it names
--   start_generation_processing / begin_prediction_create / record_prediction / clear_prediction
--                                                                       the generate-image step
--   start_generation_download                                            the download-image step
--   complete_generation   images rows + completed, in one transaction
-- and a trigger that makes any row that becomes failed (a client's cancel included) finished, with its
-- waiting jobs cancelled.
--
-- Each answers a jsonb outcome rather than raising, so the edge maps each case to an HTTP answer.

-- The generate-image job of a generation (the newest, whatever its state).
create function public.generation_job_id(p_generation_id uuid) returns bigint
language sql
stable
set search_path = ''
as $$
  select id from public.job_queue
   where dedupe_key = 'generate-image:' || p_generation_id::text
   order by id desc
   limit 1
$$;

-- start_generation: inserts the generation (status queued) and its generate-image job in one transaction.
--   {"outcome":"created","generation_id","job_id","status":"queued"}
--   {"outcome":"existing","generation_id","job_id","status"}       same Idempotency-Key, same request
--   {"outcome":"idempotency_conflict","generation_id"}            same key, different request
--   {"outcome":"pending_limit","pending":n,"limit":m}             too many images in progress
--   {"outcome":"usage_limit"|"usage_request_too_large",...}       a usage limit (admit_generation)
--   {"outcome":"unknown_user"}                                    token's user no longer exists
-- Limits, all under the user's lock (admit_generation): images in progress (`p_max_pending`, or the
-- guests' setting), the usage windows and the project cap; admitted means charged.
create function public.start_generation(
  p_user_id uuid,
  p_prompt text,
  p_replicate_model text,
  p_params jsonb default '{}'::jsonb,
  p_adjusted jsonb default '[]'::jsonb,
  p_idempotency_key text default null,
  p_request_fingerprint text default null,
  p_max_pending integer default 10,
  p_model_id uuid default null,
  p_anonymous boolean default false
) returns jsonb
language plpgsql
-- Definer rights: it reads auth.users and writes profiles, which the API roles cannot. Safe because only
-- the backend (owner, service_role) may execute it and search_path is empty.
security definer
set search_path = ''
as $$
declare
  v_existing record;
  v_model record;
  v_refusal jsonb;
  v_id uuid := gen_random_uuid();
  v_job bigint;
begin
  if p_user_id is null or p_max_pending is null or p_max_pending < 1 or p_replicate_model is null then
    raise exception 'start_generation: p_user_id, p_replicate_model and a positive p_max_pending are required'
      using errcode = '22023';
  end if;

  -- Serialise one user's requests (only that user's): without it two concurrent requests could both
  -- pass the pending count, or both miss each other's idempotency key and one fail on the unique index.
  perform pg_advisory_xact_lock(hashtextextended('start_generation:' || p_user_id::text, 0));

  if p_idempotency_key is not null then
    select id, status, request_fingerprint into v_existing
      from public.image_generations
     where user_id = p_user_id and idempotency_key = p_idempotency_key;
    if found then
      if v_existing.request_fingerprint is distinct from p_request_fingerprint then
        return jsonb_build_object('outcome', 'idempotency_conflict', 'generation_id', v_existing.id);
      end if;
      return jsonb_build_object('outcome', 'existing', 'generation_id', v_existing.id,
                                'job_id', public.generation_job_id(v_existing.id),
                                'status', v_existing.status);
    end if;
  end if;

  -- Generations reference profiles (as in the original schema); a user made before the profile
  -- trigger existed gets one now. No auth user: the token outlived its user.
  perform 1 from public.profiles where id = p_user_id;
  if not found then
    insert into public.profiles (id, email)
    select u.id, u.email from auth.users u where u.id = p_user_id
    on conflict (id) do nothing;
    if not found then
      return jsonb_build_object('outcome', 'unknown_user');
    end if;
  end if;

  -- The models row: by the uuid the client named, else by the catalog id.
  if p_model_id is not null then
    select id, name, cost_weight into v_model from public.models where id = p_model_id;
  else
    select id, name, cost_weight into v_model from public.models where replicate_id = p_replicate_model;
  end if;

  -- Admitted under the user's limits (images in progress, usage windows, the project's cap) and charged,
  -- in this transaction: a refusal writes nothing (..._usage_limits.sql).
  v_refusal := public.admit_generation(p_user_id, v_id, p_params, v_model.cost_weight, p_max_pending,
                                       p_anonymous);
  if v_refusal is not null then
    return v_refusal;
  end if;

  insert into public.image_generations
    (id, user_id, prompt, negative_prompt, model, model_id, style, width, height, steps, guidance_scale,
     seed, source_image_url, generation_strength, status,
     replicate_model, params, adjusted, idempotency_key, request_fingerprint)
  values
    -- The original columns hold the values applied, from the validated params (see the mapping above
    -- the table's columns in docs/ARCHITECTURE.md, "Data model").
    (v_id, p_user_id, p_prompt, p_params ->> 'negative_prompt', coalesce(v_model.name, p_replicate_model),
     v_model.id, p_params ->> 'style', (p_params ->> 'width')::integer,
     (p_params ->> 'height')::integer, (p_params ->> 'num_inference_steps')::integer,
     (p_params ->> 'guidance_scale')::numeric, (p_params ->> 'seed')::bigint,
     p_params ->> 'image_url', (p_params ->> 'strength')::numeric,
     -- pending → queued happen in this one transaction: the first committed state is queued.
     'queued',
     p_replicate_model, coalesce(p_params, '{}'::jsonb), coalesce(p_adjusted, '[]'::jsonb),
     p_idempotency_key, p_request_fingerprint);

  v_job := public.enqueue_job(
    job_type => 'generate-image',
    payload => jsonb_build_object('generation_id', v_id),
    dedupe_key => 'generate-image:' || v_id::text,
    owner_id => p_user_id
  );

  return jsonb_build_object('outcome', 'created', 'generation_id', v_id, 'job_id', v_job,
                            'status', 'queued');
end;
$$;

-- attach_generation: the mobile app's flow. It inserted its own pending row; generate-image brings the
-- validated request for it. The row gets the request and its job (status queued), once.
--   {"outcome":"attached","generation_id","job_id","status":"queued"}
--   {"outcome":"existing","generation_id","job_id","status"}    already attached (a replayed call)
--   {"outcome":"not_found"}                                     no such row, or not the caller's
--   {"outcome":"not_pending","status"}                          the row was cancelled or failed first
--   {"outcome":"pending_limit","pending","limit"}
--   {"outcome":"usage_limit"|"usage_request_too_large",...}    as start_generation
create function public.attach_generation(
  p_user_id uuid,
  p_generation_id uuid,
  p_prompt text,
  p_replicate_model text,
  p_params jsonb default '{}'::jsonb,
  p_adjusted jsonb default '[]'::jsonb,
  p_max_pending integer default 10,
  p_model_id uuid default null,
  p_anonymous boolean default false
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row public.image_generations;
  v_model record;
  v_refusal jsonb;
  v_job bigint;
begin
  if p_user_id is null or p_generation_id is null or p_replicate_model is null
     or p_max_pending is null or p_max_pending < 1 then
    raise exception 'attach_generation: user, generation, model and a positive p_max_pending are required'
      using errcode = '22023';
  end if;
  perform pg_advisory_xact_lock(hashtextextended('start_generation:' || p_user_id::text, 0));

  select * into v_row from public.image_generations where id = p_generation_id for update;
  -- Someone else's row answers exactly like a missing one: ids are not an oracle.
  if not found or v_row.user_id is distinct from p_user_id then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  if v_row.replicate_model is not null then
    return jsonb_build_object('outcome', 'existing', 'generation_id', v_row.id,
                              'job_id', public.generation_job_id(v_row.id), 'status', v_row.status);
  end if;
  if v_row.status <> 'pending' then
    return jsonb_build_object('outcome', 'not_pending', 'status', v_row.status,
                              'error_message', v_row.error_message);
  end if;

  if p_model_id is not null then
    select id, name, cost_weight into v_model from public.models where id = p_model_id;
  else
    select id, name, cost_weight into v_model from public.models where replicate_id = p_replicate_model;
  end if;

  -- As in start_generation (this row, not attached yet, is not in progress).
  v_refusal := public.admit_generation(p_user_id, v_row.id, p_params, v_model.cost_weight, p_max_pending,
                                       p_anonymous);
  if v_refusal is not null then
    return v_refusal;
  end if;

  -- The call's validated request is what runs: its applied values replace what the client stored.
  update public.image_generations
     set prompt = coalesce(p_prompt, prompt),
         negative_prompt = p_params ->> 'negative_prompt',
         model = coalesce(model, v_model.name, p_replicate_model),
         model_id = coalesce(model_id, v_model.id),
         style = coalesce(p_params ->> 'style', style),
         width = coalesce((p_params ->> 'width')::integer, width),
         height = coalesce((p_params ->> 'height')::integer, height),
         steps = (p_params ->> 'num_inference_steps')::integer,
         guidance_scale = (p_params ->> 'guidance_scale')::numeric,
         seed = (p_params ->> 'seed')::bigint,
         source_image_url = p_params ->> 'image_url',
         generation_strength = (p_params ->> 'strength')::numeric,
         status = 'queued',
         replicate_model = p_replicate_model,
         params = coalesce(p_params, '{}'::jsonb),
         adjusted = coalesce(p_adjusted, '[]'::jsonb)
   where id = v_row.id;

  v_job := public.enqueue_job(
    job_type => 'generate-image',
    payload => jsonb_build_object('generation_id', v_row.id),
    dedupe_key => 'generate-image:' || v_row.id::text,
    owner_id => p_user_id
  );
  return jsonb_build_object('outcome', 'attached', 'generation_id', v_row.id, 'job_id', v_job,
                            'status', 'queued');
end;
$$;

-- A models.id uuid (what the web app sends as model_id) → the catalog model it names, or null.
create function public.resolve_model(p_id uuid) returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object('id', m.id, 'name', m.name, 'replicate_id', m.replicate_id,
                            'version', m.version, 'is_active', m.is_active)
    from public.models m
   where m.id = p_id
$$;

-- The generation as jsonb with its images (null when it does not exist).
create function public.get_generation(p_id uuid) returns jsonb
language sql
stable
set search_path = ''
as $$
  select to_jsonb(g) || jsonb_build_object('images', coalesce(
           (select jsonb_agg(to_jsonb(i) order by i.storage_path)
              from public.images i where i.generation_id = g.id), '[]'::jsonb))
    from public.image_generations g
   where g.id = p_id
$$;

-- The generate-image step starts: queued (or pending) becomes processing, started_at is set, and the row
-- is returned (null when it does not exist). A failed row (cancelled) stays failed: the worker skips it.
create function public.start_generation_processing(p_generation_id uuid) returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  update public.image_generations
     set status = 'processing', started_at = coalesce(started_at, now())
   where id = p_generation_id and status in ('pending', 'queued');
  return public.get_generation(p_generation_id);
end;
$$;

-- The download-image step starts: processing becomes downloading; the row is returned as above.
create function public.start_generation_download(p_generation_id uuid) returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  update public.image_generations
     set status = 'downloading'
   where id = p_generation_id and status in ('pending', 'queued', 'processing');
  return public.get_generation(p_generation_id);
end;
$$;

-- Stores the Replicate prediction id as soon as it is known, so a retried job resumes that prediction
-- instead of paying for a new one; the generation is then processing. A generation holds one prediction
-- at a time: recording a different id while one is held answers "conflict" with the held id; an id held by
-- another generation answers "taken"; a finished (e.g. cancelled) generation answers "finished".
create function public.record_prediction(p_generation_id uuid, p_prediction_id text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_held text;
  v_status text;
begin
  if p_prediction_id is null or p_prediction_id = '' then
    raise exception 'record_prediction: a prediction id is required' using errcode = '22023';
  end if;
  begin
    update public.image_generations
       set replicate_prediction_id = p_prediction_id,
           status = case when status in ('pending', 'queued') then 'processing' else status end
     where id = p_generation_id
       and (replicate_prediction_id is null or replicate_prediction_id = p_prediction_id)
    returning replicate_prediction_id, status into v_held, v_status;
  exception when unique_violation then
    return jsonb_build_object('outcome', 'taken');
  end;
  if v_held is not null then
    if v_status in ('completed', 'failed') then
      return jsonb_build_object('outcome', 'finished', 'status', v_status);
    end if;
    return jsonb_build_object('outcome', 'recorded');
  end if;
  select replicate_prediction_id into v_held from public.image_generations where id = p_generation_id;
  if not found then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  return jsonb_build_object('outcome', 'conflict', 'replicate_prediction_id', v_held);
end;
$$;

-- Paid once (ARCHITECTURE.md "Cost safety"): records, before a create is POSTed, that it is about to be,
-- so a create whose answer never arrives is visible afterwards as "intent recorded, no prediction id".
-- Under the row lock (two runners of one generation see each other's intent):
--   not_found / finished (completed or failed: cancelled)        nothing is sent
--   held        a prediction is recorded: resume it, send nothing
--   uncertain   create n was sent at sent_at (age_secs ago, this database's clock) and its prediction was
--               never recorded: the caller looks for it by its mark before anything else
--   create      go: send create n. A new create counts (prediction_creates + 1, sent now), unless the
--               generation has had p_max_creates already: cap_reached. With p_resend_create = the open
--               create's number (its window was searched to the end and nothing found: it made no
--               prediction) the same create is sent again, same number, and its sent_at is kept, so a
--               later search covers both sends.
create function public.begin_prediction_create(
  p_generation_id uuid,
  p_max_creates integer,
  p_resend_create integer default null
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_gen public.image_generations;
begin
  if p_max_creates is null or p_max_creates < 1 then
    raise exception 'begin_prediction_create: p_max_creates must be at least 1' using errcode = '22023';
  end if;
  select * into v_gen from public.image_generations where id = p_generation_id for update;
  if not found then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  if v_gen.status in ('completed', 'failed') then
    return jsonb_build_object('outcome', 'finished', 'status', v_gen.status);
  end if;
  if v_gen.replicate_prediction_id is not null then
    return jsonb_build_object('outcome', 'held', 'replicate_prediction_id', v_gen.replicate_prediction_id);
  end if;
  if v_gen.prediction_create_sent_at is not null then
    if p_resend_create = v_gen.prediction_creates then
      return jsonb_build_object('outcome', 'create', 'create_number', v_gen.prediction_creates);
    end if;
    return jsonb_build_object('outcome', 'uncertain', 'create_number', v_gen.prediction_creates,
                              'sent_at', v_gen.prediction_create_sent_at,
                              'age_secs', extract(epoch from now() - v_gen.prediction_create_sent_at));
  end if;
  if v_gen.prediction_creates >= p_max_creates then
    return jsonb_build_object('outcome', 'cap_reached', 'creates', v_gen.prediction_creates);
  end if;
  update public.image_generations
     set prediction_creates = prediction_creates + 1,
         prediction_create_sent_at = now()
   where id = p_generation_id;
  return jsonb_build_object('outcome', 'create', 'create_number', v_gen.prediction_creates + 1);
end;
$$;

-- Forgets a prediction that can no longer deliver (it failed without running, or is gone), and the intent
-- of its create, so the next attempt sends a new, counted create. Only clears the id it is given.
create function public.clear_prediction(p_generation_id uuid, p_prediction_id text) returns jsonb
language sql
set search_path = ''
as $$
  with cleared as (
    update public.image_generations
       set replicate_prediction_id = null, prediction_create_sent_at = null
     where id = p_generation_id and replicate_prediction_id = p_prediction_id
    returning 1
  )
  select jsonb_build_object('outcome', case when exists (select 1 from cleared) then 'cleared' else 'unchanged' end)
$$;

-- Completes a generation with its stored outputs ([{"storage_path","url","format"?,"file_size"?,
-- "width"?,"height"?}], the first is the main image): one images row per output and the row completed,
-- in one transaction, so a client that sees `completed` always finds its images row.
-- Answers {"outcome":"completed","image":<first images row>}, or for a generation already finished or
-- missing, {"outcome":<its status> | "not_found"}.
create function public.complete_generation(p_generation_id uuid, p_outputs jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_gen public.image_generations;
  v_image jsonb;
begin
  if jsonb_typeof(p_outputs) is distinct from 'array' or jsonb_array_length(p_outputs) = 0 then
    raise exception 'complete_generation: outputs must be a non-empty array' using errcode = '22023';
  end if;
  select * into v_gen from public.image_generations where id = p_generation_id for update;
  if not found then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  if v_gen.status not in ('pending', 'queued', 'processing', 'downloading') then
    return jsonb_build_object('outcome', v_gen.status);
  end if;

  insert into public.images
    (user_id, generation_id, filename, storage_path, public_url, file_size, width, height, format,
     prompt, negative_prompt, model, style, generation_strength)
  select v_gen.user_id, v_gen.id, regexp_replace(o ->> 'storage_path', '^.*/', ''), o ->> 'storage_path',
         o ->> 'url', (o ->> 'file_size')::bigint, coalesce((o ->> 'width')::integer, v_gen.width),
         coalesce((o ->> 'height')::integer, v_gen.height), o ->> 'format', v_gen.prompt,
         v_gen.negative_prompt, v_gen.model, v_gen.style, v_gen.generation_strength
    from jsonb_array_elements(p_outputs) as o
   -- The generation's row lock (above) serialises completions of it: a repeated one adds nothing.
   where not exists (select 1 from public.images i where i.storage_path = o ->> 'storage_path');

  update public.image_generations
     set status = 'completed',
         outputs = p_outputs,
         image_url = p_outputs -> 0 ->> 'url',
         storage_path = p_outputs -> 0 ->> 'storage_path',
         error_message = null,
         completed_at = now(),
         generation_time_seconds = round(extract(epoch from now() - created_at)::numeric, 2)
   where id = v_gen.id;

  select to_jsonb(i) into v_image from public.images i where i.storage_path = p_outputs -> 0 ->> 'storage_path';
  return jsonb_build_object('outcome', 'completed', 'image', v_image);
end;
$$;

-- Any row that becomes failed is finished: completed_at is set and a reason kept (a client's cancel
-- writes status 'failed' + error_message, nothing else).
create function public.image_generations_failed_finish() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.completed_at := coalesce(new.completed_at, now());
  new.error_message := coalesce(nullif(btrim(new.error_message), ''), 'Cancelled');
  return new;
end;
$$;

create trigger image_generations_failed_finish
  before update of status on public.image_generations
  for each row
  when (new.status = 'failed' and old.status is distinct from 'failed')
  execute function public.image_generations_failed_finish();

-- ... and its waiting jobs are cancelled, so nothing runs for it. A job already running sees the row
-- failed at its next step (and cancels a running prediction at Replicate). A waiting generate-image job
-- whose prediction is recorded (parked while the prediction runs, or waiting to retry) is made due
-- instead: it runs only to cancel that prediction at Replicate, which would otherwise run on and bill.
-- Definer rights: a client's cancel runs as `authenticated`, which cannot touch the queue.
create function public.image_generations_cancel_jobs() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.replicate_prediction_id is not null then
    update public.job_queue
       set run_at = now()
     where dedupe_key = 'generate-image:' || new.id::text and status = 'pending';
  end if;
  update public.job_queue
     set status = 'cancelled', completed_at = now(),
         error_message = 'generation failed or was cancelled: ' || new.error_message
   where dedupe_key in ('generate-image:' || new.id::text, 'download-image:' || new.id::text)
     and status = 'pending'
     and not (new.replicate_prediction_id is not null and job_type = 'generate-image');
  return null;
end;
$$;

create trigger image_generations_cancel_jobs
  after update of status on public.image_generations
  for each row
  when (new.status = 'failed' and old.status is distinct from 'failed')
  execute function public.image_generations_cancel_jobs();

-- Only the backend runs these.
do $$
declare
  f text;
begin
  foreach f in array array[
    'public.generation_job_id(uuid)',
    'public.start_generation(uuid, text, text, jsonb, jsonb, text, text, integer, uuid, boolean)',
    'public.attach_generation(uuid, uuid, text, text, jsonb, jsonb, integer, uuid, boolean)',
    'public.resolve_model(uuid)',
    'public.get_generation(uuid)',
    'public.start_generation_processing(uuid)',
    'public.start_generation_download(uuid)',
    'public.begin_prediction_create(uuid, integer, integer)',
    'public.record_prediction(uuid, text)',
    'public.clear_prediction(uuid, text)',
    'public.complete_generation(uuid, jsonb)'
  ] loop
    execute format('revoke execute on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end;
$$;
revoke execute on function public.image_generations_failed_finish() from public, anon, authenticated;
revoke execute on function public.image_generations_cancel_jobs() from public, anon, authenticated;

-- Legacy generate-image: the deadline of the generation's synchronous wait. The first call sets it to
-- now() + p_wait_seconds; every later call (a replay: same Idempotency-Key, or the mobile app's same
-- generation_id) gets the stored one, so replays across isolates end when the first call's wait ends.
-- Answers the deadline, or null when the generation does not exist.
create function public.begin_legacy_wait(p_generation_id uuid, p_wait_seconds integer)
returns timestamptz
language plpgsql
set search_path = ''
as $$
declare
  v_until timestamptz;
begin
  -- Only the first call writes (replays would otherwise each send clients a Realtime UPDATE); a
  -- concurrent first call waits for the row lock, then sees it set and reads it.
  update public.image_generations
     set legacy_wait_until = now() + make_interval(secs => greatest(coalesce(p_wait_seconds, 0), 0))
   where id = p_generation_id and legacy_wait_until is null
  returning legacy_wait_until into v_until;
  if v_until is null then
    select legacy_wait_until into v_until from public.image_generations where id = p_generation_id;
  end if;
  return v_until;
end;
$$;
revoke execute on function public.begin_legacy_wait(uuid, integer) from public, anon, authenticated;
grant execute on function public.begin_legacy_wait(uuid, integer) to service_role;
