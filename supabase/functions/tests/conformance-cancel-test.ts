// Conformance: cancel (contract §1 and §3). The apps cancel by UPDATE-ing their own row to
// `status: 'failed', error_message: 'Cancelled by user'` (imageGenerationAsync.ts cancel: filtered by id
// only; generate-async.ts cancelGeneration adds `.eq('status', 'pending')`). RLS must allow it at every
// unfinished stage; a cancelled row is not run, a running prediction is cancelled at Replicate, nothing
// is stored, and the row stays as the user left it.
// Assumptions beyond /work/ISSUE12-DESIGN.md:
// - generate-image called afterwards with a cancelled row's id answers a 4xx and runs nothing.
// - The worker notices a cancel while it polls the prediction, within 30 s.
import { assert, assertEquals } from "./_assert.ts";
import {
  as,
  creates,
  drainQueue,
  generateImage,
  insertOwnGeneration,
  legacyBody,
  modelRow,
  prediction,
  type Row,
  type Simulator,
  type Stack,
  startAccepted,
  storageObjects,
  type TestUser,
  waitFor,
  withStack,
} from "./_conformance.ts";

const CANCEL = { status: "failed", error_message: "Cancelled by user" };

/** imageGenerationAsync.ts cancel(): the user's own UPDATE. */
async function cancel(stack: Stack, user: TestUser, id: string, onlyPending = false) {
  let update = as(stack, user).from("image_generations").update(CANCEL).eq("id", id);
  if (onlyPending) update = update.eq("status", "pending");
  const res = await update;
  assertEquals(res.error, null, "RLS lets the owner cancel");
  assertEquals(res.count, 1, "the row was cancelled");
}

/** After the backend had its chance: still cancelled, no image, no object, no job left to run. */
async function assertStaysCancelled(stack: Stack, user: TestUser, id: string) {
  const api = as(stack, user);
  const row = await api.from("image_generations").select("status, error_message").eq("id", id).single();
  assertEquals(row.data, CANCEL, "the row stays as the user left it");
  assertEquals((await api.from("images").select("id").eq("generation_id", id)).data, [], "no image");
  assertEquals(await storageObjects(stack.sql, `${user.id}/`), [], "nothing stored");
  const [{ open }] = await stack.sql`
    select count(*)::int as open from job_queue
     where payload->>'generation_id' = ${id} and status in ('pending', 'processing')`;
  assertEquals(open, 0, "no job of it is left to run");
}

Deno.test("conformance (cancel): a client-inserted pending row, cancelled, is never run", async () => {
  await withStack(["--time-scale", "0"], {}, async (stack, sim) => {
    const user = await stack.newUser();
    const model = await modelRow(as(stack, user), "black-forest-labs/flux-schnell");
    const row = await insertOwnGeneration(stack, user, model);
    await cancel(stack, user, String(row.id), true);
    await drainQueue(stack);
    const late = await generateImage(stack, user, legacyBody(row, model));
    assert(
      late.error && late.status >= 400 && late.status < 500,
      `generate-image refuses it: ${late.status}`,
    );
    await assertStaysCancelled(stack, user, String(row.id));
    assertEquals(await creates(sim), 0, "no prediction");
  });
});

Deno.test("conformance (cancel): a queued generation, cancelled, is not run", async () => {
  await withStack(["--time-scale", "0"], { WORKER_KICK: "false" }, async (stack, sim) => {
    const user = await stack.newUser();
    const model = await modelRow(as(stack, user), "black-forest-labs/flux-schnell");
    const id = await startAccepted(stack, user, { prompt: "a fox", model_id: model.id });
    const queued = await as(stack, user).from("image_generations").select("status").eq("id", id).single();
    assertEquals(queued.data, { status: "queued" });
    await cancel(stack, user, id);
    await drainQueue(stack);
    await assertStaysCancelled(stack, user, id);
    assertEquals(await creates(sim), 0, "no prediction");
  });
});

