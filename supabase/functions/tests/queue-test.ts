// The queue under real concurrency (outside pgTAP, which runs in one session), and the local stand-in
// for pg_net that turns invoke_process_jobs()'s NOTIFY into the worker's HTTP call.
import postgres from "postgres";
import { assert, assertEquals } from "./_assert.ts";
import { spawnScript, stopScript, TestDatabase } from "./_stack.ts";

const JOBS = 10_000;
const CLAIMERS = 8;

Deno.test("queue: 8 concurrent claimers over 10,000 jobs complete each exactly once", async () => {
  const db = await TestDatabase.create();
  try {
    await db.sql`select public.enqueue_job('download-image', jsonb_build_object('n', n))
                   from generate_series(1, ${JOBS}) n`;
    // Each claimer has its own connection, claims batches of 1–10 and completes what it claimed; one
    // completion in ten fails (retryable, no delay) so retries interleave with first attempts.
    const completions = new Map<number, number>();
    let failures = 0;
    const deadline = Date.now() + 180_000;
    const claimer = async (worker: string) => {
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      try {
        for (;;) {
          if (Date.now() > deadline) throw new Error(`${worker}: the queue did not drain within 180 s`);
          const batch = 1 + Math.floor(Math.random() * 10);
          const jobs = await sql<
            { id: string }[]
          >`select id from public.claim_next_job(${worker}, ${batch}, 300)`;
          if (jobs.length === 0) {
            const [{ left }] = await sql`select count(*)::int as left from public.job_queue
                                          where status in ('pending', 'processing')`;
            if (left === 0) return;
            continue; // others still hold or are retrying jobs
          }
          for (const { id } of jobs) {
            const fail = Math.random() < 0.1;
            const [{ outcome }] = await sql`select public.complete_job(${id}, ${worker}, ${!fail}, 'flaky',
                                              retry_delay_seconds => 0) ->> 'outcome' as outcome`;
            if (fail) {
              failures++;
              assert(outcome === "retrying" || outcome === "failed", outcome);
            } else {
              assertEquals(outcome, "completed");
              completions.set(Number(id), (completions.get(Number(id)) ?? 0) + 1);
            }
          }
        }
      } finally {
        await sql.end();
      }
    };
    await Promise.all(Array.from({ length: CLAIMERS }, (_, i) => claimer(`w${i}`)));

    const [totals] = await db.sql`
      select count(*) filter (where status = 'completed')::int as completed,
             count(*) filter (where status = 'failed')::int as failed,
             count(*) filter (where status not in ('completed', 'failed'))::int as unfinished,
             count(*)::int as total
        from public.job_queue`;
    assertEquals(totals.total, JOBS, "no job lost or duplicated");
    assertEquals(totals.unfinished, 0);
    assertEquals(totals.completed + totals.failed, JOBS);
    assertEquals(completions.size, totals.completed, "every completed job was completed by one claimer");
    assert([...completions.values()].every((n) => n === 1), "no job completed twice");
    assert(failures > 0, "the run exercised retries");
  } finally {
    await db.drop();
  }
});

Deno.test("queue: NOTIFY process_jobs is forwarded as the worker's POST with the service key", async () => {
  const db = await TestDatabase.create();
  const received: { path: string; auth: string | null; body: string }[] = [];
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    received.push({
      path: new URL(req.url).pathname,
      auth: req.headers.get("authorization"),
      body: await req.text(),
    });
    return Response.json({ ok: true });
  });
  const forwarder = await spawnScript("notify-forwarder.ts", {
    SUPABASE_URL: `http://127.0.0.1:${receiver.addr.port}`,
    SUPABASE_DB_URL: db.url,
    SUPABASE_SERVICE_ROLE_KEY: "service-key-for-test",
  });
  try {
    const [{ idle }] = await db.sql`select public.invoke_process_jobs() as idle`;
    assertEquals(idle, "idle");
    await db.sql`select public.enqueue_job('generate-image', '{}')`;
    const [{ sent }] = await db.sql`select public.invoke_process_jobs() as sent`;
    assertEquals(sent, "notify");
    const until = Date.now() + 5000;
    while (received.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assertEquals(received.length, 1, "one POST per notification, none while idle");
    assertEquals(received[0].path, "/functions/v1/process-jobs");
    assertEquals(received[0].auth, "Bearer service-key-for-test");
    assertEquals(JSON.parse(received[0].body).source, "pg_cron");
  } finally {
    await stopScript(forwarder);
    await receiver.shutdown();
    await db.drop();
  }
});
