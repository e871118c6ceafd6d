// Cost safety over HTTP (docs/ARCHITECTURE.md, "Cost safety"): usage limits under concurrency, guests'
// own limits, the project's cap, refunds, and job ids past int4 through the whole worker path.
import { assert, assertEquals } from "./_assert.ts";
import { Postgrest } from "./_postgrest.ts";
import { type Stack, type TestUser, withSimulatorStack } from "./_stack.ts";
import { spawnStack } from "./_stack.ts";

type Row = Record<string, unknown>;

const SCHNELL = "black-forest-labs/flux-schnell"; // 3 units an image
const DEV = "black-forest-labs/flux-dev"; // 25 units an image

async function withStack(env: Record<string, string>, fn: (stack: Stack) => Promise<void>) {
  const stack = await spawnStack(env);
  try {
    await fn(stack);
  } finally {
    await stack.close();
  }
}

function start(stack: Stack, user: TestUser, body: Row = {}) {
  return stack.startGeneration(user.token, { prompt: "a lighthouse", model_id: SCHNELL, ...body });
}

async function setLimits(stack: Stack, limits: Row) {
  const columns = Object.keys(limits);
  await stack.sql`update public.usage_settings set ${stack.sql(limits as Record<string, never>, columns)}`;
}

async function charged(stack: Stack, user: TestUser): Promise<number> {
  const [{ units }] = await stack.sql`
    select coalesce(sum(units), 0)::int as units from public.usage_charges
     where user_id = ${user.id} and refunded_at is null`;
  return units;
}

Deno.test("usage limits: 50 parallel starts by one user never pass the hourly limit", async () => {
  await withStack({ MAX_PENDING_GENERATIONS: "1000" }, async (stack) => {
    await setLimits(stack, { user_units_per_hour: 100 });
    const user = await stack.newUser();
    const answers = await Promise.all(Array.from({ length: 50 }, () => start(stack, user)));
    const created = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    assertEquals([created.length, refused.length], [33, 17], "33 × 3 units fit in 100");
    for (const r of refused) {
      assertEquals(r.body.code, "usage_limit_exceeded", JSON.stringify(r.body));
      assertEquals(r.body.success, false);
      const wait = Number(r.headers.get("retry-after"));
      assert(wait > 3500 && wait <= 3600, `Retry-After ${r.headers.get("retry-after")}`);
      assertEquals(r.body.retry_after, wait, "the body says it too");
    }
    assertEquals(await charged(stack, user), 99);
    assertEquals(await stack.count("image_generations"), 33, "refusals wrote no generation");
    assertEquals(await stack.count("job_queue"), 33, "nor a job");
  });
});

Deno.test("usage limits: guests have their own, smaller limits", async () => {
  await withStack({}, async (stack) => {
    await setLimits(stack, { anonymous_units_per_hour: 10, anonymous_units_per_day: 20 });
    const guest = await stack.newGuest();
    const tooDear = await start(stack, guest, { model_id: DEV });
    assertEquals(tooDear.status, 429, JSON.stringify(tooDear.body));
    assertEquals(tooDear.body.code, "usage_request_too_large");
    assertEquals(tooDear.headers.get("retry-after"), null, "waiting would not help");

    assertEquals((await start(stack, guest, { num_outputs: 2 })).status, 200, "two images of the fast model");
    const busy = await start(stack, guest);
    assertEquals(
      [busy.status, busy.body.code],
      [429, "too_many_pending"],
      "a guest may have 2 images in progress",
    );
    assert(Number(busy.headers.get("retry-after")) > 0);

    // The same person signed in: the users' limits.
    const user = await stack.newUser();
    assertEquals((await start(stack, user, { model_id: DEV })).status, 200);
  });
});

Deno.test("usage limits: the project's hourly cap holds across users", async () => {
  await withStack({}, async (stack) => {
    await setLimits(stack, { project_units_per_hour: 10 });
    const [a, b] = [await stack.newUser(), await stack.newUser()];
    assertEquals((await start(stack, a, { num_outputs: 2 })).status, 200, "6 units");
    const full = await start(stack, b, { num_outputs: 2 });
    assertEquals([full.status, full.body.code], [429, "project_capacity_reached"], JSON.stringify(full.body));
    assert(Number(full.headers.get("retry-after")) > 0);
    assertEquals((await start(stack, b)).status, 200, "3 more units still fit");
  });
});

Deno.test("usage limits: a generation cancelled before its prediction gives its units back", async () => {
  await withStack({}, async (stack) => {
    await setLimits(stack, { user_units_per_hour: 3 });
    const user = await stack.newUser();
    const first = await start(stack, user);
    assertEquals(first.status, 200);
    assertEquals((await start(stack, user)).status, 429, "the hour is full");
    // The apps' cancel: the user's own UPDATE through PostgREST.
    const cancel = await Postgrest.user(stack.sql, user).from("image_generations")
      .update({ status: "failed", error_message: "Cancelled by user" }).eq("id", first.body.generation_id);
    assertEquals(cancel.error, null);
    assertEquals(await charged(stack, user), 0, "refunded");
    assertEquals((await start(stack, user)).status, 200, "and the room is there again");
  });
});

Deno.test("job ids past 2^31: a generation runs to completion", async () => {
  await withSimulatorStack(["--time-scale", "0.02"], { WORKER_KICK: "true" }, async (stack) => {
    await stack.sql`alter table public.job_queue alter column id restart with 3000000000`;
    const user = await stack.newUser();
    const res = await start(stack, user);
    assertEquals(res.status, 200, JSON.stringify(res.body));
    assertEquals(res.body.job_id, "3000000000", "the job id, as a string");
    const until = Date.now() + 30_000;
    let row: Row = {};
    while (Date.now() < until) {
      row = await (await stack.call(`start-generation?id=${res.body.generation_id}`, { token: user.token }))
        .json();
      if (row.status === "completed" || row.status === "failed") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assertEquals(row.status, "completed", String(row.error_message));
    const jobs = await stack.sql`select id::text, status from public.job_queue order by id`;
    assertEquals(
      jobs.map((j) => j.status),
      ["completed", "completed"],
      "generate and download jobs completed",
    );
    assert(jobs.every((j) => BigInt(j.id) >= 3000000000n));
  });
});
