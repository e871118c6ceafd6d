// The floor start-generation is measured against: a bare Deno.serve handler calling the same SQL function
// with the same statement and options through postgres.js (same pool size), with no Wasm, no token
// verification and no validation beyond JSON parsing (floor-handler.ts). Prints {"listening":true,"port":N}.
import postgres from "postgres";
import { floorHandler } from "./floor-handler.ts";

const sql = postgres(Deno.env.get("SUPABASE_DB_URL")!, { max: 10, onnotice: () => {} });
// The statement the Wasm host sends for start_generation (supabase/functions/_shared/host.ts).
const statement =
  "select to_jsonb(r)::text as row from public.start_generation(p_user_id => $1::text::uuid, " +
  "p_prompt => $2::text::text, p_replicate_model => $3::text::text, p_params => $4::text::jsonb, " +
  "p_max_pending => $5::text::int) r";

const handler = floorHandler(async (args) => {
  const [{ row }] = await sql.unsafe(statement, args, { prepare: true });
  return row;
}, Deno.env.get("MAX_PENDING_GENERATIONS") ?? "10");
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
console.log(JSON.stringify({ listening: true, port: server.addr.port }));
