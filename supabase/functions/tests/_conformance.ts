// Shared by the conformance tests (conformance-*-test.ts): the steps of the Picture apps' flows
// (docs/CLIENT_CONTRACT.md §1, read from the apps' sources at Memo-2023/mana-monorepo@ff80aeec1,
// apps/picture/) and the probes that watch what the backend did (Storage objects, committed row states,
// the simulator's predictions, the worker's claims).
import type postgres from "postgres";
import { assert, assertEquals } from "./_assert.ts";
import { invoke, type Invoked, Postgrest, type Row } from "./_postgrest.ts";
import { Simulator, type Stack, type TestUser, withSimulatorStack } from "./_stack.ts";
import { LOCAL_SERVICE_ROLE_KEY } from "../../../scripts/local/keys.ts";

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The apps' size presets (contract §2), offered on every model. */
export const PRESETS: [number, number][] = [
  [1024, 1024],
  [1344, 768],
  [768, 1344],
  [1152, 896],
  [1216, 832],
  [1536, 640],
];
/** Where a stored output's bytes are, by `images.format` (contract §4). */
export const CONTENT_TYPES: Record<string, string> = {
  webp: "image/webp",
  png: "image/png",
  jpeg: "image/jpeg",
  svg: "image/svg+xml",
};
export const BUCKET = "generated-images";
export const FINISHED = ["completed", "failed"];

export type { Row, Simulator, Stack, TestUser };

/** A stack with the simulator; `kick`: start-generation wakes the worker, as in production. */
export function withStack(
  simArgs: string[],
  env: Record<string, string>,
  fn: (stack: Stack, sim: Simulator) => Promise<void>,
): Promise<void> {
  return withSimulatorStack(simArgs, { WORKER_KICK: "true", ...env }, fn);
}

/** The signed-in app's table access. */
export const as = (stack: Stack, user: TestUser) => Postgrest.user(stack.sql, user);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something other than undefined. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** The model picker (mobile models.ts getActiveModels): active models in sort order. */
export async function activeModels(api: Postgrest): Promise<Row[]> {
  const { data, error } = await api.from("models").select("*").eq("is_active", true)
    .order("sort_order", { ascending: true });
  assertEquals(error, null, "the apps read the models table");
  assert(data && data.length > 0, "the models table has active rows");
  return data;
}

/** One model row by its Replicate id, read from the picker's list. */
export async function modelRow(api: Postgrest, replicateId: string): Promise<Row> {
  const row = (await activeModels(api)).find((m) => m.replicate_id === replicateId);
  assert(row, `models has an active row for ${replicateId}`);
  return row;
}

/** `functions.invoke('start-generation', {body})` (shared queue.ts startImageGeneration). */
export function startGeneration(stack: Stack, user: TestUser | null, body: Row): Promise<Invoked> {
  return invoke(stack.url, user?.token ?? null, "start-generation", body);
}

/** start-generation as the web app calls it, which must accept; answers the generation id. */
export async function startAccepted(stack: Stack, user: TestUser, body: Row): Promise<string> {
  const res = await startGeneration(stack, user, body);
  assertEquals([res.status, res.data?.success], [200, true], `start-generation: ${JSON.stringify(res.body)}`);
  return String(res.data!.generation_id);
}

/** `functions.invoke('generate-image', {body})` (mobile imageGeneration.ts, RemixBottomSheet.tsx). */
export function generateImage(stack: Stack, user: TestUser | null, body: Row): Promise<Invoked> {
  return invoke(stack.url, user?.token ?? null, "generate-image", body);
}

/**
 * The mobile app's own row (imageGeneration.ts generateImage): INSERT with the user's token, status
 * pending, `.select().single()`. `extra` adds the remix columns (source_image_url, generation_strength).
 */
