// Time from accept to job start: COUNT start-generation requests at uniformly random moments over WINDOW
// seconds, each from one of 20 users; then waits until every generation has started and reads, from the
// database's own clock, started_at - created_at (the row is written when the request is accepted; the
// worker stamps started_at when it takes up the generation). Prints JSON.
// Usage: deno run accept-to-start.ts --url URL --db DB_URL --count N --window SECONDS --timeout SECONDS
import { connect, distribution, flags, sleep, startGeneration, users } from "./lib.ts";

const opt = flags();
const count = Number(opt.count);
const sql = connect(opt.db);
const tokens = await users(sql, 20);
const offsets = Array.from({ length: count }, () => Math.random() * Number(opt.window) * 1000).sort((a, b) =>
  a - b
);

const t0 = performance.now();
const accepted = await Promise.all(offsets.map(async (offset, i) => {
  await sleep(offset);
  return startGeneration(opt.url, tokens[i % tokens.length], {
    prompt: `accept-to-start ${i}`,
    model_id: "black-forest-labs/flux-schnell",
  });
}));
const ids = accepted.flatMap((a) => a.id ? [a.id] : []);

const deadline = t0 + Number(opt.timeout) * 1000;
let rows: { ms: number | null }[] = [];
while (performance.now() < deadline) {
  rows = await sql<{ ms: number | null }[]>`
    select extract(epoch from started_at - created_at) * 1000 as ms
    from public.image_generations where id = any(${ids}::uuid[])`;
  if (rows.every((r) => r.ms !== null)) break;
  await sleep(250);
}
await sql.end();
const started = rows.flatMap((r) => r.ms === null ? [] : [Number(r.ms)]);
console.log(JSON.stringify({
  requested: count,
  accepted: ids.length,
  refused: accepted.filter((a) => !a.id).map((a) => `${a.status} ${a.error}`).slice(0, 5),
  started: started.length,
  accept_to_start_ms: distribution(started),
  accept_http_ms: distribution(accepted.map((a) => a.ms)),
}));
