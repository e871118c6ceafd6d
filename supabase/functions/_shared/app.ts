// Loads the Rust module once per isolate and creates the app every function routes into.
// The .wasm is read with Deno.readFile + initSync (not `--target deno`'s fetch of a file URL, which
// some edge-runtime versions cannot do); config.toml ships it with each function via static_files.
import type { EdgeApp } from "./wasm/imagegen_edge.js";
import { host } from "./host.ts";
import { unavailableApp } from "./unavailable.ts";

const glueUrl = new URL("./wasm/imagegen_edge.js", import.meta.url);
const wasmUrl = new URL("./wasm/imagegen_edge_bg.wasm", import.meta.url);

async function load(): Promise<EdgeApp> {
  const glue = await import("./wasm/imagegen_edge.js");
  glue.initSync({ module: await Deno.readFile(wasmUrl) });
  return new glue.EdgeApp(host);
}

/** Why the module did not load, with what to do about it (the log is where an operator looks). */
function loadFailure(e: unknown): string {
  const fix = "run scripts/build, commit supabase/functions/_shared/wasm/ and deploy again";
  if (e instanceof Deno.errors.NotFound || String(e).includes("Module not found")) {
    return `The Wasm module is missing (${glueUrl.pathname} or ${wasmUrl.pathname}): ${fix}.`;
  }
  return `The Wasm module did not load (${
    e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  }): ${fix}.`;
}

// A module that is missing or broken must not fail the isolate at boot: the platform would answer every
// request with a bare 5xx and the cause would sit in a boot log. Each request gets a 503 that says so.
async function loadOrUnavailable(): Promise<EdgeApp> {
  try {
    return await load();
  } catch (e) {
    const reason = loadFailure(e);
    console.error(JSON.stringify({ level: "error", code: "wasm_unavailable", message: reason }));
    return unavailableApp();
  }
}

/** The application: one per isolate, configured from the environment. */
export const app = await loadOrUnavailable();

// The runtime dispatches `beforeunload` before it ends the isolate (wall clock, memory): jobs still held
// go back to the queue without spending an attempt (Rust: worker/held.rs).
addEventListener("beforeunload", () => host.defer(app.handBack()));
