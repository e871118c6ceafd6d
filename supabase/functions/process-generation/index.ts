// POST /functions/v1/process-generation {"generation_id"} — service role only: runs the generation's
// Replicate prediction (the worker runs the same Rust code in-process) and answers outputs and timings.
import { app } from "../_shared/app.ts";

export default {
  fetch: (req: Request): Promise<Response> => app.processGeneration(req),
};
