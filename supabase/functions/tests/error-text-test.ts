// Cost safety, what users see when something fails: the generation row (read as its owner reads it,
// through PostgREST as `authenticated`) holds a fixed sentence per failure class (failure.rs), and the
// detail (SQL, Storage, network, Replicate or configuration text) is on the job, in
// job_queue.error_details. Also: the lease owner of every claim is a worker id the server made, never
// the caller's x-request-id.
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import {
  as,
  recordClaims,
  type Row,
  startAccepted,
  type TestUser,
  waitFor,
  withStack,
} from "./_conformance.ts";
import type { Stack } from "./_stack.ts";
import { LOCAL_SERVICE_ROLE_KEY } from "../../../scripts/local/keys.ts";

/** Text that must never reach a user: internals of every class this file provokes. */
const LEAKS = [
  "SECRET_SQL_DETAIL",
  "Traceback",
  "predict.py",
  "Storage",
  "statusCode",
  "http",
  "127.0.0.1",
  "REPLICATE_API_TOKEN",
  "database:",
  "reset",
  "Replicate",
];

/** Every job fails on its first attempt, so a retryable failure ends the generation at once. */
async function oneAttemptPerJob(stack: Stack) {
  await stack.sql.unsafe(`
    create function public.test_one_attempt() returns trigger language plpgsql as $$
    begin new.max_attempts := 1; return new; end $$;
    create trigger test_one_attempt before insert on public.job_queue
      for each row execute function public.test_one_attempt();`);
}

/** The row as the app reads it (select('*') with the user's token, row security applied). */
async function failedRowAsUser(stack: Stack, user: TestUser, id: string): Promise<Row> {
  return await waitFor(`generation ${id} to fail`, async () => {
    const { data, error } = await as(stack, user).from("image_generations").select("*").eq("id", id).single();
    assertEquals(error, null);
    if (data!.status === "completed") throw new Error(`generation ${id} completed`);
    return data!.status === "failed" ? data! : undefined;
  });
}

async function failedJob(stack: Stack, id: string): Promise<Row> {
  const [job] = await stack.sql`select job_type, error_message, error_details from job_queue
                                 where payload->>'generation_id' = ${id} and status = 'failed'`;
  assert(job, `a failed job of generation ${id}`);
  return job;
}

/** Starts a generation, lets the kicked worker fail it, and checks both sides of the error text. */
async function assertSafeFailure(
  stack: Stack,
  expected: { sentence: string; code: string; detail: RegExp },
) {
  const user = await stack.newUser();
  const id = await startAccepted(stack, user, { prompt: "a lighthouse at dusk" });
  const row = await failedRowAsUser(stack, user, id);
  assertEquals(row.error_message, expected.sentence);
  for (const leak of LEAKS) {
    assert(!String(row.error_message).includes(leak), `${leak} reached the user: ${row.error_message}`);
  }
  // The same through start-generation's GET, which the web app may poll.
  const got = await (await stack.call(`start-generation?id=${id}`, { token: user.token })).json();
  assertEquals(got.error_message, expected.sentence);
  const job = await failedJob(stack, id);
  assertEquals(job.error_message, expected.sentence, "the job says what the user was told");
  const details = job.error_details as Row;
  assertEquals(details.code, expected.code);
  assertMatch(String(details.detail), expected.detail);
  // Users can never read the detail: the queue is not theirs.
  const { error } = await as(stack, user).from("job_queue").select("error_details");
  assertEquals(error?.code, "42501");
}

Deno.test("error text: a database error shows the user a fixed sentence; the SQL error is in error_details", async () => {
  await withStack(["--time-scale", "0"], {}, async (stack) => {
    await oneAttemptPerJob(stack);
    // The download step's first SQL call fails, as a broken statement would.
    await stack.sql.unsafe(`
      create function public.test_break_download() returns trigger language plpgsql as $$
      begin raise exception 'SECRET_SQL_DETAIL: relation "internal_audit" does not exist' using errcode = '42P01';
      end $$;
      create trigger test_break_download before update on public.image_generations
        for each row when (new.status = 'downloading') execute function public.test_break_download();`);
    await assertSafeFailure(stack, {
      sentence: "A server error interrupted this generation; please try again.",
      code: "database_error",
      detail: /SECRET_SQL_DETAIL/,
    });
  });
});

Deno.test("error text: a Storage error shows a fixed sentence; Storage's answer is in error_details", async () => {
  await withStack(["--time-scale", "0"], {}, async (stack) => {
    await oneAttemptPerJob(stack);
    await stack.sql`update storage.buckets set file_size_limit = 10 where id = 'generated-images'`;
    await assertSafeFailure(stack, {
      sentence: "Saving the image failed; please try again.",
      code: "storage_error",
      detail: /Storage refused the image \(413\)/,
    });
  });
});

