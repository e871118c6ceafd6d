-- Upgrade in place: on a database that already holds the original Picture system (docs/CLIENT_CONTRACT.md
-- §9), make room for this project's objects without losing anything. On an empty database it does nothing.
-- What it does on the original:
--   - the original queue table is kept, renamed job_queue_v1 (with its indexes), so every job row survives;
--     this project's job_queue takes its name, and ..._recover_original_work.sql carries its unfinished
--     work over;
--   - the original queue functions and views, whose signatures or row types clash with this project's,
--     are dropped: the next migrations create their replacements under the same names
--     (docs/ARCHITECTURE.md, "SQL functions");
--   - the original pg_cron jobs that POST to process-jobs are unscheduled (this project schedules its own
--     sweeper): nothing calls the worker twice or with the wrong credentials;
--   (the original's row-security policies of the four tables the clients use are replaced where this
--   project's are created, in the same migration, so clients are never without a policy meanwhile).
-- Tables, rows, foreign keys, Storage objects and policies, and the app's other tables are not touched.
-- docs/DEPLOYMENT_GUIDE.md, "Upgrading from the original functions", says how to undo it.

do $$
declare
  v_index record;
begin
  -- The original queue has uuid ids; this project's has bigint ones. Nothing to adopt otherwise.
  if exists (select 1 from information_schema.columns
              where table_schema = 'public' and table_name = 'job_queue' and column_name = 'id'
                and data_type = 'uuid') then
    drop view if exists public.queue_health, public.failed_jobs_recent, public.stuck_jobs;
    drop function if exists public.enqueue_job(text, jsonb, integer, timestamptz, integer);
    drop function if exists public.claim_next_job(text[]);
    drop function if exists public.complete_job(uuid, text, jsonb);
    alter table public.job_queue rename to job_queue_v1;
    -- Index names live in the schema's namespace: the new table's must be free.
    for v_index in
      select c.relname from pg_index i join pg_class c on c.oid = i.indexrelid
       where i.indrelid = 'public.job_queue_v1'::regclass and c.relname like 'job_queue%'
    loop
      execute format('alter index public.%I rename to %I', v_index.relname,
                     replace(v_index.relname, 'job_queue', 'job_queue_v1'));
    end loop;
    comment on table public.job_queue_v1 is
      'The original Picture queue, kept as it was at the upgrade; its unfinished work moved to job_queue.';
  end if;

  if to_regnamespace('cron') is not null then
    perform cron.unschedule(jobid) from cron.job
     where jobname in ('process-job-queue', 'process-jobs-worker');
  end if;

end
$$;
