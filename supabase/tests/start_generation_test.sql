-- start_generation: one call writes the generation and its job together, with idempotency and the
-- per-user pending limit; enqueue_job deduplicates unfinished steps.
begin;
select plan(28);

insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-00000000000a', 'a@example.test'),
  ('b0000000-0000-4000-8000-00000000000b', 'b@example.test');

create temporary table answers (name text primary key, answer jsonb);
create function pg_temp.start(p_user uuid, p_key text default null, p_fingerprint text default null,
                              p_limit integer default 10, p_prompt text default 'a lighthouse')
  returns jsonb language sql as $$
    select public.start_generation(p_user, p_prompt, 'black-forest-labs/flux-schnell',
      '{"width":1024,"height":1024,"num_outputs":1,"style":"photo"}', '[]', p_key, p_fingerprint, p_limit)
  $$;

-- created
insert into answers values ('first', pg_temp.start('a0000000-0000-4000-8000-00000000000a'));
select is((select answer->>'outcome' from answers where name = 'first'), 'created', 'a new request is created');
select is((select answer->>'status' from answers where name = 'first'), 'queued', 'and answers status queued');
select ok((select (answer->>'job_id')::bigint > 0 from answers where name = 'first'), 'and its job id');
select ok(
  (select row(g.user_id, g.prompt, g.replicate_model, g.status, g.params->>'num_outputs', g.width, g.height, g.style,
              g.model, g.model_id)
            = row('a0000000-0000-4000-8000-00000000000a'::uuid, 'a lighthouse', 'black-forest-labs/flux-schnell',
                  'queued', '1', 1024, 1024, 'photo', m.name, m.id)
     from public.image_generations g
     left join public.models m on m.replicate_id = g.replicate_model
    where g.replicate_model = 'black-forest-labs/flux-schnell'
      and g.id = (select (answer->>'generation_id')::uuid from answers where name = 'first')),
  'the generation row holds the request, in the original columns too (model = the models row''s name)'
);
select ok(
  (select row(j.job_type, j.status, j.attempt_number, j.max_attempts, j.dedupe_key)
            = row('generate-image', 'pending', 0, 3, 'generate-image:' || (a.answer->>'generation_id'))
     from public.job_queue j, answers a
    where a.name = 'first' and j.payload->>'generation_id' = a.answer->>'generation_id'
      and j.id = (a.answer->>'job_id')::bigint),
  'its generate-image job is queued with a dedupe key'
);
select is((select count(*)::int from public.job_queue), 1, 'exactly one job per generation');

-- idempotency
insert into answers values ('keyed', pg_temp.start('a0000000-0000-4000-8000-00000000000a', 'key-1', 'fp-1'));
insert into answers values ('replay', pg_temp.start('a0000000-0000-4000-8000-00000000000a', 'key-1', 'fp-1'));
select is((select answer->>'outcome' from answers where name = 'replay'), 'existing', 'same key and request: existing');
select is(
  (select answer->>'generation_id' from answers where name = 'replay'),
  (select answer->>'generation_id' from answers where name = 'keyed'),
  'same key and request: same generation id'
);
select is((select count(*)::int from public.image_generations), 2, 'a replay writes no generation');
select is((select count(*)::int from public.job_queue), 2, 'a replay writes no job');
insert into answers values ('reuse', pg_temp.start('a0000000-0000-4000-8000-00000000000a', 'key-1', 'fp-OTHER'));
select is((select answer->>'outcome' from answers where name = 'reuse'), 'idempotency_conflict',
  'same key, different request: conflict');
select is((select count(*)::int from public.image_generations), 2, 'a conflict writes nothing');
insert into answers values ('other-user', pg_temp.start('b0000000-0000-4000-8000-00000000000b', 'key-1', 'fp-1'));
select is((select answer->>'outcome' from answers where name = 'other-user'), 'created',
  'keys are per user: another user''s same key creates');
update public.image_generations set status = 'completed'
 where id = (select (answer->>'generation_id')::uuid from answers where name = 'keyed');
select is((pg_temp.start('a0000000-0000-4000-8000-00000000000a', 'key-1', 'fp-1'))->>'status', 'completed',
  'a replay reports the generation''s current status');

-- pending limit (user A has 1 unfinished: 'first')
select is((pg_temp.start('a0000000-0000-4000-8000-00000000000a', p_limit => 2))->>'outcome', 'created',
  'under the limit: created');
select is(
  pg_temp.start('a0000000-0000-4000-8000-00000000000a', p_limit => 2),
  '{"outcome":"pending_limit","pending":2,"limit":2,"images":1}'::jsonb,
  'at the limit: refused with the count'
);
select is((select count(*)::int from public.image_generations
            where user_id = 'a0000000-0000-4000-8000-00000000000a'), 3, 'a refusal writes nothing');
select is((pg_temp.start('a0000000-0000-4000-8000-00000000000a', 'key-1', 'fp-1', p_limit => 1))->>'outcome',
  'existing', 'a replay is answered even at the limit');
update public.image_generations set status = 'failed'
 where id = (select (answer->>'generation_id')::uuid from answers where name = 'first');
select is((pg_temp.start('a0000000-0000-4000-8000-00000000000a', p_limit => 2))->>'outcome', 'created',
  'finished generations free the limit');
select is((pg_temp.start('b0000000-0000-4000-8000-00000000000b', p_limit => 2))->>'outcome', 'created',
  'the limit is per user');

-- bad calls change nothing
select is(pg_temp.start('c0000000-0000-4000-8000-00000000000c'), '{"outcome":"unknown_user"}'::jsonb,
  'a user missing from auth.users is reported');
select throws_ok($$select pg_temp.start('a0000000-0000-4000-8000-00000000000a', p_limit => 0)$$, '22023', null,
  'a non-positive limit is an error');
select throws_ok($$select pg_temp.start('a0000000-0000-4000-8000-00000000000a', p_prompt => null)$$, '23502', null,
  'a missing prompt violates the table''s not null');
select is((select count(*)::int from public.job_queue j
            where not exists (select 1 from public.image_generations g
                               where g.id = (j.payload->>'generation_id')::uuid)), 0,
  'no job without its generation');

-- enqueue_job dedupe
select is(public.enqueue_job('download-image', '{"n":1}', dedupe_key => 'dl:1'),
          public.enqueue_job('download-image', '{"n":2}', dedupe_key => 'dl:1'),
          'an unfinished job with the same dedupe key is returned, not duplicated');
update public.job_queue set status = 'completed' where dedupe_key = 'dl:1';
select isnt(public.enqueue_job('download-image', '{"n":3}', dedupe_key => 'dl:1'),
            (select id from public.job_queue where dedupe_key = 'dl:1' and status = 'completed'),
            'once finished, the same key may be enqueued again');

-- updated_at follows changes; the seed's monitoring SQL runs verbatim
select ok((select updated_at > created_at or updated_at = now() from public.job_queue where dedupe_key = 'dl:1'
            and status = 'completed'), 'updated_at is maintained');
select lives_ok($$SELECT status, COUNT(*) FROM job_queue GROUP BY status;$$, 'the seed''s queue check runs');

select * from finish();
rollback;
