// A client of the original Picture app while the database is upgraded: one connection reads the user's
// history and another inserts the mobile app's pending row, each as `authenticated` with the user's JWT
// claims (as PostgREST runs them), every 20 ms, until STOP_FILE exists. Prints one JSON line: per operation
// the count and latency percentiles in ms, and the errors seen.
// Usage: deno run --allow-all probe.ts DB_URL USER_ID STOP_FILE
import postgres from "postgres";

const [url, user, stopFile] = Deno.args;
const claims = JSON.stringify({ sub: user, role: "authenticated" });
const latencies: Record<string, number[]> = { read: [], insert: [] };
const errors: string[] = [];

const stopped = () => Deno.stat(stopFile).then(() => true, () => false);

async function loop(
  name: string,
  sql: postgres.Sql,
  statement: (tx: postgres.TransactionSql) => Promise<unknown>,
) {
  while (!(await stopped())) {
    const started = performance.now();
    try {
      await sql.begin(async (tx) => {
        await tx`set local role authenticated`;
        await tx`select set_config('request.jwt.claims', ${claims}, true)`;
        return await statement(tx);
      });
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
    }
    latencies[name].push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const reader = postgres(url, { max: 1, onnotice: () => {} });
const writer = postgres(url, { max: 1, onnotice: () => {} });
await Promise.all([
  loop("read", reader, (tx) =>
    tx`select id, status from public.image_generations where user_id = ${user}
        order by created_at desc limit 20`),
  loop("insert", writer, (tx) =>
    tx`insert into public.image_generations (user_id, prompt, model, status)
       values (${user}, 'probe', 'flux-schnell', 'pending')`),
]);
await Promise.all([reader.end(), writer.end()]);

const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    Number((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0).toFixed(1));
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: at(1) };
};
console.log(JSON.stringify({
  read: summary(latencies.read),
  insert: summary(latencies.insert),
  error_count: errors.length,
  errors: errors.slice(0, 3),
}));
