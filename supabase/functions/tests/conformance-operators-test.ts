// Conformance: what operators and the seed's scripts call (contract §7 and §8; the seed README in
// the seed README (docs/CLIENT_CONTRACT.md §8); apps/mobile/supabase/DEPLOYMENT_GUIDE.md and the job-queue migration at
// Memo-2023/mana-monorepo@ff80aeec1). Their SQL runs verbatim as the SQL editor (postgres) and through the
// service role; process-jobs and process-generation answer the fields the originals answered; the seed's
// manual trigger (`curl -X POST .../functions/v1/process-jobs -H "Authorization: Bearer <anon key>"`)
// gets a 2xx and wakes the worker, coalesced.
// Assumptions beyond /work/ISSUE12-DESIGN.md:
// - A drain is one process-jobs invocation; it marks the jobs it claims with its own worker id in
//   job_queue.locked_by (`process-jobs:<random uuid>`; see recordClaims). A burst of 100 anon wake-ups
//   while jobs are due may start at most one drain, and that drain runs every due job.
// - A failed generation counts in process-jobs' `errors`, a completed job in `processed`.
// - `complete_job(<id>, NULL, NULL)` is written with the id as an operator types it: a bare number for
//   bigint ids (a uuid would be quoted).
// - The monitoring views may hold more columns than the original's; the original's must be there.
import postgres from "postgres";
import { assert, assertEquals } from "./_assert.ts";
import {
  as,
  creates,
  drainQueue,
  FINISHED,
  modelRow,
  recordClaims,
  type Row,
  type Stack,
  startAccepted,
  type TestUser,
  waitFor,
  withStack,
} from "./_conformance.ts";
import { Postgrest } from "./_postgrest.ts";
import { TestDatabase } from "./_stack.ts";
import { LOCAL_ANON_KEY, LOCAL_SERVICE_ROLE_KEY } from "../../../scripts/local/keys.ts";

const VIEWS: Record<string, string[]> = {
  queue_health: [
    "job_type",
    "status",
    "count",
    "oldest_job",
    "newest_job",
    "avg_duration_seconds",
    "avg_attempts",
  ],
  failed_jobs_recent: [
    "id",
    "job_type",
    "payload",
    "attempts",
    "error_message",
    "created_at",
    "completed_at",
  ],
  stuck_jobs: ["id", "job_type", "payload", "started_at", "minutes_stuck"],
};

/** An id as an operator writes it into SQL. */
const literal = (id: unknown) => /^\d+$/.test(String(id)) ? String(id) : `'${id}'`;

async function jobStatus(sql: postgres.Sql, id: unknown): Promise<string> {
  const [row] = await sql.unsafe(`select status from job_queue where id = ${literal(id)}`);
  return row?.status;
}

