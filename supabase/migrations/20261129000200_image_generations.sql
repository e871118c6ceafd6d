-- The Picture app's data model, part 2: generations. The first block of columns is the original app's,
-- with the original meanings (the shipping clients insert, read and cancel rows with them); the second
-- block is this project's own, under names that do not clash.
--
-- Status flow clients follow (progress 10/50/80/100 in the apps):
--   pending      the row exists (a client inserted it, or start_generation is writing it)
--   queued       its generate-image job is enqueued
--   processing   the worker started it; the Replicate prediction is running
--   downloading  the output is being stored
--   completed    its images rows exist (written in the same transaction)
--   failed       error_message says why (a client's cancel is a failed row too)

-- On a database that already holds the original table (an upgrade in place) it is kept with its rows and
-- foreign keys, and only what is missing is added. Adding a column with a constant default does not
-- rewrite the table (Postgres 11+); checks are added NOT VALID here and validated, and the indexes built
-- concurrently, in ..._generation_indexes.sql, so clients keep reading and writing meanwhile.
create table if not exists public.image_generations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  prompt text not null
);

alter table public.image_generations
  add column if not exists negative_prompt text,
  -- The model's display name (models.name), as the clients show it.
  add column if not exists model text,
  add column if not exists model_id uuid references public.models (id) on delete set null,
  add column if not exists style text,
  add column if not exists width integer,
  add column if not exists height integer,
  add column if not exists steps integer,
  add column if not exists guidance_scale numeric,
  add column if not exists seed bigint,
  add column if not exists status text not null default 'pending',
  add column if not exists error_message text,
  add column if not exists generation_time_seconds numeric,
  -- Stored as soon as Replicate answers the create, so a retried job resumes the prediction instead of
  -- paying for a second one.
  add column if not exists replicate_prediction_id text,
  -- Paid once (ARCHITECTURE.md "Cost safety"): when the current create was first sent, written by
  -- begin_prediction_create before the POST. Set with no prediction id beside it, the create's answer was
  -- lost (or is on its way): the next attempt looks for its prediction from this time on, by its owner mark.
  add column if not exists prediction_create_sent_at timestamptz,
  -- Creates sent for this generation (each a distinct owner mark, `attempt=<n>` in its webhook URL);
  -- capped by the worker's MAX_PREDICTION_CREATES.
  add column if not exists prediction_creates integer not null default 0,
  add column if not exists created_at timestamptz not null default now(),
  add column if not exists completed_at timestamptz,
  add column if not exists source_image_url text,
  add column if not exists generation_strength numeric,
  -- The app's batch and multi-model features own these; this backend only carries them.
  add column if not exists batch_id uuid,
  add column if not exists batch_index integer,
  add column if not exists multi_group_id uuid,
  add column if not exists multi_index integer,
  add column if not exists priority integer default 0,
  add column if not exists retry_count integer default 0,

  -- This project's own columns.
  -- The catalog id actually run (e.g. black-forest-labs/flux-schnell); null on a client-inserted row
  -- until generate-image attaches a validated request to it.
  add column if not exists replicate_model text,
  -- The validated request minus prompt and model, as the edge parsed it; the worker re-parses it.
  add column if not exists params jsonb not null default '{}'::jsonb,
  -- What was changed to fit the model: [{"field","requested","applied","reason"}] (applied null = dropped).
  add column if not exists adjusted jsonb not null default '[]'::jsonb,
  add column if not exists image_url text,
  add column if not exists storage_path text,
  -- Every stored image, [{"storage_path","url",...}]; image_url/storage_path repeat the first one.
  add column if not exists outputs jsonb not null default '[]'::jsonb,
  -- Idempotency-Key of the request that created the row, and a digest of that request, so a retry with
  -- the same key returns this row and a reuse of the key for another request is refused.
  add column if not exists idempotency_key text,
  add column if not exists request_fingerprint text,
  -- When a worker first started on it: accept-to-start latency.
  add column if not exists started_at timestamptz,
  -- Legacy generate-image: when the first call's wait ends (set once, by begin_legacy_wait). A replayed
  -- call waits no longer than this, then answers "still running", so replays never add up to more
  -- held requests than the first one's.
  add column if not exists legacy_wait_until timestamptz,
  add column if not exists updated_at timestamptz not null default now();

-- The statuses clients follow. An original table may carry a check of its own under this name: replaced.
alter table public.image_generations drop constraint if exists image_generations_status_check;
alter table public.image_generations add constraint image_generations_status_check
  check (status in ('pending', 'queued', 'processing', 'downloading', 'completed', 'failed')) not valid;
alter table public.image_generations
  add constraint image_generations_params_check check (jsonb_typeof(params) = 'object') not valid,
  add constraint image_generations_adjusted_check check (jsonb_typeof(adjusted) = 'array') not valid,
  add constraint image_generations_outputs_check check (jsonb_typeof(outputs) = 'array') not valid,
  add constraint image_generations_idempotency_key_check
    check (char_length(idempotency_key) between 1 and 255) not valid;

