-- Finishing a generation: every stored output, and the row completed in one statement.

alter table public.image_generations add column outputs jsonb not null default '[]'::jsonb
  check (jsonb_typeof(outputs) = 'array');
alter table public.image_generations add column started_at timestamptz;
comment on column public.image_generations.started_at is
  'When a worker first started on it (the generate-image job began): accept-to-start latency.';

comment on column public.image_generations.outputs is
  'Every stored image, [{"storage_path", "url"}]; image_url and storage_path repeat the first one.';

-- Marks a generation completed with its stored images (the first becomes image_url/storage_path).
-- Answers {"outcome":"completed"} or, for a generation already finished or missing, what it found.
create function public.complete_generation(p_generation_id uuid, p_outputs jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_status text;
begin
  if jsonb_typeof(p_outputs) is distinct from 'array' or jsonb_array_length(p_outputs) = 0 then
    raise exception 'complete_generation: outputs must be a non-empty array' using errcode = '22023';
  end if;
  update public.image_generations
     set status = 'completed',
         outputs = p_outputs,
         image_url = p_outputs -> 0 ->> 'url',
         storage_path = p_outputs -> 0 ->> 'storage_path',
         error_message = null,
         completed_at = now()
   where id = p_generation_id and status in ('pending', 'processing')
  returning status into v_status;
  if v_status is not null then
    return jsonb_build_object('outcome', 'completed');
  end if;
  select status into v_status from public.image_generations where id = p_generation_id;
  return jsonb_build_object('outcome', coalesce(v_status, 'not_found'));
end;
$$;

-- The generate-image step starts: the generation becomes processing (clients polling their row see it)
-- and is returned as jsonb (null when it does not exist).
create function public.start_generation_processing(p_generation_id uuid) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_row jsonb;
begin
  update public.image_generations set status = 'processing', started_at = coalesce(started_at, now())
   where id = p_generation_id and status = 'pending';
  select to_jsonb(g) into v_row from public.image_generations g where g.id = p_generation_id;
  return v_row;
end;
$$;

revoke execute on function public.complete_generation(uuid, jsonb) from public, anon, authenticated;
revoke execute on function public.start_generation_processing(uuid) from public, anon, authenticated;
grant execute on function public.complete_generation(uuid, jsonb) to service_role;
grant execute on function public.start_generation_processing(uuid) to service_role;