Deno.test("conformance (operators): the original queue calls resolve and do what they say", async () => {
  const db = await TestDatabase.create();
  const sql = db.sql;
  try {
    // DEPLOYMENT_GUIDE 1.4 and 1.5: the functions and views exist.
    const routines = await sql.unsafe(`SELECT routine_name, routine_type
FROM information_schema.routines
WHERE routine_schema = 'public'
  AND routine_name IN ('enqueue_job', 'claim_next_job', 'complete_job');`);
    assertEquals(
      [...new Set(routines.map((r) => r.routine_name))].sort(),
      ["claim_next_job", "complete_job", "enqueue_job"],
    );
    const views = await sql.unsafe(`SELECT table_name, table_type
FROM information_schema.tables
WHERE table_schema = 'public'
  AND table_name IN ('queue_health', 'failed_jobs_recent', 'stuck_jobs');`);
    assertEquals(views.map((v) => `${v.table_name}:${v.table_type}`).sort(), [
      "failed_jobs_recent:VIEW",
      "queue_health:VIEW",
      "stuck_jobs:VIEW",
    ]);
    for (const [view, columns] of Object.entries(VIEWS)) {
      const found = (await sql`select column_name from information_schema.columns
                                 where table_schema = 'public' and table_name = ${view}`).map((c) =>
        c.column_name
      );
      for (const column of columns) assert(found.includes(column), `${view}.${column}`);
    }

    // enqueue_job(type, payload, priority), and by name as queue.ts and the guide call it.
    const [{ id: first }] = await sql.unsafe(`select enqueue_job('generate-image', '{}'::jsonb, 0) as id`);
    assert(first !== null, "enqueue_job answers the job id");
    assertEquals(await jobStatus(sql, first), "pending");
    const [{ id: named }] = await sql.unsafe(`select enqueue_job(p_job_type => 'generate-image',
      p_payload => '{"test": true}'::jsonb, p_priority => 0, p_scheduled_at => now(), p_max_attempts => 3) as id`);
    assertEquals(await jobStatus(sql, named), "pending");
    const [{ job_id: guide }] = await sql.unsafe(`SELECT enqueue_job(
  'generate-image'::text,
  '{"test": true, "prompt": "Test prompt"}'::jsonb,
  0,
  NOW(),
  3
) AS job_id;`);
    assertEquals(await jobStatus(sql, guide), "pending");
    const cleanup = await sql.unsafe(`DELETE FROM job_queue WHERE payload->>'test' = 'true';`);
    assertEquals(cleanup.count, 2, "the guide's clean-up removes its test jobs");

    // claim_next_job() with no argument, then complete_job(<id>, NULL, NULL).
    const claimed = await sql.unsafe(`select * from claim_next_job()`);
    assertEquals(claimed.map((j) => [String(j.id), j.status]), [[String(first), "processing"]]);
    await sql.unsafe(`select complete_job(${literal(first)}, NULL, NULL)`);
    assertEquals(await jobStatus(sql, first), "completed");
    const health = await sql.unsafe(
      `select job_type, status, count::int as count from queue_health where status = 'completed'`,
    );
    assertEquals(health.map((h) => [h.job_type, h.status, h.count]), [["generate-image", "completed", 1]]);

    // A job stuck in processing for 20 minutes: stuck_jobs lists it; the seed's reset frees it.
    const [{ id: stuck }] = await sql.unsafe(`select enqueue_job('generate-image', '{}'::jsonb, 0) as id`);
    assertEquals((await sql.unsafe(`select id from claim_next_job()`)).map((j) => String(j.id)), [
      String(stuck),
    ]);
    await ageJob(sql, stuck, "20 minutes");
    const stuckRows = await sql.unsafe(`select id, minutes_stuck::float8 as minutes from stuck_jobs`);
    assertEquals(stuckRows.map((r) => String(r.id)), [String(stuck)]);
    assert(stuckRows[0].minutes >= 19, `minutes_stuck ${stuckRows[0].minutes}`);
    await sql.unsafe(
      `UPDATE job_queue SET status='pending', attempt_number=0 WHERE status='processing' AND updated_at < now() - interval '15 minutes';`,
    );
    assertEquals(await jobStatus(sql, stuck), "pending", "the seed's stuck-job reset");

    // A failed job: failed_jobs_recent and the seed's error query show it.
    await sql.unsafe(
      `update job_queue set status = 'failed', error_message = 'boom' where id = ${literal(stuck)}`,
    );
    const failed = await sql.unsafe(`select id, error_message from failed_jobs_recent`);
    assertEquals(failed.map((f) => [String(f.id), f.error_message]), [[String(stuck), "boom"]]);
    const errors = await sql.unsafe(`SELECT error_message FROM job_queue WHERE status='failed';`);
    assertEquals(errors.map((e) => e.error_message), ["boom"]);

    // The seed's monitoring queries, verbatim.
    const byStatus = await sql.unsafe(`SELECT status, COUNT(*) FROM job_queue GROUP BY status;`);
    assertEquals(byStatus.map((r) => `${r.status}:${r.count}`).sort(), ["completed:1", "failed:1"]);
    await sql.unsafe(
      `SELECT status, COUNT(*) FROM image_generations WHERE created_at > now() - interval '1 hour' GROUP BY status;`,
    );

    // The same calls through the service role (an operator's script with the service key).
    const service = Postgrest.service(sql);
    const enqueued = await service.rpc("enqueue_job", {
      p_job_type: "generate-image",
      p_payload: {},
      p_priority: 0,
      p_scheduled_at: new Date().toISOString(),
      p_max_attempts: 3,
    });
    assertEquals(enqueued.error, null, "service_role may enqueue");
    const serviceClaim = await service.rpc("claim_next_job");
    assertEquals(serviceClaim.error, null, "service_role may claim");
    assertEquals((serviceClaim.data as Row[]).map((j) => String(j.id)), [String(enqueued.data)]);
    await service.run(`select complete_job(${literal(enqueued.data)}, NULL, NULL)`);
    assertEquals(await jobStatus(sql, enqueued.data), "completed");
    for (const view of Object.keys(VIEWS)) {
      assertEquals((await service.from(view).select("*")).error, null, `service_role reads ${view}`);
    }
  } finally {
    await db.drop();
  }
  // The seed's `SELECT * FROM cron.job;` where pg_cron lives: a schedule that calls process-jobs.
  const cron = postgres(Deno.env.get("TEST_DB_ADMIN_URL")!, { max: 1, onnotice: () => {} });
  try {
    const jobs = await cron.unsafe(`SELECT * FROM cron.job;`);
    assert(jobs.some((j) => /process[-_]jobs/.test(String(j.command))), "a schedule wakes process-jobs");
  } finally {
    await cron.end();
  }
});

