// graphile-worker doing the same trivial jobs: WorkerUtils.addJob / addJobs to enqueue, the runner
// (`run`) with a no-op task to drain. We hand it our own pg.Pool so its queries are counted and timed
// exactly like ours (lib.mjs instrument).
import { EventEmitter } from "node:events";
import { checkDeadline, instrument, loadGraphile, now, pg, Trips } from "./lib.mjs";

const gw = await loadGraphile();

// Quiet except for problems: per-job log lines would measure the console. (NO_LOG_SUCCESS=1, set by the
// bash script, also skips formatting the per-job success message.)
const logger = new gw.Logger(() => (level, message) => {
  if (level === "error" || level === "warning") console.error(`[graphile-worker ${level}] ${message}`);
});

export class Graphile {
  constructor(url, maxPoolSize) {
    this.url = url;
    this.maxPoolSize = maxPoolSize;
    this.trips = new Trips();
    this.completed = 0;
    this.onCompleted = null;
  }

  async open() {
    this.pool = new pg.Pool({
      connectionString: this.url,
      max: this.maxPoolSize,
      application_name: "bench-graphile",
    });
    // An idle client's error (e.g. the server going away) must not crash the driver unreported.
    this.pool.on("error", (e) => console.error(`[graphile pool] ${e.message}`));
    // Jobs count as done when graphile's own complete statement returns (it does not await
    // completions before taking the next job, so its job:complete event comes earlier than that).
    this.pool.on("connect", (client) =>
      instrument(client, this.trips, (kind, config) => {
        if (kind === "complete_job") this.completed += 1;
        else if (kind === "complete_jobs") this.completed += config.values[0].length;
        else return;
        this.onCompleted?.();
      }));
    this.utils = await gw.makeWorkerUtils({ pgPool: this.pool, logger });
    await this.utils.migrate(); // installs the graphile_worker schema on first use
  }

  async close() {
    await this.utils.release();
    await this.pool.end();
  }

  async reset() {
    await this.pool.query("truncate graphile_worker._private_jobs");
    await this.pool.query("vacuum analyze graphile_worker._private_jobs");
    await this.pool.query("checkpoint");
    this.trips.reset();
  }

  // One addJob (one `select add_job(...)` round trip) per job, `concurrency` at once on the pool.
  async enqueuePerJob(jobs, concurrency, deadline) {
    const t0 = now();
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < jobs) {
        checkDeadline(deadline, "graphile enqueue per-job");
        await this.utils.addJob("noop", { n: next++ });
      }
    }));
    return { seconds: (now() - t0) / 1000 };
  }

  // addJobs: `chunk` jobs per add_jobs() statement, one at a time.
  async enqueueBatched(jobs, chunk, deadline) {
    const t0 = now();
    for (let start = 0; start < jobs; start += chunk) {
      checkDeadline(deadline, "graphile enqueue batched");
      const specs = [];
      for (let n = start; n < Math.min(jobs, start + chunk); n++) specs.push({ identifier: "noop", payload: { n } });
      await this.utils.addJobs(specs);
    }
    return { seconds: (now() - t0) / 1000 };
  }

  // The runner at `concurrency`. batch 1: graphile's defaults (each worker fetches one job with get_job
  // and completes it with its own statement). batch > 1: its batching features, localQueue.size = batch
  // (one get_job fetches `batch` jobs for the whole pool) and completeJobBatchDelay = 0 (completions
  // issued in the same tick go out as one statement). LISTEN/NOTIFY stays on (it always is); with every
  // job enqueued before the start, polling never matters here.
  async drain(jobs, concurrency, batch, deadline) {
    this.trips.reset();
    this.completed = 0;
    const events = new EventEmitter();
    let t0 = null;
    events.on("worker:getJob:start", () => (t0 ??= now()));
    const done = new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        try {
          checkDeadline(deadline, `graphile drain batch ${batch}`);
        } catch (e) {
          clearInterval(timer);
          reject(e);
        }
      }, 100);
      this.onCompleted = () => {
        if (this.completed >= jobs) {
          clearInterval(timer);
          resolve(now());
        }
      };
    });
    const runner = await gw.run({
      pgPool: this.pool,
      concurrency,
      noHandleSignals: true,
      pollInterval: 2000, // the default
      logger,
      events,
      taskList: { noop: async () => {} },
      preset: { worker: batch > 1 ? { localQueue: { size: batch }, completeJobBatchDelay: 0 } : {} },
    });
    let t1;
    try {
      t1 = await done;
    } finally {
      this.onCompleted = null;
      await runner.stop();
    }
    const seconds = (t1 - t0) / 1000;
    const tripsPerJob = this.trips.count / jobs;
    const byKind = { ...this.trips.byKind };
    const claim = this.trips.summary(batch > 1 ? `get_job${batch}` : "get_job");
    const { rows: [check] } = await this.pool.query("select count(*)::int as left from graphile_worker.jobs");
    if (this.completed !== jobs || check.left !== 0) {
      throw new Error(`graphile drain: completed ${this.completed}, ${check.left} jobs left, want ${jobs}`);
    }
    return { seconds, claim, tripsPerJob, byKind };
  }
}

