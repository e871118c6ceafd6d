// The host capabilities the Rust module reaches the outside through: env, logging and one database
// capability, `rpc`, which calls an allow-listed SQL function with named, typed arguments.
import postgres from "postgres";
import type { Host } from "./wasm/imagegen_edge.d.ts";

/** SQL functions the module may call; anything else is refused before reaching the database. */
const RPC_ALLOWED = new Set([
  "start_generation",
  "attach_generation",
  "begin_legacy_wait",
  "resolve_model",
  "get_generation",
  "start_generation_download",
  "request_worker_wake",
  "begin_prediction_create",
  "record_prediction",
  "clear_prediction",
  "start_generation_processing",
  "complete_generation",
  "claim_next_job",
  "claim_generation_jobs",
  "complete_job",
  "defer_job",
  "extend_lease",
  "enqueue_job",
  "recent_job_outcomes",
  "park_job",
  "record_replicate_webhook",
  "recorded_prediction_outcome",
]);
const SQL_TYPES = new Set(["uuid", "text", "int", "bigint", "jsonb", "bool"]);
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

type Arg = { name: string; type: string; value: string | null };

/** The pool, with the URL, size, prepared statements and TLS chosen in Rust (db/connect.rs) from
 * DATABASE_URL or SUPABASE_DB_URL and DB_POOL_MAX. Imported here, not at the top: app.ts loads the
 * module first and says so when it is missing. */
async function connect(): Promise<postgres.Sql> {
  const { dbConnectOptions } = await import("./wasm/imagegen_edge.js");
  const options: {
    url: string;
    max: number;
    prepare: boolean;
    ssl: false | "prefer" | "require" | "verify-full";
  } = JSON.parse(dbConnectOptions(host));
  return postgres(options.url, {
    max: options.max,
    prepare: options.prepare,
    ssl: options.ssl,
    idle_timeout: 30,
    connect_timeout: 5,
    onnotice: () => {},
  });
}

let sql: Promise<postgres.Sql> | undefined;

// Statements by function and argument list: a handful per isolate, each checked and built once.
const statements = new Map<string, string>();

function statement(fn: string, args: Arg[]): string {
  const signature = `${fn}(${args.map((a) => `${a.name} ${a.type}`).join(",")})`;
  let text = statements.get(signature);
  if (text === undefined) {
    const list = args.map((a, i) => {
      if (!IDENTIFIER.test(a.name) || !SQL_TYPES.has(a.type)) {
        throw new Error(`rpc: bad argument ${a.name}`);
      }
      // Sent as text and cast by Postgres: postgres.js would JSON-encode a string bound to a jsonb parameter.
      return `${a.name} => $${i + 1}::text::${a.type}`;
    });
    text = `select to_jsonb(r)::text as row from public.${fn}(${list.join(", ")}) r`;
    statements.set(signature, text);
  }
  return text;
}

type Upload = {
  method: string;
  url: string;
  headers: Record<string, string>;
  timeout_ms: number;
};

export const host: Host = {
  env: (name) => Deno.env.get(name),
  log: (line) => console.log(line),
  // A byte-counting pipe from a download into an upload: the image never sits whole in memory. What to
  // fetch, where to put it and the limit are decided in Rust (crates/imagegen-core/src/worker/download.rs).
  async pipe(source, uploadJson, maxBytes) {
    const upload: Upload = JSON.parse(uploadJson);
    let bytes = 0;
    const counted = source.body!.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          bytes += chunk.byteLength;
          if (bytes > maxBytes) {
            controller.error(
              Object.assign(new Error("too large"), { code: "too_large" }),
            );
          } else controller.enqueue(chunk);
        },
      }),
    );
    try {
      const res = await fetch(upload.url, {
        method: upload.method,
        headers: upload.headers,
        body: counted,
        signal: AbortSignal.timeout(upload.timeout_ms),
      });
      const body = await res.text();
      return JSON.stringify({
        status: res.status,
        headers: [...res.headers],
        body,
        bytes,
      });
    } catch (e) {
      if (bytes > maxBytes) {
        throw Object.assign(new Error("too large"), { code: "too_large" });
      }
      throw e;
    }
  },
  defer(promise) {
    // EdgeRuntime.waitUntil keeps a Supabase isolate alive until the promise settles; plain Deno keeps
    // running while it is pending anyway.
    const runtime = (globalThis as { EdgeRuntime?: { waitUntil(p: Promise<unknown>): void } })
      .EdgeRuntime;
    if (runtime) runtime.waitUntil(promise);
    else promise.catch(() => {});
  },
  async rpc(fn, argsJson) {
    if (!RPC_ALLOWED.has(fn)) {
      throw Object.assign(new Error(`rpc: ${fn} is not allowed`), {
        code: "misconfigured",
      });
    }
    const args: Arg[] = JSON.parse(argsJson);
    // A failed connect() (a bad setting) is not kept: the next call reads the settings again.
    sql ??= connect().catch((e) => {
      sql = undefined;
      throw e;
    });
    // `prepare: true` because unsafe() defaults to unprepared (parse and plan on every call); the
    // connection's own `prepare` still turns it off behind the transaction pooler.
    const rows = await (await sql).unsafe<{ row: string }[]>(
      statement(fn, args),
      args.map((a) => a.value),
      {
        prepare: true,
      },
    );
    return `[${rows.map((r) => r.row ?? "null").join(",")}]`;
  },
};
