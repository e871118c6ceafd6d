// Conformance: the models table as the apps read it (contract §5; mobile services/models.ts, web
// lib/api/models.ts), the model ids start-generation takes (contract §2), and every preset size on every
// active model: accepted, snapped where the model cannot take it (and said so in `adjusted`), completed.
// Assumptions beyond /work/ISSUE12-DESIGN.md:
// - supports_img2img and supports_image_to_image say the same thing (the apps read one or the other).
// - An `adjusted` entry is {field, requested, applied, reason}; a row's width/height are the applied
//   values, so where no entry names width (or height) the row keeps the requested one.
// - The original aliases resolve: google-deepmind/imagen-4-fast, fofr/recraft-v3-svg, and
//   owner/name:version pins a version.
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import {
  activeModels,
  as,
  drainQueue,
  PRESETS,
  type Row,
  startGeneration,
  UUID,
  withStack,
} from "./_conformance.ts";
import { Postgrest } from "./_postgrest.ts";

const COLUMNS = [
  "id",
  "name",
  "display_name",
  "description",
  "replicate_id",
  "version",
  "default_width",
  "default_height",
  "default_steps",
  "default_guidance_scale",
  "default_strength",
  "min_width",
  "max_width",
  "min_height",
  "max_height",
  "max_steps",
  "supports_negative_prompt",
  "supports_seed",
  "supports_image_to_image",
  "supports_img2img",
  "strength_min",
  "strength_max",
  "supported_aspect_ratios",
  "is_active",
  "is_default",
  "sort_order",
  "cost_per_generation",
  "estimated_time_seconds",
  "created_at",
  "updated_at",
];

/** The original model list (contract §2), by catalog id. */
const ORIGINAL_MODELS = [
  "black-forest-labs/flux-schnell",
  "black-forest-labs/flux-dev",
  "black-forest-labs/flux-1.1-pro",
  "black-forest-labs/flux-krea-dev",
  "bytedance/sdxl-lightning-4step",
  "stability-ai/sdxl",
  "stability-ai/stable-diffusion-3.5-large",
  "ideogram-ai/ideogram-v3-turbo",
  "google/imagen-4-fast",
  "recraft-ai/recraft-v3-svg",
  "recraft-ai/recraft-v3",
  "bytedance/seedream-3",
  "bytedance/seedream-4",
  "qwen/qwen-image",
];

Deno.test("conformance (models): the picker's queries, signed out and signed in", async () => {
  await withStack(["--time-scale", "0"], { WORKER_KICK: "false" }, async (stack) => {
    const anon = Postgrest.anon(stack.sql);
    const models = await activeModels(anon);
    for (const model of models) {
      assertEquals(COLUMNS.filter((c) => !(c in model)), [], `${model.replicate_id}: the contract's columns`);
      assertMatch(String(model.id), UUID);
      assertEquals(model.supports_img2img, model.supports_image_to_image, String(model.replicate_id));
    }
    const order = models.map((m) => m.sort_order as number);
    assertEquals(order, [...order].sort((a, b) => a - b), "sort_order ascending");
    const served = models.map((m) => m.replicate_id);
    assertEquals(ORIGINAL_MODELS.filter((id) => !served.includes(id)), [], "the original models are active");

    const user = as(stack, await stack.newUser());
    const byDefault = await user.from("models").select("*").eq("is_active", true).eq("is_default", true)
      .single();
    assertEquals(byDefault.error, null, "getDefaultModel: exactly one active default");
    const byId = await user.from("models").select("*").eq("id", models[0].id).eq("is_active", true).single();
    assertEquals(byId.data?.id, models[0].id, "getModelById");
    const web = await user.from("models").select("*").eq("is_active", true).order("is_default", {
      ascending: false,
    });
    assertEquals(web.data?.[0].is_default, true, "web getActiveModels: default first");

    for (const api of [anon, user]) {
      const write = await api.from("models").update({ is_active: false }).eq("id", models[0].id);
      assertEquals(write.error?.code, "42501", `${api.role} cannot change models`);
      const insert = await api.from("models").insert({ name: "x", display_name: "x", replicate_id: "x/y" });
      assertEquals(insert.error?.code, "42501", `${api.role} cannot add models`);
    }
  });
});

