-- @database cron: pg_cron lives only in cron.database_name, so scripts/test runs this file there, inside a
-- rolled-back transaction. The upgrade in place takes the original system's pg_cron jobs off, so nothing
-- calls the worker twice or with the original's credentials, and leaves this project's schedule alone.
begin;
select plan(3);

-- The original's schedules, as its guides set them up (the URL and key are the original project's).
select cron.schedule('process-job-queue', '* * * * *',
  $$select net.http_post(url := 'https://oldref.supabase.co/functions/v1/process-jobs', body := '{}'::jsonb)$$);
select cron.schedule('process-jobs-worker', '*/2 * * * *', $$select 1$$);

-- The upgrade's first migration, as `supabase db push` runs it (a no-op here but for the schedules and the
-- policies it replaces, which the rollback puts back).
\i supabase/migrations/20261129000050_adopt_original.sql

select is((select count(*)::int from cron.job where jobname in ('process-job-queue', 'process-jobs-worker')), 0,
  'the original schedules are gone');
select is((select count(*)::int from cron.job where jobname = 'process-jobs'), 1, 'this project''s sweeper stays');
select is((select count(*)::int from cron.job where command like '%oldref.supabase.co%'), 0,
  'nothing calls the original project''s URL');

select * from finish();
rollback;
