-- The generation tables' indexes and the validation of their checks, apart from the migration that adds
-- the columns: on an upgraded database with many rows, building an index with CONCURRENTLY and validating a
-- NOT VALID check take locks that let the apps keep reading and writing (ordinary index builds block writes
-- for their whole run; the column changes before them hold the table only for moments). The Supabase CLI
-- runs CREATE INDEX CONCURRENTLY from a migration file (checked with 2.117.0; BENCHMARKS.md "Upgrade in
-- place" has the figures). If a concurrent build is interrupted it leaves an invalid index: drop it and push
-- again.

create unique index concurrently if not exists image_generations_idempotency_key
  on public.image_generations (user_id, idempotency_key)
  where idempotency_key is not null;

-- One prediction serves one generation: a retried job that finds a prediction by its input must not adopt
-- another generation's (identical requests without a seed have identical inputs).
create unique index concurrently if not exists image_generations_replicate_prediction_id
  on public.image_generations (replicate_prediction_id)
  where replicate_prediction_id is not null;

-- Clients list their history newest first.
create index concurrently if not exists image_generations_user_created
  on public.image_generations (user_id, created_at desc);

-- start_generation counts a user's unfinished generations on every request; this keeps that to the
-- few unfinished rows instead of the user's whole history.
create index concurrently if not exists image_generations_user_unfinished
  on public.image_generations (user_id)
  where status in ('pending', 'queued', 'processing', 'downloading');

-- complete_generation looks a stored file up by its path (a retried completion writes nothing twice). Not
-- unique: an upgraded database may hold the original's duplicates.
create index concurrently if not exists images_storage_path on public.images (storage_path);
create index concurrently if not exists images_generation_id on public.images (generation_id);
create index concurrently if not exists images_user_created on public.images (user_id, created_at desc);


-- Every existing row has the new columns' defaults, which pass; validating reads the table under a lock that
-- lets clients read and write.
alter table public.image_generations validate constraint image_generations_params_check;
alter table public.image_generations validate constraint image_generations_adjusted_check;
alter table public.image_generations validate constraint image_generations_outputs_check;
alter table public.image_generations validate constraint image_generations_idempotency_key_check;
-- A row the original left in a status outside the list keeps that check NOT VALID (new writes are still
-- checked) rather than failing the upgrade.
do $$
begin
  if not exists (select 1 from public.image_generations
                  where status not in ('pending', 'queued', 'processing', 'downloading', 'completed', 'failed')) then
    alter table public.image_generations validate constraint image_generations_status_check;
  end if;
end
$$;