comment on table public.image_generations is
  'One image generation request and its result. Clients insert pending rows, read and cancel their own.';

-- Indexes: ..._generation_indexes.sql (built concurrently, so an upgraded table stays writable).

drop trigger if exists image_generations_updated_at on public.image_generations;
create trigger image_generations_updated_at
  before update on public.image_generations
  for each row execute function public.set_updated_at();

-- Row security: what the shipping clients do, nothing more.
-- Replaces every row-security policy of a table with this project's (the ones created next, in this same
-- transaction, so clients are never without a policy): on an upgraded database, the original's policies
-- go, whatever their names.
create or replace function pg_temp.drop_policies(p_table text) returns void
language plpgsql
as $$
declare
  v_policy text;
begin
  for v_policy in select policyname from pg_policies where schemaname = 'public' and tablename = p_table loop
    execute format('drop policy %I on public.%I', v_policy, p_table);
  end loop;
end;
$$;

alter table public.image_generations enable row level security;
select pg_temp.drop_policies('image_generations');

create policy "Users read their own generations"
  on public.image_generations for select
  to authenticated
  using ((select auth.uid()) = user_id);

-- The mobile app inserts its own pending row, then calls generate-image with its id.
create policy "Users insert their own pending generations"
  on public.image_generations for insert
  to authenticated
  with check ((select auth.uid()) = user_id and status = 'pending');

-- Cancel (the apps write status 'failed' + error_message). Anything unfinished may be cancelled; a
-- finished row stays as it is.
create policy "Users cancel their own unfinished generations"
  on public.image_generations for update
  to authenticated
  using ((select auth.uid()) = user_id
         and status in ('pending', 'queued', 'processing', 'downloading'))
  with check ((select auth.uid()) = user_id and status = 'failed');

-- Supabase grants the API roles everything on new tables: take it back, then grant exactly the columns
-- the clients write (never the backend's own columns, the prediction id or the result).
revoke all on public.image_generations from anon, authenticated;
grant select on public.image_generations to authenticated;
grant insert (id, user_id, prompt, negative_prompt, model, model_id, style, width, height, steps,
              guidance_scale, seed, status, source_image_url, generation_strength, batch_id, batch_index,
              multi_group_id, multi_index, priority)
  on public.image_generations to authenticated;
grant update (status, error_message) on public.image_generations to authenticated;

-- One row per stored output; galleries read these.
create table if not exists public.images (
  id uuid primary key default gen_random_uuid(),
  filename text not null,
  storage_path text not null,
  prompt text not null
);
alter table public.images
  add column if not exists user_id uuid references public.profiles (id) on delete cascade,
  add column if not exists generation_id uuid references public.image_generations (id) on delete set null,
  add column if not exists public_url text,
  add column if not exists file_size bigint,
  add column if not exists width integer,
  add column if not exists height integer,
  add column if not exists format text,
  add column if not exists negative_prompt text,
  add column if not exists model text,
  add column if not exists style text,
  add column if not exists generation_strength numeric,
  add column if not exists is_public boolean default false,
  add column if not exists is_favorite boolean default false,
  add column if not exists rating integer,
  add column if not exists download_count integer default 0,
  add column if not exists archived_at timestamptz,
  add column if not exists blurhash text,
  add column if not exists source_image_id uuid references public.images (id) on delete set null,
  add column if not exists created_at timestamptz default now();

comment on table public.images is 'One stored image per generation output; written with the generation''s completion.';

alter table public.images enable row level security;
select pg_temp.drop_policies('images');
create policy "Users read their own and public images"
  on public.images for select
  to authenticated
  using ((select auth.uid()) = user_id or is_public);
create policy "Anyone reads public images"
  on public.images for select
  to anon
  using (is_public);
create policy "Users update their own images"
  on public.images for update
  to authenticated
  using ((select auth.uid()) = user_id)
  with check ((select auth.uid()) = user_id);
create policy "Users delete their own images"
  on public.images for delete
  to authenticated
  using ((select auth.uid()) = user_id);

revoke all on public.images from anon, authenticated;
grant select on public.images to anon, authenticated;
grant update (is_public, is_favorite, rating, archived_at, blurhash) on public.images to authenticated;
grant delete on public.images to authenticated;

-- Realtime: clients follow their row with UPDATE events (RLS applies to each event).
do $$
begin
  if not exists (select from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
  if not exists (select from pg_publication_tables
                  where pubname = 'supabase_realtime' and schemaname = 'public'
                    and tablename = 'image_generations') then
    alter publication supabase_realtime add table public.image_generations;
  end if;
  if not exists (select from pg_publication_tables
                  where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'images') then
    alter publication supabase_realtime add table public.images;
  end if;
end
$$;
