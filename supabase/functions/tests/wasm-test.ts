// Tier 2: the Wasm module under Deno with a fake host — the loader, the bindings (Request/Response,
// streamed bodies, host errors) and the start-generation handler, without a database.
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { EdgeApp, type Host, initSync } from "../_shared/wasm/imagegen_edge.js";
import {
  LOCAL_JWT_SECRET,
  LOCAL_SERVICE_ROLE_KEY,
  signHs256,
  userClaims,
} from "../../../scripts/local/keys.ts";

initSync({ module: await Deno.readFile(new URL("../_shared/wasm/imagegen_edge_bg.wasm", import.meta.url)) });

const USER = "6f1c2a52-1d8a-4c52-9f59-0d8e0c3a4b11";
const GENERATION = "0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01";
const BODY = JSON.stringify({
  prompt: "a cat",
  model_id: "black-forest-labs/flux-schnell",
  width: 1024,
  height: 768,
});

type Call = { fn: string; args: { name: string; type: string; value: string | null }[] };

function fakeHost(env: Record<string, string>, answer: () => Promise<string>) {
  const calls: Call[] = [];
  const lines: string[] = [];
  const host: Host = {
    env: (name) => env[name],
    log: (line) => lines.push(line),
    rpc: (fn, args) => {
      calls.push({ fn, args: JSON.parse(args) });
      return answer();
    },
    pipe: () => Promise.reject(new Error("no pipe in these tests")),
    defer: () => {},
  };
  return { host, calls, lines };
}

const created = () =>
  Promise.resolve(
    JSON.stringify([{ outcome: "created", generation_id: GENERATION, job_id: 42, status: "queued" }]),
  );
const token = () => signHs256(userClaims(USER, "cat@example.test"));

function post(body: BodyInit | null, auth?: string, headers: Record<string, string> = {}): Request {
  return new Request("http://localhost/functions/v1/start-generation", {
    method: "POST",
    body,
    headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...headers },
  });
}

Deno.test("wasm: start-generation makes one typed rpc call and answers 200", async () => {
  const { host, calls, lines } = fakeHost({ JWT_SECRET: LOCAL_JWT_SECRET }, created);
  const app = new EdgeApp(host);
  const res = await app.startGeneration(post(BODY, await token()));
  assertEquals(res.status, 200);
  const answer = await res.json();
  assertEquals(
    [answer.success, answer.generation_id, answer.job_id, answer.status],
    [true, GENERATION, "42", "queued"],
  );
  assertEquals(res.headers.get("content-type"), "application/json");
  assertEquals(calls.length, 1);
  assertEquals(calls[0].fn, "start_generation");
  const args = Object.fromEntries(calls[0].args.map((a) => [a.name, [a.type, a.value]]));
  assertEquals(args.p_user_id, ["uuid", USER]);
  assertEquals(args.p_prompt, ["text", "a cat"]);
  assertEquals(args.p_replicate_model, ["text", "black-forest-labs/flux-schnell"]);
  // Arguments at their SQL default are left out.
  assertEquals([args.p_model_id, args.p_adjusted, args.p_idempotency_key], [undefined, undefined, undefined]);
  assertEquals(JSON.parse(args.p_params[1]!), { width: 1024, height: 768, num_outputs: 1 });
  assertEquals(args.p_max_pending, ["int", "10"]);
  assertEquals(lines.length, 1);
  assertEquals(JSON.parse(lines[0]).status, 200);
});

Deno.test("wasm: a streamed body over 64 KiB is refused without reading it all", async () => {
  const { host, calls } = fakeHost({ JWT_SECRET: LOCAL_JWT_SECRET }, created);
  const app = new EdgeApp(host);
  let pulled = 0;
  let cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(8 * 1024).fill(0x61));
    },
    cancel() {
      cancelled = true;
    },
  });
  const res = await app.startGeneration(post(endless, await token()));
  assertEquals(res.status, 400);
  assertEquals((await res.json()).code, "body_too_large");
  assert(cancelled, "the upload stream is cancelled");
  assert(pulled < 20, `stopped after ${pulled} chunks`);
  assertEquals(calls.length, 0);
});

