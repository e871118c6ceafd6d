// The guides, run: every fenced block of docs/DEPLOYMENT_GUIDE.md and docs/QUICK_REFERENCE.md is executed
// or checked here, so a command or query that no longer matches the code fails the suite.
//
// Fences (the first word is the language, the rest are tags; DEPLOYMENT_GUIDE.md explains them to readers):
//   sql                 run in a fresh database cloned from the migrated template, after insertFixtures, as
//                       postgres, in a transaction that is rolled back
//   sql supabase-only   needs Vault, pg_net or pg_cron: run in the cluster's pg_cron database (TEST_DB_ADMIN_URL,
//                       `postgres`, migrated by scripts/test) after insertFixtures and STAND_INS (vault, net with
//                       their documented shapes), rolled back; pg_cron there is the real one
//   sh                  run with bash from the repository root against a spawned stack (gateway, simulator,
//                       fresh database with insertFixtures), blocks in order; curl fails on HTTP errors
//   sh expect=<text>    the same, curl left alone, and the output must contain <text>
//   sh cloud-only       not run (it needs a real project): `bash -n` parses it, every program must exist,
//                       and supabase/npm/curl subcommands and flags must be in their --help
//   sh upgrade,         the upgrade-in-place section: run in document order, sh with bash and sql as
//   sql upgrade         postgres (kept, not rolled back), against one database holding the original Picture
//                       system (supabase/tests/fixtures/original), SUPABASE_DB_URL pointing at it
//   js                  the blocks of a guide form one module: type-checked with deno check against
//                       supabase-js, then its startGeneration/waitForGeneration run against a spawned stack
//   json, text          sample output; json must parse
// Placeholders: `<lower_snake>` in a runnable or checked block is replaced with a value from the maps
// below (fixture values for sql/sh, dummies for cloud-only, the stack's for js); an unknown one fails.
import postgres from "postgres";
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { TestDatabase, withSimulatorStack } from "./_stack.ts";
import { cliUrl, originalDatabase } from "./_original.ts";
import { LOCAL_ANON_KEY, LOCAL_SERVICE_ROLE_KEY } from "../../../scripts/local/keys.ts";

const root = new URL("../../../", import.meta.url);
const GUIDES = ["docs/DEPLOYMENT_GUIDE.md", "docs/QUICK_REFERENCE.md"];
/** The supabase-js the client examples are checked and run with (`@supabase/supabase-js` in the guide). */
const SUPABASE_JS = "npm:@supabase/supabase-js@2.119.1";

type Block = {
  guide: string;
  line: number;
  lang: string;
  tags: Set<string>;
  expect?: string;
  code: string;
};
const where = (b: Block) => `${b.guide}:${b.line}`;

