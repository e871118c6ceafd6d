// Local stand-in for Supabase's API gateway and Edge Runtime (no Docker here, so no `supabase functions
// serve`): serves every function under /functions/v1/<name>, checking the bearer token first when
// config.toml says `verify_jwt = true` (the default), as Supabase's gateway does.
//
// Each function runs in workers (isolates) the way the hosted Edge Runtime runs them: a Deno Web Worker per
// isolate (edge-worker.ts), with its own module instance, Wasm app and database pool, so that:
// - an isolate lives GATEWAY_WALL_CLOCK_MS (default EDGE_WALL_CLOCK_SECS, else 150 s: the free plan), its
//   own clock from its start, not per request; background work counts;
// - no new request is routed to it after half of that: the next request starts a new isolate;
// - at the limit it is killed (Worker.terminate): requests still in flight are cut and their callers get
//   546 as on the platform (resource limit); GATEWAY_UNLOAD_GRACE_MS before that (default: a twentieth of the
//   limit, at most 1 s) `beforeunload` is dispatched in it;
// - only `EdgeRuntime.waitUntil` promises outlive a response; an isolate past half its life with no request
//   and no such promise pending is dropped at once;
// - a request unanswered for GATEWAY_REQUEST_TIMEOUT_MS (default 150 s) gets a 504; the work goes on.
// - memory: an isolate whose heap plus external memory (ArrayBuffers, Wasm memory) reaches
//   GATEWAY_MEMORY_MB (default 256, Supabase's limit) is killed the same way (546 to requests in flight);
//   at GATEWAY_BEFOREUNLOAD_MEMORY_PCT of it (default 90) `beforeunload` is dispatched with
//   `detail.reason = "memory"` (the wall clock's is "wall_clock"), as edge-runtime does. Measured every
//   25 ms in the isolate (the runtime checks on allocation), so a spike between two looks can pass.
// Not emulated: the 2 s CPU limit. Tests scale the limits down. GET /_gateway/isolates lists the live
// isolates with their memory (tests follow them). GATEWAY_EXTRA_FUNCTIONS_DIR serves more functions beside
// the project's (test fixtures; `verify_jwt = false`).
// Environment: the same variables Supabase injects (set by scripts/dev or the test harness), GATEWAY_PORT
// (0 = any free port; the chosen one is printed), GATEWAY_SUPABASE_URL.
// Also serves /storage/v1/... (Supabase Storage's object API, from disk under STORAGE_ROOT): storage.ts.
import { parse } from "smol-toml";
import { storageFromEnv } from "./storage.ts";

const supabaseDir = new URL("../../supabase/", import.meta.url);
const functionsDir = new URL("functions/", supabaseDir);
type FunctionConfig = { verify_jwt?: boolean };
const config = parse(await Deno.readTextFile(new URL("config.toml", supabaseDir))) as {
  functions?: Record<string, FunctionConfig>;
};

// Listen first: SUPABASE_URL must be this gateway's own address (functions call each other and Storage
// through it) before the functions read their configuration; with GATEWAY_PORT=0 it is known only now.
let ready: (value: void) => void;
const loaded = new Promise<void>((resolve) => ready = resolve);
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.env.get("GATEWAY_PORT") ?? 54321),
  onListen: () => {},
}, async (req) => {
  await loaded;
  return route(req);
});
// GATEWAY_SUPABASE_URL points the functions at another gateway instead (the memory benchmark keeps Storage
// out of the worker's process that way, as on Supabase).
Deno.env.set("SUPABASE_URL", Deno.env.get("GATEWAY_SUPABASE_URL") || `http://127.0.0.1:${server.addr.port}`);