Deno.test("error text: a network error to Replicate shows a fixed sentence; the reset is in error_details", async () => {
  await withStack(["--time-scale", "0"], {}, async (stack, sim) => {
    await oneAttemptPerJob(stack);
    await sim.admin("POST", "faults", { kind: "reset", on: "create" });
    await assertSafeFailure(stack, {
      sentence: "The image service is busy; please try again in a few minutes.",
      code: "service_busy",
      detail: /network error/,
    });
  });
});

Deno.test("error text: a model failure with a traceback keeps its meaning, not Replicate's text", async () => {
  await withStack(["--time-scale", "0"], {}, async (stack, sim) => {
    const traceback = 'Traceback (most recent call last):\n  File "/src/predict.py", line 42, in predict\n' +
      "RuntimeError: CUDA error: device-side assert triggered";
    await sim.admin("POST", "faults", { kind: "fail", on: "create", error: traceback });
    await assertSafeFailure(stack, {
      sentence: "The model could not make this image; please try again or change the prompt.",
      code: "model_failed",
      detail: /^The model failed: Traceback \(most recent call last\):/,
    });
  });
});

Deno.test("error text: a configuration error shows a fixed sentence; the variable is in error_details", async () => {
  await withStack(["--time-scale", "0"], { REPLICATE_API_TOKEN: "" }, async (stack, sim) => {
    await oneAttemptPerJob(stack);
    await assertSafeFailure(stack, {
      sentence: "The image service is not available right now; please try again later.",
      code: "misconfigured",
      detail: /REPLICATE_API_TOKEN is not set/,
    });
    assertEquals((await sim.admin("GET", "stats")).creates_total, 0);
  });
});

Deno.test("error text: a configuration error answers a generic 503 with no value of the environment", async () => {
  const SECRET = "sb_secret_LEAKME_4f1c3f0e3b7a4d3e9b0a";
  await withStack(["--time-scale", "0"], { SUPABASE_SECRET_KEYS: SECRET }, async (stack) => {
    // Signed in (the platform's gateway passes a valid token whatever the function's settings), and not.
    const user = await stack.newUser();
    const calls = ["start-generation", "generate-image"].map((fn) => [fn, user.token])
      .concat(["process-jobs", "process-generation"].map((fn) => [fn, ""]));
    for (const [fn, token] of calls) {
      const res = await stack.call(fn, {
        method: "POST",
        token,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt: "a cat" }),
      });
      const text = await res.text();
      assertEquals(res.status, 503, `${fn}: ${text}`);
      assertEquals(JSON.parse(text), {
        success: false,
        error: "The service is not configured",
        code: "misconfigured",
      });
      const headers = JSON.stringify([...res.headers]);
      for (const leak of ["LEAKME", "SUPABASE_SECRET_KEYS"]) {
        assert(!text.includes(leak) && !headers.includes(leak), `${fn}: ${leak} in ${text} ${headers}`);
      }
    }
    assert(!stack.logs.some((l) => l.includes("LEAKME")), "no log line holds the value");
    assert(
      stack.logs.some((l) => l.includes('"variable":"SUPABASE_SECRET_KEYS"')),
      "the log names the variable",
    );
  });
});

Deno.test("worker ids: leases are owned by ids the server made, never the caller's x-request-id", async () => {
  await withStack(["--time-scale", "0"], { WORKER_KICK: "false" }, async (stack) => {
    const claims = await recordClaims(stack.sql);
    const user = await stack.newUser();
    await startAccepted(stack, user, { prompt: "a lighthouse" });
    const REQUEST_ID = "req-chosen-by-the-caller";
    const res = await stack.call("process-jobs", {
      method: "POST",
      token: LOCAL_SERVICE_ROLE_KEY,
      headers: { "x-request-id": REQUEST_ID },
    });
    const body = await res.json();
    assertEquals(res.status, 200, JSON.stringify(body));
    assertEquals(res.headers.get("x-request-id"), REQUEST_ID, "still echoed for log correlation");
    // Its drain goes on claiming in the background: let it finish, so the legacy call claims its own job.
    await waitFor("the worker's drain to finish", async () => {
      const [{ open }] = await stack.sql`select count(*)::int as open from job_queue
                                          where status in ('pending', 'processing')`;
      return open === 0 ? true : undefined;
    });
    // The legacy path, with the same header.
    const legacy = await stack.call("generate-image", {
      method: "POST",
      token: user.token,
      headers: { "content-type": "application/json", "x-request-id": REQUEST_ID },
      body: JSON.stringify({ prompt: "a harbour", model_id: "black-forest-labs/flux-schnell" }),
    });
    assertEquals(legacy.status, 200, JSON.stringify(await legacy.clone().json()));
    await legacy.body?.cancel();
    const workers = await claims();
    assertEquals(workers.length, 2, JSON.stringify(workers));
    for (const worker of workers) {
      assert(!worker.includes(REQUEST_ID), `the lease owner ${worker} comes from the request`);
      assertMatch(
        worker,
        /^(process-jobs|generate-image):[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
    }
    assert(workers.includes(body.worker_id), "process-jobs reports the id it claimed with");
  });
});