Deno.test("wasm: a declared Content-Length is read in one go, and held to the limit either way", async () => {
  const { host, calls } = fakeHost({ JWT_SECRET: LOCAL_JWT_SECRET }, created);
  const app = new EdgeApp(host);
  const fits = await app.startGeneration(
    post(BODY, await token(), { "content-length": String(BODY.length) }),
  );
  assertEquals(fits.status, 200);
  // Declared over the limit: refused before reading.
  const declared = await app.startGeneration(
    post("{}", await token(), { "content-length": String(70 * 1024) }),
  );
  assertEquals((await declared.json()).code, "body_too_large");
  // A request built in JS is not held to its header: the bytes read still are.
  const lying = await app.startGeneration(
    post("x".repeat(70 * 1024), await token(), { "content-length": "2" }),
  );
  assertEquals((await lying.json()).code, "body_too_large");
  assertEquals(calls.length, 1);
});

Deno.test("wasm: host database errors become 503 or 500 with details only in the log", async () => {
  for (const [code, status] of [["ECONNREFUSED", 503], ["08006", 503], ["42883", 500]] as const) {
    const { host, lines } = fakeHost(
      { JWT_SECRET: LOCAL_JWT_SECRET },
      () => Promise.reject(Object.assign(new Error(`boom ${code}`), { code })),
    );
    const res = await new EdgeApp(host).startGeneration(post(BODY, await token()));
    assertEquals(res.status, status, code);
    const body = await res.text();
    assert(!body.includes("boom"), "no internals in the answer");
    assert(lines[0].includes(`boom ${code}`), "the log has the detail");
  }
});

Deno.test("wasm: misconfiguration answers a generic 503; only the log names the variable, never its value", async () => {
  const SECRET_VALUE = "sb_secret_LEAKME_0123456789abcdefghij";
  const cases: [Record<string, string>, string][] = [
    [{ JWT_SECRET: LOCAL_JWT_SECRET, MAX_PENDING_GENERATIONS: SECRET_VALUE }, "MAX_PENDING_GENERATIONS"],
    [{ JWT_SECRET: LOCAL_JWT_SECRET, SUPABASE_SECRET_KEYS: SECRET_VALUE }, "SUPABASE_SECRET_KEYS"],
    [{ JWT_SECRET: LOCAL_JWT_SECRET, WORKER_KICK: SECRET_VALUE }, "WORKER_KICK"],
    [{ JWT_SECRET: SECRET_VALUE.slice(0, 20) }, "JWT_SECRET"],
    [{ SUPABASE_JWKS: SECRET_VALUE }, "SUPABASE_JWKS"],
  ];
  for (const [env, variable] of cases) {
    const { host, lines } = fakeHost(env, created);
    const app = new EdgeApp(host);
    for (const auth of [await token(), undefined]) {
      const res = await app.startGeneration(post(BODY, auth));
      const text = await res.text();
      assertEquals(res.status, 503, variable);
      assertEquals(JSON.parse(text), {
        success: false,
        error: "The service is not configured",
        code: "misconfigured",
      });
      const headers = JSON.stringify([...res.headers]);
      for (const leak of ["LEAKME", variable]) {
        assert(!text.includes(leak) && !headers.includes(leak), `${variable}: ${leak} in ${text} ${headers}`);
      }
    }
    assert(!lines.some((l) => l.includes("LEAKME")), `${variable}: the log holds no value`);
    assert(lines.some((l) => JSON.parse(l).variable === variable), `${variable}: the log names it`);
    assertEquals(app.gatewayRejection(undefined), undefined, "the function answers, not the gateway");
  }
});

Deno.test("wasm: preflight answers 200 ok (as the original did); the gateway check accepts any project JWT", async () => {
  const { host } = fakeHost({ JWT_SECRET: LOCAL_JWT_SECRET }, created);
  const app = new EdgeApp(host);
  const res = await app.startGeneration(new Request("http://localhost/", { method: "OPTIONS" }));
  assertEquals([res.status, await res.text()], [200, "ok"]);
  assertEquals(res.headers.get("access-control-allow-origin"), "*");
  assertEquals(app.gatewayRejection(`Bearer ${await token()}`), undefined);
  assert(app.gatewayRejection("Bearer nope")?.length);
  assert(app.gatewayRejection(undefined)?.length);
});

