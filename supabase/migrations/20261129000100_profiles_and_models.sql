-- The Picture app's data model, part 1: profiles and the model picker. Column names and meanings are the
-- original app's (docs/ARCHITECTURE.md, "Data model"), because its shipping clients read and write them.

-- Shared by every table that keeps an updated_at.
create function public.set_updated_at() returns trigger
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
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text,
  username text,
  avatar_url text,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);

comment on table public.profiles is 'One row per auth user; made on sign-up (and by start_generation if missing).';

create trigger profiles_updated_at
  before update on public.profiles
  for each row execute function public.set_updated_at();

-- Every new auth user gets a profile. Definer rights: the auth server inserts as its own role.
create function public.create_profile_for_user() returns trigger
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

create trigger on_auth_user_created_profile
  after insert on auth.users
  for each row execute function public.create_profile_for_user();

alter table public.profiles enable row level security;
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
create table public.models (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  display_name text not null,
  description text,
  replicate_id text not null,
  version text,
  default_width integer,
  default_height integer,
  default_steps integer,
  default_guidance_scale numeric,
  default_strength numeric,
  min_width integer,
  max_width integer,
  min_height integer,
  max_height integer,
  max_steps integer,
  supports_negative_prompt boolean default false,
  supports_seed boolean default false,
  supports_image_to_image boolean default false,
  supports_img2img boolean default false,
  strength_min numeric,
  strength_max numeric,
  supported_aspect_ratios jsonb,
  is_active boolean default true,
  is_default boolean default false,
  sort_order integer,
  cost_per_generation numeric,
  estimated_time_seconds integer,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);

comment on table public.models is
  'Models clients can pick; written from the Rust catalog by replicate_id (see ..._models_catalog.sql).';

create unique index models_replicate_id_key on public.models (replicate_id);

create trigger models_updated_at
  before update on public.models
  for each row execute function public.set_updated_at();

alter table public.models enable row level security;
create policy "Anyone reads the models" on public.models
  for select to anon, authenticated using (true);
revoke all on public.models from anon, authenticated;
grant select on public.models to anon, authenticated;
