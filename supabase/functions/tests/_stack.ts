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

  static async create(): Promise<TestDatabase> {
    const adminUrl = Deno.env.get("TEST_DB_ADMIN_URL");
    const template = Deno.env.get("TEST_TEMPLATE_DB");
    if (!adminUrl || !template) throw new Error("TEST_DB_ADMIN_URL/TEST_TEMPLATE_DB unset: run scripts/test");
    const name = `test_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
    await withAdmin(adminUrl, (admin) => admin.unsafe(`create database ${name} template ${template}`));
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

/** Runs scripts/local/<name>; resolves once it prints a JSON line with `listening`. */
export async function spawnScript(name: string, env: Record<string, string>): Promise<Script> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--config", configPath, "--allow-net", "--allow-env", "--allow-read", name],
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

/** The functions behind the local gateway on a free port, over a fresh database. */
export class Stack {
  #users = 0;

  private constructor(readonly url: string, readonly db: TestDatabase, private readonly gateway: Script) {}

  /** `env` overrides the functions' environment. */
  static async spawn(env: Record<string, string> = {}): Promise<Stack> {
    const db = await TestDatabase.create();
    const gateway = await spawnScript("gateway.ts", {
      SUPABASE_URL: "http://127.0.0.1:54321",
      SUPABASE_DB_URL: db.url,
      SUPABASE_ANON_KEY: LOCAL_ANON_KEY,
      SUPABASE_SERVICE_ROLE_KEY: LOCAL_SERVICE_ROLE_KEY,
      JWT_SECRET: LOCAL_JWT_SECRET,
      GATEWAY_PORT: "0",
      ...env,
    });
    return new Stack(`http://127.0.0.1:${gateway.ready.port}`, db, gateway);
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

  async close() {
    await stopScript(this.gateway);
    await this.db.drop();
  }
}

export const spawnStack = Stack.spawn;
