// The floor's request handling, shared by the HTTP floor (floor.ts) and the in-process comparison
// (../wasm.d/crossing.ts): the user id read from the token's payload unchecked, the body parsed as JSON
// with no validation, one start_generation call through `query`, the answer built.

/** Runs start_generation with its five arguments in order; resolves to the row as JSON text. */
export type StartGenerationQuery = (args: (string | null)[]) => Promise<string>;

export function floorHandler(query: StartGenerationQuery, maxPending: string) {
  return async (req: Request): Promise<Response> => {
    const token = (req.headers.get("authorization") ?? "").slice("Bearer ".length);
    const sub = JSON.parse(atob(token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/"))).sub;
    const { prompt, model_id, ...params } = await req.json();
    const outcome = JSON.parse(await query([sub, prompt, model_id, JSON.stringify(params), maxPending]));
    return Response.json({
      success: true,
      generation_id: outcome.generation_id,
      job_id: String(outcome.job_id),
      status: outcome.status,
      message: "Generation queued.",
    });
  };
}
