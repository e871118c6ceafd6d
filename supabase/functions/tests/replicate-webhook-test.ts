// Webhook mode end to end on the local stack with the simulator: predictions are created with the owner
// mark as their webhook, the worker parks the job instead of polling, the simulator's signed `completed`
// delivery reaches replicate-webhook through the gateway, which records it and wakes the worker. Forged,
// stale, replayed and out-of-order deliveries change nothing; a delivery that beats the create's answer
// saves the search; a dropped delivery only delays (the recheck reads the prediction); a cancel while
// parked stops the prediction at Replicate.
import { assert, assertEquals } from "./_assert.ts";
import { Simulator, type Stack, type TestUser, withSimulatorStack } from "./_stack.ts";
import { LOCAL_SERVICE_ROLE_KEY } from "../../../scripts/local/keys.ts";

type Row = Record<string, unknown>;

/** Webhook mode, with a recheck long enough that only a webhook can bring a parked job back in time. */
const WEBHOOKS = { REPLICATE_WEBHOOKS: "true", WEBHOOK_RECHECK_SECS: "600", WORKER_KICK: "true" };

async function start(stack: Stack, user: TestUser): Promise<string> {
  const res = await stack.startGeneration(user.token, { prompt: "a lighthouse at dusk" });
  assertEquals(res.status, 200, JSON.stringify(res.body));
  return res.body.generation_id;
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000, everyMs = 50) {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function generation(stack: Stack, id: string): Promise<Row> {
  const [row] = await stack.sql`select status, error_message, replicate_prediction_id, image_url
                                  from image_generations where id = ${id}`;
  return row;
}

async function finished(stack: Stack, id: string, ms = 60_000): Promise<Row> {
  let row: Row = {};
  await waitFor(`generation ${id} to finish`, async () => {
    row = await generation(stack, id);
    return row.status === "completed" || row.status === "failed";
  }, ms);
  return row;
}

/** Waits until the generation's generate-image job is parked (pending, due later, prediction recorded). */
async function parked(stack: Stack, id: string): Promise<Row> {
  let job: Row = {};
  await waitFor("the job to park", async () => {
    [job] = await stack
      .sql`select j.status, j.attempt_number, j.run_at > now() + interval '30 seconds' as later,
                                   g.replicate_prediction_id as prediction
                              from job_queue j join image_generations g on g.id = (j.payload->>'generation_id')::uuid
                             where j.job_type = 'generate-image' and g.id = ${id}`;
    return job?.status === "pending" && job.later === true && job.prediction !== null;
  }, 30_000);
  return job;
}

async function simStats(sim: Simulator) {
  const s = await sim.admin("GET", "stats");
  const requests = (s.requests ?? {}) as Record<string, number>;
  return {
    creates: s.creates_total as number,
    gets: requests.get ?? 0,
    lists: requests.list ?? 0,
    cancels: s.cancels as number,
    delivered: s.webhook_delivered as number,
  };
}

async function processJobs(stack: Stack) {
  const res = await stack.call("process-jobs", { method: "POST", token: LOCAL_SERVICE_ROLE_KEY });
  assertEquals(res.status, 200);
  await res.body?.cancel();
}

/** The simulator's prediction, as Replicate's GET answers it (the body of its completed webhook). */
async function simPrediction(sim: Simulator, id: string): Promise<Row> {
  const res = await fetch(`${sim.apiBase}/predictions/${id}`, {
    headers: { authorization: `Bearer ${Simulator.TOKEN}` },
  });
  assertEquals(res.status, 200);
  return await res.json();
}

/** Standard Webhooks: `v1,` + base64 HMAC-SHA256 over `id.timestamp.body`, keyed by the whsec_ key. */
async function sign(whsec: string, id: string, timestamp: number, body: string): Promise<string> {
  const raw = Uint8Array.from(atob(whsec.replace(/^whsec_/, "")), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return `v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`;
}

async function simSecret(sim: Simulator): Promise<string> {
  const res = await fetch(`${sim.apiBase}/webhooks/default/secret`, {
    headers: { authorization: `Bearer ${Simulator.TOKEN}` },
  });
  return (await res.json()).key;
}

/** Sends one delivery to replicate-webhook as Replicate would: to the owner mark's URL, signed. */
async function deliver(
  stack: Stack,
  generationId: string,
  delivery: { id: string; body: Row; secret: string; ageSecs?: number },
) {
  const body = JSON.stringify(delivery.body);
  const timestamp = Math.floor(Date.now() / 1000) - (delivery.ageSecs ?? 0);
  const res = await stack.call(`replicate-webhook?generation_id=${generationId}&attempt=1`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": delivery.id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": await sign(delivery.secret, delivery.id, timestamp, body),
    },
    body,
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("webhooks: a 3-minute model completes through its webhook; the job is parked, never polled", async () => {
  // 3 minutes at time scale 0.1 (18 s real): the create's 5 s hold ends with the prediction running, the
  // job parks with a 10-minute recheck, and only the webhook can bring it back.
  await withSimulatorStack(
    ["--latency", "*=180000:0", "--time-scale", "0.1"],
    WEBHOOKS,
    async (stack, sim) => {
      // Replicate may deliver the same webhook twice (a retry after an answer it did not see).
      await sim.admin("POST", "faults", { kind: "duplicate", on: "webhook" });
      const user = await stack.newUser();
      const id = await start(stack, user);
      const job = await parked(stack, id);
      assertEquals(job.attempt_number, 0, "parking spent no attempt");
      const row = await finished(stack, id);
      assertEquals(row.status, "completed", String(row.error_message));
      assert(String(row.image_url).includes("/storage/v1/object/public/"), "stored");
      const stats = await simStats(sim);
      assertEquals([stats.creates, stats.gets, stats.lists], [1, 0, 0], "one create, never read again");
      await waitFor("the duplicate delivery", async () => (await simStats(sim)).delivered === 2);
      const deliveries = await stack.sql`select outcome from replicate_webhook_deliveries`;
      assertEquals(deliveries.map((d) => d.outcome), ["recorded"], "the duplicate recorded nothing");
      const [counts] = await stack.sql`select (select count(*)::int from images) as images,
        (select count(*)::int from job_queue where job_type = 'download-image') as downloads`;
      assertEquals(counts, { images: 1, downloads: 1 }, "stored once");
      const drains = stack.logs.filter((l) => l.includes('"drain finished"')).map((l) => JSON.parse(l));
      assertEquals(drains.reduce((n, d) => n + d.parked, 0), 1, "parked once");
      assert(drains.every((d) => d.errors === 0), JSON.stringify(drains));
    },
  );
});

Deno.test("webhooks: forged, stale, replayed and out-of-order deliveries change nothing", async () => {
  // The simulator's own deliveries go to an address nobody answers (a lost webhook), so every delivery the
  // function sees here is made by the test, signed with the simulator's secret or another.
  await withSimulatorStack(
    ["--latency", "*=8000:0"],
    { ...WEBHOOKS, REPLICATE_WEBHOOK_BASE_URL: "http://127.0.0.1:9" },
    async (stack, sim) => {
      const user = await stack.newUser();
      const id = await start(stack, user);
      const { prediction } = await parked(stack, id);
      let done: Row = {};
      await waitFor(
        "the prediction to finish",
        async () => {
          done = await simPrediction(sim, String(prediction));
          return done.status === "succeeded";
        },
        30_000,
        250,
      );
      const secret = await simSecret(sim);
      const readByTest = (await simStats(sim)).gets;
      const stillParked = async (what: string) => {
        const [job] = await stack
          .sql`select status, run_at > now() + interval '30 seconds' as later from job_queue
                                   where job_type = 'generate-image'`;
        assertEquals(job, { status: "pending", later: true }, what);
        assertEquals((await generation(stack, id)).status, "processing", what);
      };

      const forged = await deliver(stack, id, {
        id: "msg_forged",
        body: done,
        secret: "whsec_" + btoa("not the simulator's secret at all"),
      });
      assertEquals([forged.status, forged.body.code], [401, "webhook_signature_invalid"]);
      await stillParked("a forged delivery");
      const stale = await deliver(stack, id, { id: "msg_stale", body: done, secret, ageSecs: 400 });
      assertEquals([stale.status, stale.body.code], [401, "webhook_stale"]);
      await stillParked("a stale delivery");
      const early = await deliver(stack, id, {
        id: "msg_start",
        body: { ...done, status: "processing" },
        secret,
      });
      assertEquals([early.status, early.body.outcome], [200, "not_final"]);
      await stillParked("a non-terminal event");
      assertEquals((await stack.sql`select count(*)::int as n from replicate_webhook_deliveries`)[0].n, 1);

      const genuine = await deliver(stack, id, { id: "msg_done", body: done, secret });
      assertEquals([genuine.status, genuine.body.outcome], [200, "recorded"]);
      const row = await finished(stack, id);
      assertEquals(row.status, "completed", String(row.error_message));

      const replay = await deliver(stack, id, { id: "msg_done", body: done, secret });
      assertEquals([replay.status, replay.body.outcome], [200, "duplicate"]);
      const again = await deliver(stack, id, {
        id: "msg_retry",
        body: { ...done, status: "failed" },
        secret,
      });
      assertEquals([again.status, again.body.outcome], [200, "already_recorded"]);
      const late = await deliver(stack, id, {
        id: "msg_old",
        body: { ...done, status: "processing" },
        secret,
      });
      assertEquals([late.status, late.body.outcome], [200, "not_final"]);

      assertEquals((await generation(stack, id)).status, "completed");
      const [counts] = await stack.sql`select
          (select count(*)::int from images where generation_id = ${id}) as images,
          (select count(*)::int from job_queue where job_type = 'download-image') as downloads`;
      assertEquals(counts, { images: 1, downloads: 1 }, "stored once");
      const stats = await simStats(sim);
      assertEquals(
        [stats.creates, stats.gets - readByTest],
        [1, 0],
        "one create; the worker never read the prediction: its outcome came with the webhook",
      );
    },
  );
});

Deno.test("webhooks: a delivery that arrives while the create call is still held is recorded; one create", async () => {
  // The simulator holds the create's answer 4 s after making the prediction (a slow network); the 0.5 s
  // prediction finishes and its webhook arrives first, before the worker knows the prediction's id.
  await withSimulatorStack(["--latency", "*=500:0"], WEBHOOKS, async (stack, sim) => {
    await sim.admin("POST", "faults", { kind: "slow", on: "create", after: true, delay_ms: 4000, times: 1 });
    const user = await stack.newUser();
    const id = await start(stack, user);
    const row = await finished(stack, id, 30_000);
    assertEquals(row.status, "completed", String(row.error_message));
    const [order] = await stack.sql`select d.outcome, d.prediction_id,
        extract(epoch from j.completed_at - d.received_at)::float8 as before_job_end
        from replicate_webhook_deliveries d, job_queue j where j.job_type = 'generate-image'`;
    assertEquals([order.outcome, order.prediction_id], ["recorded", row.replicate_prediction_id]);
    assert(
      order.before_job_end > 2,
      `the delivery came ${order.before_job_end} s before the create returned`,
    );
    const stats = await simStats(sim);
    assertEquals([stats.creates, stats.lists], [1, 0], "one create, nothing searched");
  });
});

Deno.test("webhooks: a delivery that beats the create's lost answer records it: no search, one create", async () => {
  // The create's answer is lost after the prediction was made (a 503 after creating). Without webhooks
  // the worker waits out the create's settle time, then searches the account's predictions for its mark.
  await withSimulatorStack(["--latency", "*=1000:0"], WEBHOOKS, async (stack, sim) => {
    await sim.admin("POST", "faults", { kind: "status", on: "create", after: true, times: 1 });
    const user = await stack.newUser();
    const started = Date.now();
    const id = await start(stack, user);
    const row = await finished(stack, id, 25_000);
    assertEquals(row.status, "completed", String(row.error_message));
    assert(Date.now() - started < 25_000, "well before the 30 s settle time and a search");
    const stats = await simStats(sim);
    assertEquals([stats.creates, stats.lists], [1, 0], "one create, never searched for");
    const [delivery] = await stack.sql`select outcome from replicate_webhook_deliveries`;
    assertEquals(delivery.outcome, "recorded");
  });
});

Deno.test("webhooks: a dropped webhook only delays the image: the recheck reads the prediction", async () => {
  await withSimulatorStack(
    ["--latency", "*=8000:0"],
    { ...WEBHOOKS, WEBHOOK_RECHECK_SECS: "3" },
    async (stack, sim) => {
      await sim.admin("POST", "faults", { kind: "drop", on: "webhook" });
      const user = await stack.newUser();
      const id = await start(stack, user);
      let row: Row = {};
      // pg_cron's sweep, every half second here: parked jobs are claimed when their recheck is due.
      await waitFor(
        "the generation to complete without its webhook",
        async () => {
          await processJobs(stack);
          row = await generation(stack, id);
          return row.status === "completed" || row.status === "failed";
        },
        60_000,
        500,
      );
      assertEquals(row.status, "completed", String(row.error_message));
      const stats = await simStats(sim);
      assertEquals(stats.delivered, 0, "no webhook arrived");
      assertEquals(stats.creates, 1);
      assert(stats.gets >= 1, "the recheck read the prediction");
      assertEquals((await stack.sql`select count(*)::int as n from replicate_webhook_deliveries`)[0].n, 0);
      const [job] = await stack.sql`select attempt_number from job_queue where job_type = 'generate-image'`;
      assertEquals(job.attempt_number, 1, "rechecks spent no attempt");
    },
  );
});

Deno.test("webhooks: cancelling a parked generation stops its prediction at Replicate", async () => {
  await withSimulatorStack(["--latency", "*=60000:0"], WEBHOOKS, async (stack, sim) => {
    const user = await stack.newUser();
    const id = await start(stack, user);
    await parked(stack, id);
    // The app's cancel: the user's own row set failed (RLS allows it); the trigger makes the job due.
    await stack.sql`update image_generations set status = 'failed', error_message = 'Cancelled by user'
                     where id = ${id}`;
    let job: Row = {};
    await waitFor(
      "the prediction to be cancelled",
      async () => {
        await processJobs(stack);
        [job] = await stack.sql`select status, result from job_queue where job_type = 'generate-image'`;
        return job.status === "completed";
      },
      20_000,
      300,
    );
    assertEquals((await simStats(sim)).cancels, 1, "the prediction was cancelled at Replicate");
    assertEquals(
      (job.result as Row).cancelled_prediction,
      (await generation(stack, id)).replicate_prediction_id,
    );
    assertEquals((await generation(stack, id)).status, "failed", "still the user's cancel");
  });
});
