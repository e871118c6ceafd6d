// Runs both queues through the same scenarios, interleaved (ours and graphile-worker alternate, in ABBA
// order over the repetitions) so background noise on this shared machine hits both alike; prints the
// table and writes it as markdown.
// Usage (see scripts/bench.d/queue): node main.mjs --ours URL --graphile URL --pg-pid PID --jobs N
//   --per-job-jobs N --concurrency 4,8 --reps R [--chunk 1000] [--warmup N] [--limit SECONDS]
//   [--proposed FILE] [--md FILE]
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { clusterCpuSeconds, fmtMs, fmtRate, graphileVersion, now } from "./lib.mjs";
import { Ours } from "./ours.mjs";
import { Graphile } from "./graphile.mjs";

const { values: opt } = parseArgs({
  options: {
    ours: { type: "string" },
    graphile: { type: "string" },
    "pg-pid": { type: "string" },
    jobs: { type: "string", default: "20000" },
    "per-job-jobs": { type: "string", default: "5000" },
    concurrency: { type: "string", default: "4,8" },
    reps: { type: "string", default: "2" },
    chunk: { type: "string", default: "1000" },
    warmup: { type: "string", default: "1000" },
    limit: { type: "string", default: "60" }, // seconds, per measured step
    proposed: { type: "string" },
    md: { type: "string" },
  },
});
const jobs = Number(opt.jobs);
const perJobJobs = Number(opt["per-job-jobs"]);
const concurrencies = opt.concurrency.split(",").map(Number);
const reps = Number(opt.reps);
const chunk = Number(opt.chunk);
const pgPid = Number(opt["pg-pid"]);
const deadline = () => now() + Number(opt.limit) * 1000;
const maxConcurrency = Math.max(...concurrencies);
const progress = (msg) => console.error(`  .. ${msg}`);

// graphile-worker's default pool is 10; it completes a job on another connection while the worker
// fetches the next, so give it room above its concurrency.
const ours = new Ours(opt.ours);
const theirs = new Graphile(opt.graphile, Math.max(10, maxConcurrency + 2));
await ours.open(maxConcurrency);
await theirs.open();

// One drain measurement: fill the queue (batched, timed too), then drain it, with the CPU the cluster
// and this process spent on the drain alone.
async function measure(side, c, batch, { complete = "per-job", enqueueFn } = {}) {
  await side.reset();
  const enq = side === ours
    ? await ours.enqueueBatched(jobs, chunk, deadline(), enqueueFn)
    : await theirs.enqueueBatched(jobs, chunk, deadline());
  const server0 = clusterCpuSeconds(pgPid);
  const client0 = process.cpuUsage();
  const r = side === ours
    ? await ours.drain(jobs, c, batch, complete, deadline())
    : await theirs.drain(jobs, c, batch, deadline());
  const client = process.cpuUsage(client0);
  return {
    ...r,
    rate: jobs / r.seconds,
    enqueueRate: jobs / enq.seconds,
    serverUs: ((clusterCpuSeconds(pgPid) - server0) * 1e6) / jobs,
    clientUs: (client.user + client.system) / jobs,
  };
}
// Best of the repetitions (highest throughput): the run the machine disturbed least.
const best = (runs, key = "rate") => runs.reduce((a, b) => (b[key] > a[key] ? b : a));
async function pair(c, batch, oursOpts) {
  const o = [], t = [];
  for (let i = 0; i < reps; i++) {
    if (i % 2 === 0) {
      o.push(await measure(ours, c, batch, oursOpts));
      t.push(await measure(theirs, c, batch));
    } else {
      t.push(await measure(theirs, c, batch));
      o.push(await measure(ours, c, batch, oursOpts));
    }
  }
  return { o: best(o), t: best(t), oEnq: best(o, "enqueueRate"), tEnq: best(t, "enqueueRate") };
}

