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
-- rewrite the table (Postgres 11+); checks are added NOT VALID and then validated, which reads the table
-- without blocking clients' reads and writes.
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
  add column if not exists updated_at timestamptz not null default now();

-- The statuses clients follow. An original table may carry a check of its own under this name: replaced.
-- A row the original left in a status outside this list keeps the constraint NOT VALID (new writes are
-- still checked) rather than failing the upgrade.
alter table public.image_generations drop constraint if exists image_generations_status_check;
alter table public.image_generations add constraint image_generations_status_check
  check (status in ('pending', 'queued', 'processing', 'downloading', 'completed', 'failed')) not valid;
do $$
begin
  if not exists (select 1 from public.image_generations
                  where status not in ('pending', 'queued', 'processing', 'downloading', 'completed', 'failed')) then
    alter table public.image_generations validate constraint image_generations_status_check;
  end if;
end
$$;
alter table public.image_generations
  add constraint image_generations_params_check check (jsonb_typeof(params) = 'object') not valid,
  add constraint image_generations_adjusted_check check (jsonb_typeof(adjusted) = 'array') not valid,
  add constraint image_generations_outputs_check check (jsonb_typeof(outputs) = 'array') not valid,
  add constraint image_generations_idempotency_key_check
    check (char_length(idempotency_key) between 1 and 255) not valid;
-- Every existing row has the columns' defaults, which pass: validating reads the table under a lock that
-- lets clients read and write.
alter table public.image_generations validate constraint image_generations_params_check;
alter table public.image_generations validate constraint image_generations_adjusted_check;
alter table public.image_generations validate constraint image_generations_outputs_check;
alter table public.image_generations validate constraint image_generations_idempotency_key_check;

comment on table public.image_generations is
  'One image generation request and its result. Clients insert pending rows, read and cancel their own.';

create unique index if not exists image_generations_idempotency_key
  on public.image_generations (user_id, idempotency_key)
  where idempotency_key is not null;

-- One prediction serves one generation: a retried job that finds a prediction by its input must not adopt
-- another generation's (identical requests without a seed have identical inputs).
create unique index if not exists image_generations_replicate_prediction_id
  on public.image_generations (replicate_prediction_id)
  where replicate_prediction_id is not null;

-- Clients list their history newest first.
create index if not exists image_generations_user_created
  on public.image_generations (user_id, created_at desc);

-- start_generation counts a user's unfinished generations on every request; this keeps that to the
-- few unfinished rows instead of the user's whole history.
create index if not exists image_generations_user_unfinished
  on public.image_generations (user_id)
  where status in ('pending', 'queued', 'processing', 'downloading');

drop trigger if exists image_generations_updated_at on public.image_generations;
create trigger image_generations_updated_at
  before update on public.image_generations
  for each row execute function public.set_updated_at();

-- Row security: what the shipping clients do, nothing more.
alter table public.image_generations enable row level security;

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

-- complete_generation looks a stored file up by its path (a retried completion writes nothing twice). Not
-- unique: an upgraded database may hold the original's duplicates.
create index if not exists images_storage_path on public.images (storage_path);
create index if not exists images_generation_id on public.images (generation_id);
create index if not exists images_user_created on public.images (user_id, created_at desc);

alter table public.images enable row level security;
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
