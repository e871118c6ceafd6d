-- start_generation: the API's one database call. Inserts the generation and its generate-image job in
-- one transaction, so a request either leaves both or neither.
--
-- Returns a jsonb outcome rather than raising, so the edge can map each case to an HTTP answer:
--   {"outcome":"created","generation_id":...,"status":"pending"}
--   {"outcome":"existing","generation_id":...,"status":...}       same Idempotency-Key, same request
--   {"outcome":"idempotency_conflict","generation_id":...}        same key, different request
--   {"outcome":"pending_limit","pending":n,"limit":m}             too many unfinished generations
--   {"outcome":"unknown_user"}                                    token's user no longer exists

create function public.start_generation(
  p_user_id uuid,
  p_prompt text,
  p_model_id text,
  p_params jsonb default '{}'::jsonb,
  p_idempotency_key text default null,
  p_request_fingerprint text default null,
  p_max_pending integer default 10
) returns jsonb
language plpgsql
-- Definer rights: it reads auth.users, which the API roles cannot. Safe because only the backend
-- (owner, service_role) may execute it and search_path is empty.
security definer
set search_path = ''
as $$
declare
  v_existing record;
  v_pending integer;
  v_id uuid;
begin
  if p_user_id is null or p_max_pending is null or p_max_pending < 1 then
    raise exception 'start_generation: p_user_id and a positive p_max_pending are required'
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
                                'status', v_existing.status);
    end if;
  end if;

  if not exists (select 1 from auth.users where id = p_user_id) then
    return jsonb_build_object('outcome', 'unknown_user');
  end if;

  -- Count at most the limit: the answer only needs "under or not".
  select count(*) into v_pending
    from (select 1
            from public.image_generations
           where user_id = p_user_id and status in ('pending', 'processing')
           limit p_max_pending) unfinished;
  if v_pending >= p_max_pending then
    return jsonb_build_object('outcome', 'pending_limit', 'pending', v_pending, 'limit', p_max_pending);
  end if;

  insert into public.image_generations
    (user_id, prompt, model_id, params, idempotency_key, request_fingerprint)
  values
    (p_user_id, p_prompt, p_model_id, coalesce(p_params, '{}'::jsonb), p_idempotency_key,
     p_request_fingerprint)
  returning id into v_id;

  perform public.enqueue_job(
    job_type => 'generate-image',
    payload => jsonb_build_object('generation_id', v_id),
    dedupe_key => 'generate-image:' || v_id::text
  );

  return jsonb_build_object('outcome', 'created', 'generation_id', v_id, 'status', 'pending');
end;
$$;

revoke execute on function public.start_generation(uuid, text, text, jsonb, text, text, integer)
  from public, anon, authenticated;
grant execute on function public.start_generation(uuid, text, text, jsonb, text, text, integer)
  to service_role;
