// Loads the Rust module once per isolate and creates the app every function routes into.
// The .wasm is read with Deno.readFile + initSync (not `--target deno`'s fetch of a file URL, which
// some edge-runtime versions cannot do); config.toml ships it with each function via static_files.
import { host } from "./host.ts";

const glueUrl = new URL("./wasm/imagegen_edge.js", import.meta.url);
const wasmUrl = new URL("./wasm/imagegen_edge_bg.wasm", import.meta.url);

async function load() {
  try {
    const glue = await import("./wasm/imagegen_edge.js");
    glue.initSync({ module: await Deno.readFile(wasmUrl) });
    return glue;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) && !String(e).includes("Module not found")) throw e;
    throw new Error(`The Wasm module is missing (${glueUrl.pathname}): run scripts/build first.`);
  }
}

const glue = await load();

/** The application: one per isolate, configured from the environment. */
export const app = new glue.EdgeApp(host);

// The runtime dispatches `beforeunload` before it ends the isolate (wall clock, memory): jobs still held
// go back to the queue without spending an attempt (Rust: worker/held.rs).
addEventListener("beforeunload", () => host.defer(app.handBack()));
