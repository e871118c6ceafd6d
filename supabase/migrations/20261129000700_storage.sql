-- The bucket the worker stores generated images in. Public: clients load image_url
-- (<SUPABASE_URL>/storage/v1/object/public/generated-images/<path>) without a token; uploads use the
-- service key, which bypasses RLS. Storage refuses uploads over
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

-- The apps delete a user's image file with the user's own token (archive/delete in the gallery): a
-- signed-in user may delete objects in their own folder of this bucket (`<user_id>/...`), nothing else.
-- A delete reads the rows it removes, so Postgres applies SELECT policies to it too: users also see the
-- rows of their own folder (the bucket is public, so this reveals nothing new).
-- split_part rather than storage.foldername(): same result, and it needs nothing from Storage's schema.
do $$
begin
  if not exists (select from pg_policies
                  where schemaname = 'storage' and tablename = 'objects'
                    and policyname = 'Users delete their own generated images') then
    create policy "Users delete their own generated images"
      on storage.objects for delete
      to authenticated
      using (bucket_id = 'generated-images' and split_part(name, '/', 1) = (select auth.uid())::text);
  end if;
  if not exists (select from pg_policies
                  where schemaname = 'storage' and tablename = 'objects'
                    and policyname = 'Users see their own generated images') then
    create policy "Users see their own generated images"
      on storage.objects for select
      to authenticated
      using (bucket_id = 'generated-images' and split_part(name, '/', 1) = (select auth.uid())::text);
  end if;
end
$$;