// Warm-up (not recorded): plan caches, prepared statements, pool connections, graphile's startup.
const warm = Number(opt.warmup);
for (const batch of warm > 0 ? [1, 10] : []) {
  for (const side of [ours, theirs]) {
    await side.reset();
    await side.enqueueBatched(warm, chunk, deadline());
    if (side === ours) await ours.drain(warm, maxConcurrency, batch, "per-job", deadline());
    else await theirs.drain(warm, maxConcurrency, batch, deadline());
  }
}

const rows = []; // { group, metric, unit, ours, theirs }
const results = new Map(); // "c|batch" -> pair result, for the proposed comparison
for (const c of concurrencies) {
  const group = `c=${c}`;
  const add = (metric, unit, o, t) => rows.push({ group, metric, unit, ours: o, theirs: t });

  progress(`${group}: enqueue, one call per job (${perJobJobs} jobs)`);
  await ours.reset();
  const oe1 = await ours.enqueuePerJob(perJobJobs, c, deadline());
  await theirs.reset();
  const te1 = await theirs.enqueuePerJob(perJobJobs, c, deadline());

  progress(`${group}: drain batch 1, ${reps}x`);
  // Ours as the queue's API offers it: set-based enqueue_jobs for bulk inserts, complete_jobs when a
  // whole claimed batch finishes together (graphile-worker batches its completions the same way).
  const b1 = await pair(c, 1, { enqueueFn: "enqueue_jobs" });
  progress(`${group}: drain batch 10, ${reps}x`);
  const b10 = await pair(c, 10, { complete: "batch", enqueueFn: "enqueue_jobs" });
  results.set(`${c}|1`, b1);
  results.set(`${c}|10`, b10);

  add(`enqueue, 1 call per job, ${c} connections`, "jobs/s", perJobJobs / oe1.seconds, perJobJobs / te1.seconds);
  add(`enqueue, ${chunk} jobs per statement, 1 connection`, "jobs/s",
    Math.max(b1.oEnq.enqueueRate, b10.oEnq.enqueueRate), Math.max(b1.tEnq.enqueueRate, b10.tEnq.enqueueRate));
  for (const [batch, r] of [[1, b1], [10, b10]]) {
    add(`claim+complete, batch ${batch}`, "jobs/s", r.o.rate, r.t.rate);
  }
  for (const [batch, r] of [[1, b1], [10, b10]]) {
    add(`claim round trip p50, batch ${batch}`, "ms", r.o.claim.p50, r.t.claim.p50);
    add(`claim round trip p99, batch ${batch}`, "ms", r.o.claim.p99, r.t.claim.p99);
  }
  for (const [batch, r] of [[1, b1], [10, b10]]) {
    add(`round trips per job, batch ${batch}`, "n", r.o.tripsPerJob, r.t.tripsPerJob);
    add(`Postgres CPU per job, batch ${batch}`, "µs", r.o.serverUs, r.t.serverUs);
    add(`Node CPU per job, batch ${batch}`, "µs", r.o.clientUs, r.t.clientUs);
  }
  console.error(`  .. statements per drain: ours b1 ${JSON.stringify(b1.o.byKind)} b10 ${JSON.stringify(b10.o.byKind)}`);
  console.error(`  .. graphile b1 ${JSON.stringify(b1.t.byKind)} b10 ${JSON.stringify(b10.t.byKind)}`);
}

