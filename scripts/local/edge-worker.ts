// One function worker (isolate) of the local gateway (gateway.ts), run as a Deno Web Worker: imports one
// function's `export default { fetch }` with its own Wasm app and database pool, as an Edge Runtime
// isolate does, provides `EdgeRuntime.waitUntil` (the only thing that outlives a response), dispatches
// `beforeunload` when the gateway says the isolate is about to end, and watches its own memory.
//
// Memory, as the Edge Runtime counts it (its V8 heap limit plus an ArrayBuffer allocator with the same
// limit, Wasm memories included): this isolate's heap plus its external memory (`Deno.memoryUsage()` in a
// Web Worker reports the worker's own isolate). Past `beforeunloadBytes` it dispatches `beforeunload`
// with `detail.reason = "memory"` once, as the runtime does at its `--beforeunload-memory-pct`; at
// `limitBytes` it tells the gateway, which ends it as the runtime would.
type Message =
  | { type: "start"; module: string; limitBytes: number; beforeunloadBytes: number }
  | {
    type: "request";
    id: number;
    url: string;
    method: string;
    headers: [string, string][];
    body: ArrayBuffer | null;
  }
  | { type: "beforeunload"; reason: string };

const scope = globalThis as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<Message>) => void) | null;
  EdgeRuntime: { waitUntil(promise: Promise<unknown>): void };
};

// Background work the gateway must count: an isolate with none and no request in flight may be dropped.
const background = new Set<Promise<unknown>>();
const report = () => scope.postMessage({ type: "background", pending: background.size });
scope.EdgeRuntime = {
  waitUntil(promise) {
    const settled = promise.then(() => {}, () => {}).finally(() => {
      background.delete(settled);
      report();
    });
    background.add(settled);
    report();
  },
};

let handler: (req: Request) => Response | Promise<Response>;

/** The runtime's event: a CustomEvent whose `detail.reason` says why the isolate ends (`wall_clock`,
 * `memory`, `cpu`, ...; edge-runtime's WillTerminateReason in snake case). */
const beforeunload = (reason: string) =>
  dispatchEvent(new CustomEvent("beforeunload", { cancelable: true, detail: { reason } }));

/** How often memory is looked at: the runtime checks on allocation; a timer is the closest a worker gets. */
const MEMORY_CHECK_MS = 25;

function watchMemory(limitBytes: number, beforeunloadBytes: number) {
  let warned = false;
  let reported = 0;
  setInterval(() => {
    const { heapUsed, external } = Deno.memoryUsage();
    const used = heapUsed + external;
    if (!warned && used >= beforeunloadBytes) {
      warned = true;
      beforeunload("memory");
    }
    if (used >= limitBytes) scope.postMessage({ type: "memory_limit", bytes: used });
    // For GET /_gateway/isolates: changes of a megabyte or more.
    if (Math.abs(used - reported) >= 1 << 20) {
      reported = used;
      scope.postMessage({ type: "memory", bytes: used });
    }
  }, MEMORY_CHECK_MS);
}

async function serve(id: number, req: Request) {
  try {
    const res = await handler(req);
    const body = res.body ? await res.arrayBuffer() : null;
    const answer = { type: "response", id, status: res.status, headers: [...res.headers], body };
    scope.postMessage(answer, body ? [body] : []);
  } catch (e) {
    console.error("uncaught", e);
    scope.postMessage({ type: "response", id, error: String(e) });
  }
}

scope.onmessage = async ({ data }) => {
  switch (data.type) {
    case "start": {
      watchMemory(data.limitBytes, data.beforeunloadBytes);
      const mod = await import(data.module);
      handler = mod.default.fetch;
      scope.postMessage({ type: "ready" });
      break;
    }
    case "request": {
      const { id, url, method, headers, body } = data;
      await serve(id, new Request(url, { method, headers, body }));
      break;
    }
    case "beforeunload":
      // Listeners register what they still have to do with EdgeRuntime.waitUntil.
      beforeunload(data.reason);
      break;
  }
};
