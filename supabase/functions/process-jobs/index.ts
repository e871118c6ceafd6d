// POST /functions/v1/process-jobs — service role only: the worker. Claims queued jobs (generate-image,
// download-image), answers at once and runs them under EdgeRuntime.waitUntil within the isolate's wall
// clock; all logic is Rust.
import { app } from "../_shared/app.ts";

export default {
  fetch: (req: Request): Promise<Response> => app.processJobs(req),
};
