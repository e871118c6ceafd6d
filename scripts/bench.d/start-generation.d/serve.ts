// Serves the start-generation function module as the edge runtime does (its `export default { fetch }`
// behind an HTTP server, no gateway in front): token check, parsing, the SQL call and the answer all run
// in the function. Prints {"listening":true,"port":N}.
import fn from "../../../supabase/functions/start-generation/index.ts";

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, fn.fetch);
console.log(JSON.stringify({ listening: true, port: server.addr.port }));
