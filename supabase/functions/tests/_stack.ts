// Test harness (zero2prod's spawn_app): a fresh database cloned from the migrated template, and the
// local stack's Deno scripts (gateway, notify forwarder) started against it on free ports.
// scripts/test provides the Postgres cluster (TEST_DB_ADMIN_URL) and the template (TEST_TEMPLATE_DB).
import postgres from "postgres";
import {
  LOCAL_ANON_KEY,
  LOCAL_JWT_SECRET,
  LOCAL_SERVICE_ROLE_KEY,
  signHs256,
  userClaims,
} from "../../../scripts/local/keys.ts";

const localDir = new URL("../../../scripts/local/", import.meta.url);
const configPath = new URL("../../../deno.json", import.meta.url).pathname;

export type TestUser = { id: string; email: string; token: string };

/** A database of its own, cloned from the migrated template. */
export class TestDatabase {
  readonly sql: postgres.Sql;

  private constructor(
    readonly url: string,
    private readonly name: string,
    private readonly adminUrl: string,
  ) {
    this.sql = postgres(url, { onnotice: () => {} });
  }

  /** `migrated: false` gives an empty database (no shim, no migrations), e.g. to load another schema. */
  static async create({ migrated = true } = {}): Promise<TestDatabase> {
    const adminUrl = Deno.env.get("TEST_DB_ADMIN_URL");
    const template = Deno.env.get("TEST_TEMPLATE_DB");
    if (!adminUrl || !template) throw new Error("TEST_DB_ADMIN_URL/TEST_TEMPLATE_DB unset: run scripts/test");
    const name = `test_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
    const from = migrated ? ` template ${template}` : "";
    await withAdmin(adminUrl, (admin) => admin.unsafe(`create database ${name}${from}`));
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return new TestDatabase(url.href, name, adminUrl);
  }

  async count(table: "image_generations" | "job_queue"): Promise<number> {
    const [{ n }] = await this.sql.unsafe(`select count(*)::int as n from public.${table}`);
    return n;
  }

  async drop() {
    await this.sql.end();
    await withAdmin(
      this.adminUrl,
      (admin) => admin.unsafe(`drop database if exists ${this.name} with (force)`),
    );
  }
}

async function withAdmin(adminUrl: string, fn: (admin: postgres.Sql) => Promise<unknown>) {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await fn(admin);
  } finally {
    await admin.end();
  }
}

/** A running local-stack script and the log lines it printed (still filling while it runs). */
export type Script = { child: Deno.ChildProcess; logs: string[]; ready: Record<string, unknown> };

/** Runs scripts/local/<name>; resolves once it prints a JSON line with `listening`. `flags`: extra Deno
 * flags (e.g. `--allow-write=<dir>`). */
export async function spawnScript(
  name: string,
  env: Record<string, string>,
  flags: string[] = [],
): Promise<Script> {
  const permissions = ["--allow-net", "--allow-env", "--allow-read", ...flags];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--config", configPath, ...permissions, name],
    cwd: localDir.pathname,
    env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const logs: string[] = [];
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    (async () => {
      let buffered = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          const parsed = line.startsWith("{") ? JSON.parse(line) : null;
          if (parsed?.listening) resolve(parsed);
          else logs.push(line);
        }
      }
      reject(new Error(`${name} exited before it was ready`));
    })();
  });
  return { child, logs, ready };
}

export async function stopScript(script: Script) {
  try {
    script.child.kill("SIGTERM");
  } catch { /* already gone */ }
  await script.child.status;
}

/** The Replicate simulator (built by scripts/test, path in SIM_BIN) on a free port. */
export class Simulator {
  static readonly TOKEN = "r8_test_simulator";

  private constructor(readonly url: string, private readonly child: Deno.ChildProcess) {}

  /** `args`: extra flags, e.g. `["--time-scale", "0.05"]`. */
  static async start(args: string[] = []): Promise<Simulator> {
    const bin = Deno.env.get("SIM_BIN");
    if (!bin) throw new Error("SIM_BIN unset: run scripts/test");
    const child = new Deno.Command(bin, {
      args: ["--port", "0", "--api-token", Simulator.TOKEN, ...args],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    let listening: RegExpMatchArray | null = null;
    while (!(listening = seen.match(/listening on (http:\/\/[0-9.:]+) /))) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`replicate-sim exited: ${seen}`);
      seen += value;
    }
    const url = listening[1];
    // Keep draining stderr so the simulator never blocks on a full pipe.
    (async () => {
      while (!(await reader.read()).done) { /* discard */ }
    })();
    return new Simulator(url, child);
  }

  get apiBase(): string {
    return `${this.url}/v1`;
  }

  async admin(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.url}/admin/${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`sim admin ${path}: ${res.status} ${await res.text()}`);
    return await res.json();
  }

  async stop() {
    try {
      this.child.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.child.status;
  }
}

/** The functions behind the local gateway on a free port, over a fresh database. */
export class Stack {
  #users = 0;

  private constructor(
    public url: string,
    readonly db: TestDatabase,
    private gateway: Script,
    private readonly env: Record<string, string>,
  ) {}

  /** `env` overrides the functions' environment; `db`: a database of the caller's (closed with the stack). */
  static async spawn(env: Record<string, string> = {}, db?: TestDatabase): Promise<Stack> {
    db ??= await TestDatabase.create();
    // Storage's files (the gateway serves /storage/v1/ from here): a folder per stack, removed by close().
    const storageRoot = env.STORAGE_ROOT ?? await Deno.makeTempDir({ prefix: "imagegen-storage-" });
    const fullEnv = {
      STORAGE_ROOT: storageRoot,
      SUPABASE_URL: "http://127.0.0.1:54321",
      SUPABASE_DB_URL: db.url,
      SUPABASE_ANON_KEY: LOCAL_ANON_KEY,
      SUPABASE_SERVICE_ROLE_KEY: LOCAL_SERVICE_ROLE_KEY,
      JWT_SECRET: LOCAL_JWT_SECRET,
      // Tests of one function do not want the worker woken behind their back; worker tests turn it on.
      WORKER_KICK: "false",
      GATEWAY_PORT: "0",
      ...env,
    };
    const gateway = await spawnScript("gateway.ts", fullEnv, Stack.gatewayFlags(fullEnv));
    return new Stack(`http://127.0.0.1:${gateway.ready.port}`, db, gateway, fullEnv);
  }

