// Local stand-in for Supabase's API gateway (no Docker here, so no `supabase functions serve`):
// serves every function under /functions/v1/<name> by importing its `export default { fetch }`,
// and checks the bearer token first when config.toml says `verify_jwt = true` (the default), as
// Supabase's gateway does. Environment: the same variables Supabase injects (set by scripts/dev or
// the test harness), GATEWAY_PORT (0 = any free port; the chosen one is printed), GATEWAY_SUPABASE_URL.
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

type Handler = (req: Request) => Response | Promise<Response>;
const functions = new Map<string, { fetch: Handler; verifyJwt: boolean }>();
for (const entry of Deno.readDirSync(functionsDir)) {
  if (!entry.isDirectory || entry.name.startsWith("_") || entry.name === "tests") continue;
  const mod = await import(new URL(`${entry.name}/index.ts`, functionsDir).href);
  functions.set(entry.name, {
    fetch: mod.default.fetch,
    verifyJwt: config.functions?.[entry.name]?.verify_jwt ?? true,
  });
}
// The functions share one Wasm app in this process; the gateway borrows its token check.
const { app } = await import("../../supabase/functions/_shared/app.ts");

const json = (status: number, body: unknown) => Response.json(body, { status });

// Storage checks tokens itself (HS256 with JWT_SECRET; signing-key tokens through the functions' check).
const storage = storageFromEnv({ jwtCheck: (authorization) => app.gatewayRejection(authorization) });

async function route(req: Request): Promise<Response> {
  const stored = await storage(req);
  if (stored) return stored;
  const path = new URL(req.url).pathname;
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
  try {
    return await fn.fetch(req);
  } catch (e) {
    console.error(`${match[1]}: uncaught`, e);
    return json(500, { error: "the function failed", code: "function_error" });
  }
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
