// The local gateway's emulation of the Edge Runtime's limits that the other tests do not reach through the
// project's own functions: the memory limit (beforeunload with reason "memory" at the threshold, the kill
// at the limit with 546 to the request in flight, a fresh isolate after) and the reason the wall clock's
// beforeunload carries. The fixture function (tests/fixtures/hog) keeps as much memory as it is asked to.
import { assert, assertEquals } from "./_assert.ts";
import { spawnStack, type Stack } from "./_stack.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

async function withGateway(env: Record<string, string>, fn: (stack: Stack) => Promise<void>) {
  const stack = await spawnStack({ GATEWAY_EXTRA_FUNCTIONS_DIR: FIXTURES, ...env });
  try {
    await fn(stack);
  } finally {
    await stack.close();
  }
}

async function hog(stack: Stack, method: string, query = "") {
  const res = await stack.call(`hog${query}`, { method });
  return { status: res.status, body: await res.json() };
}

const beforeunloads = (stack: Stack) =>
  stack.logs.filter((l) => l.includes('"fixture":"hog"')).map((l) => JSON.parse(l).beforeunload);

const ended = (stack: Stack) =>
  stack.logs.filter((l) => l.includes('"isolate ended"')).map((l) => JSON.parse(l))
    .filter((l) => l.fn === "hog").map((l) => l.reason);

Deno.test("gateway: past the memory threshold beforeunload says memory; at the limit the isolate is killed", async () => {
  await withGateway({ GATEWAY_MEMORY_MB: "64", GATEWAY_BEFOREUNLOAD_MEMORY_PCT: "50" }, async (stack) => {
    // 40 MiB: past the 32 MiB threshold, under the 64 MiB limit. The isolate looks every 25 ms.
    const warned = await hog(stack, "POST", "?mb=40&hold_ms=300");
    assertEquals(warned.status, 200);
    assertEquals(warned.body, { kept_mb: 40, beforeunload: ["memory"] }, "warned once, still serving");
    const [isolate] = await (await fetch(`${stack.url}/_gateway/isolates`)).json();
    assert(isolate.memory_bytes >= 40 << 20, `memory reported: ${JSON.stringify(isolate)}`);

    // 40 MiB more: past the limit while the request is in flight.
    const killed = await hog(stack, "POST", "?mb=40&hold_ms=2000");
    assertEquals([killed.status, killed.body.code], [546, "WORKER_LIMIT"]);
    assertEquals(ended(stack), ["memory limit"]);

    const fresh = await hog(stack, "GET");
    assertEquals(fresh.body, { kept_mb: 0, beforeunload: [] }, "the next request starts a new isolate");
  });
});

Deno.test("gateway: the wall clock's beforeunload carries the reason wall_clock", async () => {
  await withGateway({ GATEWAY_WALL_CLOCK_MS: "1500" }, async (stack) => {
    // Still answering at the limit: warned with the reason, then cut.
    const cut = await hog(stack, "POST", "?hold_ms=5000");
    assertEquals(cut.status, 546);
    assertEquals(beforeunloads(stack), ["wall_clock"]);
    assertEquals(ended(stack), ["wall clock limit"]);
  });
});
