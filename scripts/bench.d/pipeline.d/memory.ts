// Peak memory of the worker's process while it stores large images: COUNT generations accepted with the
// kick off, then one process-jobs invocation drains them (in the background, until they end) WORKER_CONCURRENCY at a time while this samples
// the process's resident memory. The peak is the kernel's high-water mark (VmHWM, reset just before the
// invocation through /proc/PID/clear_refs), cross-checked by sampling VmRSS every 10 ms. Prints JSON.
// Usage: deno run memory.ts --url URL --db DB_URL --pid GATEWAY_PID --count N --concurrency C
import { LOCAL_SERVICE_ROLE_KEY } from "../../local/keys.ts";
import { connect, flags, sleep, startGeneration, users } from "./lib.ts";

const opt = flags();
const pid = Number(opt.pid);
const sql = connect(opt.db);
const [token] = await users(sql, 1);
const [{ since }] = await sql`select now() as since`;

const kib = async (field: "VmRSS" | "VmHWM") => {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))![1]);
};

const ids: string[] = [];
for (let i = 0; i < Number(opt.count); i++) {
  const accepted = await startGeneration(opt.url, token, {
    prompt: `memory ${i}`,
    model_id: "black-forest-labs/flux-schnell",
    output_format: "png", // the simulator pads PNG outputs to --output-bytes
  });
  if (!accepted.id) throw new Error(`start-generation refused: ${accepted.status} ${accepted.error}`);
  ids.push(accepted.id);
}
await sleep(1000); // let the accepts' garbage settle before the baseline
const baseline = await kib("VmRSS");
await Deno.writeTextFile(`/proc/${pid}/clear_refs`, "5"); // resets VmHWM to the current RSS

let sampling = true;
let sampledPeak = baseline;
const sampler = (async () => {
  while (sampling) {
    sampledPeak = Math.max(sampledPeak, await kib("VmRSS"));
    await sleep(10);
  }
})();
const started = performance.now();
const res = await fetch(`${opt.url}/functions/v1/process-jobs`, {
  method: "POST",
  headers: { authorization: `Bearer ${LOCAL_SERVICE_ROLE_KEY}` },
});
const summary = await res.json();
// process-jobs answers once it has claimed and drains in the background: wait for the generations to end.
for (let polls = 0; polls < 6000; polls++) {
  const [{ open }] = await sql`select count(*)::int as open from public.image_generations
    where id = any(${ids}::uuid[]) and status not in ('completed', 'failed')`;
  if (open === 0) break;
  await sleep(50);
}
const seconds = (performance.now() - started) / 1000;
sampling = false;
await sampler;
const peak = await kib("VmHWM");

const [stored] = await sql`
  select count(*)::int as n, avg((metadata->>'size')::bigint)::bigint as avg_bytes,
    max((metadata->>'size')::bigint)::bigint as max_bytes
  from storage.objects where bucket_id = 'generated-images' and created_at >= ${since}`;
const [done] = await sql`select count(*) filter (where status = 'completed')::int as completed,
  count(*) filter (where status = 'failed')::int as failed from public.image_generations
  where id = any(${ids}::uuid[])`;
// Jobs that did not end in this invocation (a retry waiting for its backoff), with their last error.
const unfinished = await sql`
  select job_type, status, attempt_number, error_message from public.job_queue
  where (payload->>'generation_id')::uuid = any(${ids}::uuid[]) and status not in ('completed', 'failed')`;
await sql.end();
console.log(JSON.stringify({
  http_status: res.status,
  claimed: summary.claimed ?? null,
  seconds,
  completed: done.completed,
  failed: done.failed,
  unfinished_jobs: unfinished,
  images_stored: stored.n,
  image_bytes_avg: Number(stored.avg_bytes),
  image_bytes_max: Number(stored.max_bytes),
  concurrency: Number(opt.concurrency),
  rss_baseline_kib: baseline,
  rss_peak_kib: peak,
  rss_sampled_peak_kib: sampledPeak,
}));