const env = (name: string) => Deno.env.get(name);
const wallClockMs = Number(env("GATEWAY_WALL_CLOCK_MS") ?? Number(env("EDGE_WALL_CLOCK_SECS") ?? 150) * 1000);
const unloadGraceMs = Number(env("GATEWAY_UNLOAD_GRACE_MS") ?? Math.min(1000, wallClockMs / 20));
const requestLimitMs = Number(env("GATEWAY_REQUEST_TIMEOUT_MS") ?? 150_000);
const memoryLimitBytes = Number(env("GATEWAY_MEMORY_MB") ?? 256) * 1024 * 1024;
const beforeunloadMemoryBytes = memoryLimitBytes * Number(env("GATEWAY_BEFOREUNLOAD_MEMORY_PCT") ?? 90) / 100;

const functions = new Map<string, { verifyJwt: boolean; module: string }>();
for (const entry of Deno.readDirSync(functionsDir)) {
  if (!entry.isDirectory || entry.name.startsWith("_") || entry.name === "tests") continue;
  functions.set(entry.name, {
    verifyJwt: config.functions?.[entry.name]?.verify_jwt ?? true,
    module: new URL(`${entry.name}/index.ts`, functionsDir).href,
  });
}
const extraDir = env("GATEWAY_EXTRA_FUNCTIONS_DIR");
for (const entry of extraDir ? Deno.readDirSync(extraDir) : []) {
  if (!entry.isDirectory) continue;
  const module = new URL(`${entry.name}/index.ts`, `file://${Deno.realPathSync(extraDir!)}/`).href;
  functions.set(entry.name, { verifyJwt: false, module });
}

type Answer = { status: number; headers: [string, string][]; body: ArrayBuffer | null; error?: string };

/** One isolate of a function: a Web Worker, its age, its requests in flight and its background work. */
class Isolate {
  static #count = 0;
  readonly id = ++Isolate.#count;
  readonly bornAt = Date.now();
  readonly #worker = new Worker(new URL("./edge-worker.ts", import.meta.url), { type: "module" });
  readonly #inflight = new Map<number, (answer: Answer) => void>();
  readonly #timers: ReturnType<typeof setTimeout>[] = [];
  readonly ready: Promise<void>;
  #requests = 0;
  background = 0;
  /** Heap plus external memory, as the isolate last reported it. */
  memory = 0;
  ended?: string;

