-- Usage limits: what one user, one anonymous user and the whole project may spend on Replicate, and
-- how many images one may have in progress (admit_generation).
-- Every prediction is paid by the project's one Replicate account, so a generation is charged when it is
-- accepted (start_generation, attach_generation: same transaction as the row and its job), in usage units:
-- the model's `models.cost_weight` (about $0.001 per unit at list price) × the images it asks for. A
-- generation that fails before any prediction was sent for it is refunded. docs/ARCHITECTURE.md,
-- "Cost safety", has the rules, the defaults and the worst case.

-- The limits, one row, changed live with SQL (no deploy): null = no limit.
create table if not exists public.usage_settings (
  singleton boolean primary key default true check (singleton),
  -- Signed-in users, per rolling hour and rolling day.
  user_units_per_hour integer default 1000 check (user_units_per_hour >= 0),
  user_units_per_day integer default 5000 check (user_units_per_day >= 0),
  -- Users of anonymous sign-ins (JWT `is_anonymous`): their own, smaller limits.
  anonymous_units_per_hour integer default 100 check (anonymous_units_per_hour >= 0),
  anonymous_units_per_day integer default 300 check (anonymous_units_per_day >= 0),
  -- Images an anonymous user may have in progress at once (signed-in users: MAX_PENDING_GENERATIONS).
  anonymous_max_pending_images integer default 2 check (anonymous_max_pending_images >= 1),
  -- The whole project, per hour (10-minute buckets: the last 50-60 minutes).
  project_units_per_hour bigint default 50000 check (project_units_per_hour >= 0),
  -- Fair claiming: jobs of one user processed at once, so one backlog cannot hold every worker slot.
  user_jobs_in_flight integer default 4 check (user_jobs_in_flight >= 1),
  updated_at timestamptz not null default now()
);

comment on table public.usage_settings is
  'Usage limits in units (~$0.001 of Replicate spend each); one row; null = unlimited. See docs/ARCHITECTURE.md.';

insert into public.usage_settings default values on conflict do nothing;

drop trigger if exists usage_settings_updated_at on public.usage_settings;
create trigger usage_settings_updated_at
  before update on public.usage_settings
  for each row execute function public.set_updated_at();

-- One charge per accepted generation. No foreign key: users cannot delete generations, and a charge
-- outlives an operator's cleanup of old rows until its day has passed (prune_usage).
create table if not exists public.usage_charges (
  generation_id uuid primary key,
  user_id uuid not null,
  units integer not null check (units >= 0),
  -- The project bucket it was added to, so a refund takes it out of the same one.
  bucket_start timestamptz not null,
  shard smallint not null,
  charged_at timestamptz not null default now(),
  refunded_at timestamptz
);

comment on table public.usage_charges is
  'What each accepted generation was charged against the usage limits; refunded when no prediction ran.';

-- The per-user windows: a user's live charges of the last day, read without touching the table.
create index if not exists usage_charges_user_recent
  on public.usage_charges (user_id, charged_at) include (units)
  where refunded_at is null;
-- No index by charged_at alone: every start writes a charge and only the daily prune reads by time (a
-- sequential scan of two days of charges); scripts/bench start-generation measured the index's cost.

-- The project's spend per 10-minute bucket, split in 16 shards by user: concurrent starts of different
-- users mostly lock different rows, so the cap does not serialise every start in the project.
create table if not exists public.usage_project_buckets (
  bucket_start timestamptz not null,
  shard smallint not null,
  units bigint not null default 0,
  primary key (bucket_start, shard)
);

comment on table public.usage_project_buckets is
  'Units charged project-wide per 10-minute bucket and shard (the project hourly cap sums the last hour).';

-- Nothing here is for the API roles: users see their usage through their generations.
alter table public.usage_settings enable row level security;
alter table public.usage_charges enable row level security;
alter table public.usage_project_buckets enable row level security;
revoke all on public.usage_settings, public.usage_charges, public.usage_project_buckets
  from anon, authenticated;

-- Seconds until `p_units` more fit under `p_limit` in the user's window of `p_window`, given `p_used` in it
-- now: the moment enough of the oldest charges have left the window.
create or replace function public.usage_user_retry_after(
  p_user_id uuid, p_window interval, p_used bigint, p_units integer, p_limit bigint
) returns integer
language sql
stable
set search_path = ''
as $$
  select greatest(1, ceil(extract(epoch from (w.charged_at + p_window - now()))))::integer
    from (select charged_at,
                 sum(units) over (order by charged_at, generation_id) as freed
            from public.usage_charges
           where user_id = p_user_id and refunded_at is null and charged_at > now() - p_window) w
   where p_used - w.freed + p_units <= p_limit
   order by w.charged_at
   limit 1
