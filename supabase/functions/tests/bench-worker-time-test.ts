// The throughput benchmark's reading of the worker (scripts/bench.d/pipeline.d/worker-time.ts) against
// the real worker's log: every job run is found in the drains' summary lines, the isolate list says when
// no drain runs any more, and the simulator's counters give the API calls. A change to the drain summary
// that the benchmark would silently miscount fails here.
import { assert, assertEquals } from "./_assert.ts";
import { withSimulatorStack } from "./_stack.ts";
import {
  readDrainLog,
  replicateCalls,
  slotSeconds,
  workerBusy,
} from "../../../scripts/bench.d/pipeline.d/worker-time.ts";

const LATENCY_MS = 1500;

Deno.test("bench worker time: every job run of a polling worker is read from its drains' log lines", async () => {
  // Polling, the mode whose job holds its slot for the whole prediction (spread 0: never shorter).
  const simArgs = ["--latency", `*=${LATENCY_MS}:0`];
  await withSimulatorStack(
    simArgs,
    { WORKER_KICK: "true", REPLICATE_WEBHOOKS: "off" },
    async (stack, sim) => {
      const user = await stack.newUser();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await stack.startGeneration(user.token, {
          prompt: `worker time ${i}`,
          model_id: "black-forest-labs/flux-schnell",
        });
        assertEquals(res.status, 200, JSON.stringify(res.body));
        ids.push(res.body.generation_id);
      }
      await waitFor("the generations to complete", async () => {
        const [{ n }] = await stack.sql`select count(*)::int as n from image_generations
                                      where id = any(${ids}::uuid[]) and status = 'completed'`;
        return n === ids.length;
      });
      await waitFor("the worker to go quiet", async () => !(await workerBusy(stack.url)));

      const log = readDrainLog(stack.logs.join("\n"));
      const jobs = await stack.sql<{ id: string; job_type: string }[]>`
      select id, job_type from job_queue order by id`;
      assertEquals(jobs.length, 6, "a generate-image and a download-image job per generation");
      assertEquals(
        log.runs.map((r) => [r.id, r.job_type, r.outcome]).sort((a, b) => Number(a[0]) - Number(b[0])),
        jobs.map((j) => [Number(j.id), j.job_type, "completed"]),
        "each job ran once, read from its drain's line",
      );
      assert(log.drains >= 1 && log.unreadable === 0 && log.isolatesCut === 0, JSON.stringify(log));
      const generate = new Set(jobs.filter((j) => j.job_type === "generate-image").map((j) => Number(j.id)));
      assert(
        slotSeconds(log.runs, generate) >= (ids.length * LATENCY_MS) / 1000,
        "a polling job holds its slot at least as long as its prediction runs",
      );
      assert(slotSeconds(log.runs) > slotSeconds(log.runs, generate), "downloads take slot time too");

      const calls = await replicateCalls(sim.url);
      assertEquals(calls.by.create, ids.length);
      assert(calls.by.file >= ids.length, "each image downloaded");
      // The webhook receiver reads the signing secret (once per isolate) even in polling mode: the
      // simulator delivers every prediction's webhook to it.
      assertEquals(
        calls.api,
        calls.by.create + (calls.by.get ?? 0) + (calls.by.secret ?? 0),
        "API calls leave out image downloads",
      );
    },
  );
});

Deno.test("bench worker time: torn drain lines and cut worker isolates are counted, not guessed", () => {
  const drain = (jobs: unknown[]) => JSON.stringify({ level: "info", msg: "drain finished", jobs });
  const ended = (fn: string, reason: string) =>
    JSON.stringify({ gateway: "isolate ended", fn, isolate: 1, reason });
  const text = [
    drain([{ id: 7, job_type: "generate-image", attempt: 1, outcome: "deferred", ms: 1200 }]),
    drain([{ id: 7, job_type: "generate-image", attempt: 1, outcome: "completed", ms: 800 }]),
    drain([{ id: 8, job_type: "download-image", attempt: 1, outcome: "completed", ms: 50 }]).slice(0, 60),
    drain([]),
    JSON.stringify({ msg: "request", fn: "process-jobs", note: "drain finished" }),
    ended("process-jobs", "idle"),
    ended("process-jobs", "wall clock limit"),
    ended("start-generation", "wall clock limit"),
    "not json",
  ].join("\n");
  const log = readDrainLog(text);
  assertEquals(log.drains, 3);
  assertEquals(log.runs.map((r) => [r.id, r.outcome, r.ms]), [[7, "deferred", 1200], [7, "completed", 800]]);
  assertEquals(log.unreadable, 1, "the torn line; the line that only quotes the words is not a drain");
  assertEquals(log.isolatesCut, 1, "only a worker isolate ended by the runtime");
  assertEquals(slotSeconds(log.runs), 2);
  assertEquals(slotSeconds(log.runs, new Set([8])), 0);
});

/** Polls `check` until it holds; fails after `ms`. */
async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000) {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