  private static gatewayFlags(env: Record<string, string>): string[] {
    return [`--allow-write=${env.STORAGE_ROOT}`];
  }

  /** The folder Storage keeps this stack's objects in. */
  get storageRoot(): string {
    return this.env.STORAGE_ROOT;
  }

  /** Kills the gateway (as a crash would) and starts a new one on the same database. */
  async restartGateway(env: Record<string, string> = {}): Promise<void> {
    this.gateway.child.kill("SIGKILL");
    await this.gateway.child.status;
    const fullEnv = { ...this.env, ...env };
    this.gateway = await spawnScript("gateway.ts", fullEnv, Stack.gatewayFlags(fullEnv));
    this.url = `http://127.0.0.1:${this.gateway.ready.port}`;
  }

  get sql(): postgres.Sql {
    return this.db.sql;
  }

  /** The functions' log lines (stdout). */
  get logs(): string[] {
    return this.gateway.logs;
  }

  /** A signed-in user: a row in auth.users and a fresh access token. */
  async newUser(): Promise<TestUser> {
    const id = crypto.randomUUID();
    const email = `user${++this.#users}@example.test`;
    await this.sql`insert into auth.users (id, email) values (${id}, ${email})`;
    return { id, email, token: await signHs256(userClaims(id, email)) };
  }

  /** A user of an anonymous sign-in: no email, `is_anonymous: true` in the token (as GoTrue issues). */
  async newGuest(): Promise<TestUser> {
    const id = crypto.randomUUID();
    await this.sql`insert into auth.users (id, email) values (${id}, null)`;
    const claims = { ...userClaims(id, ""), is_anonymous: true, amr: [{ method: "anonymous" }] };
    return { id, email: "", token: await signHs256(claims) };
  }

  /** Calls a function through the gateway, as a client would. */
  call(fn: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (init.token) headers.set("authorization", `Bearer ${init.token}`);
    return fetch(`${this.url}/functions/v1/${fn}`, { ...init, headers });
  }

  /** POST /functions/v1/start-generation with a JSON body; resolves to status, headers and parsed body. */
  async startGeneration(token: string | undefined, body: unknown, headers: Record<string, string> = {}) {
    const res = await this.call("start-generation", {
      method: "POST",
      token,
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: await res.json() };
  }

  count(table: "image_generations" | "job_queue"): Promise<number> {
    return this.db.count(table);
  }

  /** Uploads `bytes` to this stack's Storage with the service key and answers the object's public URL,
   * as the apps' earlier images are (what a remix sends as its source image). */
  async storeObject(
    path: string,
    bytes: Uint8Array<ArrayBuffer>,
    contentType: string,
    bucket = "generated-images",
  ) {
    const res = await fetch(`${this.url}/storage/v1/object/${bucket}/${path}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${LOCAL_SERVICE_ROLE_KEY}`,
        "content-type": contentType,
        "x-upsert": "true",
      },
      body: bytes,
    });
    if (!res.ok) throw new Error(`storage upload ${path}: ${res.status} ${await res.text()}`);
    await res.body?.cancel();
    return `${this.url}/storage/v1/object/public/${bucket}/${path}`;
  }

  /** POST /functions/v1/process-generation as the backend (service_role key). */
  async processGeneration(generationId: string, token: string | null = LOCAL_SERVICE_ROLE_KEY) {
    const res = await this.call("process-generation", {
      method: "POST",
      token: token ?? undefined,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ generation_id: generationId }),
    });
    return { status: res.status, headers: res.headers, body: await res.json() };
  }

  async close() {
    await stopScript(this.gateway);
    await this.db.drop();
    await Deno.remove(this.env.STORAGE_ROOT, { recursive: true }).catch(() => {});
  }
}

export const spawnStack = Stack.spawn;

/** A 1×1 PNG, for input images. */
export const TINY_PNG = Uint8Array.from(
  atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="),
  (c) => c.charCodeAt(0),
);

/**
 * Runs `fn` with a stack wired to a fresh simulator (its output host allowed for downloads), and stops
 * both afterwards. `simArgs` go to the simulator, `env` overrides the functions' environment.
 */
export async function withSimulatorStack(
  simArgs: string[],
  env: Record<string, string>,
  fn: (stack: Stack, sim: Simulator) => Promise<void>,
  db?: TestDatabase,
): Promise<void> {
  const sim = await Simulator.start(simArgs);
  const stack = await spawnStack({
    REPLICATE_API_BASE: sim.apiBase,
    REPLICATE_API_TOKEN: Simulator.TOKEN,
    DOWNLOAD_ALLOWED_HOSTS: new URL(sim.url).host,
    ...env,
  }, db);
  try {
    await fn(stack, sim);
  } finally {
    await stack.close();
    await sim.stop();
  }
}
