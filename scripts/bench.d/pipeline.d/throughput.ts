// End-to-end throughput: start-generation requests arrive at RATE per second (open loop, 50 users) for
// WINDOW seconds; the worker (woken by each accept, pg_cron sweeping behind) generates through the
// simulator and stores every image. Waits until every generation is finished or HORIZON seconds after the
// first request; what is unfinished then is cancelled as a user cancels (row → failed, "Cancelled by
// user"), so a configuration that cannot keep up still ends in bounded time. Once no drain is running it
// reads the rows (completed per hour over the completion span, failures with their reasons, accept-to-done
// times), the worker's job runs from the gateway's log LOG (worker-seconds) and the simulator's request
// counters (Replicate API calls). Prints JSON.
// Usage: deno run throughput.ts --url GATEWAY_URL --db DB_URL --sim SIM_URL --log GATEWAY_LOG --rate R
//          --window S --horizon S --settle S
import { type Accepted, connect, distribution, flags, sleep, startGeneration, users } from "./lib.ts";
import { readDrainLog, replicateCalls, slotSeconds, workerBusy } from "./worker-time.ts";

const opt = flags();
const rate = Number(opt.rate);
const total = Math.round(rate * Number(opt.window));
const sql = connect(opt.db);
const tokens = await users(sql, 50);

const t0 = performance.now();
const pending: Promise<Accepted>[] = [];
for (let i = 0; i < total; i++) {
  const due = t0 + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 0) await sleep(wait);
  pending.push(startGeneration(opt.url, tokens[i % tokens.length], {
    prompt: `throughput ${i}`,
    model_id: "black-forest-labs/flux-schnell",
  }));
}
const sendSeconds = (performance.now() - t0) / 1000;
const accepted = await Promise.all(pending);
const ids = accepted.flatMap((a) => a.id ? [a.id] : []);

type Row = {
  id: string;
  status: string;
  error_message: string | null;
  created: number;
  started: number | null;
  done: number | null;
};
const finished = (r: Row) => r.status === "completed" || r.status === "failed";
const readRows = () =>
  sql<Row[]>`
    select id, status, error_message, extract(epoch from created_at) * 1000 as created,
      extract(epoch from started_at) * 1000 as started, extract(epoch from completed_at) * 1000 as done
    from public.image_generations where id = any(${ids}::uuid[])`;

const horizon = t0 + Number(opt.horizon) * 1000;
let rows: Row[] = [];
while (performance.now() < horizon) {
  rows = await readRows();
  if (rows.every(finished)) break;
  await sleep(500);
}
// Past the horizon: cancel the rest the way a client does. Pending jobs are cancelled with the row; a
// running one sees it at its next look (every 3 s) and cancels its prediction.
const CANCEL = "Cancelled by user";
const [{ at: cutAt }] = await sql`select extract(epoch from now()) * 1000 as at`;
const cut = await sql`
  update public.image_generations set status = 'failed', error_message = ${CANCEL}
  where id = any(${ids}::uuid[]) and status not in ('completed', 'failed') returning id`;

// Every job run is in the log once the drain that ran it has ended: wait for the worker to go quiet.
const settleBy = performance.now() + Number(opt.settle) * 1000;
let busy = true;
while (performance.now() < settleBy) {
  busy = await workerBusy(opt.url);
  if (!busy) break;
  await sleep(500);
}
rows = await readRows();
const jobs = await sql<{ id: string; generation_id: string; status: string; attempt_number: number }[]>`
  select id, payload->>'generation_id' as generation_id, status, attempt_number
  from public.job_queue where (payload->>'generation_id')::uuid = any(${ids}::uuid[])`;
await sql.end();
const calls = await replicateCalls(opt.sim);
const drainLog = readDrainLog(await Deno.readTextFile(opt.log));

const completedRows = rows.filter((r) => r.status === "completed");
const completedIds = new Set(completedRows.map((r) => r.id));
const completedJobs = new Set(jobs.filter((j) => completedIds.has(j.generation_id)).map((j) => Number(j.id)));
// A check that the log holds every drain: each job that completed was logged as completed by its drain.
const loggedCompleted = new Set(drainLog.runs.filter((r) => r.outcome === "completed").map((r) => r.id));
const completedJobsUnlogged = jobs.filter((j) =>
  j.status === "completed" && !loggedCompleted.has(Number(j.id))
);

const failures: Record<string, number> = {};
for (const r of rows.filter((r) => r.status === "failed" && r.error_message !== CANCEL)) {
  failures[r.error_message ?? "?"] = (failures[r.error_message ?? "?"] ?? 0) + 1;
}
const doneTimes = completedRows.map((r) => Number(r.done)).sort((a, b) => a - b);
const span = (doneTimes[doneTimes.length - 1] - doneTimes[0]) / 1000;
// Over the run: from the first accept to the last completion, or to the cut when there was one.
const runStart = Math.min(...rows.map((r) => Number(r.created)));
const runSeconds = ((cut.length > 0 ? Number(cutAt) : doneTimes[doneTimes.length - 1]) - runStart) / 1000;
const perCompleted = (x: number) => completedRows.length > 0 ? x / completedRows.length : null;
const slotS = slotSeconds(drainLog.runs);
const cancelled = new Set(cut.map((r) => r.id));
console.log(JSON.stringify({
  offered_per_hour: Math.round(rate * 3600),
  sent: total,
  send_seconds: sendSeconds,
  accepted: ids.length,
  refused: accepted.filter((a) => !a.id).length,
  completed: completedRows.length,
  // Failed on their own; the generations cancelled at the horizon are `cut`.
  failed: rows.filter((r) => r.status === "failed" && !cancelled.has(r.id)).length,
  cut: cut.length,
  failures,
  jobs_failed: jobs.filter((j) => j.status === "failed").length,
  jobs_retried: jobs.filter((j) => j.attempt_number > 1).length,
  job_statuses: count(jobs.map((j) => j.status)),
  completion_span_s: span,
  completed_per_hour: completedRows.length > 1 ? Math.round(((completedRows.length - 1) / span) * 3600) : 0,
  run_s: runSeconds,
  completed_per_hour_over_run: Math.round((completedRows.length / runSeconds) * 3600),
  accept_to_start_ms: distribution(rows.flatMap((r) => r.started === null ? [] : [r.started - r.created])),
  accept_to_done_ms: distribution(completedRows.map((r) => r.done! - r.created)),
  accept_http_ms: distribution(accepted.map((a) => a.ms)),
  // Worker slots: every job run's duration summed, all of them and those of completed generations.
  worker_slot_s: slotS,
  worker_slot_s_per_generation: perCompleted(slotS),
  worker_slot_s_of_completed_per_generation: perCompleted(slotSeconds(drainLog.runs, completedJobs)),
  job_runs: drainLog.runs.length,
  job_run_outcomes: count(drainLog.runs.map((r) => r.outcome)),
  drains: drainLog.drains,
  // Each of these means job runs are missing from the worker-seconds: the figure is then a floor.
  drain_lines_unreadable: drainLog.unreadable,
  worker_isolates_cut: drainLog.isolatesCut,
  worker_busy_at_end: busy,
  completed_jobs_unlogged: completedJobsUnlogged.length,
  replicate_api_calls: calls.api,
  replicate_api_calls_per_generation: perCompleted(calls.api),
  replicate_requests: calls.by,
}));

function count(words: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of words) out[w] = (out[w] ?? 0) + 1;
  return out;
}
