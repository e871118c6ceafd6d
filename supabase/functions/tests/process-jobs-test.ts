// The worker end to end on the local stack with the simulator: start-generation wakes process-jobs, the
// prediction runs, the image lands in Storage, the row completes. Failure paths, a crash mid-job, and
// 3 concurrent workers over 300 generations.
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { Simulator, type Stack, type TestUser, TINY_PNG, withSimulatorStack } from "./_stack.ts";
import { LOCAL_ANON_KEY, LOCAL_SERVICE_ROLE_KEY } from "../../../scripts/local/keys.ts";

type Row = Record<string, unknown>;

/** The worker is woken by start-generation, as in production. */
const withWorker = (
  simArgs: string[],
  env: Record<string, string>,
  fn: (stack: Stack, sim: Simulator) => Promise<void>,
) => withSimulatorStack(simArgs, { WORKER_KICK: "true", ...env }, fn);

async function start(stack: Stack, user: TestUser, body: Row): Promise<string> {
  const res = await stack.startGeneration(user.token, { prompt: "a lighthouse at dusk", ...body });
  assertEquals(res.status, 200, JSON.stringify(res.body));
  return res.body.generation_id;
}

/** Follows the row as a client would (GET start-generation?id=) until it is finished. */
async function finished(stack: Stack, user: TestUser, id: string, ms = 30_000): Promise<Row> {
  const until = Date.now() + ms;
  for (;;) {
    const res = await stack.call(`start-generation?id=${id}`, { token: user.token });
    const row = await res.json();
    if (row.status === "completed" || row.status === "failed") return row;
    if (Date.now() > until) throw new Error(`generation ${id} still ${row.status} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function processJobs(stack: Stack, token: string | null = LOCAL_SERVICE_ROLE_KEY) {
  const res = await stack.call("process-jobs", { method: "POST", token: token ?? undefined });
  return { status: res.status, body: await res.json() };
}

async function creates(sim: Simulator) {
  const stats = await sim.admin("GET", "stats");
  return { total: stats.creates_total as number, duplicates: stats.duplicate_creates as number };
}

/** What was paid for: creates, unintended duplicates (a reused owner mark) and counted re-creates. */
async function paid(sim: Simulator) {
  const stats = await sim.admin("GET", "stats");
  return {
    creates: stats.creates_total as number,
    duplicateOwners: stats.duplicate_owner_creates as number,
    recreates: stats.owner_recreates as number,
  };
}

/** Waits until the generation's job went back to pending after a failed attempt; answers the job. */
async function retried(stack: Stack, id: string, attempt = 1): Promise<Row> {
  const until = Date.now() + 15_000;
  let job: Row = {};
  while (Date.now() < until) {
    [job] = await stack
      .sql`select status, attempt_number, error_message, error_details, run_at - now() as delay from job_queue
                            where job_type = 'generate-image' and payload->>'generation_id' = ${id}`;
    if (job.status === "pending" && job.attempt_number === attempt) return job;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job of ${id} not retried: ${JSON.stringify(job)}`);
}

/** As if time had passed: the job is due, and a create sent earlier was sent a minute ago. */
async function later(stack: Stack, id: string) {
  await stack
    .sql`update image_generations set prediction_create_sent_at = prediction_create_sent_at - interval '1 minute'
                  where id = ${id}`;
  await stack.sql`update job_queue set run_at = now() where payload->>'generation_id' = ${id}`;
}

Deno.test("worker: accepted generations complete on their own, images in Storage", async () => {
  await withWorker(["--time-scale", "0.02"], {}, async (stack, sim) => {
    const user = await stack.newUser();
    // An input image comes from the project's Storage (image_input): an earlier upload of the user's.
    const source = await stack.storeObject(`${user.id}/source.png`, TINY_PNG, "image/png");
    const cases: [Row, string][] = [
      [{ model_id: "black-forest-labs/flux-schnell", width: 1024, height: 576 }, "image/webp"],
      [{ model_id: "recraft-ai/recraft-v3-svg" }, "image/svg+xml"],
      [
        {
          model_id: "black-forest-labs/flux-dev",
          image_url: source,
          strength: 0.6,
        },
        "image/webp",
      ],
      [{ model_id: "black-forest-labs/flux-schnell", num_outputs: 2, output_format: "png" }, "image/png"],
    ];
    for (const [body, type] of cases) {
      const id = await start(stack, user, body);
      const row = await finished(stack, user, id);
      assertEquals(row.status, "completed", `${JSON.stringify(body)}: ${row.error_message}`);
      assertMatch(String(row.storage_path), new RegExp(`^${user.id}/${id}\\.(webp|png|svg)$`));
      assertEquals(
        row.image_url,
        `${stack.url}/storage/v1/object/public/generated-images/${row.storage_path}`,
      );
      const image = await fetch(String(row.image_url));
      assertEquals([image.status, image.headers.get("content-type")], [200, type], String(row.image_url));
      assert((await image.arrayBuffer()).byteLength > 100);
      assert(row.started_at && row.completed_at, "timings recorded");
      const outputs = row.outputs as Row[];
      assertEquals(outputs.length, (body.num_outputs as number) ?? 1);
    }
    assertEquals(await creates(sim), { total: cases.length, duplicates: 0 });
  });
});

// A project on the new API keys with its legacy keys disabled: Supabase still injects the legacy
// service_role JWT as SUPABASE_SERVICE_ROLE_KEY, and Storage's gateway answers it with 401. The worker
// must store with the secret key (in apikey) instead: uploads and signed URLs both.
Deno.test("worker: new API keys only, the disabled legacy key still injected: images are stored", async () => {
  const secretKeys = JSON.stringify({ default: "sb_secret_worker_test" });
  await withWorker(
    ["--time-scale", "0.02"],
    { SUPABASE_SECRET_KEYS: secretKeys, LEGACY_KEYS_DISABLED: "true", STORAGE_PUBLIC: "false" },
    async (stack) => {
      const user = await stack.newUser();
      const id = await start(stack, user, { model_id: "black-forest-labs/flux-schnell" });
      const row = await finished(stack, user, id);
      assertEquals(row.status, "completed", String(row.error_message));
      assertMatch(String(row.image_url), /\/storage\/v1\/object\/sign\/generated-images\/.+\?token=/);
      const image = await fetch(String(row.image_url));
      assertEquals([image.status, image.headers.get("content-type")], [200, "image/webp"]);
      await image.body?.cancel();
      // The legacy key is refused there indeed: the worker got through only with the secret key.
      const legacy = await fetch(`${stack.url}/storage/v1/object/generated-images/${user.id}/x.webp`, {
        method: "POST",
        headers: { authorization: `Bearer ${LOCAL_SERVICE_ROLE_KEY}`, "content-type": "image/webp" },
        body: TINY_PNG,
      });
      assertEquals(legacy.status, 401);
      await legacy.body?.cancel();
    },
  );
});

Deno.test("worker: a prediction that failed to start (unbilled) is created once more, counted", async () => {
  await withWorker(["--time-scale", "0"], {}, async (stack, sim) => {
    await sim.admin("POST", "faults", { kind: "start_fail", on: "create", times: 1 });
    const user = await stack.newUser();
    const id = await start(stack, user, {});
    // The kicked run fails retryably: the job waits for its backoff (10 s ± 25 %)...
    const job = await retried(stack, id);
    assertEquals(job.error_message, "The image service is busy; please try again in a few minutes.");
    assertMatch(String((job.error_details as Row).detail), /did not start in time/);
    // ...then, as if the backoff had passed, the next sweep runs it again.
    await later(stack, id);
    assertEquals((await processJobs(stack)).status, 200);
    const row = await finished(stack, user, id);
    assertEquals(row.status, "completed", String(row.error_message));
    // The failed prediction never ran, so exactly one replacement was paid for, and counted.
    assertEquals(await paid(sim), { creates: 2, duplicateOwners: 0, recreates: 1 });
    const [gen] = await stack.sql`select prediction_creates from image_generations where id = ${id}`;
    assertEquals(gen.prediction_creates, 2);
    const stats = await sim.admin("GET", "stats");
    assertEquals(stats.predictions_by_status, { failed: 1, succeeded: 1 });
  });
});

Deno.test("worker: a model that ran and timed out (billed) is final: no second create", async () => {
  await withWorker(["--time-scale", "0"], {}, async (stack, sim) => {
    await sim.admin("POST", "faults", { kind: "fail", on: "create", error: "Prediction timed out" });
    const user = await stack.newUser();
    const row = await finished(stack, user, await start(stack, user, {}));
    assertEquals(row.status, "failed");
    const [job] = await stack
      .sql`select status, attempt_number from job_queue where job_type = 'generate-image'`;
    assertEquals(job, { status: "failed", attempt_number: 1 }, "not retried");
    assertEquals(await paid(sim), { creates: 1, duplicateOwners: 0, recreates: 0 });
  });
});

Deno.test("worker: when the re-create fails to start too, the cap makes it final", async () => {
  await withWorker(["--time-scale", "0"], {}, async (stack, sim) => {
    await sim.admin("POST", "faults", { kind: "start_fail", on: "create" });
    const user = await stack.newUser();
    const id = await start(stack, user, {});
    await retried(stack, id);
    await later(stack, id);
    assertEquals((await processJobs(stack)).status, 200);
    const row = await finished(stack, user, id);
    assertEquals(row.status, "failed");
    const [job] = await stack
      .sql`select status, attempt_number from job_queue where job_type = 'generate-image'`;
    assertEquals(job, { status: "failed", attempt_number: 2 }, "final with an attempt left");
    assertEquals(await paid(sim), { creates: 2, duplicateOwners: 0, recreates: 1 });
  });
});

Deno.test("worker: a lost create is found by its owner mark beyond 100 newer predictions; one create", async () => {
  await withWorker(["--time-scale", "0", "--create-burst", "1000"], {}, async (stack, sim) => {
    // The create's answer is lost after the prediction was made.
    await sim.admin("POST", "faults", { kind: "status", on: "create", status: 502, after: true, times: 1 });
    const user = await stack.newUser();
    const id = await start(stack, user, { seed: 42 });
    const job = await retried(stack, id);
    assertMatch(String((job.error_details as Row).detail), /answer was lost/);
    const [lost] = await stack
      .sql`select replicate_prediction_id, prediction_creates from image_generations where id = ${id}`;
    assertEquals(lost, { replicate_prediction_id: null, prediction_creates: 1 }, "intent recorded, no id");
    // A busy account meanwhile: 120 newer predictions with the very same input, one of them another
    // generation's (its mark names that one), none ours.
    const [{ input }] = (await (await fetch(`${sim.apiBase}/predictions`, {
      headers: { authorization: `Bearer ${Simulator.TOKEN}` },
    })).json()).results;
    for (let i = 0; i < 120; i++) {
      const other = i === 0
        ? `${stack.url}/functions/v1/replicate-webhook?generation_id=${crypto.randomUUID()}&attempt=1`
        : undefined;
      const res = await fetch(`${sim.apiBase}/models/black-forest-labs/flux-schnell/predictions`, {
        method: "POST",
        headers: { authorization: `Bearer ${Simulator.TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({
          input,
          webhook: other,
          webhook_events_filter: other ? ["completed"] : undefined,
        }),
      });
      assertEquals(res.status, 201, await res.text());
    }
    await later(stack, id);
    assertEquals((await processJobs(stack)).status, 200);
    const row = await finished(stack, user, id);
    assertEquals(row.status, "completed", String(row.error_message));
    const [done] = await stack.sql`select result from job_queue where job_type = 'generate-image'`;
    assertEquals(done.result.resumed, true, "the lost create's prediction, found and resumed");
    assertEquals(await paid(sim), { creates: 121, duplicateOwners: 0, recreates: 0 });
    const stats = await sim.admin("GET", "stats");
    assertEquals(stats.cancels, 0, "nobody else's prediction was cancelled");
  });
});

Deno.test("worker: a create refused before it was made is searched for, then sent once", async () => {
  await withWorker(["--time-scale", "0"], {}, async (stack, sim) => {
    await sim.admin("POST", "faults", { kind: "reset", on: "create", times: 1 });
    const user = await stack.newUser();
    const id = await start(stack, user, {});
    await retried(stack, id);
    await later(stack, id);
    assertEquals((await processJobs(stack)).status, 200);
    const row = await finished(stack, user, id);
    assertEquals(row.status, "completed", String(row.error_message));
    assertEquals(await paid(sim), { creates: 1, duplicateOwners: 0, recreates: 0 });
    const stats = await sim.admin("GET", "stats");
    assert(
      (stats.requests as Record<string, number>).list >= 1,
      "the window was searched before the create was sent again",
    );
  });
});

Deno.test("worker: a permanent failure fails the generation with a readable reason", async () => {
  await withWorker(["--time-scale", "0"], {}, async (stack, sim) => {
    await sim.admin("POST", "faults", { kind: "nsfw", on: "create" });
    const user = await stack.newUser();
    const row = await finished(stack, user, await start(stack, user, {}));
    assertEquals(row.status, "failed");
    assertEquals(row.error_message, "The model's safety filter blocked the image. Try a different prompt.");
    const [job] = await stack
      .sql`select status, attempt_number from job_queue where job_type = 'generate-image'`;
    assertEquals(job, { status: "failed", attempt_number: 1 }, "not retried");
  });
});

Deno.test("worker: killed mid-job, a later run resumes after the lease expires; one create", async () => {
  await withWorker(["--latency", "*=4000:0"], { JOB_LEASE_SECS: "2" }, async (stack, sim) => {
    const user = await stack.newUser();
    const id = await start(stack, user, {});
    // Kill once the prediction exists on Replicate: the create is still held open (Prefer: wait=5 on a
    // 4 s model), so its answer, and the prediction id, never reach the database.
    const until = Date.now() + 10_000;
    while ((await creates(sim)).total === 0) {
      if (Date.now() > until) throw new Error("the kicked worker never created the prediction");
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 500));
    await stack.restartGateway(); // the worker process dies mid-create
    await new Promise((r) => setTimeout(r, 2500)); // the lease runs out
    const [lost] = await stack
      .sql`select replicate_prediction_id, prediction_create_sent_at is not null as intent from image_generations
           where id = ${id}`;
    assertEquals(lost, { replicate_prediction_id: null, intent: true }, "intent recorded, no prediction id");
    // A create so recent may still be on its way: the next run waits for it to settle...
    assertEquals((await processJobs(stack)).status, 200);
    const early = await retried(stack, id, 2);
    assertMatch(String((early.error_details as Row).detail), /may still be on its way/);
    // ...and, as if those 30 s had passed, finds it by its owner mark.
    await later(stack, id);
    const run = await processJobs(stack);
    assertEquals(run.status, 200);
    const row = await finished(stack, user, id);
    assertEquals(row.status, "completed", String(row.error_message));
    assertEquals(await creates(sim), { total: 1, duplicates: 0 });
    const [job] = await stack
      .sql`select attempt_number, result from job_queue where job_type = 'generate-image'`;
    assertEquals([job.attempt_number, job.result.resumed], [3, true], "the crashed attempts counted");
  });
});

Deno.test("worker: 3 concurrent invocations over 300 generations complete each exactly once", async () => {
  await withWorker(
    ["--time-scale", "0"],
    { WORKER_KICK: "false", MAX_PENDING_GENERATIONS: "1000" },
    async (stack, sim) => {
      const user = await stack.newUser();
      const ids = [];
      for (let i = 0; i < 300; i++) ids.push(await start(stack, user, { prompt: `scene ${i}` }));
      const runs = await Promise.all([processJobs(stack), processJobs(stack), processJobs(stack)]);
      assertEquals(runs.map((r) => r.status), [200, 200, 200]);
      // The invocations answer at once and drain in the background.
      await waitFor("300 generations to complete", async () => {
        const [{ open }] = await stack
          .sql`select count(*)::int as open from job_queue where status <> 'completed'`;
        return open === 0 && await stack.count("job_queue") === 600;
      });
      const [counts] = await stack.sql`
      select count(*) filter (where status = 'completed')::int as completed,
             count(*)::int as total,
             count(distinct image_url)::int as images
        from image_generations`;
      assertEquals(counts, { completed: 300, total: 300, images: 300 });
      const jobs = await stack
        .sql`select job_type, status, count(*)::int as n from job_queue group by 1, 2 order by 1, 2`;
      assertEquals(jobs.map((j) => [j.job_type, j.status, j.n]), [
        ["download-image", "completed", 300],
        ["generate-image", "completed", 300],
      ]);
      const [{ reclaimed }] = await stack
        .sql`select count(*)::int as reclaimed from job_queue where attempt_number <> 1`;
      assertEquals(reclaimed, 0, "every job claimed once across the three workers");
      assertEquals(await creates(sim), { total: 300, duplicates: 0 });
      assertEquals(await paid(sim), { creates: 300, duplicateOwners: 0, recreates: 0 });
    },
  );
});

Deno.test("worker: images from unexpected hosts and oversize images are refused", async () => {
  await withWorker(["--time-scale", "0"], { DOWNLOAD_ALLOWED_HOSTS: "" }, async (stack) => {
    const user = await stack.newUser();
    const row = await finished(stack, user, await start(stack, user, {}));
    assertEquals(row.status, "failed");
    assertEquals(
      row.error_message,
      "The model returned a file that could not be saved as an image; please try again.",
    );
    const [job] = await stack.sql`select error_details from job_queue where job_type = 'download-image'`;
    assertMatch(
      String(job.error_details.detail),
      /^Refused to download the image from an unexpected address/,
    );
  });
  await withWorker(
    ["--time-scale", "0", "--output-bytes", "300000"],
    { MAX_IMAGE_BYTES: "100000" },
    async (stack) => {
      const user = await stack.newUser();
      const row = await finished(stack, user, await start(stack, user, { output_format: "png" }));
      assertEquals(row.status, "failed");
      assertEquals(row.error_message, "The image is too large to save; try a smaller size.");
      const [job] = await stack.sql`select error_details from job_queue where job_type = 'download-image'`;
      assertMatch(String(job.error_details.detail), /larger than the 97 KB limit/);
    },
  );
});

Deno.test("worker: user and anon tokens only wake the worker, coalesced; no token is refused", async () => {
  const publishable = "sb_publishable_test-key";
  const env = { WORKER_KICK: "false", SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: publishable }) };
  await withWorker(["--time-scale", "0"], env, async (stack) => {
    const user = await stack.newUser();
    await start(stack, user, {});
    // The seed's manual trigger sends the anon key: 202 and the original's fields, and no job runs
    // inside that request.
    const anon = await processJobs(stack, LOCAL_ANON_KEY);
    assertEquals([anon.status, anon.body.success, anon.body.processed, anon.body.errors], [202, true, 0, 0]);
    assertEquals(anon.body.woken, true);
    assertEquals(anon.body.claimed, undefined, "a wake-up claims nothing itself");
    const again = await processJobs(stack, user.token);
    assertEquals(
      [again.status, again.body.woken],
      [202, false],
      "a second wake within the interval is coalesced",
    );
    // The new publishable key stands where the anon key did.
    const keyed = await processJobs(stack, publishable);
    assertEquals([keyed.status, keyed.body.woken], [202, false]);
    const [wakes] = await stack.sql`select woken, coalesced from worker_wakeups`;
    assertEquals([Number(wakes.woken), Number(wakes.coalesced)], [1, 2]);
    assertEquals((await processJobs(stack, null)).status, 401);
    assertEquals((await processJobs(stack, "not-a-token")).status, 401);
    // The wake-up's drain runs in the background: let it store the image (both jobs) before counting.
    await waitFor("the woken worker to finish the generation", async () => {
      const [{ n }] = await stack.sql`select count(*)::int as n from job_queue where status = 'completed'`;
      return n === 2;
    }, 15_000);
    const ok = await processJobs(stack);
    assertEquals(ok.status, 200);
    // The original's fields count what finished in the last minute (the jobs the wake-up ran).
    assertEquals(
      [ok.body.success, ok.body.processed, ok.body.errors, ok.body.message],
      [true, 2, 0, "Processed 2 job(s) with 0 error(s)"],
    );
  });
});

Deno.test("worker: a 3-minute model completes across several isolate lifetimes, no attempt spent", async () => {
  // 3 minutes at time scale 0.1 (18 s) against 8 s isolates: each drain defers the running prediction
  // before its isolate ends (or beforeunload hands it back); pg_cron's sweeps (here: every 300 ms) resume it.
  await withWorker(
    ["--latency", "*=180000:0", "--time-scale", "0.1"],
    { EDGE_WALL_CLOCK_SECS: "8", WORKER_KICK: "false" },
    async (stack, sim) => {
      const user = await stack.newUser();
      const id = await start(stack, user, {});
      let row: Row = {};
      await waitFor(
        "the generation to complete",
        async () => {
          assertEquals((await processJobs(stack)).status, 200);
          [row] = await stack.sql`select status, error_message from image_generations where id = ${id}`;
          return row.status === "completed" || row.status === "failed";
        },
        90_000,
        300,
      );
      assertEquals(row.status, "completed", String(row.error_message));
      const [job] = await stack
        .sql`select status, attempt_number from job_queue where job_type = 'generate-image'`;
      assertEquals(job, { status: "completed", attempt_number: 1 }, "resumed, never a failed attempt");
      assertEquals(await creates(sim), { total: 1, duplicates: 0 });
      const ended = stack.logs.map((l) => l.startsWith("{") ? JSON.parse(l) : {})
        .filter((l) => l.gateway === "isolate ended" && l.fn === "process-jobs");
      assert(ended.length >= 2, `the work spanned several process-jobs isolates: ${JSON.stringify(ended)}`);
    },
  );
});

Deno.test("worker: process-jobs answers while its drain runs; an isolate killed mid-job hands the job back", async () => {
  // The function assumes 60 s but the gateway ends isolates after 4 s: the drain is still polling a 30 s
  // prediction when the isolate ends, so only beforeunload can give the job back.
  await withWorker(
    ["--latency", "*=30000:0"],
    // A second between beforeunload and the kill, so the hand-back and its log line finish on a loaded box.
    {
      EDGE_WALL_CLOCK_SECS: "60",
      GATEWAY_WALL_CLOCK_MS: "4000",
      GATEWAY_UNLOAD_GRACE_MS: "1000",
      WORKER_KICK: "false",
    },
    async (stack) => {
      const user = await stack.newUser();
      const id = await start(stack, user, {});
      const first = await processJobs(stack);
      assertEquals([first.status, first.body.claimed, first.body.jobs[0]?.attempt], [200, 1, 1]);
      const [running] = await stack
        .sql`select status, locked_by from job_queue where job_type = 'generate-image'`;
      assertEquals(running, { status: "processing", locked_by: first.body.worker_id }, "answered mid-drain");
      let job: Row = {};
      await waitFor("the isolate to end and hand the job back", async () => {
        [job] = await stack
          .sql`select status, attempt_number, locked_by, run_at <= now() as due from job_queue
                                 where job_type = 'generate-image'`;
        return job.status !== "processing";
      }, 15_000);
      assertEquals(
        job,
        { status: "pending", attempt_number: 0, locked_by: null, due: true },
        "no attempt spent",
      );
      // The isolate's log line follows the hand-back's SQL and may reach the gateway's output a little later.
      await waitFor(
        "beforeunload's log line",
        () => Promise.resolve(stack.logs.some((l) => l.includes("jobs handed back"))),
        3_000,
      );
      const next = await processJobs(stack);
      assertEquals(next.body.jobs[0]?.attempt, 1, "claimed again with the same attempt number");
      const [row] = await stack.sql`select status from image_generations where id = ${id}`;
      assertEquals(row.status, "processing");
    },
  );
});

Deno.test("worker: start-generation's kick is answered at once, not held by the drain", async () => {
  await withWorker(["--latency", "*=6000:0"], {}, async (stack) => {
    const user = await stack.newUser();
    const id = await start(stack, user, {});
    // The kick is start-generation's only background work: once it settled, its isolate is free.
    await waitFor(
      "start-generation's background work to settle",
      async () => {
        const isolates: Row[] = await (await fetch(`${stack.url}/_gateway/isolates`)).json();
        const own = isolates.filter((i) => i.fn === "start-generation");
        return own.length > 0 && own.every((i) => i.background === 0);
      },
      10_000,
      20,
    );
    const [row] = await stack.sql`select status from image_generations where id = ${id}`;
    assertEquals(row.status, "processing", "the kick settled while the job still runs");
  });
});

/** Polls `check` every `everyMs` until it holds; fails after `ms`. */
async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000, everyMs = 50) {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
