// Conformance: what start-generation refuses, and how (contract §2). Refused is only what cannot be meant
// — no prompt, an unknown model, wrong JSON types, an image for a model without image input — with a
// precise status and `{success: false, error: <human string>, code: <stable>}`, and nothing written. A
// field sent as null means absent. CORS as the browsers' preflight needs it.
// Assumptions beyond /work/ISSUE12-DESIGN.md: the codes are the ones the code base uses today
// (prompt_missing, unknown_model, invalid_type, unsupported_img2img), each a 400.
import { assert, assertEquals } from "./_assert.ts";
import { as, modelRow, startGeneration, withStack } from "./_conformance.ts";

Deno.test("conformance (errors): refusals are precise, readable and write nothing", async () => {
  await withStack(["--time-scale", "0"], { WORKER_KICK: "false" }, async (stack, sim) => {
    const user = await stack.newUser();
    const schnell = await modelRow(as(stack, user), "black-forest-labs/flux-schnell");
    const base = { prompt: "a lighthouse at dusk", model_id: schnell.id };
    const cases: [string, Record<string, unknown>, string][] = [
      ["no prompt", { model_id: schnell.id }, "prompt_missing"],
      ["null prompt", { ...base, prompt: null }, "prompt_missing"],
      ["unknown catalog id", { ...base, model_id: "acme/unknown-model" }, "unknown_model"],
      ["unknown models.id", { ...base, model_id: crypto.randomUUID() }, "unknown_model"],
      ["prompt of the wrong type", { ...base, prompt: ["a", "b"] }, "invalid_type"],
      ["width of the wrong type", { ...base, width: { value: 1024 } }, "invalid_type"],
      ["steps of the wrong type", { ...base, num_inference_steps: [4] }, "invalid_type"],
      ["an image for a text-only model", {
        ...base,
        source_image_url: "https://example.com/a.png",
        strength: 0.5,
      }, "unsupported_img2img"],
    ];
    for (const [what, body, code] of cases) {
      const res = await startGeneration(stack, user, body);
      assert(res.error, `${what}: refused`);
      assertEquals(
        [res.status, res.body?.success, res.body?.code],
        [400, false, code],
        `${what}: ${JSON.stringify(res.body)}`,
      );
      assert(typeof res.body?.error === "string" && res.body.error.length > 0, `${what}: a readable error`);
    }
    assertEquals(
      [await stack.count("image_generations"), await stack.count("job_queue")],
      [0, 0],
      "nothing written",
    );
    assertEquals((await sim.admin("GET", "stats")).creates_total, 0);
  });
});

Deno.test("conformance (errors): a field sent as null means absent", async () => {
  await withStack(["--time-scale", "0"], { WORKER_KICK: "false" }, async (stack) => {
    const user = await stack.newUser();
    const schnell = await modelRow(as(stack, user), "black-forest-labs/flux-schnell");
    const res = await startGeneration(stack, user, {
      prompt: "a lighthouse at dusk",
      model_id: schnell.id,
      model_version: null,
      width: null,
      height: null,
      num_inference_steps: null,
      guidance_scale: null,
      seed: null,
      negative_prompt: null,
      source_image_url: null,
      strength: null,
      style: null,
    });
    assertEquals([res.status, res.data?.success], [200, true], JSON.stringify(res.body));
  });
});

Deno.test("conformance (errors): CORS preflight answers 200 with the headers supabase-js sends", async () => {
  await withStack(["--time-scale", "0"], { WORKER_KICK: "false" }, async (stack) => {
    for (const fn of ["start-generation", "generate-image"]) {
      const res = await stack.call(fn, {
        method: "OPTIONS",
        headers: {
          origin: "https://picture.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, x-client-info, apikey, content-type",
        },
      });
      await res.body?.cancel();
      assertEquals(res.status, 200, `${fn}: OPTIONS answers 200`);
      assertEquals(res.headers.get("access-control-allow-origin"), "*");
      const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
      for (const header of ["authorization", "x-client-info", "apikey", "content-type"]) {
        assert(allowed.includes(header), `${fn} allows ${header}: ${allowed}`);
      }
    }
  });
});
