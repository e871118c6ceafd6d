// What `supabase functions deploy` uploads from a clean clone, rebuilt offline and booted. The CLI has no
// dry run and bundles with Docker or on Supabase's servers, so this does what it does: for each function in
// config.toml, take its entrypoint's module graph (`deno info`, with the function's own import map) and its
// static_files, from the files git would give a clone, copy only those into an empty folder, boot the
// function there and send it a request its Rust code must answer.
//
// "What git would give a clone" is `git stash create` (HEAD plus changes to tracked files; HEAD when there
// are none, as in CI): a file that is not committed, such as a Wasm module that is built but git-ignored or
// never added, is not in the bundle and the test fails.
import { parse } from "smol-toml";
import { assert, assertEquals } from "./_assert.ts";
import { LOCAL_JWT_SECRET } from "../../../scripts/local/keys.ts";

const repo = new URL("../../../", import.meta.url).pathname;

type FunctionConfig = { import_map?: string; entrypoint?: string; static_files?: string[] };

async function run(cmd: string, args: string[], options: Deno.CommandOptions = {}) {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", ...options }).output();
  const [stdout, stderr] = [out.stdout, out.stderr].map((b) => new TextDecoder().decode(b));
  return { code: out.code, stdout, stderr };
}

/** The tree a clone would have, in a new temporary folder. */
async function cloneTree(): Promise<string> {
  // An identity of its own: `stash create` writes a commit object, and CI may have no user configured.
  const identity = ["-c", "user.name=deploy-bundle-test", "-c", "user.email=deploy-bundle-test@localhost"];
  const stash = await run("git", [...identity, "stash", "create"], { cwd: repo });
  assertEquals(stash.code, 0, stash.stderr);
  const commit = stash.stdout.trim() || "HEAD";
  const dir = await Deno.makeTempDir({ prefix: "deploy-clone-" });
  const archive = await run("bash", [
    "-c",
    `set -o pipefail; git -C "${repo}" archive --format=tar "${commit}" | tar -x -C "${dir}"`,
  ]);
  assertEquals(archive.code, 0, archive.stderr);
  return dir;
}

/** The files a deploy of one function uploads, relative to `supabase/`: its module graph and static files. */
async function bundleFiles(supabaseDir: string, name: string, fn: FunctionConfig): Promise<string[]> {
  const entrypoint = fn.entrypoint ?? `./functions/${name}/index.ts`;
  assert(fn.import_map, `${name} has an import map`);
  const info = await run("deno", [
    "info",
    "--json",
    "--no-lock",
    "--config",
    `${supabaseDir}/${fn.import_map}`,
    `${supabaseDir}/${entrypoint}`,
  ]);
  assertEquals(info.code, 0, `deno info ${name}: ${info.stderr}`);
  const graph: { modules: { specifier: string; error?: string }[] } = JSON.parse(info.stdout);
  const broken = graph.modules.filter((m) => m.error).map((m) => `${m.specifier}: ${m.error}`);
  assertEquals(broken, [], `${name}: modules a clean clone lacks`);
  const files = [fn.import_map];
  for (const { specifier } of graph.modules) {
    if (!specifier.startsWith("file://")) continue;
    const path = new URL(specifier).pathname;
    assert(path.startsWith(`${supabaseDir}/`), `${name} imports ${path}, outside supabase/`);
    files.push(`./${path.slice(supabaseDir.length + 1)}`);
  }
  for (const file of fn.static_files ?? []) {
    const found = await Deno.stat(`${supabaseDir}/${file}`).then(() => true, () => false);
    assert(found, `${name}: static_files lists ${file}, which a clean clone does not have`);
    files.push(file);
  }
  return files;
}

/** Boots the function from `dir` alone and answers one request, as a fresh isolate would. */
async function ask(dir: string, name: string, fn: FunctionConfig, method: string) {
  const driver = `${dir}/ask.ts`;
  await Deno.writeTextFile(
    driver,
    `const { default: handler } = await import(Deno.args[0]);
     const res = await handler.fetch(new Request("http://localhost/functions/v1/${name}", { method: "${method}" }));
     console.log(JSON.stringify({ status: res.status, body: await res.text() }));`,
  );
  const entrypoint = fn.entrypoint ?? `./functions/${name}/index.ts`;
  const out = await run("deno", [
    "run",
    "--allow-all",
    "--no-lock",
    "--config",
    `${dir}/supabase/${fn.import_map}`,
    driver,
    `file://${dir}/supabase/${entrypoint}`,
  ], { env: { JWT_SECRET: LOCAL_JWT_SECRET }, clearEnv: false });
  assertEquals(out.code, 0, `${name} did not boot: ${out.stderr}`);
  assert(!out.stderr.includes("wasm_unavailable"), `${name}: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split("\n").at(-1)!) as { status: number; body: string };
}

Deno.test("each function deployed from a clean clone has its module and answers from Rust", async () => {
  const clone = await cloneTree();
  try {
    const supabaseDir = `${clone}/supabase`;
    const config = parse(await Deno.readTextFile(`${supabaseDir}/config.toml`)) as {
      functions: Record<string, FunctionConfig>;
    };
    const names = Object.keys(config.functions);
    assert(names.length > 0);
    for (const name of names) {
      const fn = config.functions[name];
      const bundle = await Deno.makeTempDir({ prefix: `deploy-${name}-` });
      try {
        for (const file of await bundleFiles(supabaseDir, name, fn)) {
          const target = `${bundle}/supabase/${file}`;
          await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
          await Deno.copyFile(`${supabaseDir}/${file}`, target);
        }
        // models is public; every other function refuses a request without a token, in Rust.
        const answer = await ask(bundle, name, fn, name === "models" ? "GET" : "POST");
        const expected = name === "models" ? 200 : 401;
        assertEquals(answer.status, expected, `${name}: ${answer.body}`);
      } finally {
        await Deno.remove(bundle, { recursive: true });
      }
    }
  } finally {
    await Deno.remove(clone, { recursive: true });
  }
});
