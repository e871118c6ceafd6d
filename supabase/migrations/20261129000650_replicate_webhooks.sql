-- Replicate webhooks (docs/ARCHITECTURE.md "Webhook mode"). With REPLICATE_WEBHOOKS on, the worker creates a
-- prediction and parks its job (`park_job`) instead of polling it; the prediction's `completed` webhook,
-- verified by the replicate-webhook function, is recorded here (`record_replicate_webhook`) and makes the
-- parked job due at once, so the next claim stores the image. A parked job whose webhook never comes is
-- due anyway at its recheck time, when the worker reads the prediction itself: a lost webhook delays an
-- image, never loses it.
--
--   replicate_webhook_deliveries   one row per accepted `webhook-id`: a redelivery changes nothing
--   replicate_prediction_outcomes  the first terminal state reported for each prediction (later or
--                                  out-of-order deliveries never replace it), read by the worker

create table public.replicate_webhook_deliveries (
  -- Standard Webhooks' `webhook-id`, the same on every retry of one delivery.
  webhook_id text primary key check (length(webhook_id) between 1 and 200),
  -- As the delivery's URL named them (the owner mark); no foreign key: a generation may be deleted.
  generation_id uuid,
  prediction_id text not null,
  status text not null,
  -- What recording it did (record_replicate_webhook's outcome), for operators.
  outcome text not null,
  received_at timestamptz not null default now()
);

create index replicate_webhook_deliveries_received_at on public.replicate_webhook_deliveries (received_at);

create table public.replicate_prediction_outcomes (
  prediction_id text primary key,
  generation_id uuid not null references public.image_generations (id) on delete cascade,
  -- succeeded, failed, canceled or aborted.
  status text not null check (status in ('succeeded', 'failed', 'canceled', 'aborted')),
  -- The prediction object as delivered (outputs, error, metrics).
  prediction jsonb not null check (jsonb_typeof(prediction) = 'object'),
  received_at timestamptz not null default now()
);

create index replicate_prediction_outcomes_generation on public.replicate_prediction_outcomes (generation_id);
create index replicate_prediction_outcomes_received_at on public.replicate_prediction_outcomes (received_at);

-- Backend only: clients never read deliveries (a prediction object holds the prompt and outputs).
alter table public.replicate_webhook_deliveries enable row level security;
alter table public.replicate_prediction_outcomes enable row level security;
revoke all on public.replicate_webhook_deliveries from anon, authenticated;
revoke all on public.replicate_prediction_outcomes from anon, authenticated;

-- Records one verified delivery. p_generation_id and p_create_number come from the delivery's URL (the
-- owner mark the create carried), p_prediction is its body. Answers {"outcome": ...}:
--   duplicate           this webhook-id was recorded before: nothing changes
--   unknown_generation  no such generation (deleted): nothing to do
--   not_current         the prediction is not the one the generation holds (an earlier create's, or
--                       another generation's id): nothing changes
--   not_final           a non-terminal event (start/output/logs): nothing to store
--   already_recorded    a terminal state of this prediction was recorded by an earlier delivery
--   recorded            stored; "woken": whether a parked job was made due now
-- A delivery that arrives before the worker's create call returned (so before it recorded the id) names
-- the generation's current create: the prediction is then recorded on the generation here, as the worker
-- would have, so neither side needs to search for it.
create function public.record_replicate_webhook(
  p_webhook_id text,
  p_generation_id uuid,
  p_create_number integer,
  p_prediction jsonb
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_prediction_id text := p_prediction ->> 'id';
  v_status text := p_prediction ->> 'status';
  v_gen public.image_generations;
  v_outcome text;
  v_woken bigint;
begin
  if p_webhook_id is null or p_webhook_id = '' then
    raise exception 'record_replicate_webhook: a webhook id is required' using errcode = '22023';
  end if;
  if jsonb_typeof(p_prediction) is distinct from 'object' or coalesce(v_prediction_id, '') = ''
     or v_status is null then
    raise exception 'record_replicate_webhook: the prediction needs an id and a status' using errcode = '22023';
  end if;
  insert into public.replicate_webhook_deliveries (webhook_id, generation_id, prediction_id, status, outcome)
  values (p_webhook_id, p_generation_id, v_prediction_id, v_status, 'received')
  on conflict (webhook_id) do nothing;
  if not found then
    return jsonb_build_object('outcome', 'duplicate');
  end if;

  -- The generation's lock orders this against the worker's record_prediction and park_job.
  select * into v_gen from public.image_generations where id = p_generation_id for update;
  if not found then
    v_outcome := 'unknown_generation';
  else
    if v_gen.replicate_prediction_id is null and v_gen.prediction_create_sent_at is not null
       and v_gen.prediction_creates = p_create_number and v_gen.status not in ('completed', 'failed') then
      begin
        update public.image_generations
           set replicate_prediction_id = v_prediction_id,
               status = case when status in ('pending', 'queued') then 'processing' else status end
         where id = p_generation_id;
        v_gen.replicate_prediction_id := v_prediction_id;
      exception when unique_violation then
        null; -- another generation holds this id: not_current below
      end;
    end if;
    if v_gen.replicate_prediction_id is distinct from v_prediction_id then
      v_outcome := 'not_current';
    elsif v_status not in ('succeeded', 'failed', 'canceled', 'aborted') then
      v_outcome := 'not_final';
    else
      insert into public.replicate_prediction_outcomes (prediction_id, generation_id, status, prediction)
      values (v_prediction_id, p_generation_id, v_status, p_prediction)
      on conflict (prediction_id) do nothing;
      if not found then
        v_outcome := 'already_recorded';
      else
        v_outcome := 'recorded';
        -- The parked job (or one waiting for a retry) runs now, and "woken" tells the caller to wake the
        -- worker for it. A job already due is left to whoever made it due; a job that is running (its
        -- create has not returned yet) sees the outcome when it parks; a job locked by someone else is
        -- being claimed.
        update public.job_queue
           set run_at = now()
         where id = (select id from public.job_queue
                      where dedupe_key = 'generate-image:' || p_generation_id::text and status = 'pending'
                        and run_at > now()
                      limit 1
                      for update skip locked)
        returning id into v_woken;
      end if;
    end if;
  end if;
  update public.replicate_webhook_deliveries set outcome = v_outcome where webhook_id = p_webhook_id;
  return jsonb_build_object('outcome', v_outcome, 'woken', v_woken is not null);
end;
$$;

-- The recorded terminal prediction of the generation's current prediction, or null.
create function public.recorded_prediction_outcome(p_generation_id uuid) returns jsonb
language sql
stable
set search_path = ''
as $$
  select o.prediction
    from public.image_generations g
    join public.replicate_prediction_outcomes o on o.prediction_id = g.replicate_prediction_id
   where g.id = p_generation_id
$$;

-- Parks a generate-image job whose prediction runs on at Replicate: the job goes back to pending without
-- spending an attempt (as defer_job), due after delay_seconds (the recheck, when the worker reads the
-- prediction itself in case its webhook was lost), or at once when its outcome was recorded meanwhile
-- (a webhook that came while the job was running). Answers {"outcome":"parked","run_at","ready"} or
-- job_lease_lost's answer.
create function public.park_job(job_id bigint, worker_id text, delay_seconds integer) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_generation uuid;
  v_ready boolean := false;
  v_answer jsonb;
begin
  select (payload ->> 'generation_id')::uuid into v_generation
    from public.job_queue where id = park_job.job_id;
  if v_generation is not null then
    -- Same lock as record_replicate_webhook: a delivery recorded before this point is seen below (a new
    -- statement, so a new snapshot); one after it finds the job pending and wakes it.
    perform 1 from public.image_generations where id = v_generation for update;
    v_ready := public.recorded_prediction_outcome(v_generation) is not null;
  end if;
  -- defer_job: pending, the claim's attempt given back, lease checked.
  v_answer := public.defer_job(job_id, worker_id, case when v_ready then 0 else delay_seconds end);
  if v_answer ->> 'outcome' <> 'deferred' then
    return v_answer;
  end if;
  return v_answer || jsonb_build_object('outcome', 'parked', 'ready', v_ready);
end;
$$;

-- Deliveries are kept a day (Replicate retries one for about a minute; a replay older than the five-minute
-- signature tolerance is refused anyway), outcomes until their generation is gone or a day old.
create function public.prune_replicate_webhooks(older_than interval default interval '1 day') returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_deliveries bigint;
  v_outcomes bigint;
begin
  delete from public.replicate_webhook_deliveries where received_at < now() - older_than;
  get diagnostics v_deliveries = row_count;
  delete from public.replicate_prediction_outcomes where received_at < now() - older_than;
  get diagnostics v_outcomes = row_count;
  return jsonb_build_object('deliveries_deleted', v_deliveries, 'outcomes_deleted', v_outcomes);
end;
$$;

do $$
declare
  f text;
begin
  foreach f in array array[
    'public.record_replicate_webhook(text, uuid, integer, jsonb)',
    'public.recorded_prediction_outcome(uuid)',
    'public.park_job(bigint, text, integer)',
    'public.prune_replicate_webhooks(interval)'
  ] loop
    execute format('revoke execute on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end;
$$;