/** Moves every timestamp of a job back by `age` (its triggers off), as if it had been claimed that long ago. */
async function ageJob(sql: postgres.Sql, id: unknown, age: string) {
  const columns = await sql<{ column_name: string }[]>`
    select column_name from information_schema.columns
     where table_schema = 'public' and table_name = 'job_queue' and data_type = 'timestamp with time zone'`;
  const sets = columns.map((c) => `"${c.column_name}" = "${c.column_name}" - interval '${age}'`).join(", ");
  await sql.begin(async (tx) => {
    await tx.unsafe(`set local session_replication_role = replica`);
    await tx.unsafe(`update job_queue set ${sets} where id = ${literal(id)}`);
  });
}

async function startMany(stack: Stack, user: TestUser, n: number): Promise<string[]> {
  const model = await modelRow(as(stack, user), "black-forest-labs/flux-schnell");
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(await startAccepted(stack, user, { prompt: `a fox, take ${i}`, model_id: model.id }));
  }
  return ids;
}

async function finishedStatuses(stack: Stack, ids: string[]): Promise<string[]> {
  return await waitFor("the generations to finish", async () => {
    const rows = await stack.sql`select status from image_generations where id = any(${ids}::uuid[])`;
    const statuses = rows.map((r) => String(r.status));
    return statuses.every((s) => FINISHED.includes(s)) ? statuses.sort() : undefined;
  }, 60_000);
}

Deno.test("conformance (operators): process-jobs answers success, processed, errors and its message", async () => {
  await withStack(["--time-scale", "0"], { WORKER_KICK: "false" }, async (stack, sim) => {
    const user = await stack.newUser();
    const ids = await startMany(stack, user, 2);
    await sim.admin("POST", "faults", { kind: "nsfw", on: "create", times: 1 });
    const answers = await drainQueue(stack);
    // The answers count what finished in the last minute (the drain runs after the answer): the next
    // sweep reports the failure.
    const next = await stack.call("process-jobs", { method: "POST", token: LOCAL_SERVICE_ROLE_KEY });
    answers.push(await next.json());
    let processed = 0;
    let errors = 0;
    for (const answer of answers) {
      assertEquals(answer.success, true, JSON.stringify(answer));
      assert(
        typeof answer.processed === "number" && typeof answer.errors === "number",
        JSON.stringify(answer),
      );
      assertEquals(answer.message, `Processed ${answer.processed} job(s) with ${answer.errors} error(s)`);
      processed += answer.processed as number;
      errors += answer.errors as number;
    }
    assertEquals(await finishedStatuses(stack, ids), ["completed", "failed"]);
    assert(processed >= 1 && errors >= 1, `processed ${processed}, errors ${errors}`);
  });
});

