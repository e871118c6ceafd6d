// process-generation over HTTP against the Replicate simulator: every model end to end, Prefer: wait
// running out into polling, 429s, 5xx, NSFW, a stuck prediction past its deadline, and a crash mid-poll
// that resumes the recorded prediction — the simulator's counters prove nothing was paid for twice.
import { assert, assertEquals } from "./_assert.ts";
import { type Simulator, type Stack, withSimulatorStack } from "./_stack.ts";
import { LOCAL_ANON_KEY } from "../../../scripts/local/keys.ts";

const REQUEST = { prompt: "a lighthouse at dusk", width: 1024, height: 768 };

/** No worker kick: these tests run the prediction through the function themselves. */
const withStack = (
  simArgs: string[],
  env: Record<string, string>,
  fn: (stack: Stack, sim: Simulator) => Promise<void>,
) => withSimulatorStack(simArgs, { WORKER_KICK: "false", ...env }, fn);

async function newGeneration(stack: Stack, body: Record<string, unknown> = {}): Promise<string> {
  const user = await stack.newUser();
  const res = await stack.startGeneration(user.token, { ...REQUEST, ...body });
  assertEquals(res.status, 200, JSON.stringify(res.body));
  return res.body.generation_id;
}

async function creates(sim: Simulator): Promise<{ total: number; duplicates: number }> {
  const stats = await sim.admin("GET", "stats");
  return { total: stats.creates_total as number, duplicates: stats.duplicate_creates as number };
}

Deno.test("process-generation: every catalog model, end to end against the simulator", async () => {
  await withStack(["--time-scale", "0.01"], {}, async (stack, sim) => {
    const models = await (await stack.call("models")).json();
    assert(models.models.length >= 20, "the catalog lists the models");
    for (const model of models.models) {
      // Default sizes (1024×1024) suit every model, Recraft's fixed sizes included.
      const id = await newGeneration(stack, { model_id: model.id, width: undefined, height: undefined });
      const res = await stack.processGeneration(id);
      assertEquals(res.status, 200, `${model.id}: ${JSON.stringify(res.body)}`);
      assert(res.body.outputs.length >= 1, model.id);
      const [row] = await stack
        .sql`select status, replicate_prediction_id from image_generations where id = ${id}`;
      assertEquals(row, { status: "processing", replicate_prediction_id: res.body.prediction_id }, model.id);
      const file = await fetch(res.body.outputs[0]);
      assertEquals(file.status, 200, `${model.id} output file`);
      await file.body?.cancel();
    }
    assertEquals(await creates(sim), { total: models.models.length, duplicates: 0 });
  });
});

Deno.test("process-generation: only the backend may call it", async () => {
  await withStack(["--time-scale", "0"], {}, async (stack, sim) => {
    const id = await newGeneration(stack);
    const user = await stack.newUser();
    assertEquals((await stack.processGeneration(id, null)).status, 401);
    assertEquals((await stack.processGeneration(id, user.token)).status, 403);
    assertEquals((await stack.processGeneration(id, LOCAL_ANON_KEY)).status, 403);
    assertEquals((await stack.processGeneration(crypto.randomUUID())).status, 404);
    assertEquals((await creates(sim)).total, 0, "refused calls create nothing");
  });
});

Deno.test("process-generation: a second call resumes the recorded prediction", async () => {
  await withStack(["--time-scale", "0"], {}, async (stack, sim) => {
    const id = await newGeneration(stack);
    const first = await stack.processGeneration(id);
    const again = await stack.processGeneration(id);
    assertEquals([first.status, again.status], [200, 200]);
    assertEquals(again.body.prediction_id, first.body.prediction_id);
    assertEquals(again.body.resumed, true);
    assertEquals(await creates(sim), { total: 1, duplicates: 0 });
  });
});

Deno.test("process-generation: Prefer: wait runs out and polling finishes the job", async () => {
  // A 4 s model in a 14 s isolate (work ends at 90 %, ~12.6 s): the create waits ~2 s (budget − 10 s),
  // answers 202, polling does the rest.
  await withStack(["--latency", "*=4000:0"], { EDGE_WALL_CLOCK_SECS: "14" }, async (stack, sim) => {
    const id = await newGeneration(stack);
    const res = await stack.processGeneration(id);
    assertEquals(res.status, 200, JSON.stringify(res.body));
    const stats = await sim.admin("GET", "stats");
    const statuses = stats.responses_by_status as Record<string, number>;
    assert((statuses["202"] ?? 0) >= 1, `the create answered 202: ${JSON.stringify(statuses)}`);
    assertEquals(await creates(sim), { total: 1, duplicates: 0 });
  });
});

