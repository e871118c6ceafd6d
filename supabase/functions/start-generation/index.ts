// POST /functions/v1/start-generation — validates the request and queues the generation; all the logic
// is Rust (crates/imagegen-core), reached through the Wasm app.
import { app } from "../_shared/app.ts";

export default {
  fetch: (req: Request): Promise<Response> => app.startGeneration(req),
};