Deno.test("conformance (models): model_id as a models.id, a catalog id, an alias or pinned", async () => {
  await withStack(["--time-scale", "0"], { WORKER_KICK: "false" }, async (stack) => {
    const user = await stack.newUser();
    const models = await activeModels(as(stack, user));
    const schnell = models.find((m) => m.replicate_id === "black-forest-labs/flux-schnell")!;
    const sdxl = models.find((m) => m.replicate_id === "stability-ai/sdxl");
    const ids: unknown[] = [
      schnell.id,
      "black-forest-labs/flux-schnell",
      "google-deepmind/imagen-4-fast",
      "fofr/recraft-v3-svg",
    ];
    if (sdxl?.version) ids.push(`stability-ai/sdxl:${sdxl.version}`);
    for (const model_id of ids) {
      const res = await startGeneration(stack, user, { prompt: "a lighthouse at dusk", model_id });
      assertEquals([res.status, res.data?.success], [200, true], `${model_id}: ${JSON.stringify(res.body)}`);
    }
  });
});

/** An adjusted entry is well-formed, and the row holds the applied sizes. */
function assertAdjustedMatchesRow(what: string, adjusted: unknown, requested: Row, row: Row) {
  assert(Array.isArray(adjusted), `${what}: adjusted is a list`);
  for (const entry of adjusted as Row[]) {
    assert(
      typeof entry.field === "string" && typeof entry.reason === "string",
      `${what}: ${JSON.stringify(entry)}`,
    );
    assert("requested" in entry && "applied" in entry, `${what}: ${JSON.stringify(entry)}`);
  }
  for (const field of ["width", "height"]) {
    const entry = (adjusted as Row[]).find((e) => e.field === field);
    const expected = entry ? entry.applied : requested[field];
    if (expected !== null) assertEquals(row[field], expected, `${what}: ${field} stored as applied`);
  }
}

Deno.test("conformance (models): every preset size on every active model is accepted and completes", async () => {
  const env = { WORKER_KICK: "false", MAX_PENDING_GENERATIONS: "1000", WORKER_CONCURRENCY: "12" };
  await withStack(["--time-scale", "0"], env, async (stack) => {
    // One user runs every preset of every model (~$6 at list price): more than a user's hourly usage
    // limit, which usage-limits-test.ts covers. Lifted for this user's test database only.
    await stack.sql`update public.usage_settings set user_units_per_hour = null, user_units_per_day = null`;
    const user = await stack.newUser();
    const api = as(stack, user);
    const models = await activeModels(api);
    const requests = models.flatMap((m) => PRESETS.map(([width, height]) => ({ model: m, width, height })));
    const started: { what: string; id: string; request: Row; adjusted: unknown }[] = [];
    for (let i = 0; i < requests.length; i += 12) {
      await Promise.all(
        requests.slice(i, i + 12).map(async ({ model, width, height }) => {
          const what = `${model.replicate_id} ${width}×${height}`;
          const request = { prompt: "a lighthouse at dusk", model_id: model.id, width, height };
          const res = await startGeneration(stack, user, request);
          assertEquals([res.status, res.data?.success], [200, true], `${what}: ${JSON.stringify(res.body)}`);
          started.push({ what, id: String(res.data!.generation_id), request, adjusted: res.data!.adjusted });
        }),
      );
    }
    for (const { what, id, request, adjusted } of started) {
      const { data } = await api.from("image_generations").select("*").eq("id", id).single();
      assertAdjustedMatchesRow(what, adjusted, request, data!);
    }
    await drainQueue(stack, 300_000);
    const failures: string[] = [];
    for (const { what, id } of started) {
      const { data } = await api.from("image_generations").select("status, error_message, images(id)").eq(
        "id",
        id,
      )
        .single();
      if (data?.status !== "completed" || (data.images as unknown[]).length !== 1) {
        failures.push(`${what}: ${data?.status} ${data?.error_message}`);
      }
    }
    assertEquals(failures, [], "every preset on every model completes with one image");
  });
});
