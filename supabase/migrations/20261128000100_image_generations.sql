-- Generations as clients see them. Clients read their own rows (RLS) and never write: every write goes
-- through the edge functions, which connect as the database owner.

create table public.image_generations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  prompt text not null check (char_length(prompt) between 1 and 2000),
  model_id text not null,
  -- The validated request minus prompt and model (width, height, seed, ...), as the edge parsed it.
  params jsonb not null default '{}'::jsonb check (jsonb_typeof(params) = 'object'),
  status text not null default 'pending'
    check (status in ('pending', 'processing', 'completed', 'failed')),
  image_url text,
  storage_path text,
  -- Stored as soon as Replicate answers the create, so a retried job resumes the prediction instead of
  -- paying for a second one.
  replicate_prediction_id text,
  error_message text,
  -- Idempotency-Key of the request that created the row, and a digest of that request, so a retry with
  -- the same key returns this row and a reuse of the key for another request is refused.
  idempotency_key text check (char_length(idempotency_key) between 1 and 255),
  request_fingerprint text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz
);

comment on table public.image_generations is
  'One image generation request and its result; clients read their own rows, only the backend writes.';

create unique index image_generations_idempotency_key
  on public.image_generations (user_id, idempotency_key)
  where idempotency_key is not null;

-- Clients list their history newest first.
create index image_generations_user_created
  on public.image_generations (user_id, created_at desc);

-- start_generation counts a user's unfinished generations on every request; this keeps that to the
-- few unfinished rows instead of the user's whole history.
create index image_generations_user_unfinished
  on public.image_generations (user_id)
  where status in ('pending', 'processing');

create function public.set_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

create trigger image_generations_updated_at
  before update on public.image_generations
  for each row execute function public.set_updated_at();

alter table public.image_generations enable row level security;

create policy "Users read their own generations"
  on public.image_generations for select
  to authenticated
  using ((select auth.uid()) = user_id);

-- Supabase grants the API roles all privileges on new tables by default: take back everything but
-- reading (which RLS narrows to the owner) from signed-in users, and everything from anon.
revoke all on public.image_generations from anon, authenticated;
grant select on public.image_generations to authenticated;
revoke execute on function public.set_updated_at() from public, anon, authenticated;
