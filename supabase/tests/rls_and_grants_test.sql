-- Who may touch what: users read only their own generations, insert only pending rows of their own and
-- write none of the backend's columns (client_contract_test.sql covers the clients' writes); nobody but
-- the backend reaches the queue or the SQL functions. Runs in a fresh database made from the migrated template.
begin;
select plan(24);

insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-00000000000a', 'a@example.test'),
  ('b0000000-0000-4000-8000-00000000000b', 'b@example.test');
select public.start_generation('a0000000-0000-4000-8000-00000000000a', 'a red fox', 'black-forest-labs/flux-schnell');
select public.start_generation('a0000000-0000-4000-8000-00000000000a', 'a blue fox', 'black-forest-labs/flux-schnell');
select public.start_generation('b0000000-0000-4000-8000-00000000000b', 'b''s cat', 'black-forest-labs/flux-schnell');

-- As user A, through the API role, with A's claims as PostgREST sets them.
set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"a0000000-0000-4000-8000-00000000000a","role":"authenticated"}', true);

select is(auth.uid(), 'a0000000-0000-4000-8000-00000000000a'::uuid, 'auth.uid() reads request.jwt.claims');
select results_eq(
  'select prompt from public.image_generations order by prompt',
  array['a blue fox', 'a red fox'],
  'a user sees exactly their own generations'
);
select is_empty(
  $$select 1 from public.image_generations where user_id = 'b0000000-0000-4000-8000-00000000000b'$$,
  'another user''s rows are invisible even when asked for by id'
);
select throws_ok(
  $$insert into public.image_generations (user_id, prompt, replicate_model)
    values ('a0000000-0000-4000-8000-00000000000a', 'x', 'black-forest-labs/flux-schnell')$$,
  '42501', null, 'users cannot write the backend''s columns'
);
select throws_ok($$update public.image_generations set status = 'completed'$$, '42501', null,
  'users cannot update generations');
select throws_ok($$delete from public.image_generations$$, '42501', null, 'users cannot delete generations');
select throws_ok($$select * from public.job_queue$$, '42501', null, 'users cannot read the queue');
select throws_ok($$insert into public.job_queue (job_type) values ('generate-image')$$, '42501', null,
  'users cannot enqueue directly');
select throws_ok(
  $$select public.start_generation('a0000000-0000-4000-8000-00000000000a', 'x', 'black-forest-labs/flux-schnell')$$,
  '42501', null, 'users cannot call start_generation (it trusts its user id argument)'
);
select throws_ok($$select public.enqueue_job('generate-image')$$, '42501', null, 'users cannot call enqueue_job');
select throws_ok($$select * from public.claim_next_job('me')$$, '42501', null, 'users cannot claim jobs');
select throws_ok($$select public.complete_job(1, 'me', true)$$, '42501', null, 'users cannot complete jobs');
select throws_ok($$select public.extend_lease(1, 'me', 60)$$, '42501', null, 'users cannot extend leases');
select throws_ok($$select public.prune_job_queue()$$, '42501', null, 'users cannot prune the queue');
select throws_ok($$select * from public.job_queue_stats$$, '42501', null, 'users cannot read queue stats');
reset role;

set local role anon;
select set_config('request.jwt.claims', '{"role":"anon"}', true);
select throws_ok($$select * from public.image_generations$$, '42501', null, 'anon cannot read generations');
select throws_ok($$select * from public.job_queue$$, '42501', null, 'anon cannot read the queue');
select throws_ok(
  $$select public.start_generation('a0000000-0000-4000-8000-00000000000a', 'x', 'black-forest-labs/flux-schnell')$$,
  '42501', null, 'anon cannot call start_generation'
);
reset role;

set local role service_role;
select is((select count(*)::int from public.image_generations), 3, 'service_role sees every generation');
select lives_ok(
  $$select public.start_generation('b0000000-0000-4000-8000-00000000000b', 'from a server', 'black-forest-labs/flux-schnell')$$,
  'service_role may call start_generation'
);
select is((select count(*)::int from public.job_queue), 4, 'service_role sees the queue');
select is((select count(*)::int from public.claim_next_job('svc', 10)), 4, 'service_role may claim');
select is((select count(*)::int from public.job_queue_stats), 1, 'service_role may read stats');
select is(public.complete_job((select min(id) from public.job_queue), 'svc', true) ->> 'outcome', 'completed',
  'service_role may complete');
reset role;

select * from finish();
rollback;
