// POST /functions/v1/process-jobs — service role only: the worker. Claims and runs queued jobs
// (generate-image, download-image) concurrently within its time budget; all logic is Rust.
import { app } from "../_shared/app.ts";

export default {
  fetch: (req: Request): Promise<Response> => app.processJobs(req),
};
