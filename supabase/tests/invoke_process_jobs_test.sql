-- invoke_process_jobs on Supabase: with pg_net and Vault present it POSTs to the process-jobs function
-- with the Vault key. pg_net and Vault cannot be installed here, so this stands in for them with the
-- documented signatures (net.http_post(url, headers, body, timeout_milliseconds) -> request id;
-- vault.decrypted_secrets(name, decrypted_secret)) and records the call.
begin;
select plan(7);

create schema net;
create table net.calls (id bigserial primary key, url text, headers jsonb, body jsonb, timeout_milliseconds integer);
create function net.http_post(url text, headers jsonb default '{}', body jsonb default '{}',
                              timeout_milliseconds integer default 5000) returns bigint
language sql as $$
  insert into net.calls (url, headers, body, timeout_milliseconds)
  values (url, headers, body, timeout_milliseconds) returning id
$$;
create schema vault;
create table vault.decrypted_secrets (name text primary key, decrypted_secret text);

select is(public.invoke_process_jobs(), 'idle', 'nothing due: no call');
select public.enqueue_job('generate-image', '{}');
select is(public.invoke_process_jobs(), 'misconfigured', 'Vault secrets missing: says so, sends nothing');
select is((select count(*)::int from net.calls), 0, 'no request without secrets');

insert into vault.decrypted_secrets values ('project_url', 'https://abc.supabase.co/'), ('service_key', 'sb_secret_x');
select matches(public.invoke_process_jobs(), '^http:[0-9]+$', 'with pg_net and Vault: an HTTP call');
select results_eq(
  $$select url, headers ->> 'apikey', headers ->> 'Authorization', headers ->> 'Content-Type', timeout_milliseconds
      from net.calls$$,
  $$values ('https://abc.supabase.co/functions/v1/process-jobs', 'sb_secret_x', 'Bearer sb_secret_x',
            'application/json', 5000)$$,
  'POST <project_url>/functions/v1/process-jobs with the Vault key in apikey and Authorization'
);
update public.job_queue set status = 'processing', locked_by = 'gone', locked_until = now() - interval '1 minute';
select matches(public.invoke_process_jobs(), '^http:', 'an expired lease is work too');

set local role authenticated;
select throws_ok($$select public.invoke_process_jobs()$$, '42501', null, 'clients cannot trigger the worker');
reset role;

select * from finish();
rollback;
