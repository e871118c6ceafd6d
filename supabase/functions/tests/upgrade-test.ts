// Upgrade in place (docs/CLIENT_CONTRACT.md §9, DEPLOYMENT_GUIDE.md "Upgrading from the original
// functions"): `supabase db push` onto a database holding the original Picture system keeps every row,
// answers the original clients' queries as before, carries the unfinished work over and finishes it
// without paying for a prediction twice, and a second push changes nothing.
// The original database is the fixture in supabase/tests/fixtures/original/ (schema, data, the clients'
// queries), loaded into an empty database of the test cluster.
import { assert, assertEquals } from "./_assert.ts";
import { Simulator, type Stack, TestDatabase, withSimulatorStack } from "./_stack.ts";
import { cliUrl, fixture, originalDatabase, run } from "./_original.ts";
import { LOCAL_SERVICE_ROLE_KEY } from "../../../scripts/local/keys.ts";

const root = new URL("../../../", import.meta.url).pathname;

/** `supabase db push` as the deployment guide runs it. */
const push = (db: TestDatabase, opts = {}) =>
  run("supabase", ["db", "push", "--db-url", cliUrl(db), "--yes"], opts);

/** The foreign keys of the public schema, by name and definition (a renamed table keeps its own). */
async function foreignKeys(db: TestDatabase): Promise<string[]> {
  const rows = await db.sql<{ fk: string }[]>`
    select conname || ': ' || pg_get_constraintdef(oid) as fk from pg_constraint
     where contype = 'f' and connamespace = 'public'::regnamespace order by 1`;
  return rows.map((r) => r.fk);
}

/** Every table's primary keys, to prove no row went missing. */
async function rowIds(db: TestDatabase): Promise<Record<string, string[]>> {
  const tables = await db.sql<{ table_name: string; key: string }[]>`
    select c.relname as table_name, a.attname as key
      from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attnum = i.indkey[0]
     where i.indisprimary and n.nspname = 'public' and array_length(i.indkey, 1) = 1
     order by 1`;
  const ids: Record<string, string[]> = {};
  for (const { table_name, key } of tables) {
    const rows = await db.sql.unsafe(`select ${key}::text as id from public.${table_name} order by 1`);
    ids[table_name] = rows.map((r) => r.id as string);
  }
  return ids;
}

/**
 * The original clients' and operators' queries (fixtures/original/client_queries.sql), each block run by
 * psql as the role it names; resolves to each block's output by name, or throws when one fails.
 */
async function clientQueries(db: TestDatabase): Promise<Record<string, string>> {
  const text = await Deno.readTextFile(fixture("client_queries.sql"));
  const [preamble, ...blocks] = text.split(/^-- name: /m);
  const settings = preamble.split("\n").filter((l) => l.startsWith("\\set ")).join("\n");
  const results: Record<string, string> = {};
  for (const block of blocks) {
    const name = block.slice(0, block.indexOf("\n")).trim();
    const file = await Deno.makeTempFile({ suffix: ".sql" });
    try {
      await Deno.writeTextFile(file, `${settings}\n-- ${block}`);
      results[name] = (await run("psql", ["-X", "-A", "-v", "ON_ERROR_STOP=1", "-d", db.url, "-f", file]))
        .out;
    } finally {
      await Deno.remove(file);
    }
  }
  return results;
}

/** Queries whose answers an upgrade changes by design: the model picker follows the catalog, and the
 * operators' queue queries see the new queue (they must still run). */
const changesByDesign = (name: string) => /^(model|operator_|worker_)/.test(name);