export async function insertOwnGeneration(
  stack: Stack,
  user: TestUser,
  model: Row,
  size: { width: number; height: number } = { width: 1024, height: 1024 },
  extra: Row = {},
): Promise<Row> {
  const { data, error } = await as(stack, user).from("image_generations").insert({
    user_id: user.id,
    prompt: "a lighthouse at dusk",
    negative_prompt: null,
    model: model.name,
    style: null,
    width: size.width,
    height: size.height,
    steps: model.default_steps,
    guidance_scale: model.default_guidance_scale,
    status: "pending",
    ...extra,
  }).select().single();
  assertEquals(error, null, "a user may insert their own pending generation");
  assert(data && UUID.test(String(data.id)));
  assertEquals(data.status, "pending");
  return data;
}

/** The generate-image body the mobile app sends for its row (imageGeneration.ts requestBody). */
export function legacyBody(row: Row, model: Row, extra: Row = {}): Row {
  return {
    prompt: row.prompt,
    negative_prompt: undefined,
    model_id: model.replicate_id,
    model_version: model.version,
    width: row.width,
    height: row.height,
    num_inference_steps: model.default_steps,
    guidance_scale: model.default_guidance_scale,
    generation_id: row.id,
    ...extra,
  };
}

/** The app's poll (queue.ts pollGenerationUntilComplete): select('*') by id until finished. */
export async function pollUntilFinished(
  api: Postgrest,
  id: string,
  ms = 30_000,
): Promise<{ row: Row; seen: string[] }> {
  const seen: string[] = [];
  const row = await waitFor(`generation ${id} to finish (seen: ${seen.join(",")})`, async () => {
    const { data, error } = await api.from("image_generations").select("*").eq("id", id).single();
    assertEquals(error, null, `the owner reads generation ${id}`);
    const status = String(data!.status);
    if (seen.at(-1) !== status) seen.push(status);
    return FINISHED.includes(status) ? data! : undefined;
  }, ms);
  return { row, seen };
}

/** The images row of a generation, as the apps read it on `completed`: `.eq('generation_id', id).single()`. */
export async function imageOf(api: Postgrest, generationId: string): Promise<Row> {
  const { data, error } = await api.from("images").select("*").eq("generation_id", generationId).single();
  assertEquals(error, null, `exactly one images row for generation ${generationId}`);
  return data!;
}

/** Checks a stored image the way an app uses it: its URL serves the bytes, with the format's type. */
export async function assertServed(stack: Stack, image: Row, userId: string, generationId: string) {
  const format = String(image.format);
  assert(format in CONTENT_TYPES, `images.format ${format} is one of ${Object.keys(CONTENT_TYPES)}`);
  assertEquals(
    image.storage_path,
    `${userId}/${generationId}.${format}`,
    "Storage path <user>/<generation>.<ext>",
  );
  assertEquals(image.filename, `${generationId}.${format}`);
  assertEquals(image.public_url, `${stack.url}/storage/v1/object/public/${BUCKET}/${image.storage_path}`);
  const res = await fetch(String(image.public_url));
  const bytes = new Uint8Array(await res.arrayBuffer());
  assertEquals(
    [res.status, res.headers.get("content-type")],
    [200, CONTENT_TYPES[format]],
    "public_url serves it",
  );
  assertEquals(image.file_size, bytes.byteLength, "images.file_size is the stored size");
}