/** Fenced blocks of a markdown file, with their language, tags and `expect=`. */
function blocksOf(guide: string, markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^(\s*)(`{3,})(.*)$/);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const [lang = "", ...words] = info.trim().split(/\s+/).filter(Boolean);
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[j])) {
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
      j++;
    }
    assert(j < lines.length, `${guide}:${i + 1}: unclosed code block`);
    const expect = words.find((w) => w.startsWith("expect="))?.slice("expect=".length);
    blocks.push({
      guide,
      line: i + 1,
      lang,
      tags: new Set(words.filter((w) => !w.startsWith("expect="))),
      expect,
      code: body.join("\n"),
    });
    i = j;
  }
  return blocks;
}

const guides = await Promise.all(
  GUIDES.map(async (guide) => blocksOf(guide, await Deno.readTextFile(new URL(guide, root)))),
);
const blocks = guides.flat();
const ofKind = (lang: string, tag?: string) =>
  blocks.filter((b) => b.lang === lang && (tag ? b.tags.has(tag) : b.tags.size === 0));

// In js, placeholders are whole string literals ("<supabase_url>"): `Promise<string>` in JSDoc is a type.
const PLACEHOLDER = /<([a-z][a-z0-9_]*)>/g;
const JS_PLACEHOLDER = /(?<=")<([a-z][a-z0-9_]*)>(?=")/g;

/** Replaces every `<name>` with `values[name]`; an unknown placeholder fails the block. */
function fill(block: Block, values: Record<string, string>): string {
  return block.code.replace(block.lang === "js" ? JS_PLACEHOLDER : PLACEHOLDER, (_, name: string) => {
    if (!(name in values)) throw new Error(`${where(block)}: unknown placeholder <${name}>`);
    return values[name];
  });
}

// ---------------------------------------------------------------------------------------------------
// Fixtures: a user with generations and jobs in every state the guides' queries look for.

type Fixtures = {
  userId: string;
  email: string;
  generations: Record<
    "pending" | "processing" | "retrying" | "stuck" | "completed" | "failed" | "old",
    string
  >;
  jobs: Record<"due" | "live" | "retrying" | "stuck" | "completed" | "failed" | "old", string>;
};

type Sql = postgres.Sql | postgres.TransactionSql;

async function insertFixtures(sql: Sql, user?: { id: string; email: string }): Promise<Fixtures> {
  const userId = user?.id ?? crypto.randomUUID();
  const email = user?.email ?? `guides-${userId.slice(0, 8)}@example.test`;
  if (!user) await sql`insert into auth.users (id, email) values (${userId}, ${email})`;
  const g = {
    pending: crypto.randomUUID(),
    processing: crypto.randomUUID(),
    retrying: crypto.randomUUID(),
    stuck: crypto.randomUUID(),
    completed: crypto.randomUUID(),
    failed: crypto.randomUUID(),
    old: crypto.randomUUID(),
  };
  const path = (id: string) => `${userId}/${id}.webp`;
  const url = (id: string) => `http://127.0.0.1:54321/storage/v1/object/public/generated-images/${path(id)}`;
  const outputs = (id: string) => JSON.stringify([{ storage_path: path(id), url: url(id) }]);
  // deno-fmt-ignore
  await sql.unsafe(`
    insert into public.image_generations
      (id, user_id, prompt, replicate_model, params, status, created_at, started_at, completed_at,
       image_url, storage_path, outputs, error_message)
    values
      ($1, $8, 'a lighthouse at dusk', 'black-forest-labs/flux-schnell', '{"width":1024,"height":576}', 'pending',
       now() - interval '5 seconds', null, null, null, null, '[]', null),
      ($2, $8, 'a fox in the snow', 'black-forest-labs/flux-schnell', '{}', 'processing',
       now() - interval '30 seconds', now() - interval '29 seconds', null, null, null, '[]', null),
      ($3, $8, 'a harbour at night', 'black-forest-labs/flux-schnell', '{}', 'processing',
       now() - interval '40 seconds', now() - interval '39 seconds', null, null, null, '[]', null),
      ($4, $8, 'a stuck one', 'black-forest-labs/flux-schnell', '{}', 'processing',
       now() - interval '20 minutes', now() - interval '20 minutes', null, null, null, '[]', null),
      ($5, $8, 'a red bicycle', 'black-forest-labs/flux-schnell', '{}', 'completed',
       now() - interval '3 minutes', now() - interval '179 seconds', now() - interval '177 seconds',
       $9, $10, $11::text::jsonb, null),
      ($6, $8, 'a failed one', 'black-forest-labs/flux-schnell', '{}', 'failed',
       now() - interval '10 minutes', now() - interval '10 minutes', now() - interval '9 minutes', null, null, '[]',
       'Replicate refused our API token (check REPLICATE_API_TOKEN)'),
      ($7, $8, 'an old one', 'black-forest-labs/flux-schnell', '{}', 'completed',
       now() - interval '8 days', now() - interval '8 days', now() - interval '8 days', $12, $13, $14::text::jsonb, null)`,
    [g.pending, g.processing, g.retrying, g.stuck, g.completed, g.failed, g.old, userId,
     url(g.completed), path(g.completed), outputs(g.completed), url(g.old), path(g.old), outputs(g.old)],
  );
  // Every column set on insert (the updated_at trigger only fires on updates), so ages are exact.
  // deno-fmt-ignore
  const rows = await sql.unsafe(`
    insert into public.job_queue (job_type, payload, dedupe_key, status, attempt_number, run_at, locked_by,
                                  locked_until, error_message, created_at, updated_at, completed_at)
    select split_part(key, ':', 1), jsonb_build_object('generation_id', split_part(key, ':', 2)), key, status,
           attempt, now() + run_in, locked_by, now() + locked_for, error, now() - age, now() - quiet,
           now() - finished
      from (values
        ('generate-image:' || $1, 'pending', 0, interval '0', null, null::interval, null, interval '5 seconds',
         interval '5 seconds', null::interval),
        ('generate-image:' || $2, 'processing', 1, interval '-29 seconds', 'process-jobs:live', interval '4 minutes',
         null, interval '30 seconds', interval '10 seconds', null),
        ('generate-image:' || $3, 'pending', 1, interval '30 seconds', null, null,
         'Replicate is busy (rate limited); retrying in 30 s', interval '40 seconds', interval '5 seconds', null),
        ('generate-image:' || $4, 'processing', 1, interval '-20 minutes', 'process-jobs:gone', interval '-15 minutes',
         null, interval '20 minutes', interval '20 minutes', null),
        ('download-image:' || $5, 'completed', 1, interval '-178 seconds', null, null, null, interval '178 seconds',
         interval '177 seconds', interval '177 seconds'),
        ('generate-image:' || $6, 'failed', 3, interval '-10 minutes', null, null,
         'Replicate refused our API token (check REPLICATE_API_TOKEN)', interval '10 minutes', interval '9 minutes',
         interval '9 minutes'),
        ('download-image:' || $7, 'completed', 1, interval '-8 days', null, null, null, interval '8 days',
         interval '8 days', interval '8 days')
      ) as f(key, status, attempt, run_in, locked_by, locked_for, error, age, quiet, finished)
    returning id::text, dedupe_key`,
    [g.pending, g.processing, g.retrying, g.stuck, g.completed, g.failed, g.old],
  );
  // What the worker writes: the user's sentence as error_message, the detail in error_details.
  await sql.unsafe(
    `update public.job_queue
        set error_message = 'The image service is not available right now; please try again later.',
            error_details = '{"code": "replicate_unauthorized",
                              "detail": "Replicate refused our API token (check REPLICATE_API_TOKEN)"}'
      where dedupe_key = 'generate-image:' || $1`,
    [g.failed],
  );
  await sql.unsafe(
    `update public.job_queue
        set error_message = 'The image service is busy; please try again in a few minutes.',
            error_details = '{"code": "service_busy",
                              "detail": "Replicate is busy (rate limited); retrying in 30 s"}'
      where dedupe_key = 'generate-image:' || $1`,
    [g.retrying],
  );
  const job = (key: string) => rows.find((r) => r.dedupe_key === key)!.id as string;
  const jobs = {
    due: job(`generate-image:${g.pending}`),
    live: job(`generate-image:${g.processing}`),
    retrying: job(`generate-image:${g.retrying}`),
    stuck: job(`generate-image:${g.stuck}`),
    completed: job(`download-image:${g.completed}`),
    failed: job(`generate-image:${g.failed}`),
    old: job(`download-image:${g.old}`),
  };
  return { userId, email, generations: g, jobs };
}

/** Fixture values for the placeholders of runnable blocks. */
function fixtureValues(fx: Fixtures): Record<string, string> {
  return {
    user_id: fx.userId,
    email: fx.email,
    generation_id: fx.generations.completed,
    job_id: fx.jobs.failed,
    project_ref: "abcdefghijklmnopqrst",
    service_key: "sb_secret_guides_test",
  };
}

// Stand-ins for Supabase's Vault and pg_net with the documented columns and signatures (supabase/vault,
// supabase/pg_net docs/api.md), created inside the rolled-back transaction.
const STAND_INS = `
  create schema vault;
  create table vault.secrets (
    id uuid primary key default gen_random_uuid(), name text, description text not null default '',
    secret text not null, key_id uuid, nonce bytea,
    created_at timestamptz not null default now(), updated_at timestamptz not null default now());
  create unique index secrets_name_idx on vault.secrets (name) where name is not null;
  create view vault.decrypted_secrets as
    select id, name, description, secret, secret as decrypted_secret, key_id, nonce, created_at, updated_at
      from vault.secrets;
  create function vault.create_secret(new_secret text, new_name text default null,
                                      new_description text default '', new_key_id uuid default null)
  returns uuid language sql as $$
    insert into vault.secrets (secret, name, description, key_id)
    values (new_secret, new_name, coalesce(new_description, ''), new_key_id) returning id
  $$;
  create function vault.update_secret(secret_id uuid, new_secret text default null, new_name text default null,
                                      new_description text default null, new_key_id uuid default null)
  returns void language sql as $$
    update vault.secrets
       set secret = coalesce(new_secret, secret), name = coalesce(new_name, name),
           description = coalesce(new_description, description), key_id = coalesce(new_key_id, key_id),
           updated_at = now()
     where id = secret_id
  $$;
  create schema net;
  create table net.http_request_queue (
    id bigserial primary key, method text not null, url text not null, headers jsonb,
    body jsonb, timeout_milliseconds integer not null);
  create table net._http_response (
    id bigint, status_code integer, content_type text, headers jsonb, content text,
    timed_out boolean, error_msg text, created timestamptz not null default now());
  create function net.http_post(url text, body jsonb default '{}', params jsonb default '{}',
                                headers jsonb default '{"Content-Type": "application/json"}',
                                timeout_milliseconds integer default 5000)
  returns bigint language sql as $$
    insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
    values ('POST', url, headers, body, timeout_milliseconds) returning id
  $$;
  insert into net._http_response (id, status_code, content_type, content, timed_out, error_msg, created) values
    (1, 200, 'application/json', '{"worker_id":"process-jobs:x","claimed":1,"completed":1}', false, null,
     now() - interval '1 minute'),
    (2, null, null, null, true, 'Timeout of 5000 ms reached', now() - interval '2 minutes');`;

/** What a guide's query must still do: checked in the same transaction, right after the block. */
type Effect = {
  what: string;
  block: RegExp;
  check: (tx: postgres.TransactionSql, fx: Fixtures) => Promise<void>;
};

const EFFECTS: Effect[] = [
  {
    what: "the seed's stuck-job reset takes the stuck job from its worker and leaves the live one",
    block: /UPDATE job_queue SET status='pending', attempt_number=0 WHERE status='processing'/,
    async check(tx, fx) {
      const rows = await tx`select id::text, status, attempt_number, locked_by, locked_until
                              from public.job_queue where id in (${fx.jobs.stuck}, ${fx.jobs.live}) order by id`;
      assertEquals(Array.from(rows, (r) => [r.id, r.status, r.attempt_number, r.locked_by, r.locked_until]), [
        [fx.jobs.live, "processing", 1, "process-jobs:live", rows[0].locked_until],
        [fx.jobs.stuck, "pending", 0, null, null],
      ]);
      const [late] = await tx`select public.complete_job(${fx.jobs.stuck}, 'process-jobs:gone', true)
                                ->> 'outcome' as outcome`;
      assertEquals(late.outcome, "lease_lost", "the old worker can no longer complete it");
    },
  },
  {
    what: "retrying a failed job by hand makes it and its generation claimable again",
    block: /where id = <job_id> and status = 'failed'/,
    async check(tx, fx) {
      const [job] =
        await tx`select status, attempt_number from public.job_queue where id = ${fx.jobs.failed}`;
      assertEquals(job, { status: "pending", attempt_number: 0 });
      const [gen] = await tx`select status, error_message, created_at > now() - interval '1 second' as fresh
                               from public.image_generations where id = ${fx.generations.failed}`;
      assertEquals(gen, { status: "pending", error_message: null, fresh: true });
      const claimed = await tx`select id::text from public.claim_next_job('guides-test', 10)`;
      assert(claimed.some((r) => r.id === fx.jobs.failed), "the worker claims it");
    },
  },
  {
    what: "the bulk retry after a token fix puts the token failures back",
    block: /error_details ->> 'code' = 'replicate_unauthorized'/,
    async check(tx, fx) {
      const [job] = await tx`select status from public.job_queue where id = ${fx.jobs.failed}`;
      assertEquals(job.status, "pending");
    },
  },
  {
    what: "pruning deletes the week-old completed jobs and keeps the recent ones",
    block: /select public\.prune_job_queue\(\);/,
    async check(tx, fx) {
      const left =
        await tx`select id::text from public.job_queue where id in (${fx.jobs.old}, ${fx.jobs.completed})`;
      assertEquals(Array.from(left, (r) => r.id), [fx.jobs.completed]);
    },
  },
  {
    what: "the Vault secrets make invoke_process_jobs() call process-jobs with the service key",
    block: /vault\.create_secret\('https:\/\/<project_ref>\.supabase\.co', 'project_url'\)/,
    async check(tx) {
      const [{ answer }] = await tx`select public.invoke_process_jobs() as answer`;
      assertMatch(answer, /^http:\d+$/);
      const [call] = await tx`select url, headers ->> 'Authorization' as auth, body, timeout_milliseconds
                                from net.http_request_queue order by id desc limit 1`;
      assertEquals(call, {
        url: "https://abcdefghijklmnopqrst.supabase.co/functions/v1/process-jobs",
        auth: "Bearer sb_secret_guides_test",
        body: { source: "pg_cron" },
        timeout_milliseconds: 5000,
      });
    },
  },
  {
    what: "rescheduling process-jobs changes the one job and keeps its command",
    block: /cron\.schedule\('process-jobs', '\*\/2/,
    async check(tx) {
      const jobs = await tx`select schedule, command from cron.job where jobname = 'process-jobs'`;
      assertEquals(Array.from(jobs), [{
        schedule: "*/2 * * * *",
        command: "select public.invoke_process_jobs()",
      }]);
    },
  },
  {
    what: "pausing the sweeper deactivates its pg_cron job",
    block: /cron\.alter_job\(.*active := false\);\s*$/,
    async check(tx) {
      const [job] = await tx`select active from cron.job where jobname = 'process-jobs'`;
      assertEquals(job.active, false);
    },
  },
  {
    what: "the Realtime check lists both tables the clients follow",
    block: /tablename in \('image_generations', 'images'\)/,
    async check(tx) {
      const rows = await tx`select tablename from pg_publication_tables
                             where pubname = 'supabase_realtime' order by tablename`;
      assertEquals(rows.map((r) => r.tablename), ["image_generations", "images"]);
    },
  },
];

class Rollback extends Error {}

/** Runs one sql block after the fixtures (and stand-ins) in a transaction that is rolled back. */
async function runSqlBlock(sql: postgres.Sql, block: Block, standIns: boolean, seen: Set<Effect>) {
  try {
    await sql.begin(async (tx) => {
      if (standIns) await tx.unsafe(STAND_INS);
      const fx = await insertFixtures(tx);
      const code = fill(block, fixtureValues(fx));
      try {
        await tx.unsafe(code);
      } catch (e) {
        throw new Error(`${where(block)}: ${e instanceof Error ? e.message : e}\n${code}`);
      }
      for (const effect of EFFECTS.filter((e) => e.block.test(block.code))) {
        seen.add(effect);
        try {
          await effect.check(tx, fx);
        } catch (e) {
          throw new Error(`${where(block)}: ${effect.what}: ${e instanceof Error ? e.message : e}`);
        }
      }
      throw new Rollback();
    });
  } catch (e) {
    if (!(e instanceof Rollback)) throw e;
  }
}

// ---------------------------------------------------------------------------------------------------

Deno.test("guides: every code block has a known language and tags", () => {
  const allowed: Record<string, string[]> = {
    sql: ["supabase-only", "upgrade"],
    sh: ["cloud-only", "upgrade"],
    js: [],
    json: [],
    text: [],
  };
  for (const block of blocks) {
    assert(
      block.lang in allowed,
      `${where(block)}: language "${block.lang}" (use sql, sh, js, json or text)`,
    );
    for (const tag of block.tags) {
      assert(allowed[block.lang].includes(tag), `${where(block)}: unknown tag "${tag}" on ${block.lang}`);
    }
    assert(block.expect === undefined || block.lang === "sh", `${where(block)}: expect= is for sh blocks`);
    assert(block.code.trim() !== "", `${where(block)}: empty block`);
    if (block.lang === "json") JSON.parse(block.code);
    if (block.tags.has("supabase-only")) {
      assertMatch(
        block.code,
        /\b(vault|net|cron)\./,
        `${where(block)}: supabase-only but uses none of vault/net/cron`,
      );
    }
  }
  for (const guide of guides) {
    for (const kind of ["sql", "sh"]) {
      assert(guide.some((b) => b.lang === kind), `${guide[0]?.guide} has no ${kind} block`);
    }
  }
});

Deno.test("guides: sql blocks run with fixtures (supabase-only ones with pg_cron and stand-ins)", async () => {
  const db = await TestDatabase.create();
  const seen = new Set<Effect>();
  try {
    for (const block of ofKind("sql")) await runSqlBlock(db.sql, block, false, seen);
  } finally {
    await db.drop();
  }
  const cron = postgres(Deno.env.get("TEST_DB_ADMIN_URL")!, { max: 1, onnotice: () => {} });
  try {
    // The pg_cron database of the test cluster: the real cron schema, Vault and pg_net stood in for.
    for (const block of ofKind("sql", "supabase-only")) await runSqlBlock(cron, block, true, seen);
  } finally {
    await cron.end();
  }
  for (const effect of EFFECTS) assert(seen.has(effect), `no guide block does this any more: ${effect.what}`);
});

Deno.test("guides: sh blocks run against the local stack", async () => {
  await withSimulatorStack(["--time-scale", "0.02"], { WORKER_KICK: "true" }, async (stack) => {
    const user = await stack.newUser();
    const fx = await insertFixtures(stack.sql, user);
    const env = {
      SUPABASE_URL: stack.url,
      SUPABASE_ANON_KEY: LOCAL_ANON_KEY,
      SUPABASE_SERVICE_ROLE_KEY: LOCAL_SERVICE_ROLE_KEY,
      SUPABASE_DB_URL: stack.db.url,
      USER_ID: user.id,
      USER_TOKEN: user.token,
    };
    const before = await stack.count("image_generations");
    for (const block of ofKind("sh")) {
      const code = fill(block, fixtureValues(fx));
      // Unless the block expects an error answer, an HTTP error is a failure.
      const prelude = block.expect === undefined ? 'curl() { command curl --fail-with-body "$@"; }\n' : "";
      const out = await new Deno.Command("bash", {
        args: ["-c", `set -eo pipefail\n${prelude}${code}`],
        cwd: root.pathname,
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      const err = new TextDecoder().decode(out.stderr);
      assert(
        out.success,
        `${where(block)} exited ${out.code}:\n${code}\n--- stdout\n${text}\n--- stderr\n${err}`,
      );
      if (Deno.env.get("GUIDES_VERBOSE")) console.log(`--- ${where(block)}\n${text}${err}`);
      if (block.expect !== undefined) {
        assert(text.includes(block.expect), `${where(block)}: output lacks "${block.expect}":\n${text}`);
      }
    }
    assert(
      await stack.count("image_generations") > before,
      "the guides' start-generation call created a row",
    );
  });
});

Deno.test("guides: the upgrade section runs, in order, on the original Picture database", async () => {
  const upgrade = blocks.filter((b) => b.tags.has("upgrade"));
  assert(upgrade.some((b) => b.lang === "sh") && upgrade.some((b) => b.lang === "sql"), "an upgrade section");
  const db = await originalDatabase();
  try {
    for (const block of upgrade) {
      const code = fill(block, {});
      if (block.lang === "sql") {
        await db.sql.unsafe(code).catch((e) => {
          throw new Error(`${where(block)}: ${e.message}\n${code}`);
        });
        continue;
      }
      const out = await new Deno.Command("bash", {
        args: ["-c", `set -eo pipefail\n${code}`],
        cwd: root.pathname,
        env: { SUPABASE_DB_URL: cliUrl(db) },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert(out.success, `${where(block)} exited ${out.code}:\n${code}\n---\n${text}`);
    }
    // The guide's rollback ran last: the original queue is back under its name.
    const [{ type }] = await db.sql`select data_type as type from information_schema.columns
                                     where table_name = 'job_queue' and column_name = 'id'`;
    assertEquals(type, "uuid");
  } finally {
    await db.drop();
  }
});

// ---------------------------------------------------------------------------------------------------
// cloud-only: parsed, programs present, subcommands and flags known to the installed tools.

const CLOUD_VALUES: Record<string, string> = {
  project_ref: "abcdefghijklmnopqrst",
  anon_key: "anon-key",
  service_key: "sb_secret_x",
  connection_string: "postgresql://postgres:pw@db.abcdefghijklmnopqrst.supabase.co:5432/postgres",
  email: "user@example.com",
  password: "pw",
  access_token: "access-token",
  jwt_secret: "jwt-secret",
  replicate_api_token: "r8_x",
  webhook_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  previous_commit: "HEAD~1",
};

/** Simple commands of a script: words with quotes removed, split at `&&`, `||`, `|`, `;` and newlines. */
function commandsOf(script: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: string | null = null;
  const endWord = () => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length) commands.push(words);
    words = [];
  };
  const text = script.replace(/\\\n/g, " ");
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "#" && !inWord) {
      while (i < text.length && text[i] !== "\n") i++;
      endCommand();
    } else if (c === "\n" || c === ";" || c === "|" || c === "&") {
      endCommand();
    } else if (c === " " || c === "\t") {
      endWord();
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand();
  // Leading VAR=value assignments are not the program.
  return commands.map((w) => {
    while (w.length > 1 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w[0])) w = w.slice(1);
    return w;
  });
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  const out = await new Deno.Command(cmd, { args, cwd: root.pathname, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { ok: out.success, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

/** A flag is known when the help text lists it (`--flag`, `-f`, as in `--flag string` or `[-g|--global]`). */
function listsFlag(help: string, flag: string): boolean {
  const escaped = flag.replace(/[-]/g, "\\-");
  return new RegExp(`(^|[\\s,\\[|])${escaped}([\\s,=|\\]]|$)`, "m").test(help);
}

Deno.test("guides: cloud-only commands exist with the flags they use", async () => {
  const helps = new Map<string, string>();
  const help = async (args: string[]) => {
    const key = args.join(" ");
    if (!helps.has(key)) {
      const [cmd, ...rest] = args;
      const { ok, out } = await run(cmd, rest);
      assert(ok, `${key} failed:\n${out}`);
      helps.set(key, out);
    }
    return helps.get(key)!;
  };
  for (const block of ofKind("sh", "cloud-only")) {
    const code = fill(block, CLOUD_VALUES);
    const parsed = await run("bash", ["-n", "-c", code]);
    assert(parsed.ok, `${where(block)}: bash cannot parse it:\n${parsed.out}`);
    for (const words of commandsOf(code)) {
      const [program, ...args] = words;
      const found = await run("bash", ["-c", `type -t ${program}`]);
      assert(found.ok, `${where(block)}: ${program} is not installed (or not a command)`);
      // `--flag=value` is `--flag`; `-sS` is `-s` and `-S`.
      const flags = args.filter((a) => a.startsWith("-")).flatMap((a) =>
        /^-[A-Za-z]{2,}$/.test(a) ? [...a.slice(1)].map((c) => `-${c}`) : [a.split("=")[0]]
      );
      if (program === "supabase") {
        const sub = args.filter((a) => !a.startsWith("-") && /^[a-z][a-z-]*$/.test(a));
        const text = await help(["supabase", ...sub, "--help"]);
        const usage = text.match(/USAGE\s*\n\s*(supabase(?: [a-z][a-z-]*)*)/)?.[1] ?? "";
        const path = usage.split(" ").slice(1);
        assert(path.length > 0, `${where(block)}: "supabase ${sub.join(" ")}" is not a command`);
        assertEquals(sub.slice(0, path.length), path, `${where(block)}: supabase ${sub.join(" ")}`);
        for (const f of flags) {
          assert(listsFlag(text, f), `${where(block)}: supabase ${path.join(" ")} has no ${f}`);
        }
      } else if (program === "npm" || program === "curl") {
        const text = program === "npm"
          ? await help(["npm", args[0], "--help"])
          : await help(["curl", "--help", "all"]);
        for (const f of flags) assert(listsFlag(text, f), `${where(block)}: ${program} has no ${f}`);
      }
    }
  }
});

Deno.test("guides: the deploy commands deploy every configured function, and only those", async () => {
  const config = await Deno.readTextFile(new URL("supabase/config.toml", root));
  const configured = [...config.matchAll(/^\[functions\.([a-z0-9-]+)\]/gm)].map((m) => m[1]).sort();
  const folders = [...Deno.readDirSync(new URL("supabase/functions/", root))]
    .filter((e) => e.isDirectory && !e.name.startsWith("_") && e.name !== "tests").map((e) => e.name).sort();
  assertEquals(configured, folders, "config.toml lists every function folder");
  const deploys = ofKind("sh", "cloud-only")
    .flatMap((b) => commandsOf(b.code).map((w) => ({ b, w })))
    .filter(({ w }) => w[0] === "supabase" && w[1] === "functions" && w[2] === "deploy");
  assert(deploys.length > 0, "the guides deploy the functions");
  for (const { b, w } of deploys) {
    assertEquals(
      w.slice(3).filter((a) => !a.startsWith("-")).sort(),
      configured,
      `${where(b)}: deploy names`,
    );
  }
});

// ---------------------------------------------------------------------------------------------------
// js: the client examples of a guide, as one module.

Deno.test("guides: client examples type-check against supabase-js and run against the stack", async () => {
  const jsGuides = guides.filter((g) => g.some((b) => b.lang === "js"));
  assert(jsGuides.length > 0, "the guides have client examples");
  // A registry that cannot be reached (and no cached copy) leaves only a syntax check: say so loudly.
  const online = (await run(Deno.execPath(), ["cache", "--no-lock", "--quiet", SUPABASE_JS])).ok;
  if (!online) console.warn(`guides-test: ${SUPABASE_JS} unavailable; client examples are only parsed`);
  for (const guide of jsGuides) {
    const dir = await Deno.makeTempDir({ prefix: "imagegen-guides-" });
    try {
      const source = guide.filter((b) => b.lang === "js")
        .map((b) => fill(b, { supabase_url: "http://127.0.0.1:54321", anon_key: LOCAL_ANON_KEY }))
        .join("\n\n")
        .replaceAll('from "@supabase/supabase-js"', `from "${SUPABASE_JS}"`)
        .replaceAll('import("@supabase/supabase-js")', `import("${SUPABASE_JS}")`);
      await Deno.writeTextFile(`${dir}/examples.js`, `// @ts-check\n${source}\n`);
      const name = guide[0].guide;
      if (!online) {
        // deno fmt (writing the temporary copy) fails only when it cannot parse the file.
        const parsed = await run(Deno.execPath(), ["fmt", "--quiet", `${dir}/examples.js`]);
        assert(parsed.ok, `${name}: the client examples do not parse:\n${parsed.out}`);
        continue;
      }
      const checked = await run(Deno.execPath(), ["check", "--no-lock", "--quiet", `${dir}/examples.js`]);
      assert(checked.ok, `${name}: the client examples do not type-check:\n${checked.out}`);
      await runExamples(dir, name);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

// Drives the examples as an app would, with a signed-in user's client (the `accessToken` option stands in
// for supabase.auth, as the local stack has no Auth server).
const DRIVER = `
import { createClient } from "${SUPABASE_JS}";
import { startGeneration, waitForGeneration } from "./examples.js";
const env = (name) => Deno.env.get(name);
const client = createClient(env("SUPABASE_URL"), env("SUPABASE_ANON_KEY"), {
  accessToken: async () => env("USER_TOKEN"),
});
const out = {};
try {
  await startGeneration(client, { model_id: "black-forest-labs/flux-schnell" });
} catch (e) {
  out.error = { status: e.status, code: e.code, field: e.field, message: e.message };
}
const key = crypto.randomUUID();
const request = { prompt: "a lighthouse at dusk", model_id: "black-forest-labs/flux-schnell", width: 1024, height: 576 };
const id = await startGeneration(client, request, key);
out.replayed = (await startGeneration(client, request, key)) === id;
const row = await waitForGeneration(client, id, { intervalMs: 100, timeoutMs: 60000 });
out.generation = { id: row.id, status: row.status, image_url: row.image_url, error_message: row.error_message };
console.log(JSON.stringify(out));
Deno.exit(0);
`;

async function runExamples(dir: string, name: string) {
  await Deno.writeTextFile(`${dir}/driver.js`, DRIVER);
  await withSimulatorStack(["--time-scale", "0.02"], { WORKER_KICK: "true" }, async (stack) => {
    const user = await stack.newUser();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-lock", "--quiet", "--allow-net", "--allow-env", "--allow-read", `${dir}/driver.js`],
      env: { SUPABASE_URL: stack.url, SUPABASE_ANON_KEY: LOCAL_ANON_KEY, USER_TOKEN: user.token },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    assert(
      out.success,
      `${name}: running the examples failed:\n${dec.decode(out.stdout)}${dec.decode(out.stderr)}`,
    );
    const result = JSON.parse(dec.decode(out.stdout).trim().split("\n").pop()!);
    assertEquals(result.error.status, 400, JSON.stringify(result.error));
    assertEquals([result.error.code, result.error.field], ["prompt_missing", "prompt"]);
    assertEquals(result.replayed, true, "the same idempotency key answers the same generation");
    assertEquals(result.generation.status, "completed", JSON.stringify(result.generation));
    const image = await fetch(result.generation.image_url);
    assertEquals(image.status, 200);
    await image.body?.cancel();
  });
}
