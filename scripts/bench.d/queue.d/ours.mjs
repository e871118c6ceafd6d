// Our queue (supabase/migrations) driven the way a worker would drive it: one connection per worker,
// claim_next_job -> run the (no-op) job -> complete_job, one call after the other. Statements are named
// (prepared) like graphile-worker's, so both sides get the same driver treatment.
import { checkDeadline, instrument, now, pg, Trips } from "./lib.mjs";

const JOB_TYPE = "download-image"; // any allowed job_type; the handler is a no-op either way
const LEASE_SECONDS = 300;

export class Ours {
  constructor(url) {
    this.url = url;
    this.trips = new Trips();
    this.clients = [];
  }

  async open(n) {
    while (this.clients.length < n) {
      const client = new pg.Client({ connectionString: this.url, application_name: "bench-ours" });
      await client.connect();
      this.clients.push(instrument(client, this.trips));
    }
  }

  async close() {
    await Promise.all(this.clients.map((c) => c.end()));
    this.clients = [];
  }

  // A fresh, vacuumed table and a checkpoint, so no run inherits the previous one's dead rows or I/O.
  async reset() {
    const c = this.clients[0];
    await c.query("truncate public.job_queue restart identity");
    await c.query("vacuum analyze public.job_queue");
    await c.query("checkpoint");
    this.trips.reset();
  }

  // One enqueue_job call (one round trip) per job, `concurrency` connections at once.
  async enqueuePerJob(jobs, concurrency, deadline) {
    const t0 = now();
    let next = 0;
    await Promise.all(this.clients.slice(0, concurrency).map(async (c) => {
      while (next < jobs) {
        checkDeadline(deadline, "ours enqueue per-job");
        const n = next++;
        await c.query({
          name: "enqueue",
          text: "select public.enqueue_job($1, $2::jsonb)",
          values: [JOB_TYPE, JSON.stringify({ n })],
        });
      }
    }));
    return { seconds: (now() - t0) / 1000 };
  }

  // `chunk` jobs per statement, one connection. "enqueue_job": today's function once per row of a JSON
  // array; "enqueue_jobs": the proposed set-based function (proposed.sql), one INSERT per statement.
  async enqueueBatched(jobs, chunk, deadline, fn = "enqueue_job") {
    const text = fn === "enqueue_jobs"
      ? "select public.enqueue_jobs($1, array(select jsonb_array_elements($2::jsonb)))"
      : "select public.enqueue_job($1, p) from jsonb_array_elements($2::jsonb) p";
    const c = this.clients[0];
    const t0 = now();
    for (let start = 0; start < jobs; start += chunk) {
      checkDeadline(deadline, "ours enqueue batched");
      const payloads = [];
      for (let n = start; n < Math.min(jobs, start + chunk); n++) payloads.push({ n });
      await c.query({ name: `batch_${fn}`, text, values: [JOB_TYPE, JSON.stringify(payloads)] });
    }
    return { seconds: (now() - t0) / 1000 };
  }

  // Workers claim `batch` jobs at a time until a claim comes back empty (every job was enqueued before
  // the start, so empty means drained). complete: "per-job" = complete_job per job (today's API);
  // "batch" = one complete_jobs(ids) per claimed batch (the proposed function, see proposed.sql).
  async drain(jobs, concurrency, batch, complete, deadline) {
    this.trips.reset();
    let completed = 0;
    const t0 = now();
    await Promise.all(this.clients.slice(0, concurrency).map(async (c, i) => {
      const worker = `bench-${i}`;
      for (;;) {
        checkDeadline(deadline, `ours drain batch ${batch}`);
        const { rows } = await c.query({
          name: "claim",
          text: "select * from public.claim_next_job($1, $2, $3)",
          values: [worker, batch, LEASE_SECONDS],
        });
        if (rows.length === 0) return;
        // The job itself: a no-op.
        if (complete === "batch") {
          const res = await c.query({
            name: "complete_jobs",
            text: "select id from public.complete_jobs($1::bigint[], $2)",
            values: [rows.map((r) => r.id), worker],
          });
          completed += res.rows.length;
        } else {
          for (const row of rows) {
            const res = await c.query({
              name: "complete",
              text: "select public.complete_job($1, $2, true) as r",
              values: [row.id, worker],
            });
            if (res.rows[0].r.outcome === "completed") completed++;
          }
        }
      }
    }));
    const seconds = (now() - t0) / 1000;
    const stats = {
      seconds,
      claim: this.trips.summary("claim"),
      tripsPerJob: this.trips.count / jobs,
      byKind: { ...this.trips.byKind },
    };
    const { rows: [check] } = await this.clients[0].query(
      "select count(*) filter (where status = 'completed')::int as done, count(*)::int as total from public.job_queue",
    );
    if (completed !== jobs || check.done !== jobs || check.total !== jobs) {
      throw new Error(`ours drain: completed ${completed}, table says ${check.done}/${check.total}, want ${jobs}`);
    }
    return stats;
  }
}
