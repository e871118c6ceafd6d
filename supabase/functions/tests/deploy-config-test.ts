// What `supabase functions deploy` ships must match what the tests run: every function is listed in
// config.toml with the Wasm in static_files and its own deno.json as import map, and that import map
// pins the same versions as the root deno.json the local stack and tests use.
import { parse } from "smol-toml";
import { assert, assertEquals } from "./_assert.ts";

const supabaseDir = new URL("../../", import.meta.url);
const config = parse(await Deno.readTextFile(new URL("config.toml", supabaseDir))) as {
  functions?: Record<string, { verify_jwt?: boolean; import_map?: string; static_files?: string[] }>;
};
const rootImports: Record<string, string> =
  JSON.parse(await Deno.readTextFile(new URL("../deno.json", supabaseDir))).imports;
const functionNames = [...Deno.readDirSync(new URL("functions/", supabaseDir))]
  .filter((e) => e.isDirectory && !e.name.startsWith("_") && e.name !== "tests")
  .map((e) => e.name);

Deno.test("every function is configured for deployment with the Wasm module", () => {
  assert(functionNames.length > 0);
  for (const name of functionNames) {
    const fn = config.functions?.[name];
    assert(fn, `config.toml has no [functions.${name}]`);
    assertEquals(fn.import_map, `./functions/${name}/deno.json`, name);
    assert(
      fn.static_files?.includes("./functions/_shared/wasm/imagegen_edge_bg.wasm"),
      `${name} static_files`,
    );
    assertEquals(typeof fn.verify_jwt, "boolean", `${name} states verify_jwt`);
  }
});

Deno.test("each function's import map pins what the root pins", async () => {
  for (const name of functionNames) {
    const own: Record<string, string> =
      JSON.parse(await Deno.readTextFile(new URL(`functions/${name}/deno.json`, supabaseDir))).imports ?? {};
    for (const [specifier, target] of Object.entries(own)) {
      assertEquals(target, rootImports[specifier], `${name}/deno.json maps ${specifier}`);
    }
    assert("postgres" in own, `${name}/deno.json maps postgres (used by _shared/host.ts)`);
  }
});

/** The Rust files that read the environment (outside their tests). */
const RUST_READERS = ["config.rs", "db/connect.rs"];

/** Variables the functions read: the Rust readers outside their tests, and the TypeScript host in _shared/. */
async function variablesTheCodeReads(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of RUST_READERS) {
    const rs = await Deno.readTextFile(new URL(`../crates/imagegen-core/src/${file}`, supabaseDir));
    const code = rs.split("#[cfg(test)]")[0];
    for (const [, name] of code.matchAll(/"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"/g)) names.add(name);
  }
  for (const entry of Deno.readDirSync(new URL("functions/_shared/", supabaseDir))) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    const ts = await Deno.readTextFile(new URL(`functions/_shared/${entry.name}`, supabaseDir));
    for (const [, name] of ts.matchAll(/Deno\.env\.get\("([A-Z0-9_]+)"\)/g)) names.add(name);
  }
  return names;
}

/** `NAME=` lines of an env file: set (uncommented) or documented (commented out). */
function envFileNames(text: string) {
  const set = new Set<string>();
  const documented = new Set<string>();
  for (const line of text.split("\n")) {
    const m = line.match(/^(#\s*)?([A-Z][A-Z0-9_]*)=/);
    if (m) (m[1] ? documented : set).add(m[2]);
  }
  return { set, all: new Set([...set, ...documented]) };
}

Deno.test("functions/.env.example names every variable the code reads, and only those", async () => {
  const read = await variablesTheCodeReads();
  assert(read.has("JWT_SECRET") && read.has("DATABASE_URL"), "both sources were scanned");
  const example = envFileNames(await Deno.readTextFile(new URL("functions/.env.example", supabaseDir)));
  const missing = [...read].filter((n) => !example.all.has(n)).sort();
  assertEquals(missing, [], "read by the code but missing from supabase/functions/.env.example");
  const unknown = [...example.all].filter((n) => !read.has(n)).sort();
  assertEquals(unknown, [], "in supabase/functions/.env.example but read by no code");
  // The CLI skips SUPABASE_* names in an env file ("Env name cannot start with SUPABASE_"), and the
  // secrets a deploy needs must be there to fill in.
  assertEquals([...example.set].filter((n) => n.startsWith("SUPABASE_")), []);
  for (const needed of ["JWT_SECRET", "REPLICATE_API_TOKEN"]) assert(example.set.has(needed), needed);
});

Deno.test("the filled-in env file stays out of git", async () => {
  const ignored = new Deno.Command("git", {
    args: ["check-ignore", "--quiet", "supabase/functions/.env"],
    cwd: new URL("..", supabaseDir),
  });
  assertEquals((await ignored.output()).code, 0, "supabase/functions/.env is git-ignored");
});
