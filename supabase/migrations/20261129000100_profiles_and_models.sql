-- The Picture app's data model, part 1: profiles and the model picker. Column names and meanings are the
-- original app's (docs/ARCHITECTURE.md, "Data model"), because its shipping clients read and write them.
-- On a database that already holds the original tables (an upgrade in place) the tables are kept and only
-- what is missing is added: `create table if not exists`, then `add column if not exists` for every column.

-- Shared by every table that keeps an updated_at.
create or replace function public.set_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
revoke execute on function public.set_updated_at() from public, anon, authenticated;

-- One row per user; generations and images reference it (as in the original schema), so a user's
-- history goes with the user.
create table if not exists public.profiles (
  id uuid primary key references auth.users (id) on delete cascade
);
alter table public.profiles
  add column if not exists email text,
  add column if not exists username text,
  add column if not exists avatar_url text,
  add column if not exists created_at timestamptz default now(),
  add column if not exists updated_at timestamptz default now();

comment on table public.profiles is 'One row per auth user; made on sign-up (and by start_generation if missing).';

drop trigger if exists profiles_updated_at on public.profiles;
create trigger profiles_updated_at
  before update on public.profiles
  for each row execute function public.set_updated_at();

-- Every new auth user gets a profile. Definer rights: the auth server inserts as its own role.
create or replace function public.create_profile_for_user() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, email) values (new.id, new.email) on conflict (id) do nothing;
  return new;
end;
$$;
revoke execute on function public.create_profile_for_user() from public, anon, authenticated;

drop trigger if exists on_auth_user_created_profile on auth.users;
create trigger on_auth_user_created_profile
  after insert on auth.users
  for each row execute function public.create_profile_for_user();

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

alter table public.profiles enable row level security;
select pg_temp.drop_policies('profiles');
create policy "Users read their own profile" on public.profiles
  for select to authenticated using ((select auth.uid()) = id);
create policy "Users update their own profile" on public.profiles
  for update to authenticated using ((select auth.uid()) = id) with check ((select auth.uid()) = id);
revoke all on public.profiles from anon, authenticated;
grant select on public.profiles to authenticated;
grant update (username, avatar_url) on public.profiles to authenticated;

-- The model picker. The Rust catalog (crates/imagegen-core/src/catalog) is the source of truth: the rows
-- are written from it by the generated migration ..._models_catalog.sql, matched by replicate_id, so ids
-- that clients and image_generations.model_id hold stay stable.
create table if not exists public.models (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  display_name text not null,
  replicate_id text not null
);
alter table public.models
  add column if not exists description text,
  add column if not exists version text,
  add column if not exists default_width integer,
  add column if not exists default_height integer,
  add column if not exists default_steps integer,
  add column if not exists default_guidance_scale numeric,
  add column if not exists default_strength numeric,
  add column if not exists min_width integer,
  add column if not exists max_width integer,
  add column if not exists min_height integer,
  add column if not exists max_height integer,
  add column if not exists max_steps integer,
  add column if not exists supports_negative_prompt boolean default false,
  add column if not exists supports_seed boolean default false,
  add column if not exists supports_image_to_image boolean default false,
  add column if not exists supports_img2img boolean default false,
  add column if not exists strength_min numeric,
  add column if not exists strength_max numeric,
  add column if not exists supported_aspect_ratios jsonb,
  add column if not exists is_active boolean default true,
  add column if not exists is_default boolean default false,
  add column if not exists sort_order integer,
  add column if not exists cost_per_generation numeric,
  add column if not exists estimated_time_seconds integer,
  -- Usage units (about $0.001 each) one output image is charged against the usage limits
  -- (docs/ARCHITECTURE.md, "Cost safety"); written from the catalog.
  add column if not exists cost_weight integer not null default 1 check (cost_weight >= 0),
  add column if not exists created_at timestamptz default now(),
  add column if not exists updated_at timestamptz default now();

comment on table public.models is
  'Models clients can pick; written from the Rust catalog by replicate_id (see ..._models_catalog.sql).';

-- The catalog migration matches rows by replicate_id (an upgraded database keeps its rows and ids).
create unique index if not exists models_replicate_id_key on public.models (replicate_id);

drop trigger if exists models_updated_at on public.models;
create trigger models_updated_at
  before update on public.models
  for each row execute function public.set_updated_at();

alter table public.models enable row level security;
select pg_temp.drop_policies('models');
create policy "Anyone reads the models" on public.models
  for select to anon, authenticated using (true);
revoke all on public.models from anon, authenticated;
grant select on public.models to anon, authenticated;
