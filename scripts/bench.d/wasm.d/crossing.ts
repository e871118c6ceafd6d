// The per-request cost of the Wasm path, in process (no network, no database): start-generation handled
// by the Rust module with an rpc that answers at once, side by side with a JS handler doing the floor's
// work (scripts/bench.d/start-generation.d/floor.ts: parse the body, read the token's user unchecked,
// build the same answer) with the same instant rpc. Also the bare cost of one call into the module.
// Prints JSON. Usage: deno run crossing.ts SECONDS_PER_MEASUREMENT
import { EdgeApp, type Host, initSync } from "../../../supabase/functions/_shared/wasm/imagegen_edge.js";
import { LOCAL_JWT_SECRET, signHs256, userClaims } from "../../local/keys.ts";
import { floorHandler } from "../start-generation.d/floor-handler.ts";

initSync({
  module: await Deno.readFile(
    new URL("../../../supabase/functions/_shared/wasm/imagegen_edge_bg.wasm", import.meta.url),
  ),
});
const seconds = Number(Deno.args[0] ?? 2);
const USER = "6f1c2a52-1d8a-4c52-9f59-0d8e0c3a4b11";
const ROW_OBJECT = JSON.stringify({
  outcome: "created",
  generation_id: crypto.randomUUID(),
  job_id: 1,
  status: "queued",
});
const ROW = `[${ROW_OBJECT}]`;
const token = await signHs256(userClaims(USER, "bench@example.test", 3600));
const body = JSON.stringify({
  prompt: "a cat",
  model_id: "black-forest-labs/flux-schnell",
  width: 1024,
  height: 1024,
});
const request = () =>
  new Request("http://127.0.0.1/functions/v1/start-generation", {
    method: "POST",
    body,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  });

let logged = 0;
const host: Host = {
  env: (name) => ({ JWT_SECRET: LOCAL_JWT_SECRET, WORKER_KICK: "false" } as Record<string, string>)[name],
  log: () => void logged++,
  rpc: () => Promise.resolve(ROW),
  pipe: () => Promise.reject(new Error("unused")),
  defer: () => {},
};
const app = new EdgeApp(host);

// The floor's handler (start-generation.d/floor.ts) with the database call replaced by the same instant answer.
const floor = floorHandler(() => Promise.resolve(ROW_OBJECT), "10");

// Runs `fn` in a loop for `seconds`; microseconds per call (after a warm-up of the same length / 4).
async function perCall(fn: () => unknown | Promise<unknown>): Promise<number> {
  for (const end = performance.now() + seconds * 250; performance.now() < end;) await fn();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) await fn();
    n += 100;
  }
  return (performance.now() - start) * 1000 / n;
}

const ours = await app.startGeneration(request());
if (ours.status !== 200) throw new Error(`start-generation answered ${ours.status}: ${await ours.text()}`);
const result = {
  wasm_request_us: await perCall(async () => await (await app.startGeneration(request())).arrayBuffer()),
  js_request_us: await perCall(async () => await (await floor(request())).arrayBuffer()),
  request_object_us: await perCall(() => request()),
  // One call into the module and back with a short string each way (the gateway's token check of an
  // empty header: no crypto, just the crossing and an early answer).
  call_us: await perCall(() => app.gatewayRejection("")),
  // The same call with a valid HS256 token: the whole check (split, base64, HMAC-SHA256, claims).
  token_check_us: await perCall(() => app.gatewayRejection(`Bearer ${token}`)),
};
console.log(JSON.stringify(result));
