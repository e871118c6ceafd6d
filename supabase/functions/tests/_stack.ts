// Test harness: a fresh database cloned from the migrated template, and the local gateway serving the
// functions on a free port against it (zero2prod's spawn_app). scripts/test provides the Postgres
// cluster (TEST_DB_ADMIN_URL) and the template (TEST_TEMPLATE_DB).
import postgres from "postgres";
import {
  LOCAL_ANON_KEY,
  LOCAL_JWT_SECRET,
  LOCAL_SERVICE_ROLE_KEY,
  signHs256,
  userClaims,
} from "../../../scripts/local/keys.ts";

const gatewayPath = new URL("../../../scripts/local/gateway.ts", import.meta.url).pathname;
const configPath = new URL("../../../deno.json", import.meta.url).pathname;

export type TestUser = { id: string; email: string; token: string };

export class Stack {
  #users = 0;

  constructor(
    readonly url: string,
    readonly sql: postgres.Sql,
    readonly dbName: string,
    readonly adminUrl: string,
    readonly child: Deno.ChildProcess,
    /** The functions' log lines (stdout), still filling while the stack runs. */
    readonly logs: string[],
  ) {}

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

  async count(table: "image_generations" | "job_queue"): Promise<number> {
    const [{ n }] = await this.sql.unsafe(`select count(*)::int as n from public.${table}`);
    return n;
  }

  async close() {
    try {
      this.child.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.child.status;
    await this.sql.end();
    const admin = postgres(this.adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists ${this.dbName} with (force)`);
    await admin.end();
  }
}

/** A database of its own and a gateway on a free port; `env` overrides the functions' environment. */
export async function spawnStack(env: Record<string, string> = {}): Promise<Stack> {
  const adminUrl = Deno.env.get("TEST_DB_ADMIN_URL");
  const template = Deno.env.get("TEST_TEMPLATE_DB");
  if (!adminUrl || !template) throw new Error("TEST_DB_ADMIN_URL/TEST_TEMPLATE_DB unset: run scripts/test");
  const dbName = `test_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${dbName} template ${template}`);
  await admin.end();
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;

  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      configPath,
      "--allow-net",
      "--allow-env",
      "--allow-read",
      gatewayPath,
    ],
    env: {
      SUPABASE_URL: "http://127.0.0.1:54321",
      SUPABASE_DB_URL: dbUrl.href,
      SUPABASE_ANON_KEY: LOCAL_ANON_KEY,
      SUPABASE_SERVICE_ROLE_KEY: LOCAL_SERVICE_ROLE_KEY,
      JWT_SECRET: LOCAL_JWT_SECRET,
      GATEWAY_PORT: "0",
      ...env,
    },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();

  const logs: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    (async () => {
      let buffered = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          const listening = line.startsWith('{"gateway"') ? JSON.parse(line) : null;
          if (listening?.port) resolve(listening.port);
          else logs.push(line);
        }
      }
      reject(new Error("the gateway exited before listening"));
    })();
  });
  const sql = postgres(dbUrl.href, { onnotice: () => {} });
  return new Stack(`http://127.0.0.1:${port}`, sql, dbName, adminUrl, child, logs);
}