Deno.test("process-generation: unanswered past the request limit, the caller gets the platform's 504", async () => {
  await withStack(["--latency", "*=5000:0"], { GATEWAY_REQUEST_TIMEOUT_MS: "1000" }, async (stack) => {
    const id = await newGeneration(stack);
    const res = await stack.processGeneration(id);
    assertEquals([res.status, res.body.code], [504, "GATEWAY_TIMEOUT"]);
  });
});

Deno.test("process-generation: 429 with retry_after, then 5xx on polling, still one prediction", async () => {
  await withStack(["--latency", "*=300:0"], {}, async (stack, sim) => {
    await sim.admin("POST", "faults", [
      { kind: "throttle", on: "create", times: 1, retry_after: 1 },
      { kind: "status", on: "get", status: 503, times: 2 },
    ]);
    const id = await newGeneration(stack);
    const res = await stack.processGeneration(id);
    assertEquals(res.status, 200, JSON.stringify(res.body));
    assertEquals(await creates(sim), { total: 1, duplicates: 0 });
  });
});

Deno.test("process-generation: NSFW is final with a readable reason", async () => {
  await withStack(["--time-scale", "0"], {}, async (stack, sim) => {
    await sim.admin("POST", "faults", { kind: "nsfw", on: "create" });
    const id = await newGeneration(stack);
    const res = await stack.processGeneration(id);
    // The original answered a failed generation with 400 and `success: false`.
    assertEquals([res.status, res.body.code, res.body.success], [400, "nsfw", false]);
    assert(res.body.error.includes("safety filter"), res.body.error);
  });
});

Deno.test("process-generation: a prediction stuck in starting is canceled at the deadline", async () => {
  await withStack(["--time-scale", "0"], { GENERATION_TIMEOUT_SECS: "3" }, async (stack, sim) => {
    await sim.admin("POST", "faults", { kind: "stuck", on: "create" });
    const id = await newGeneration(stack);
    const res = await stack.processGeneration(id);
    assertEquals([res.status, res.body.code], [400, "prediction_timed_out"], JSON.stringify(res.body));
    const stats = await sim.admin("GET", "stats");
    assert((stats.cancels as number) >= 1 || JSON.stringify(stats.predictions_by_status).includes("aborted"));
  });
});

Deno.test("process-generation: a crash mid-poll resumes the stored prediction, no second create", async () => {
  await withStack(["--latency", "*=5000:0"], {}, async (stack, sim) => {
    const id = await newGeneration(stack);
    // Start the run, then kill the functions' process while it polls.
    const pending = stack.processGeneration(id).catch((e) => e);
    const until = Date.now() + 10_000;
    for (;;) {
      const [row] = await stack.sql`select replicate_prediction_id from image_generations where id = ${id}`;
      if (row.replicate_prediction_id) break;
      if (Date.now() > until) throw new Error("no prediction recorded");
      await new Promise((r) => setTimeout(r, 50));
    }
    await stack.restartGateway();
    await pending;
    const res = await stack.processGeneration(id);
    assertEquals(res.status, 200, JSON.stringify(res.body));
    assertEquals(res.body.resumed, true);
    assertEquals(await creates(sim), { total: 1, duplicates: 0 });
  });
});

Deno.test("process-generation: a create whose answer was lost is found by its owner mark, not paid twice", async () => {
  await withStack(["--time-scale", "0"], {}, async (stack, sim) => {
    await sim.admin("POST", "faults", { kind: "status", on: "create", status: 502, after: true, times: 1 });
    const id = await newGeneration(stack);
    const lost = await stack.processGeneration(id);
    assertEquals([lost.status, lost.body.code], [503, "retry_later"], JSON.stringify(lost.body));
    assertEquals(lost.headers.get("retry-after"), "30", "looked for once no answer of it can still come");
    // Until then a call neither searches nor creates.
    const early = await stack.processGeneration(id);
    assertEquals([early.status, early.body.code], [503, "retry_later"], JSON.stringify(early.body));
    // As if those 30 s had passed.
    await stack
      .sql`update image_generations set prediction_create_sent_at = prediction_create_sent_at - interval '1 minute'
                    where id = ${id}`;
    const res = await stack.processGeneration(id);
    assertEquals(res.status, 200, JSON.stringify(res.body));
    assertEquals(res.body.resumed, true);
    const stats = await sim.admin("GET", "stats");
    assertEquals([stats.creates_total, stats.duplicate_owner_creates, stats.duplicate_creates], [1, 0, 0]);
    const [row] = await stack.sql`select prediction_creates from image_generations where id = ${id}`;
    assertEquals(row.prediction_creates, 1);
  });
});
