// POST /functions/v1/replicate-webhook?generation_id=…&attempt=… — Replicate's signed `completed` webhook
// (deploy with verify_jwt = false: the Standard Webhooks signature is the authentication). Records the
// prediction's end once per webhook-id and wakes the worker; all logic is Rust.
import { app } from "../_shared/app.ts";

export default {
  fetch: (req: Request): Promise<Response> => app.replicateWebhook(req),
};
