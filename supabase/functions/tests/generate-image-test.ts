// The legacy synchronous generate-image on the new pipeline: it answers the stored image, falls back to
// 202 past its limit while the work goes on, and accepts and refuses exactly what start-generation does.
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { type Simulator, type Stack, withSimulatorStack } from "./_stack.ts";
import { LOCAL_ANON_KEY, LOCAL_SERVICE_ROLE_KEY } from "../../../scripts/local/keys.ts";

/** The worker is woken by start-generation, as in production. */
const withLegacy = (
  simArgs: string[],
  env: Record<string, string>,
  fn: (stack: Stack, sim: Simulator) => Promise<void>,
) => withSimulatorStack(simArgs, { WORKER_KICK: "true", ...env }, fn);

async function legacy(stack: Stack, token: string | undefined, body: unknown) {
  const res = await stack.call("generate-image", {
    method: "POST",
    token,
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

const REQUEST = {
  prompt: "a lighthouse at dusk",
  model_id: "black-forest-labs/flux-schnell",
  width: 1024,
  height: 1024,
};

Deno.test("generate-image (legacy): answers the finished generation with a stored image", async () => {
  await withLegacy(["--time-scale", "0.05"], {}, async (stack, sim) => {
    const user = await stack.newUser();
    const res = await legacy(stack, user.token, REQUEST);
    assertEquals(res.status, 200, JSON.stringify(res.body));
    assertEquals([res.body.success, res.body.status], [true, "completed"]);
    // Without a generation_id: the original's {success, url, format, generation_time}, and the images row.
    assertEquals(res.body.format, "webp");
    assert(typeof res.body.generation_time === "number", "generation_time");
    assertEquals(res.body.url, res.body.image.public_url);
    assertEquals(res.body.generation.replicate_model, REQUEST.model_id);
    assert(res.body.generation.started_at && res.body.generation.completed_at, "timings");
    assertEquals(res.headers.get("deprecation"), "true");
    assertMatch(
      res.headers.get("link") ?? "",
      /<\/functions\/v1\/start-generation>; rel="successor-version"/,
    );
    const image = await fetch(res.body.url);
    assertEquals([image.status, image.headers.get("content-type")], [200, "image/webp"]);
    await image.body?.cancel();
    const stats = await sim.admin("GET", "stats");
    assertEquals(
      [stats.creates_total, stats.duplicate_creates],
      [1, 0],
      "the kicked worker did not run it too",
    );
    const jobs = await stack.sql`select job_type, status from job_queue order by id`;
    assertEquals(jobs.map((j) => `${j.job_type}:${j.status}`), [
      "generate-image:completed",
      "download-image:completed",
    ]);
  });
});

Deno.test("generate-image (legacy): past its limit it answers 202 and the generation completes later", async () => {
  await withLegacy(["--latency", "*=4000:0"], { LEGACY_WAIT_SECS: "1" }, async (stack) => {
    const user = await stack.newUser();
    const res = await legacy(stack, user.token, REQUEST);
    assertEquals(res.status, 202, JSON.stringify(res.body));
    assertEquals(res.headers.get("deprecation"), "true");
    const id = res.body.generation_id;
    const until = Date.now() + 30_000;
    let row: Record<string, unknown> = {};
    while (Date.now() < until) {
      row = await (await stack.call(`start-generation?id=${id}`, { token: user.token })).json();
      if (row.status === "completed" || row.status === "failed") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assertEquals(row.status, "completed", String(row.error_message));
  });
});

Deno.test("generate-image (legacy): a failed generation is an error with its reason", async () => {
  await withLegacy(["--time-scale", "0"], {}, async (stack, sim) => {
    await sim.admin("POST", "faults", { kind: "nsfw", on: "create" });
    const user = await stack.newUser();
    const res = await legacy(stack, user.token, REQUEST);
    assertEquals([res.status, res.body.code, res.body.status], [502, "generation_failed", "failed"]);
    assertMatch(res.body.error, /safety filter/);
  });
});

Deno.test("generate-image (legacy): validation and auth errors are identical to start-generation's", async () => {
  await withLegacy(["--time-scale", "0"], { WORKER_KICK: "false" }, async (stack, sim) => {
    const user = await stack.newUser();
    const cases: [string | undefined, unknown][] = [
      [user.token, { model_id: "black-forest-labs/flux-schnell" }],
      [user.token, { ...REQUEST, model_id: "acme/unknown" }],
      [user.token, { ...REQUEST, width: 9000 }],
      [user.token, { ...REQUEST, image_url: "https://example.com/a.png" }],
      [user.token, "{not json"],
      [LOCAL_ANON_KEY, REQUEST],
    ];
    for (const [token, body] of cases) {
      const old = await legacy(stack, token, body);
      const now = await stack.startGeneration(token, body);
      assertEquals([old.status, old.body], [now.status, now.body], JSON.stringify(body));
    }
    const missing = await legacy(stack, undefined, REQUEST);
    assertEquals(missing.status, 401);
    assertEquals(await stack.count("image_generations"), 0, "refusals write nothing");
    assertEquals((await sim.admin("GET", "stats")).creates_total, 0);
  });
});

/** generate-image with an Idempotency-Key, answered as the app sees it. */
function replay(stack: Stack, token: string, key: string) {
  return stack.call("generate-image", {
    method: "POST",
    token,
    headers: { "content-type": "application/json", "idempotency-key": key },
    body: JSON.stringify(REQUEST),
  }).then(async (res) => ({ status: res.status, body: await res.json() }));
}

// Cost safety: replays of one legacy call share the first call's wait. The model takes 5 s and the wait
// is 4 s. Replays sent 2.5 s in follow the first call and answer with it (202, not done at 4 s), although
// a full wait of their own (to 6.5 s) would have seen the generation complete; a replay sent after the
// first answered finds the stored deadline passed and answers at once, before the model is done. Only one
// job and one create, whatever the replays.
Deno.test("generate-image (legacy): concurrent replays share the first call's wait and cost nothing", async () => {
  await withLegacy(["--latency", "*=5000:0"], { LEGACY_WAIT_SECS: "4" }, async (stack, sim) => {
    const user = await stack.newUser();
    const first = replay(stack, user.token, "replayed-key");
    // Replays once the first call is under way (its row and wait deadline exist).
    const [row] = await waitForRow(stack);
    assert(row.legacy_wait_until, "the first call stored its deadline");
    await new Promise((r) => setTimeout(r, 2500));
    const replays = await Promise.all(
      Array.from({ length: 5 }, () => replay(stack, user.token, "replayed-key")),
    );
    const answers = [await first, ...replays];
    for (const answer of answers) {
      assertEquals(answer.status, 202, JSON.stringify(answer.body));
      assertEquals([answer.body.success, answer.body.image], [true, null]);
      assertEquals(answer.body.generation_id, row.id);
      assert(answer.body.status !== "completed", "no replay waited past the first call's deadline");
    }
    // After the first call answered: the deadline has passed, so a replay answers at once.
    const late = await replay(stack, user.token, "replayed-key");
    assertEquals([late.status, late.body.generation_id], [202, row.id]);
    assert(late.body.status !== "completed", JSON.stringify(late.body));
    const [again] = await stack.sql`select legacy_wait_until from image_generations where id = ${row.id}`;
    assertEquals(again.legacy_wait_until, row.legacy_wait_until, "set once, by the first call");
    // The generation completes (the worker carries on, swept as pg_cron would); the replays added no work.
    const until = Date.now() + 30_000;
    let status = "";
    while (Date.now() < until && status !== "completed") {
      await (await stack.call("process-jobs", { method: "POST", token: LOCAL_SERVICE_ROLE_KEY })).body
        ?.cancel();
      [{ status }] = await stack.sql`select status from image_generations where id = ${row.id}`;
      await new Promise((r) => setTimeout(r, 200));
    }
    assertEquals(status, "completed");
    const jobs = await stack.sql`select job_type from job_queue order by id`;
    assertEquals(jobs.map((j) => j.job_type), ["generate-image", "download-image"]);
    assertEquals(await stack.count("image_generations"), 1);
    const stats = await sim.admin("GET", "stats");
    assertEquals([stats.creates_total, stats.duplicate_creates], [1, 0]);
  });
});

async function waitForRow(stack: Stack) {
  const until = Date.now() + 10_000;
  for (;;) {
    const rows = await stack
      .sql`select id, legacy_wait_until from image_generations where legacy_wait_until is not null`;
    if (rows.length > 0) return rows;
    if (Date.now() > until) throw new Error("the first call never stored its wait deadline");
    await new Promise((r) => setTimeout(r, 20));
  }
}
