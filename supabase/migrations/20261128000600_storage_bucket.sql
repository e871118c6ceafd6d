-- The bucket the worker stores generated images in. Public: clients load image_url
-- (<SUPABASE_URL>/storage/v1/object/public/generated-images/<path>) without a token; uploads use the
-- service key, which bypasses RLS, so no storage policies are needed. Storage refuses uploads over
-- file_size_limit (20 MiB) or of another Content-Type. `on conflict do nothing` keeps a bucket made
-- earlier (e.g. in the dashboard) as it is.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values (
  'generated-images',
  'generated-images',
  true,
  20 * 1024 * 1024,
  array['image/png', 'image/jpeg', 'image/webp', 'image/svg+xml']
)
on conflict (id) do nothing;
