// POST /functions/v1/generate-image — legacy synchronous API (deprecated: use start-generation). Same
// request; answers the finished generation with its image_url, or 202 with the generation_id past its
// time limit. All logic is Rust.
import { app } from "../_shared/app.ts";

export default {
  fetch: (req: Request): Promise<Response> => app.generateImage(req),
};