/** The seed's manual trigger: `curl -X POST <url>/functions/v1/process-jobs -H "Authorization: Bearer <anon>"`. */
async function anonTrigger(stack: Stack): Promise<number> {
  const res = await fetch(`${stack.url}/functions/v1/process-jobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${LOCAL_ANON_KEY}` },
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test("conformance (operators): the seed's anon-key trigger gets a 2xx and wakes the worker", async () => {
  await withStack(["--time-scale", "0"], { WORKER_KICK: "false" }, async (stack) => {
    const user = await stack.newUser();
    const ids = await startMany(stack, user, 1);
    const status = await anonTrigger(stack);
    assert(status >= 200 && status < 300, `anon trigger: ${status}`);
    assertEquals(await finishedStatuses(stack, ids), ["completed"], "the woken worker ran the job");
  });
});

Deno.test("conformance (operators): a burst of 100 anon triggers causes at most one drain", async () => {
  await withStack(
    ["--latency", "*=1000:0"],
    { WORKER_KICK: "false", MAX_PENDING_GENERATIONS: "50" },
    async (stack) => {
      const claims = await recordClaims(stack.sql);
      const user = await stack.newUser();
      const ids = await startMany(stack, user, 10);
      const statuses = await Promise.all(Array.from({ length: 100 }, () => anonTrigger(stack)));
      const refused = statuses.filter((s) => s < 200 || s >= 300);
      assertEquals(refused, [], "every trigger gets a 2xx");
      assertEquals(await finishedStatuses(stack, ids), Array(10).fill("completed"));
      const workers = await claims();
      assertEquals(workers.length, 1, `one drain ran the jobs, not ${workers.length}: ${workers.join(", ")}`);
    },
  );
});

Deno.test("conformance (operators): process-generation standalone answers the original's fields", async () => {
  await withStack(["--time-scale", "0.02"], { WORKER_KICK: "false" }, async (stack, sim) => {
    const call = async (token: string, body: Row) => {
      const res = await fetch(`${stack.url}/functions/v1/process-generation`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() as Row };
    };
    const request = {
      prompt: "a lighthouse at dusk",
      model_id: "black-forest-labs/flux-schnell",
      width: 1024,
      height: 1024,
      num_inference_steps: 4,
      guidance_scale: 3.5,
    };
    const ok = await call(LOCAL_SERVICE_ROLE_KEY, request);
    assertEquals(ok.status, 200, JSON.stringify(ok.body));
    assertEquals(ok.body.success, true);
    assert(typeof ok.body.format === "string", "format");
    assert(typeof ok.body.width === "number" && typeof ok.body.height === "number", "width, height");
    assert(typeof ok.body.generation_time_seconds === "number", "generation_time_seconds");
    assert(ok.body.error === undefined || ok.body.error === null, "no error");
    const file = await fetch(String(ok.body.output_url));
    assertEquals(file.status, 200, "output_url serves the output");
    await file.body?.cancel();

    await sim.admin("POST", "faults", { kind: "nsfw", on: "create", times: 1 });
    const failed = await call(LOCAL_SERVICE_ROLE_KEY, request);
    assertEquals([failed.status, failed.body.success], [400, false], JSON.stringify(failed.body));
    assert(typeof failed.body.error === "string" && failed.body.error.length > 0);

    const before = await creates(sim);
    const user = await stack.newUser();
    for (const token of [LOCAL_ANON_KEY, user.token]) {
      const refused = await call(token, request);
      assert([401, 403].includes(refused.status), `service key only: ${refused.status}`);
    }
    assertEquals(await creates(sim), before, "refused calls create nothing");
  });
});
