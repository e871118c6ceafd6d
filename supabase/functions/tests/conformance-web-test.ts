// Conformance: the web app's flow (contract §1; apps/web/src/lib/api/generate-async.ts, images.ts and
// packages/shared/src/queue.ts at Memo-2023/mana-monorepo@ff80aeec1), step by step, checking every field the
// app reads. start-generation gets `model_id` = a models.id uuid read from the models table; the app follows
// its row with select('*') until `completed`, then reads images `.eq('generation_id', id).single()` and
// shows `public_url`; the gallery and history read, favourite, archive, publish and delete.
// Assumptions beyond /work/ISSUE12-DESIGN.md:
// - `model` on a row started through start-generation is the models row's `name` (design: "models.name
//   style display name").
// - Deleting a Storage object is checked as Storage runs it (a DELETE on storage.objects with the user's
//   role and claims): the local Storage stand-in lets only the service role delete.
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import {
  as,
  assertServed,
  BUCKET,
  imageOf,
  modelRow,
  pollUntilFinished,
  startAccepted,
  startGeneration,
  storageObjects,
  UUID,
  withStack,
} from "./_conformance.ts";

Deno.test("conformance (web): start-generation with a models.id, followed to the stored image", async () => {
  await withStack(["--time-scale", "0.02"], {}, async (stack) => {
    const user = await stack.newUser();
    const api = as(stack, user);
    const model = await modelRow(api, "black-forest-labs/flux-schnell");
    assertMatch(String(model.id), UUID, "models.id is a uuid");
    const byId = await api.from("models").select("*").eq("id", model.id).single();
    assertEquals([byId.error, byId.data?.replicate_id], [null, model.replicate_id], "getModelById");

    const started = await startGeneration(stack, user, {
      prompt: "a lighthouse at dusk",
      model_id: model.id,
      width: 1024,
      height: 1024,
    });
    assertEquals(started.error, null, `start-generation: ${started.status} ${JSON.stringify(started.body)}`);
    const answer = started.data!;
    assertEquals(answer.success, true);
    assertMatch(String(answer.generation_id), UUID);
    assert(typeof answer.job_id === "string" && answer.job_id.length > 0, "job_id is a string");
    assertEquals(answer.status, "queued");
    assert(typeof answer.message === "string" && answer.message.length > 0, "message is a sentence");
    assert(Array.isArray(answer.adjusted), "adjusted lists what was changed (empty here)");
    const id = String(answer.generation_id);

    const first = await api.from("image_generations").select("*").eq("id", id).single();
    assertEquals(first.error, null, "the owner reads the row at once");
    const row = first.data!;
    assertEquals(
      [row.user_id, row.prompt, row.model_id, row.model, row.width, row.height],
      [user.id, "a lighthouse at dusk", model.id, model.name, 1024, 1024],
      "the row carries the request, model_id as the models.id uuid",
    );

    const { row: done, seen } = await pollUntilFinished(api, id);
    assertEquals(done.status, "completed", String(done.error_message));
    for (const status of seen) {
      assert(["queued", "processing", "downloading", "completed"].includes(status), `status ${status}`);
    }
    assertEquals(done.error_message, null);
    assert(done.completed_at, "completed_at is set");
    assert(typeof done.generation_time_seconds === "number", "generation_time_seconds is set on completion");
    assert(typeof done.replicate_prediction_id === "string", "replicate_prediction_id is recorded");

    const image = await imageOf(api, id);
    await assertServed(stack, image, user.id, id);
    assertEquals(
      [image.user_id, image.generation_id, image.prompt, image.archived_at],
      [user.id, id, "a lighthouse at dusk", null],
    );
    assert(image.is_public !== true && image.is_favorite !== true, "a new image is private, not a favourite");
    const hook = await api.from("images").select("public_url").eq("generation_id", id).single();
    assertEquals(hook.data, { public_url: image.public_url }, "the mobile hook's select('public_url')");
    assertEquals(await storageObjects(stack.sql, `${user.id}/`), [image.storage_path]);

    // History (useGenerationHistory): select('*, images(*)') needs the images.generation_id foreign key.
    const history = await api.from("image_generations").select("*, images(*)")
      .order("created_at", { ascending: false }).limit(20);
    assertEquals(history.error, null, "history embeds images through images.generation_id");
    assertEquals(history.data!.map((g) => g.id), [id]);
    assertEquals((history.data![0].images as { id: unknown }[]).map((i) => i.id), [image.id]);
  });
});