// The SQL changes proposed for the migrations (proposed.sql), applied to this throwaway database only,
// then our side of the same drains again (same repetitions, same best-of rule): before/after figures.
const proposedRows = [];
if (opt.proposed) {
  await ours.clients[0].query(readFileSync(opt.proposed, "utf8"));
  for (const c of concurrencies) {
    const group = `c=${c}`;
    progress(`${group}: proposed SQL, ${reps}x`);
    const after = {};
    for (const batch of [1, 10]) {
      const runs = [];
      for (let i = 0; i < reps; i++) {
        runs.push(await measure(ours, c, batch, {
          complete: batch > 1 ? "batch" : "per-job",
          enqueueFn: "enqueue_jobs",
        }));
      }
      after[batch] = { run: best(runs), enq: best(runs, "enqueueRate") };
    }
    const add = (metric, unit, before, a, theirsValue) =>
      proposedRows.push({ group, metric, unit, before, after: a, theirs: theirsValue });
    const b1 = results.get(`${c}|1`), b10 = results.get(`${c}|10`);
    add(`enqueue, ${chunk} jobs per statement (enqueue_jobs)`, "jobs/s",
      Math.max(b1.oEnq.enqueueRate, b10.oEnq.enqueueRate),
      Math.max(after[1].enq.enqueueRate, after[10].enq.enqueueRate),
      Math.max(b1.tEnq.enqueueRate, b10.tEnq.enqueueRate));
    add("claim+complete, batch 1 (complete_job)", "jobs/s", b1.o.rate, after[1].run.rate, b1.t.rate);
    add("claim+complete, batch 10 (complete_jobs)", "jobs/s", b10.o.rate, after[10].run.rate, b10.t.rate);
    for (const [batch, before, t] of [[1, b1.o, b1.t], [10, b10.o, b10.t]]) {
      const a = after[batch].run;
      add(`claim round trip p50, batch ${batch}`, "ms", before.claim.p50, a.claim.p50, t.claim.p50);
      add(`claim round trip p99, batch ${batch}`, "ms", before.claim.p99, a.claim.p99, t.claim.p99);
      add(`round trips per job, batch ${batch}`, "n", before.tripsPerJob, a.tripsPerJob, t.tripsPerJob);
      add(`Postgres CPU per job, batch ${batch}`, "µs", before.serverUs, a.serverUs, t.serverUs);
    }
  }
}

await ours.close();
await theirs.close();

// --- report -------------------------------------------------------------------------------------------
const fmt = (x, unit) =>
  unit === "jobs/s" ? fmtRate(x) : unit === "ms" ? fmtMs(x) : unit === "µs" ? fmtRate(x) : x.toFixed(2);
const ratio = (a, b) => (Number.isFinite(a / b) && b !== 0 ? (a / b).toFixed(2) : "n/a");

function table(header, body) {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  const text = [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
  const md = [
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...body.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
  return { text, md };
}

const label = (r) => `${r.group} ${r.metric} (${r.unit})`;
const main = table(
  ["metric", "ours", `graphile-worker ${graphileVersion}`, "ours ÷ graphile"],
  rows.map((r) => [label(r), fmt(r.ours, r.unit), fmt(r.theirs, r.unit), ratio(r.ours, r.theirs)]),
);
const notes = [
  "Ratio: throughput > 1 means ours is faster; latency, round trips and CPU < 1 mean ours is cheaper.",
  `Drains: ${jobs} no-op jobs enqueued first, then drained by c workers; best of ${reps} runs (ours and ` +
  "graphile-worker alternating); every run starts from a truncated, vacuumed table.",
  "CPU per job: the whole Postgres cluster's CPU time (all backends) and the Node process's, during the " +
  "drain, divided by the jobs; steadier than wall time when other programs share the cores.",
];
console.log(main.text);
for (const n of notes) console.log(n);
let md = `${main.md}\n\n${notes.map((n) => `- ${n}`).join("\n")}\n`;

if (proposedRows.length > 0) {
  const prop = table(
    ["metric", "ours now", "ours + proposed", "after ÷ before", `graphile-worker ${graphileVersion}`,
      "after ÷ graphile"],
    proposedRows.map((r) => [label(r), fmt(r.before, r.unit), fmt(r.after, r.unit), ratio(r.after, r.before),
      fmt(r.theirs, r.unit), ratio(r.after, r.theirs)]),
  );
  const title = "With scripts/bench.d/queue.d/proposed.sql applied to the benchmark database (not the migrations); " +
    "batch 10 then completes with complete_jobs:";
  console.log(`\n${title}`);
  console.log(prop.text);
  md += `\n${title}\n\n${prop.md}\n`;
}
if (opt.md) writeFileSync(opt.md, md);