/** Waits until the row is processing with a recorded prediction; answers the prediction id. */
function running(stack: Stack, user: TestUser, id: string): Promise<string> {
  return waitFor(`generation ${id} to be processing`, async () => {
    const { data } = await as(stack, user).from("image_generations").select("*").eq("id", id).single();
    const row = data as Row;
    assert(row.status !== "completed" && row.status !== "failed", `generation ended: ${row.error_message}`);
    return row.status === "processing" && row.replicate_prediction_id
      ? String(row.replicate_prediction_id)
      : undefined;
  });
}

async function assertPredictionCancelled(sim: Simulator, predictionId: string) {
  await waitFor("the prediction to be canceled", async () => {
    const p = await prediction(sim, predictionId);
    return p.status === "canceled" ? true : undefined;
  });
  assert(((await sim.admin("GET", "stats")).cancels as number) >= 1, "a cancel reached Replicate");
}

Deno.test("conformance (cancel): a processing generation is cancelled at Replicate", async () => {
  await withStack(["--time-scale", "0"], {}, async (stack, sim) => {
    // The prediction never leaves `starting` until it is cancelled.
    await sim.admin("POST", "faults", { kind: "stuck", on: "create" });
    const user = await stack.newUser();
    const model = await modelRow(as(stack, user), "black-forest-labs/flux-schnell");
    const id = await startAccepted(stack, user, { prompt: "a fox", model_id: model.id });
    const predictionId = await running(stack, user, id);
    await cancel(stack, user, id);
    await assertPredictionCancelled(sim, predictionId);
    await waitFor("the worker to let go", async () => {
      const [{ open }] = await stack.sql`
        select count(*)::int as open from job_queue
         where payload->>'generation_id' = ${id} and status in ('pending', 'processing')`;
      return open === 0 ? true : undefined;
    });
    await assertStaysCancelled(stack, user, id);
    assertEquals(await creates(sim), 1, "no second prediction");
  });
});

Deno.test("conformance (cancel): a generation cancelled while its image is stored keeps no image", async () => {
  await withStack(["--time-scale", "0"], {}, async (stack, sim) => {
    // The output download answers after 3 s: the generation sits in `downloading` meanwhile.
    await sim.admin("POST", "faults", { kind: "slow", on: "file", delay_ms: 3000 });
    const user = await stack.newUser();
    const model = await modelRow(as(stack, user), "black-forest-labs/flux-schnell");
    const id = await startAccepted(stack, user, { prompt: "a fox", model_id: model.id });
    await waitFor("the download step", async () => {
      const [row] = await stack.sql`select status from image_generations where id = ${id}`;
      return row.status === "downloading" ? true : undefined;
    });
    await cancel(stack, user, id);
    await waitFor("the download job to end", async () => {
      const [{ open }] = await stack.sql`
        select count(*)::int as open from job_queue
         where payload->>'generation_id' = ${id} and status in ('pending', 'processing')`;
      return open === 0 ? true : undefined;
    });
    await assertStaysCancelled(stack, user, id);
  });
});

Deno.test("conformance (cancel): the mobile row, cancelled while generate-image runs it", async () => {
  // LEGACY_WAIT_SECS bounds the app's call should the cancel go unnoticed.
  await withStack(["--time-scale", "0"], { LEGACY_WAIT_SECS: "20" }, async (stack, sim) => {
    await sim.admin("POST", "faults", { kind: "stuck", on: "create" });
    const user = await stack.newUser();
    const model = await modelRow(as(stack, user), "black-forest-labs/flux-schnell");
    const row = await insertOwnGeneration(stack, user, model);
    const id = String(row.id);
    const call = generateImage(stack, user, legacyBody(row, model));
    try {
      const predictionId = await running(stack, user, id);
      await cancel(stack, user, id);
      await assertPredictionCancelled(sim, predictionId);
    } finally {
      await call; // never left running past the stack
    }
    const answer = await call;
    assert(
      answer.error,
      `generate-image reports the cancel: ${answer.status} ${JSON.stringify(answer.body)}`,
    );
    await assertStaysCancelled(stack, user, id);
  });
});
