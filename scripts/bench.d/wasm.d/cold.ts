// One cold start of the module, as a new isolate pays it: import the glue, read the .wasm, compile and
// instantiate (initSync), create the app. Prints the phases in ms as JSON.
const t0 = performance.now();
const glue = await import("../../../supabase/functions/_shared/wasm/imagegen_edge.js");
const t1 = performance.now();
const bytes = await Deno.readFile(
  new URL("../../../supabase/functions/_shared/wasm/imagegen_edge_bg.wasm", import.meta.url),
);
const t2 = performance.now();
glue.initSync({ module: bytes });
const t3 = performance.now();
new glue.EdgeApp({
  env: (name: string) => Deno.env.get(name),
  log: () => {},
  rpc: () => Promise.reject(new Error("unused")),
  pipe: () => Promise.reject(new Error("unused")),
  defer: () => {},
});
const t4 = performance.now();
console.log(
  JSON.stringify({ import_glue: t1 - t0, read: t2 - t1, instantiate: t3 - t2, app: t4 - t3, total: t4 - t0 }),
);
