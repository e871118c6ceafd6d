// Conformance: what the apps' Realtime subscriptions and polls see (contract §3; queue.ts
// subscribeToGeneration and pollGenerationUntilComplete, imageGenerationAsync.ts). The apps map
// pending/queued → processing → downloading → completed to progress 10/50/80/100 and, on `completed`, read
// the images row at once. Realtime streams committed changes of the tables in publication
// `supabase_realtime`; the local stack has no Realtime server, so every change is recorded in the test's
// database at commit (recordCommits: a deferred trigger, per event, in order, with whether the images row
// is committed too). The states checked are the committed ones (each transaction's last): a status set and
// replaced within one transaction is never seen by a poll and does not count.
// Assumption: `processing` and `downloading` are each committed on their own (the contract's status flow);
// `queued` follows a client-inserted `pending` row only if the backend queues it.
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import {
  as,
  generateImage,
  insertOwnGeneration,
  legacyBody,
  modelRow,
  pollUntilFinished,
  recordCommits,
  type Row,
  startAccepted,
  statusSequence,
  withStack,
} from "./_conformance.ts";

Deno.test("conformance (realtime): both tables are in the supabase_realtime publication", async () => {
  await withStack(["--time-scale", "0"], { WORKER_KICK: "false" }, async (stack) => {
    const rows = await stack.sql`
      select tablename from pg_publication_tables
       where pubname = 'supabase_realtime' and schemaname = 'public' order by tablename`;
    const tables = rows.map((r) => r.tablename);
    for (const table of ["image_generations", "images"]) assert(tables.includes(table), `${table} published`);
  });
});

/** The committed events of a finished generation: completed only ever with its image. */
function assertCompletedWithImage(events: Row[]) {
  const completed = events.filter((e) => e.status === "completed");
  assert(completed.length > 0, "a completed event");
  for (const event of completed) {
    assert(event.has_image, "completed is committed together with (or after) its images row");
    const row = event.row as Row;
    assert(
      row.completed_at && row.generation_time_seconds !== null,
      "the completed event carries its timings",
    );
  }
}

Deno.test("conformance (realtime): start-generation commits queued → processing → downloading → completed", async () => {
  await withStack(["--latency", "*=600:0"], {}, async (stack) => {
    const events = await recordCommits(stack.sql);
    const user = await stack.newUser();
    const api = as(stack, user);
    const model = await modelRow(api, "black-forest-labs/flux-schnell");
    const id = await startAccepted(stack, user, { prompt: "a fox in the snow", model_id: model.id });
    assertEquals((await pollUntilFinished(api, id)).row.status, "completed");
    const log = await events(id);
    assertMatch(statusSequence(log).join(","), /^(pending,)?queued,processing,downloading,completed$/);
    assertCompletedWithImage(log);
  });
});

Deno.test("conformance (realtime): the mobile row commits pending → processing → downloading → completed", async () => {
  await withStack(["--latency", "*=600:0"], {}, async (stack) => {
    const events = await recordCommits(stack.sql);
    const user = await stack.newUser();
    const model = await modelRow(as(stack, user), "black-forest-labs/flux-schnell");
    const row = await insertOwnGeneration(stack, user, model);
    const res = await generateImage(stack, user, legacyBody(row, model));
    assertEquals(res.error, null, JSON.stringify(res.body));
    const log = await events(String(row.id));
    assertEquals(log[0].op, "INSERT", "the app's own insert");
    assertMatch(statusSequence(log).join(","), /^pending,(queued,)?processing,downloading,completed$/);
    assertCompletedWithImage(log);
  });
});
