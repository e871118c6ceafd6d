-- Fair claiming (claim_next_job with usage_settings.user_jobs_in_flight): one user's backlog cannot hold
-- every worker slot, and another user's job waiting behind it starts in the same claim.
begin;
select plan(14);

create function pg_temp.enqueue(p_owner uuid, p_n integer, p_age interval) returns void
language sql as $$
  select public.enqueue_job('generate-image', jsonb_build_object('n', i), now() - p_age + make_interval(secs => i),
                            owner_id => p_owner)
    from generate_series(1, p_n) i
$$;
create function pg_temp.claimed(p_worker text, p_batch integer) returns text
language sql as $$
  select coalesce(string_agg(coalesce(left(owner_id::text, 1), '-') || ':' || n, ',' order by owner_id, n), '')
    from (select owner_id, count(*) as n
            from public.claim_next_job(p_worker, p_batch)
           group by owner_id) c
$$;

-- user a: 500 queued jobs, oldest first; user b: one, newer than all of them
select pg_temp.enqueue('a0000000-0000-4000-8000-00000000000a', 500, interval '1 hour');
select pg_temp.enqueue('b0000000-0000-4000-8000-00000000000b', 1, interval '1 minute');
select is((select user_jobs_in_flight from public.usage_settings), 4, 'default: 4 jobs in flight per user');

select is(pg_temp.claimed('w1', 10), 'a:4,b:1',
  'one claim of 10: a gets its 4 slots, b''s job behind a''s backlog starts in the same claim');
select is(pg_temp.claimed('w2', 10), '', 'a is at its cap: its backlog waits, nothing else is due');

-- a slot frees: a gets exactly one more
select is((select public.complete_job(id, 'w1', true) ->> 'outcome' from public.job_queue
            where owner_id = 'a0000000-0000-4000-8000-00000000000a' and status = 'processing'
            order by id limit 1), 'completed', 'one of a''s jobs completes');
select is(pg_temp.claimed('w2', 10), 'a:1', 'a gets the one freed slot');

-- jobs of no user (operators' jobs, downloads) are not limited
select public.enqueue_job('download-image', jsonb_build_object('n', i)) from generate_series(1, 6) i;
select is(pg_temp.claimed('w3', 10), '-:6', 'jobs without an owner are claimed as before');

-- several users, cap 1: one job each per claim, oldest users first
update public.usage_settings set user_jobs_in_flight = 1;
update public.job_queue set status = 'completed', completed_at = now() where status = 'processing';
select pg_temp.enqueue('c0000000-0000-4000-8000-00000000000c', 3, interval '50 minutes');
select pg_temp.enqueue('d0000000-0000-4000-8000-00000000000d', 3, interval '40 minutes');
select is(pg_temp.claimed('w4', 5), 'a:1,c:1,d:1', 'cap 1: one job per user in one claim');
select is(pg_temp.claimed('w4', 5), '', 'and none more while they run');
select is((select count(*)::int from public.job_queue where status = 'processing'
            group by owner_id order by count(*) desc limit 1), 1, 'no user holds two slots');

-- within one user, still oldest first
select ok((select min(run_at) from public.job_queue where owner_id = 'c0000000-0000-4000-8000-00000000000c' and status = 'processing')
          < (select min(run_at) from public.job_queue where owner_id = 'c0000000-0000-4000-8000-00000000000c' and status = 'pending'),
  'a user''s oldest job is the one claimed');

-- a lease that expired is reclaimed and counts once
update public.job_queue set locked_until = now() - interval '1 second'
 where owner_id = 'c0000000-0000-4000-8000-00000000000c' and status = 'processing';
select is(pg_temp.claimed('w5', 5), 'c:1', 'an expired lease is taken over (c still holds one slot)');
select is((select count(*)::int from public.job_queue
            where owner_id = 'c0000000-0000-4000-8000-00000000000c' and status = 'processing'), 1,
  'c still has exactly one job in flight');

-- null = first in, first out
update public.usage_settings set user_jobs_in_flight = null;
select is(pg_temp.claimed('w6', 3), 'a:3', 'with no cap, the oldest due jobs whoever owns them');

-- the limit is checked
select throws_ok($$update public.usage_settings set user_jobs_in_flight = 0$$, '23514', null,
  'a cap below one is refused');

select * from finish();
rollback;
