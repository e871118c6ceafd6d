-- Calls the worker makes while running a generation's prediction.

-- The generation as jsonb (null when it does not exist).
create function public.get_generation(p_id uuid) returns jsonb
language sql
stable
set search_path = ''
as $$
  select to_jsonb(g) from public.image_generations g where g.id = p_id
$$;

-- Stores the Replicate prediction id as soon as it is known, so a retried job resumes that prediction
-- instead of paying for a new one; the generation is then processing. A generation holds one prediction
-- at a time: recording a different id while one is held answers "conflict" with the held id; an id held by
-- another generation answers "taken".
-- One prediction serves one generation: a retried job that finds a prediction by its input must not adopt
-- another generation's (identical requests without a seed have identical inputs).
create unique index image_generations_replicate_prediction_id
  on public.image_generations (replicate_prediction_id)
  where replicate_prediction_id is not null;

create function public.record_prediction(p_generation_id uuid, p_prediction_id text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_held text;
begin
  if p_prediction_id is null or p_prediction_id = '' then
    raise exception 'record_prediction: a prediction id is required' using errcode = '22023';
  end if;
  begin
    update public.image_generations
       set replicate_prediction_id = p_prediction_id,
           status = case when status = 'pending' then 'processing' else status end
     where id = p_generation_id
       and (replicate_prediction_id is null or replicate_prediction_id = p_prediction_id)
    returning replicate_prediction_id into v_held;
  exception when unique_violation then
    return jsonb_build_object('outcome', 'taken');
  end;
  if v_held is not null then
    return jsonb_build_object('outcome', 'recorded');
  end if;
  select replicate_prediction_id into v_held from public.image_generations where id = p_generation_id;
  if not found then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  return jsonb_build_object('outcome', 'conflict', 'replicate_prediction_id', v_held);
end;
$$;

-- Forgets a prediction that can no longer deliver (it failed in a retryable way), so the next attempt
-- creates a new one. Only clears the id it is given.
create function public.clear_prediction(p_generation_id uuid, p_prediction_id text) returns jsonb
language sql
set search_path = ''
as $$
  with cleared as (
    update public.image_generations
       set replicate_prediction_id = null
     where id = p_generation_id and replicate_prediction_id = p_prediction_id
    returning 1
  )
  select jsonb_build_object('outcome', case when exists (select 1 from cleared) then 'cleared' else 'unchanged' end)
$$;

revoke execute on function public.get_generation(uuid) from public, anon, authenticated;
revoke execute on function public.record_prediction(uuid, text) from public, anon, authenticated;
revoke execute on function public.clear_prediction(uuid, text) from public, anon, authenticated;
grant execute on function public.get_generation(uuid) to service_role;
grant execute on function public.record_prediction(uuid, text) to service_role;
grant execute on function public.clear_prediction(uuid, text) to service_role;
