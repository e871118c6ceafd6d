// The floor start-generation is measured against: a bare Deno.serve handler calling the same SQL function
// with the same statement and options through postgres.js (same pool size), with no Wasm, no token verification (the
// user id is read from the token's payload unchecked) and no validation beyond JSON parsing.
// Prints {"listening":true,"port":N}.
import postgres from "postgres";

const sql = postgres(Deno.env.get("SUPABASE_DB_URL")!, { max: 10, onnotice: () => {} });
const maxPending = Deno.env.get("MAX_PENDING_GENERATIONS") ?? "10";
// The statement the Wasm host sends for start_generation (supabase/functions/_shared/host.ts).
const statement =
  "select to_jsonb(r)::text as row from public.start_generation(p_user_id => $1::text::uuid, " +
  "p_prompt => $2::text::text, p_model_id => $3::text::text, p_params => $4::text::jsonb, " +
  "p_idempotency_key => $5::text::text, p_request_fingerprint => $6::text::text, p_max_pending => $7::text::int) r";

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
  const token = (req.headers.get("authorization") ?? "").slice("Bearer ".length);
  const sub = JSON.parse(atob(token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/"))).sub;
  const { prompt, model_id, ...params } = await req.json();
  const [{ row }] = await sql.unsafe(statement, [
    sub,
    prompt,
    model_id,
    JSON.stringify(params),
    null,
    null,
    maxPending,
  ], { prepare: true });
  const outcome = JSON.parse(row);
  return Response.json({ generation_id: outcome.generation_id, status: outcome.status }, { status: 201 });
});
console.log(JSON.stringify({ listening: true, port: server.addr.port }));
