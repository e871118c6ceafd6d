// Conformance: the mobile app's shipping flow (contract §1 and §6; apps/mobile/services/imageGeneration.ts
// and components/remix/RemixBottomSheet.tsx at Memo-2023/mana-monorepo@ff80aeec1). The app INSERTs its own
// pending row with the user's token, invokes the legacy generate-image with that row's id, the model's
// Replicate id and version, and reads `data.image.id` and `data.generation_time`; on an invoke error it
// UPDATEs its row to failed.
// Assumptions beyond /work/ISSUE12-DESIGN.md:
// - Another user's generation_id is refused with 403 or 404 (the contract says "refused", not how).
// - The remix source is an https URL of an earlier image (what the app passes: the image's public_url).
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import {
  activeModels,
  as,
  assertServed,
  creates,
  generateImage,
  imageOf,
  insertOwnGeneration,
  legacyBody,
  modelRow,
  predictions,
  storageObjects,
  UUID,
  withStack,
} from "./_conformance.ts";
import { Postgrest } from "./_postgrest.ts";
import { TINY_PNG } from "./_stack.ts";

Deno.test("conformance (mobile): own pending row, generate-image, one image and one Storage object", async () => {
  await withStack(["--time-scale", "0.02"], {}, async (stack, sim) => {
    const user = await stack.newUser();
    const api = as(stack, user);
    const model = await modelRow(api, "black-forest-labs/flux-schnell");
    const row = await insertOwnGeneration(stack, user, model);
    const res = await generateImage(stack, user, legacyBody(row, model));
    assertEquals(res.error, null, `generate-image: ${res.status} ${JSON.stringify(res.body)}`);
    const data = res.data!;
    assertEquals(data.success, true);
    const answered = data.image as Record<string, unknown>;
    assertMatch(String(answered.id), UUID, "data.image.id");
    assert(typeof data.generation_time === "number" && data.generation_time >= 0, "data.generation_time");
    assertEquals(answered.generation_id, row.id, "the image is the app's row's");

    const image = await imageOf(api, String(row.id));
    assertEquals(image.id, answered.id, "data.image is the images row");
    await assertServed(stack, image, user.id, String(row.id));
    assertEquals(await storageObjects(stack.sql, `${user.id}/`), [`${user.id}/${row.id}.${image.format}`]);

    const own = await api.from("image_generations").select("*");
    assertEquals(own.data?.map((g) => g.id), [row.id], "generate-image ran the app's row, made no other");
    const done = own.data![0];
    assertEquals(done.status, "completed", String(done.error_message));
    assert(typeof done.generation_time_seconds === "number" && done.completed_at, "timings on completion");
    assertEquals(await creates(sim), 1, "one prediction");
  });
});

Deno.test("conformance (mobile): remix sends source_image_url and strength to an img2img model", async () => {
  await withStack(["--time-scale", "0.02"], {}, async (stack, sim) => {
    const user = await stack.newUser();
    const api = as(stack, user);
    // RemixBottomSheet: img2img models first; 1024×1024; the model's default steps and guidance.
    const model = (await activeModels(api)).find((m) => m.supports_img2img === true);
    assert(model, "an active model supports img2img");
    // The source is an earlier image of the user's gallery: its public URL in the project's Storage.
    const source = await stack.storeObject(`${user.id}/earlier.png`, TINY_PNG, "image/png");
    const row = await insertOwnGeneration(stack, user, model, { width: 1024, height: 1024 }, {
      negative_prompt: undefined,
      style: undefined,
      source_image_url: source,
      generation_strength: 0.7,
    });
    const res = await generateImage(
      stack,
      user,
      legacyBody(row, model, { negative_prompt: undefined, source_image_url: source, strength: 0.7 }),
    );
    assertEquals(res.error, null, `${model.replicate_id}: ${res.status} ${JSON.stringify(res.body)}`);
    assertMatch(String((res.data!.image as Record<string, unknown>).id), UUID);
    await assertServed(stack, await imageOf(api, String(row.id)), user.id, String(row.id));
    const [created] = await predictions(sim);
    assert(JSON.stringify(created.input).includes(source), "the source image went to the model");
    const done = await api.from("image_generations").select("*").eq("id", row.id).single();
    assertEquals([done.data?.status, done.data?.source_image_url], ["completed", source]);
  });
});

Deno.test("conformance (mobile): another user's generation_id is refused and changes nothing", async () => {
  await withStack(["--time-scale", "0"], {}, async (stack, sim) => {
    const [owner, intruder] = [await stack.newUser(), await stack.newUser()];
    const model = await modelRow(as(stack, owner), "black-forest-labs/flux-schnell");
    const row = await insertOwnGeneration(stack, owner, model);
    const service = Postgrest.service(stack.sql);
    const before = await service.from("image_generations").select("*").eq("id", row.id).single();
    const res = await generateImage(stack, intruder, legacyBody(row, model));
    assert(res.error, "refused");
    assert([403, 404].includes(res.status), `status ${res.status}`);
    assertEquals(res.body?.success, false);
    assert(
      typeof res.body?.error === "string" && typeof res.body?.code === "string",
      JSON.stringify(res.body),
    );
    const after = await service.from("image_generations").select("*").eq("id", row.id).single();
    assertEquals(after.data, before.data, "the owner's row is untouched");
    assertEquals((await service.from("images").select("id")).data, []);
    assertEquals((await as(stack, intruder).from("image_generations").select("id")).data, []);
    assertEquals(await storageObjects(stack.sql, ""), []);
    assertEquals(await creates(sim), 0, "nothing ran");
  });
});

Deno.test("conformance (mobile): on an invoke error the app marks its own row failed", async () => {
  await withStack(["--time-scale", "0"], {}, async (stack, sim) => {
    const user = await stack.newUser();
    const api = as(stack, user);
    const model = await modelRow(api, "black-forest-labs/flux-schnell");
    const row = await insertOwnGeneration(stack, user, model);
    // A model the backend does not serve: the invoke fails, as any edge error would.
    const res = await generateImage(stack, user, legacyBody(row, model, { model_id: "acme/retired-model" }));
    assert(res.error, "the invoke fails");
    assertEquals([res.status, res.body?.success, res.body?.code], [400, false, "unknown_model"]);
    const update = await api.from("image_generations")
      .update({ status: "failed", error_message: res.error.message }).eq("id", row.id);
    assertEquals(update.error, null, "RLS lets the owner fail their row");
    const after = await api.from("image_generations").select("status, error_message").eq("id", row.id)
      .single();
    assertEquals(after.data?.status, "failed");
    assert(typeof after.data?.error_message === "string");
    assertEquals(await creates(sim), 0);
  });
});

Deno.test("conformance (mobile): generate-image without generation_id answers url, format, generation_time", async () => {
  await withStack(["--time-scale", "0.02"], {}, async (stack) => {
    const user = await stack.newUser();
    const model = await modelRow(as(stack, user), "black-forest-labs/flux-schnell");
    const res = await generateImage(stack, user, {
      prompt: "a lighthouse at dusk",
      model_id: model.replicate_id,
      model_version: model.version,
      width: 1024,
      height: 1024,
    });
    assertEquals(res.error, null, `${res.status} ${JSON.stringify(res.body)}`);
    assertEquals(res.data!.success, true);
    assert(typeof res.data!.format === "string" && typeof res.data!.generation_time === "number");
    const file = await fetch(String(res.data!.url));
    assertEquals(file.status, 200, "url serves the image");
    await file.body?.cancel();
  });
});
