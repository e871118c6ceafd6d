// What every function answers when the Rust module could not be loaded (see app.ts): 503 in the error
// shape the module itself answers with (crates/imagegen-core/src/error.rs) and with its CORS headers
// (crates/imagegen-core/src/http.rs), so a browser client can read the code instead of a CORS failure.
import type { EdgeApp } from "./wasm/imagegen_edge.js";

/** The stable code clients and monitoring can branch on. */
export const UNAVAILABLE_CODE = "wasm_unavailable";

const ALLOW_ORIGIN = { "access-control-allow-origin": "*" };
// Must equal the module's preflight answer (wasm-test.ts compares them).
const PREFLIGHT = {
  "access-control-allow-headers":
    "authorization, x-client-info, apikey, content-type, idempotency-key, x-request-id",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-max-age": "86400",
};

function answer(req: Request): Response {
  if (req.method === "OPTIONS") {
    return new Response("ok", { headers: { ...ALLOW_ORIGIN, ...PREFLIGHT, "content-type": "text/plain" } });
  }
  const body = {
    success: false,
    error: "The service is unavailable: its code did not load",
    code: UNAVAILABLE_CODE,
  };
  return new Response(JSON.stringify(body), {
    status: 503,
    headers: { ...ALLOW_ORIGIN, "content-type": "application/json" },
  });
}

/**
 * Stands in for the app: every handler (`app.startGeneration(req)`, `app.models(req)`, … and any added
 * later, hence the Proxy rather than a list) answers `answer(req)`. `then` stays undefined: app.ts
 * returns this from an async function, and a `then` would make it a never-settling thenable.
 */
export function unavailableApp(): EdgeApp {
  // `handBack` (app.ts's beforeunload) has no request and nothing to hand back here.
  const handler = (_: object, name: string | symbol) =>
    name === "handBack"
      ? () => Promise.resolve()
      : typeof name === "string" && name !== "then"
      ? answer
      : undefined;
  return new Proxy({}, { get: handler }) as unknown as EdgeApp;
}
