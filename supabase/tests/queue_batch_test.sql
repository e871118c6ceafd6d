-- The batch functions: enqueue_jobs inserts many jobs in one statement, complete_jobs completes only
-- the jobs the caller still holds; and lookups by id no longer go through the processing-lease index.
begin;
select plan(12);

create function pg_temp.explain_lines(q text) returns setof text language plpgsql as $$
declare
  line text;
begin
  for line in execute 'explain ' || q loop
    return next line;
  end loop;
end;
$$;

select is((select count(*)::int from public.enqueue_jobs('download-image', array['{"n":1}', '{"n":2}', '{"n":3}']::jsonb[])),
  3, 'enqueue_jobs: one id per payload');
select results_eq($$select payload ->> 'n' from public.job_queue order by id$$, array['1', '2', '3'],
  'enqueue_jobs: payloads in order');

create temporary table claimed as select id from public.claim_next_job('w1', 2);
select is((select count(*)::int from claimed), 2, 'two claimed by w1');
select is((select count(*)::int from public.claim_next_job('w2', 1)), 1, 'one claimed by w2');

select results_eq(
  $$select id from public.complete_jobs((select array_agg(id order by id) from public.job_queue), 'w1',
                                        array['{"r":1}', '{"r":2}', '{"r":3}']::jsonb[]) order by id$$,
  $$select id from claimed order by id$$,
  'complete_jobs: completes exactly the jobs this worker holds');
select is((select count(*)::int from public.job_queue where status = 'processing' and locked_by = 'w2'), 1,
  'complete_jobs: another worker''s job is untouched');
select results_eq($$select result ->> 'r' from public.job_queue where status = 'completed' order by id$$,
  array['1', '2'], 'complete_jobs: each result stored against its own id');

-- A completion looks its job up by primary key, not by scanning the processing-lease index.
set local enable_seqscan = off;
select unalike(
  (select string_agg(line, ' ') from (
     select * from pg_temp.explain_lines($$select 1 from public.job_queue where id = 3 and status = 'processing'$$)
   ) plan(line)),
  '%job_queue_processing_locked_until%',
  'lookups by id do not use the processing-lease index');

-- defer_job: still running elsewhere, back to the queue without spending an attempt
select is(public.defer_job(3, 'someone-else', 5) ->> 'outcome', 'lease_lost', 'defer_job: only the holder');
select is(public.defer_job(3, 'w2', 5) ->> 'outcome', 'deferred', 'defer_job: the holder defers');
select ok((select status = 'pending' and attempt_number = 0 and run_at = now() + interval '5 seconds'
                  and locked_by is null from public.job_queue where id = 3),
  'defer_job: pending again, attempt not counted, due after the delay');
select is((select attempt_number from public.claim_next_job('w3', 1) where id = 3), null,
  'defer_job: not claimable before its run_at');

select * from finish();
rollback;