Deno.test("conformance (web): galleries, favourites, archive, publish and delete", async () => {
  await withStack(["--time-scale", "0.02"], {}, async (stack) => {
    const [owner, other] = [await stack.newUser(), await stack.newUser()];
    const [mine, theirs] = [as(stack, owner), as(stack, other)];
    const model = await modelRow(mine, "black-forest-labs/flux-schnell");
    const id = await startAccepted(stack, owner, { prompt: "a red bicycle", model_id: model.id });
    assertEquals((await pollUntilFinished(mine, id)).row.status, "completed");
    const image = await imageOf(mine, id);

    // images.ts getImages: own, not archived, newest first; the columns the galleries show.
    const gallery = await mine.from("images").select("*").eq("user_id", owner.id).is("archived_at", null)
      .order("created_at", { ascending: false }).range(0, 19);
    assertEquals(gallery.data?.map((i) => i.id), [image.id]);
    for (const column of ["id", "public_url", "prompt", "created_at", "is_favorite", "model", "blurhash"]) {
      assert(column in gallery.data![0], `images.${column}`);
    }
    assertEquals(
      (await theirs.from("image_generations").select("*").eq("id", id)).data,
      [],
      "rows are private",
    );
    assertEquals((await theirs.from("images").select("*").eq("id", image.id)).data, [], "images are private");

    // toggleFavorite, archiveImage, publishImage: update(...).eq('id').select().single().
    for (
      const patch of [{ is_favorite: true }, { archived_at: new Date().toISOString() }, { is_public: true }]
    ) {
      const res = await mine.from("images").update(patch).eq("id", image.id).select().single();
      assertEquals(res.error, null, `the owner updates ${Object.keys(patch)}`);
    }
    const archived = await mine.from("images").select("*", { count: "exact", head: true })
      .eq("user_id", owner.id).not("archived_at", "is", null);
    assertEquals(archived.count, 1, "archiveService getArchivedCount");
    const seen = await theirs.from("images").select("id, public_url").eq("id", image.id);
    assertEquals(seen.data, [{ id: image.id, public_url: image.public_url }], "public images are visible");
    const stolen = await theirs.from("images").update({ is_favorite: false }).eq("id", image.id);
    assert(stolen.error !== null || stolen.count === 0, "others cannot update it");
    const removed = await theirs.from("images").delete().eq("id", image.id);
    assert(removed.error !== null || removed.count === 0, "others cannot delete it");

    // archiveService deleteArchivedImage: the Storage object at storage_path, then the row, own token.
    const objectDelete = `delete from storage.objects where bucket_id = $1 and name = $2`;
    assertEquals((await theirs.run(objectDelete, [BUCKET, image.storage_path])).count, 0, "not their folder");
    assertEquals((await mine.run(objectDelete, [BUCKET, image.storage_path])).count, 1, "own folder");
    const deleted = await mine.from("images").delete().eq("id", image.id);
    assertEquals([deleted.error, deleted.count], [null, 1], "the owner deletes the image row");
    assertEquals((await mine.from("images").select("id").eq("id", image.id)).data, []);
  });
});

Deno.test("conformance (web): clients get no queue access", async () => {
  await withStack(["--time-scale", "0"], { WORKER_KICK: "false" }, async (stack) => {
    const api = as(stack, await stack.newUser());
    // packages/shared/src/queue.ts enqueueJob / getJob / getQueueStats, called with a user's token.
    const enqueue = await api.rpc("enqueue_job", {
      p_job_type: "generate-image",
      p_payload: { prompt: "x" },
      p_priority: 0,
      p_scheduled_at: new Date().toISOString(),
      p_max_attempts: 3,
    });
    assertEquals([enqueue.error?.code, enqueue.status], ["42501", 403], "enqueue_job is refused");
    for (const relation of ["job_queue", "queue_health", "failed_jobs_recent", "stuck_jobs"]) {
      const res = await api.from(relation).select("*");
      assertEquals(res.error?.code, "42501", `${relation} is refused`);
    }
    assertEquals(await stack.count("job_queue"), 0);
  });
});