Deno.test("wasm: the host's fetch hands redirects back; the module checks the hop before following", async () => {
  // The project (SUPABASE_URL) answers its Storage object with a redirect to another address; that address
  // must never be requested: the module refuses the hop (not the project, not https).
  let elsewhere = 0;
  const target = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, () => {
    elsewhere++;
    return new Response(null, { headers: { "content-type": "image/png", "content-length": "100" } });
  });
  const project = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    () =>
      new Response(null, {
        status: 302,
        headers: { location: `http://127.0.0.1:${target.addr.port}/x.png` },
      }),
  );
  try {
    const projectUrl = `http://127.0.0.1:${project.addr.port}`;
    const { host } = fakeHost({
      JWT_SECRET: LOCAL_JWT_SECRET,
      SUPABASE_URL: projectUrl,
      REPLICATE_API_TOKEN: "r8_unused",
      REPLICATE_API_BASE: `${projectUrl}/v1`,
    }, () => Promise.reject(new Error("no database in this test")));
    const app = new EdgeApp(host);
    const res = await app.processGeneration(
      new Request("http://localhost/functions/v1/process-generation", {
        method: "POST",
        headers: { authorization: `Bearer ${LOCAL_SERVICE_ROLE_KEY}` },
        body: JSON.stringify({
          prompt: "as a painting",
          model_id: "black-forest-labs/flux-dev",
          source_image_url: `${projectUrl}/storage/v1/object/public/generated-images/u/earlier.png`,
        }),
      }),
    );
    const answer = await res.json();
    assertEquals([res.status, answer.code], [400, "input_image_unusable"], JSON.stringify(answer));
    assertEquals(
      answer.error,
      "The input image's address redirects to an address that is not allowed: it must use https.",
    );
    assertEquals(elsewhere, 0, "the redirect was not followed by fetch");
  } finally {
    await project.shutdown();
    await target.shutdown();
  }
});

/** Imports a fresh copy of _shared/app.ts whose wasm/ folder `fill` prepares, with what it logged. */
async function loadCopy(fill: (wasmDir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  const logged: string[] = [];
  const consoleError = console.error;
  try {
    for (const file of ["app.ts", "host.ts", "unavailable.ts"]) {
      await Deno.copyFile(new URL(`../_shared/${file}`, import.meta.url), `${dir}/${file}`);
    }
    await Deno.mkdir(`${dir}/wasm`);
    await fill(`${dir}/wasm`);
    console.error = (...args: unknown[]) => logged.push(args.join(" "));
    const { app } = await import(`file://${dir}/app.ts`);
    return { app: app as EdgeApp, logged };
  } finally {
    console.error = consoleError;
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every handler of an app that could not load answers 503 `wasm_unavailable`, readable cross-origin. */
async function assertUnavailable(app: EdgeApp) {
  const answers = [
    await app.startGeneration(post(BODY, await token())),
    await app.processJobs(new Request("http://localhost/functions/v1/process-jobs", { method: "POST" })),
    app.models(new Request("http://localhost/functions/v1/models")),
  ];
  for (const res of answers) {
    assertEquals(res.status, 503);
    assertEquals(res.headers.get("access-control-allow-origin"), "*");
    assertEquals(res.headers.get("content-type"), "application/json");
    const body = await res.json();
    assertEquals([body.success, body.code], [false, "wasm_unavailable"]);
  }
}

Deno.test("loader: a missing build answers 503 wasm_unavailable and logs to run scripts/build", async () => {
  const { app, logged } = await loadCopy(() => Promise.resolve());
  await assertUnavailable(app);
  assertEquals(logged.length, 1);
  assertMatch(
    logged[0],
    /wasm_unavailable.*missing.*run scripts\/build, commit supabase\/functions\/_shared\/wasm/,
  );
});

Deno.test("loader: a module that does not compile answers 503 wasm_unavailable and logs why", async () => {
  const { app, logged } = await loadCopy(async (wasmDir) => {
    const built = new URL("../_shared/wasm/", import.meta.url).pathname;
    const copied = await new Deno.Command("cp", { args: ["-r", `${built}.`, wasmDir] }).output();
    assert(copied.success, "copied the glue");
    await Deno.writeFile(`${wasmDir}/imagegen_edge_bg.wasm`, new TextEncoder().encode("not a wasm module"));
  });
  await assertUnavailable(app);
  assertEquals(logged.length, 1);
  assertMatch(logged[0], /did not load \(CompileError: .*\): run scripts\/build/);
});

Deno.test("loader: without the module, a preflight still gets the module's own answer", async () => {
  const { app: unavailable } = await loadCopy(() => Promise.resolve());
  const { host } = fakeHost({ JWT_SECRET: LOCAL_JWT_SECRET }, created);
  const preflight = () => new Request("http://localhost/functions/v1/models", { method: "OPTIONS" });
  const [theirs, ours] = [unavailable.models(preflight()), new EdgeApp(host).models(preflight())];
  assertEquals([theirs.status, await theirs.text()], [ours.status, await ours.text()]);
  assertEquals([...theirs.headers].sort(), [...ours.headers].sort());
});
