// One function worker (isolate) of the local gateway (gateway.ts), run as a Deno Web Worker: imports one
// function's `export default { fetch }` with its own Wasm app and database pool, as an Edge Runtime
// isolate does, provides `EdgeRuntime.waitUntil` (the only thing that outlives a response), and
// dispatches `beforeunload` when the gateway says the isolate is about to end.
type Message =
  | { type: "start"; fn: string }
  | {
    type: "request";
    id: number;
    url: string;
    method: string;
    headers: [string, string][];
    body: ArrayBuffer | null;
  }
  | { type: "beforeunload" };

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
      const mod = await import(new URL(`../../supabase/functions/${data.fn}/index.ts`, import.meta.url).href);
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
      dispatchEvent(new Event("beforeunload"));
      break;
  }
};
