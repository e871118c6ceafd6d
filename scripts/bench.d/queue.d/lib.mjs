// Shared by both sides of the queue benchmark: loading the npm packages from the tool folder, timing,
// percentiles, and counting every round trip a pg client makes (by statement name), so both queues are
// measured at the same layer with the same driver.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";

const npmDir = process.env.BENCH_NPM;
if (!npmDir) throw new Error("BENCH_NPM (the npm folder holding pg and graphile-worker) is not set");
const require = createRequire(`${npmDir}/package.json`);

// The same `pg` instance graphile-worker itself resolves, so both sides use one driver build.
export const pg = require("pg");
const graphileMain = require.resolve("graphile-worker");
export const loadGraphile = () => import(pathToFileURL(graphileMain).href);
// Its package.json is not in its exports map; read it beside dist/.
export const graphileVersion =
  JSON.parse(readFileSync(`${dirname(graphileMain)}/../package.json`, "utf8")).version;

export const now = () => performance.now();

// Every loop checks this: a stuck queue fails the run instead of hanging it.
export function checkDeadline(deadline, what) {
  if (now() > deadline) throw new Error(`${what}: time limit reached`);
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// Round-trip accounting. `kind` maps a query to a label (or null to skip timing); counts cover all.
export class Trips {
  constructor() {
    this.reset();
  }
  reset() {
    this.count = 0;
    this.byKind = {};
    this.latency = {}; // kind -> [ms]
  }
  record(kind, ms) {
    this.count++;
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
    (this.latency[kind] ??= []).push(ms);
  }
  summary(kind) {
    const xs = (this.latency[kind] ?? []).slice().sort((a, b) => a - b);
    return { n: xs.length, p50: percentile(xs, 50), p99: percentile(xs, 99) };
  }
}

// Wraps client.query so each call is counted and timed under a kind derived from the statement name
// (graphile-worker names its prepared statements e.g. `get_job/graphile_worker`, `complete_jobs/...`).
// `onDone(kind, config)` runs when a query resolves (used to count completed jobs as the database sees them).
export function instrument(client, trips, onDone) {
  const query = client.query.bind(client);
  client.query = (config, values, cb) => {
    if (typeof cb === "function" || typeof values === "function") return query(config, values, cb);
    const name = typeof config === "object" && config?.name ? config.name : "";
    const text = typeof config === "string" ? config : config?.text ?? "";
    const kind = name ? name.split("/")[0] : text.trim().split(/\s+/).slice(0, 3).join(" ");
    const t0 = now();
    return query(config, values).then((res) => {
      trips.record(kind, now() - t0);
      onDone?.(kind, config, values);
      return res;
    });
  };
  return client;
}

// CPU seconds the Postgres cluster has used so far: every live child of the postmaster (backends,
// autovacuum, walwriter...) plus the postmaster's count for children that already exited. Unlike wall
// time this barely moves when other programs compete for the cores, so it shows cost per job on a
// shared machine. Linux only (/proc); clock ticks are 1/100 s.
export function clusterCpuSeconds(postmasterPid) {
  const fields = (pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from #3 (state) on
  };
  const pm = fields(postmasterPid);
  // utime, stime = fields 14, 15; cutime, cstime = 16, 17 (index - 3 here)
  let ticks = Number(pm[11]) + Number(pm[12]) + Number(pm[13]) + Number(pm[14]);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = fields(entry);
      if (Number(f[1]) === postmasterPid) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // the process exited while we looked; the postmaster's cutime has it now
    }
  }
  return ticks / 100;
}

export const fmtRate = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a");
export const fmtMs = (x) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