$$;

-- Admits generation `p_generation_id` of `p_user_id` under the user's limits and charges it, or says
-- which limit refuses it (nothing written then):
--   null                                          admitted and charged
--   {"outcome":"pending_limit","pending","limit","images"}   images in progress + this request's > limit
--   {"outcome":"usage_limit","scope","limit","used","units","retry_after_seconds"}
--       scope: user_hour | user_day | project_hour (anonymous users: anonymous_hour | anonymous_day)
--   {"outcome":"usage_request_too_large","scope","limit","units"}   more than the limit itself
-- Images in progress: a generation weighs its num_outputs; signed-in users' limit is `p_max_pending`
-- (MAX_PENDING_GENERATIONS), guests' the setting. Units: `p_cost_weight` (the models row's; null = the
-- dearest model's) × the request's images.
-- The caller (start_generation, attach_generation) must hold the user's start_generation advisory lock:
-- the user's limits are then exact under any concurrency. The project cap is exact within a shard;
-- starts committing at the same moment on other shards (at most 15) can each pass it once, so it may be
-- exceeded by at most 15 generations' units. PL/pgSQL, so its statements' plans are cached per session.
create or replace function public.admit_generation(
  p_user_id uuid,
  p_generation_id uuid,
  p_params jsonb,
  p_cost_weight integer,
  p_max_pending integer,
  p_anonymous boolean default false
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_settings public.usage_settings;
  v_images integer := greatest(coalesce((p_params ->> 'num_outputs')::integer, 1), 1);
  v_max_pending integer;
  v_pending integer;
  v_units integer;
  v_hour_limit bigint;
  v_day_limit bigint;
  v_scope_prefix text;
  v_hour bigint := 0;
  v_day bigint := 0;
  v_bucket timestamptz := date_bin('10 minutes', now(), timestamptz '2000-01-01 00:00:00+00');
  v_shard smallint := abs(hashtextextended(p_user_id::text, 0) % 16);
  v_project bigint;
begin
  if p_user_id is null or p_generation_id is null or p_max_pending is null or p_max_pending < 1 then
    raise exception 'admit_generation: user, generation and a positive p_max_pending are required'
      using errcode = '22023';
  end if;
  select * into v_settings from public.usage_settings;

  -- Images in progress that the backend accepted, read up to the limit's number of rows (each weighs at
  -- least one, so that decides "under or not"); a client-inserted row counts once it was attached.
  v_max_pending := case when p_anonymous
                        then coalesce(v_settings.anonymous_max_pending_images, p_max_pending)
                        else p_max_pending end;
  select coalesce(sum(greatest(coalesce((params ->> 'num_outputs')::integer, 1), 1)), 0) into v_pending
    from (select params
            from public.image_generations
           where user_id = p_user_id
             and status in ('pending', 'queued', 'processing', 'downloading')
             and replicate_model is not null
           limit v_max_pending) unfinished;
  if v_pending + v_images > v_max_pending then
    return jsonb_build_object('outcome', 'pending_limit', 'pending', v_pending, 'limit', v_max_pending,
                              'images', v_images);
  end if;

  v_units := coalesce(p_cost_weight, (select max(cost_weight) from public.models), 1) * v_images;
  if coalesce(p_anonymous, false) then
    v_hour_limit := v_settings.anonymous_units_per_hour;
    v_day_limit := v_settings.anonymous_units_per_day;
    v_scope_prefix := 'anonymous';
  else
    v_hour_limit := v_settings.user_units_per_hour;
    v_day_limit := v_settings.user_units_per_day;
    v_scope_prefix := 'user';
  end if;

  if v_units > least(v_hour_limit, v_day_limit) then
    return jsonb_build_object(
      'outcome', 'usage_request_too_large',
      'scope', v_scope_prefix || case when v_units > v_hour_limit then '_hour' else '_day' end,
      'limit', least(v_hour_limit, v_day_limit), 'units', v_units);
  end if;

  -- The user's live charges of the last day (none read when the user has no limits).
  if v_hour_limit is not null or v_day_limit is not null then
    select coalesce(sum(units) filter (where charged_at > now() - interval '1 hour'), 0),
           coalesce(sum(units), 0)
      into v_hour, v_day
      from public.usage_charges
     where user_id = p_user_id and refunded_at is null and charged_at > now() - interval '1 day';
  end if;
  if v_hour + v_units > v_hour_limit then
    return jsonb_build_object(
      'outcome', 'usage_limit', 'scope', v_scope_prefix || '_hour', 'limit', v_hour_limit,
      'used', v_hour, 'units', v_units,
      'retry_after_seconds',
      public.usage_user_retry_after(p_user_id, interval '1 hour', v_hour, v_units, v_hour_limit));
  end if;
  if v_day + v_units > v_day_limit then
    return jsonb_build_object(
      'outcome', 'usage_limit', 'scope', v_scope_prefix || '_day', 'limit', v_day_limit,
      'used', v_day, 'units', v_units,
      'retry_after_seconds',
      public.usage_user_retry_after(p_user_id, interval '1 day', v_day, v_units, v_day_limit));
  end if;

  -- The project: add to this user's shard of the current bucket (taking its row lock), then read the
  -- hour as committed plus this shard's own row.
  insert into public.usage_project_buckets as b (bucket_start, shard, units)
  values (v_bucket, v_shard, v_units)
  on conflict (bucket_start, shard) do update set units = b.units + excluded.units;
  if v_settings.project_units_per_hour is not null then
    select coalesce(sum(units), 0) into v_project
      from public.usage_project_buckets
     where bucket_start > now() - interval '1 hour';
    if v_project > v_settings.project_units_per_hour then
      update public.usage_project_buckets
         set units = units - v_units
       where bucket_start = v_bucket and shard = v_shard;
      return jsonb_build_object(
        'outcome', 'usage_limit', 'scope', 'project_hour',
        'limit', v_settings.project_units_per_hour, 'used', v_project - v_units, 'units', v_units,
        -- When the oldest buckets holding enough units leave the hour.
        'retry_after_seconds', (
          select greatest(1, ceil(extract(epoch from (w.bucket_start + interval '1 hour' - now()))))::integer
            from (select bucket_start, sum(sum(units)) over (order by bucket_start) as freed
                    from public.usage_project_buckets
                   where bucket_start > now() - interval '1 hour'
                   group by bucket_start) w
           where v_project - w.freed <= v_settings.project_units_per_hour
           order by w.bucket_start
           limit 1));
    end if;
  end if;

  insert into public.usage_charges (generation_id, user_id, units, bucket_start, shard)
  values (p_generation_id, p_user_id, v_units, v_bucket, v_shard);
  return null;
