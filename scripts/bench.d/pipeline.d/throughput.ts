// End-to-end throughput: start-generation requests arrive at RATE per second (open loop, 50 users) for
// WINDOW seconds; the worker (woken by each accept, pg_cron sweeping behind) generates through the
// simulator and stores every image. Waits until every generation is finished or TIMEOUT, then reads the
// rows: completed per hour over the completion span, failures with their reasons, accept-to-done times.
// Prints JSON. Usage: deno run throughput.ts --url URL --db DB_URL --rate R --window S --timeout S
import { type Accepted, connect, distribution, flags, sleep, startGeneration, users } from "./lib.ts";

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

const deadline = t0 + Number(opt.timeout) * 1000;
type Row = {
  status: string;
  error_message: string | null;
  created: number;
  started: number | null;
  done: number | null;
};
let rows: Row[] = [];
while (performance.now() < deadline) {
  rows = await sql<Row[]>`
    select status, error_message, extract(epoch from created_at) * 1000 as created,
      extract(epoch from started_at) * 1000 as started, extract(epoch from completed_at) * 1000 as done
    from public.image_generations where id = any(${ids}::uuid[])`;
  if (rows.every((r) => r.status === "completed" || r.status === "failed")) break;
  await sleep(500);
}
const [{ jobs_failed, retried }] = await sql`
  select count(*) filter (where status = 'failed')::int as jobs_failed,
    count(*) filter (where attempt_number > 1)::int as retried
  from public.job_queue where (payload->>'generation_id')::uuid = any(${ids}::uuid[])`;
await sql.end();

const completed = rows.filter((r) => r.status === "completed").map((r) => ({
  created: Number(r.created),
  done: Number(r.done),
}));
const failures: Record<string, number> = {};
for (const r of rows.filter((r) => r.status === "failed")) {
  failures[r.error_message ?? "?"] = (failures[r.error_message ?? "?"] ?? 0) + 1;
}
const doneTimes = completed.map((c) => c.done).sort((a, b) => a - b);
const span = (doneTimes[doneTimes.length - 1] - doneTimes[0]) / 1000;
console.log(JSON.stringify({
  offered_per_hour: Math.round(rate * 3600),
  sent: total,
  send_seconds: sendSeconds,
  accepted: ids.length,
  refused: accepted.filter((a) => !a.id).length,
  completed: completed.length,
  failed: rows.filter((r) => r.status === "failed").length,
  unfinished: ids.length - rows.filter((r) => r.status === "completed" || r.status === "failed").length,
  failures,
  jobs_failed,
  jobs_retried: retried,
  completion_span_s: span,
  completed_per_hour: completed.length > 1 ? Math.round(((completed.length - 1) / span) * 3600) : 0,
  accept_to_start_ms: distribution(rows.flatMap((r) => r.started === null ? [] : [r.started - r.created])),
  accept_to_done_ms: distribution(completed.map((c) => c.done - c.created)),
  accept_http_ms: distribution(accepted.map((a) => a.ms)),
}));
