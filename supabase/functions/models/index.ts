// GET /functions/v1/models — the model catalog for clients (crates/imagegen-core/src/catalog).
import { app } from "../_shared/app.ts";

export default {
  fetch: (req: Request): Response => app.models(req),
};