end;
$$;

-- A generation that fails before any prediction was sent for it cost nothing: its charge is refunded
-- (the user's windows and the project's bucket). "No prediction" is strict: no prediction recorded
-- (`replicate_prediction_id`) and no create ever sent (`prediction_creates`, counted before each POST by
-- begin_prediction_create), so a create whose answer was lost is never refunded.
create or replace function public.usage_refund_unrun() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  with refunded as (
    update public.usage_charges
       set refunded_at = now()
     where generation_id = new.id and refunded_at is null
    returning units, bucket_start, shard
  )
  update public.usage_project_buckets b
     set units = greatest(b.units - r.units, 0)
    from refunded r
   where b.bucket_start = r.bucket_start and b.shard = r.shard;
  return null;
end;
$$;

revoke execute on function public.usage_refund_unrun() from public, anon, authenticated;

drop trigger if exists image_generations_refund_usage on public.image_generations;
create trigger image_generations_refund_usage
  after update of status on public.image_generations
  for each row
  when (new.status = 'failed' and old.status is distinct from 'failed'
        and new.replicate_prediction_id is null and new.prediction_creates = 0)
  execute function public.usage_refund_unrun();

-- Deletes charges and buckets older than the longest window (a day); run by the retention job.
create or replace function public.prune_usage(older_than interval default interval '2 days')
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_charges bigint;
  v_buckets bigint;
begin
  if older_than < interval '1 day' then
    raise exception 'prune_usage: keep at least a day (the longest window)' using errcode = '22023';
  end if;
  delete from public.usage_charges where charged_at < now() - older_than;
  get diagnostics v_charges = row_count;
  delete from public.usage_project_buckets where bucket_start < now() - interval '2 hours';
  get diagnostics v_buckets = row_count;
  return jsonb_build_object('charges', v_charges, 'buckets', v_buckets);
end;
$$;

do $$
declare
  f text;
begin
  foreach f in array array[
    'public.usage_user_retry_after(uuid, interval, bigint, integer, bigint)',
    'public.admit_generation(uuid, uuid, jsonb, integer, integer, boolean)',
    'public.prune_usage(interval)'
  ] loop
    execute format('revoke execute on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end;
$$;

grant select, update on public.usage_settings to service_role;
grant select on public.usage_charges, public.usage_project_buckets to service_role;