  constructor(readonly fn: string, module: string) {
    let started: () => void;
    this.ready = new Promise((resolve) => started = resolve);
    this.#worker.onmessage = ({ data }) => {
      if (data.type === "ready") started();
      if (data.type === "background") {
        this.background = data.pending;
        this.dropIfIdle();
      }
      if (data.type === "memory") this.memory = data.bytes;
      if (data.type === "memory_limit") {
        this.memory = data.bytes;
        this.end("memory limit");
      }
      if (data.type === "response") {
        this.#inflight.get(data.id)?.(data);
        this.#inflight.delete(data.id);
        this.dropIfIdle();
      }
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      console.error(`${fn}: isolate ${this.id} crashed`, e.message);
      this.end("crashed");
    };
    this.#worker.postMessage({
      type: "start",
      module,
      limitBytes: memoryLimitBytes,
      beforeunloadBytes: beforeunloadMemoryBytes,
    });
    this.#timers.push(
      setTimeout(
        () => this.#worker.postMessage({ type: "beforeunload", reason: "wall_clock" }),
        wallClockMs - unloadGraceMs,
      ),
      setTimeout(() => this.end("wall clock limit"), wallClockMs),
      setTimeout(() => this.dropIfIdle(), wallClockMs / 2),
    );
  }

  /** The runtime routes to an isolate only in the first half of its wall clock. */
  get routable(): boolean {
    return !this.ended && Date.now() - this.bornAt < wallClockMs / 2;
  }

  async fetch(req: Request): Promise<Answer> {
    await this.ready;
    if (this.ended) return killed();
    const id = ++this.#requests;
    const body = req.body ? await req.arrayBuffer() : null;
    const answer = new Promise<Answer>((resolve) => this.#inflight.set(id, resolve));
    this.#worker.postMessage(
      { type: "request", id, url: req.url, method: req.method, headers: [...req.headers], body },
      body ? [body] : [],
    );
    return answer;
  }

  dropIfIdle() {
    if (!this.routable && !this.ended && this.#inflight.size === 0 && this.background === 0) this.end("idle");
  }

  /** Terminates the worker; requests in flight are cut. */
  end(reason: string) {
    if (this.ended) return;
    this.ended = reason;
    this.#timers.forEach(clearTimeout);
    this.#worker.terminate();
    for (const answer of this.#inflight.values()) answer(killed());
    this.#inflight.clear();
    isolates.get(this.fn)?.delete(this);
    console.log(JSON.stringify({ gateway: "isolate ended", fn: this.fn, isolate: this.id, reason }));
  }

  describe() {
    const { id, fn, background, ended, memory } = this;
    return {
      id,
      fn,
      age_ms: Date.now() - this.bornAt,
      routable: this.routable,
      inflight: this.#inflight.size,
      background,
      memory_bytes: memory,
      ended,
    };
  }
}

// What the platform answers when an isolate is ended under a request (docs: status 546, resource limit).
const killed = (): Answer => ({
  status: 546,
  headers: [["content-type", "application/json"]],
  body: new TextEncoder().encode(JSON.stringify({
    code: "WORKER_LIMIT",
    message: "Function failed due to not having enough compute resources (please check logs)",
  })).buffer as ArrayBuffer,
});

const isolates = new Map<string, Set<Isolate>>();

function isolateFor(fn: string): Isolate {
  const pool = isolates.get(fn) ?? new Set();
  isolates.set(fn, pool);
  for (const isolate of pool) if (isolate.routable) return isolate;
  const fresh = new Isolate(fn, functions.get(fn)!.module);
  pool.add(fresh);
  return fresh;
}

async function invoke(fn: string, req: Request): Promise<Response> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<Answer>((resolve) => {
    timer = setTimeout(() =>
      resolve({
        status: 504,
        headers: [["content-type", "application/json"]],
        body: new TextEncoder().encode(JSON.stringify({
          code: "GATEWAY_TIMEOUT",
          message: `the function did not answer within ${requestLimitMs} ms`,
        })).buffer as ArrayBuffer,
      }), requestLimitMs);
  });
  const answer = await Promise.race([isolateFor(fn).fetch(req), timeout]).finally(() => clearTimeout(timer));
  if (answer.error) {
    console.error(`${fn}: uncaught`, answer.error);
    return json(500, { error: "the function failed", code: "function_error" });
  }
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

// The gateway's own Wasm app, for the token check.
const { app } = await import("../../supabase/functions/_shared/app.ts");

const json = (status: number, body: unknown) => Response.json(body, { status });

// Storage checks tokens itself (HS256 with JWT_SECRET; signing-key tokens through the functions' check).
const storage = storageFromEnv({ jwtCheck: (authorization) => app.gatewayRejection(authorization) });

async function route(req: Request): Promise<Response> {
  const stored = await storage(req);
  if (stored) return stored;
  const path = new URL(req.url).pathname;
  if (path === "/_gateway/isolates") {
    return json(200, [...isolates.values()].flatMap((pool) => [...pool].map((i) => i.describe())));
  }
  const match = path.match(/^\/functions\/v1\/([^/]+)/);
  const fn = match && functions.get(match[1]);
  if (!fn) return json(404, { code: "NOT_FOUND", message: "Requested function was not found" });
  // Browsers send CORS preflights without credentials; Supabase lets them through to the function.
  if (fn.verifyJwt && req.method !== "OPTIONS") {
    const authorization = req.headers.get("authorization");
    if (!authorization) {
      return json(401, { code: "UNAUTHORIZED_NO_AUTH_HEADER", message: "Missing authorization header" });
    }
    const rejection = app.gatewayRejection(authorization);
    if (rejection) {
      return json(401, { code: "UNAUTHORIZED_INVALID_JWT", message: `Invalid JWT: ${rejection}` });
    }
  }
  return await invoke(match[1], req);
}

ready!();
console.log(
  JSON.stringify({
    gateway: "ready",
    listening: true,
    port: server.addr.port,
    functions: [...functions.keys()],
  }),
);