Deno.test("upgrade: db push onto the original Picture database keeps every row and finishes its work", async () => {
  const db = await originalDatabase();
  // `stale`: past GENERATION_TIMEOUT_SECS (600 s) from created_at, so never sent to Replicate unless a
  // prediction is already recorded (ARCHITECTURE.md "Cost safety", Deadlines).
  const inFlight = await db.sql<{ id: string; replicate_prediction_id: string | null; stale: boolean }[]>`
    select id, replicate_prediction_id, created_at < now() - interval '600 seconds' as stale
      from public.image_generations
     where status in ('queued', 'processing', 'downloading') order by id`;
  assert(inFlight.length >= 3, "the fixture leaves work in flight");

  await withSimulatorStack(["--time-scale", "0.02"], { WORKER_KICK: "false" }, async (stack, sim) => {
    // The generation whose prediction the original had recorded: that prediction exists at Replicate.
    const recorded = inFlight.find((g) => g.replicate_prediction_id);
    assert(recorded, "the fixture records a prediction id");
    const created = await fetch(`${sim.apiBase}/models/black-forest-labs/flux-schnell/predictions`, {
      method: "POST",
      headers: { authorization: `Bearer ${Simulator.TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ input: { prompt: "recorded before the upgrade" } }),
    }).then((r) => r.json());
    await db.sql`update public.image_generations set replicate_prediction_id = ${created.id}
                  where id = ${recorded.id}`;
    const before = { ids: await rowIds(db), queries: await clientQueries(db), fks: await foreignKeys(db) };

    // The original's migration history is not ours: push refuses until it is marked reverted, as the
    // deployment guide says.
    const refused = await push(db, { ok: false });
    const remote = await db.sql<{ version: string }[]>`
      select version from supabase_migrations.schema_migrations where version < '2026' order by 1`;
    if (remote.length > 0) {
      assert(refused.code !== 0, "push refuses a history it does not know");
      await run("supabase", [
        "migration",
        "repair",
        "--status",
        "reverted",
        ...remote.map((r) => r.version),
        "--db-url",
        cliUrl(db),
      ]);
      await push(db);
    }

    // Every row is still there, with its id; the original jobs kept beside the new queue.
    const after = await rowIds(db);
    for (const [table, ids] of Object.entries(before.ids)) {
      const now = new Set(table === "job_queue" ? after.job_queue_v1 : after[table]);
      assertEquals(ids.filter((id) => !now.has(id)), [], `every row of ${table} survives`);
      // Only the catalog adds rows (models it serves that the original did not have).
      if (table !== "models") assertEquals(now.size, ids.length, `no row of ${table} is added`);
    }
    // The original's foreign keys are all still there (e.g. image_generations.user_id → profiles.id).
    const fks = new Set(await foreignKeys(db));
    assertEquals(before.fks.filter((fk) => !fks.has(fk)), [], "every original foreign key is kept");
    assert(before.fks.length > 5, "the fixture has its foreign keys");

    // The original clients' queries answer what they answered before (the history is the same); the
    // operators' queries still run.
    const queries = await clientQueries(db);
    for (const [name, out] of Object.entries(before.queries)) {
      if (!changesByDesign(name)) assertEquals(queries[name], out, `client query ${name}`);
    }

    // The original start-generation, still deployed for a moment after the push, writes its row and calls
    // enqueue_job as it did: the job is this project's, and runs.
    const alice = "27c845dd-9a44-428c-9c49-174bff0e23cf";
    const [late] = await db
      .sql`insert into public.image_generations (user_id, prompt, model, width, height, status)
      values (${alice}, 'started by the original function', 'flux-schnell', 1024, 1024, 'pending') returning id`;
    const payload = {
      generation_id: late.id,
      user_id: alice,
      prompt: "started by the original function",
      model_id: "black-forest-labs/flux-schnell",
      width: 1024,
      height: 1024,
      num_inference_steps: 4,
    };
    await db.sql`select public.enqueue_job(p_job_type => 'generate-image', p_priority => 0,
                                           p_payload => ${JSON.stringify(payload)}::text::jsonb)`;
    inFlight.push({ id: late.id, replicate_prediction_id: null, stale: false });

    // The unfinished work runs to an end: completed, or failed with a reason. Nothing is paid twice.
    await drain(stack, inFlight.map((g) => g.id));
    const [lateRow] = await db.sql`select status from public.image_generations where id = ${late.id}`;
    assertEquals(lateRow.status, "completed", "the original start-generation's late job ran");
    const ended = await db.sql<{ id: string; status: string; error_message: string | null }[]>`
      select id, status, error_message from public.image_generations where id = any(${
      inFlight.map((g) => g.id)
    })`;
    for (const g of ended) {
      assert(
        g.status === "completed" || (g.status === "failed" && g.error_message),
        `${g.id} ended ${g.status}`,
      );
    }
    const [resumed] = await db.sql`select status, replicate_prediction_id from public.image_generations
                                    where id = ${recorded.id}`;
    assertEquals(
      resumed,
      { status: "completed", replicate_prediction_id: created.id },
      "the recorded prediction was resumed",
    );
    // An input image outside this project's Storage is refused before any create (ARCHITECTURE.md "Cost
    // safety"). The fixture's remix names the original project's Storage; in a real upgrade that is this
    // project, but the test stack is another origin, so here it is refused, with its reason.
    const foreignImage = await db.sql<{ id: string; error_message: string }[]>`
      select id, error_message from public.image_generations
       where id = any(${inFlight.map((g) => g.id)}) and params ->> 'image_url' is not null
         and params ->> 'image_url' not like ${stack.url + "/storage/v1/object/%"}`;
    assertEquals(foreignImage.length, 1, "the fixture's remix of a user upload");
    assertEquals(
      foreignImage[0].error_message,
      "The input image cannot be used: it must be a PNG, JPEG, WebP or GIF of at most 10 MB, stored in " +
        "this app or on an allowed site.",
    );
    const [{ detail }] = await db.sql`
      select error_details ->> 'detail' as detail from public.job_queue
       where payload ->> 'generation_id' = ${foreignImage[0].id} and error_details is not null`;
    assertEquals(
      detail,
      "The input image's address is neither in this project's Storage nor on a host allowed for input " +
        "images (oldpictureprojectref.supabase.co is not).",
    );
    const refusedImage = new Set(foreignImage.map((g) => g.id));
    // Work left hours ago without a prediction is past its deadline: it fails without a create.
    const stale = inFlight.filter((g) => g.stale && !g.replicate_prediction_id && !refusedImage.has(g.id));
    assert(stale.length >= 1, "the fixture has work stuck for hours");
    for (const g of stale) {
      const row = ended.find((e) => e.id === g.id);
      assertEquals(
        [row?.status, row?.error_message],
        ["failed", "The generation waited too long to start; please try again."],
      );
    }
    const stats = await sim.admin("GET", "stats");
    assertEquals(stats.duplicate_creates, 0, "no duplicate prediction");
    assertEquals(
      stats.creates_total,
      1 + inFlight.filter((g) => !g.replicate_prediction_id && !refusedImage.has(g.id) && !g.stale).length,
      "one create for each recent generation that had none (and the test's own)",
    );

    // A second push changes nothing.
    // pg_dump brackets its output with a random \restrict key: not part of the schema.
    const schema = () =>
      run("pg_dump", ["--schema-only", "--no-owner", "-d", db.url])
        .then((r) => r.out.replace(/^\\(un)?restrict .*$/gm, ""));
    const dumped = await schema();
    const again = await push(db);
    assert(/up to date/i.test(again.out), again.out);
    assertEquals(await schema(), dumped, "a second push changes no object");

    // Rollback: the original queue and functions back in front of the same data.
    const settled = await clientQueries(db);
    await run("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-d", db.url, "-f", ROLLBACK]);
    // The clients read the same data as just before the rollback.
    const rolledBack = await clientQueries(db);
    for (const [name, out] of Object.entries(settled)) {
      if (!changesByDesign(name)) {
        assertEquals(rolledBack[name], out, `after the rollback, client query ${name}`);
      }
    }
    const [{ id }] = await db.sql`select public.enqueue_job('generate-image', '{}'::jsonb, 0) as id`;
    assert(/^[0-9a-f-]{36}$/.test(String(id)), "the original enqueue_job answers a uuid again");
    const [claimed] = await db.sql`select * from public.claim_next_job(array['generate-image'])`;
    assert(claimed, "the original claim_next_job claims");
    await db.sql`select public.complete_job(${claimed.id}::uuid, null, null)`;
    assertEquals(
      (await db.sql`select count(*)::int as n from public.job_queue_v1`.catch(() => [{ n: -1 }]))[0].n,
      -1,
      "job_queue_v1 is the original job_queue again",
    );
  }, db);
});

const ROLLBACK = `${root}supabase/rollback/to_original_queue.sql`;

/** Runs process-jobs as pg_cron would until the given generations have ended (or 60 s pass). */
async function drain(stack: Stack, ids: string[]) {
  const until = Date.now() + 60_000;
  for (;;) {
    const [{ open }] = await stack.sql`
      select count(*)::int as open from public.image_generations
       where id = any(${ids}) and status not in ('completed', 'failed')`;
    if (open === 0) return;
    if (Date.now() > until) throw new Error(`${open} generation(s) still unfinished`);
    const res = await stack.call("process-jobs", { method: "POST", token: LOCAL_SERVICE_ROLE_KEY });
    await res.body?.cancel();
    await new Promise((r) => setTimeout(r, 200));
  }
}