/** Names of the Storage objects under `prefix` in the images bucket. */
export async function storageObjects(sql: postgres.Sql, prefix: string): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select name from storage.objects where bucket_id = ${BUCKET} and name like ${prefix + "%"} order by name`;
  return rows.map((r) => r.name);
}

/** POST process-jobs with the service key (as pg_cron does) until no job is due or running. */
export async function drainQueue(stack: Stack, ms = 120_000): Promise<Row[]> {
  const answers: Row[] = [];
  await waitFor("the queue to drain", async () => {
    const res = await stack.call("process-jobs", { method: "POST", token: LOCAL_SERVICE_ROLE_KEY });
    answers.push(await res.json());
    assert(res.ok, `process-jobs (service key): ${res.status} ${JSON.stringify(answers.at(-1))}`);
    const [{ open }] = await stack.sql`
      select count(*)::int as open from job_queue where status in ('pending', 'processing')`;
    return open === 0 ? true : undefined;
  }, ms);
  return answers;
}

/** A prediction as Replicate answers GET /v1/predictions/{id}. */
export async function prediction(sim: Simulator, id: string): Promise<Row> {
  const res = await fetch(`${sim.apiBase}/predictions/${id}`, {
    headers: { authorization: `Bearer ${Simulator.TOKEN}` },
  });
  assertEquals(res.status, 200, `GET prediction ${id}`);
  return await res.json();
}

/** The simulator's predictions, newest first (GET /v1/predictions, first page). */
export async function predictions(sim: Simulator): Promise<Row[]> {
  const res = await fetch(`${sim.apiBase}/predictions`, {
    headers: { authorization: `Bearer ${Simulator.TOKEN}` },
  });
  assertEquals(res.status, 200);
  return (await res.json()).results;
}

/** Predictions created at the simulator so far. */
export async function creates(sim: Simulator): Promise<number> {
  return (await sim.admin("GET", "stats")).creates_total as number;
}

/**
 * What Realtime would deliver for image_generations, recorded in the test's database: a deferred
 * constraint trigger fires at COMMIT for every INSERT/UPDATE, in order, and logs the row as that event
 * carries it (`row`) and whether the generation's images row is committed with it (`has_image`). Test-only
 * objects in the test's own database; SECURITY DEFINER so the users' own writes are logged too.
 */
export async function recordCommits(sql: postgres.Sql): Promise<(id: string) => Promise<Row[]>> {
  await sql.unsafe(`
    create table public.conformance_commits (
      seq bigserial primary key, tx bigint not null, op text not null, id uuid not null, status text,
      has_image boolean not null, row jsonb not null);
    create function public.conformance_log_commit() returns trigger
    language plpgsql security definer set search_path = '' as $$
    begin
      insert into public.conformance_commits (tx, op, id, status, has_image, row)
      values (txid_current(), tg_op, new.id, new.status,
              exists (select 1 from public.images i where i.generation_id = new.id), to_jsonb(new));
      return null;
    end $$;
    create constraint trigger conformance_log_commit
      after insert or update on public.image_generations
      deferrable initially deferred
      for each row execute function public.conformance_log_commit();`);
  return async (id: string) =>
    (await sql`select tx::text, op, status, has_image, row from public.conformance_commits
                where id = ${id} order by seq`).map((r) => ({ ...r }));
}

/** The committed states in order: each transaction's last status, consecutive repeats collapsed. */
export function statusSequence(events: Row[]): string[] {
  const out: string[] = [];
  events.forEach((e, i) => {
    const lastOfTx = events[i + 1]?.tx !== e.tx;
    if (lastOfTx && out.at(-1) !== e.status) out.push(String(e.status));
  });
  return out;
}

/**
 * Which process-jobs invocations claimed jobs: a test-only trigger logs `locked_by` whenever a job
 * enters `processing`. ASSUMPTION (the lead keeps it observable): a drain is one process-jobs invocation,
 * and the worker marks the jobs it claims with a worker id of its own (`process-jobs:<random uuid>`)
 * in job_queue.locked_by.
 */
export async function recordClaims(sql: postgres.Sql): Promise<() => Promise<string[]>> {
  await sql.unsafe(`
    create table public.conformance_claims (seq bigserial primary key, job_id text, worker text);
    create function public.conformance_log_claim() returns trigger
    language plpgsql security definer set search_path = '' as $$
    begin
      if new.status = 'processing' and old.status is distinct from 'processing' then
        insert into public.conformance_claims (job_id, worker) values (new.id::text, new.locked_by);
      end if;
      return null;
    end $$;
    create trigger conformance_log_claim after update on public.job_queue
      for each row execute function public.conformance_log_claim();`);
  return async () =>
    (await sql<
      { worker: string }[]
    >`select distinct coalesce(worker, '?') as worker from public.conformance_claims`)
      .map((r) => r.worker);
}
