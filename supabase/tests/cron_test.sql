-- @database cron: pg_cron lives only in cron.database_name, so scripts/test runs this file there (a
-- freshly created cluster's `postgres` database, migrated like the template), inside a rolled-back
-- transaction. Checks the schedules the migration installed.
begin;
select plan(4);

select has_extension('pg_cron', 'pg_cron is installed where it can run');
select results_eq(
  $$select schedule, command from cron.job where jobname = 'process-jobs'$$,
  $$values ('* * * * *'::text, 'select public.invoke_process_jobs()'::text)$$,
  'process-jobs: every minute, calls invoke_process_jobs()'
);
select results_eq(
  $$select command from cron.job where jobname = 'prune-job-queue'$$,
  $$values ('select public.prune_job_queue()'::text)$$,
  'prune-job-queue: retention is scheduled'
);
select is((select count(*)::int from cron.job where jobname in ('process-jobs', 'prune-job-queue')), 2,
  'each schedule exists once');

select * from finish();
rollback;
