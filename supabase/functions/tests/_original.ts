// The original Picture database (supabase/tests/fixtures/original/): loaded into an empty database of the
// test cluster, for the upgrade-in-place tests (upgrade-test.ts and the guide's upgrade section).
import { TestDatabase } from "./_stack.ts";

const root = new URL("../../../", import.meta.url).pathname;
export const fixture = (file: string) => `${root}supabase/tests/fixtures/original/${file}`;

/** Runs a command from the repository root; resolves to its exit code and output, or throws. */
export async function run(
  cmd: string,
  args: string[],
  { ok = true, env = {} as Record<string, string> } = {},
): Promise<{ code: number; out: string }> {
  const res = await new Deno.Command(cmd, { args, cwd: root, env, stdout: "piped", stderr: "piped" })
    .output();
  const out = new TextDecoder().decode(res.stdout) + new TextDecoder().decode(res.stderr);
  if (ok && res.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${res.code}):\n${out}`);
  return { code: res.code, out };
}

/** psql over files, stopping at the first error. */
export const psql = (url: string, ...files: string[]) =>
  run("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, ...files.flatMap((f) => ["-f", f])]);

/** A fresh database holding the original schema and rows (what a deployed Picture project has). */
export async function originalDatabase(): Promise<TestDatabase> {
  const db = await TestDatabase.create({ migrated: false });
  await psql(db.url, `${root}scripts/local/shim.sql`, fixture("schema.sql"), fixture("data.sql"));
  return db;
}

/** The connection string the Supabase CLI takes for the local cluster (no TLS there). */
export const cliUrl = (db: TestDatabase) => `${db.url}?sslmode=disable`;
