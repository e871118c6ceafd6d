// Local stand-in for pg_net: invoke_process_jobs() sends NOTIFY process_jobs where pg_net is absent;
// this forwards each notification as the POST pg_net makes on Supabase:
// <SUPABASE_URL>/functions/v1/process-jobs with the service key. Started by scripts/dev.
import postgres from "postgres";

const env = (name: string) =>
  Deno.env.get(name) ?? (() => {
    throw new Error(`${name} is not set`);
  })();
const target = `${env("SUPABASE_URL")}/functions/v1/process-jobs`;
const key = env("SUPABASE_SERVICE_ROLE_KEY");
const sql = postgres(env("SUPABASE_DB_URL"), { max: 1, onnotice: () => {} });
const log = (fields: Record<string, unknown>) =>
  console.log(JSON.stringify({ forwarder: "process_jobs", ...fields }));

await sql.listen("process_jobs", async (payload) => {
  try {
    const res = await fetch(target, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: payload || "{}",
    });
    await res.body?.cancel();
    log({ status: res.status });
  } catch (e) {
    log({ error: String(e) });
  }
}, () => log({ listening: true }));
