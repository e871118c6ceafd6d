// scripts/check-wasm, which scripts/test runs first: the committed Wasm module must be the build of the
// sources beside it. Run on a copy of what it reads, changed one way at a time.
import { assert, assertEquals, assertMatch } from "./_assert.ts";

const repo = new URL("../../../", import.meta.url).pathname;
const INPUTS = [
  "scripts/lib/env.sh",
  "scripts/lib/wasm.sh",
  "scripts/check-wasm",
  "scripts/build",
  "Cargo.toml",
  "Cargo.lock",
  "rust-toolchain.toml",
  "crates/imagegen-core/Cargo.toml",
  "crates/imagegen-core/src",
  "crates/imagegen-edge/Cargo.toml",
  "crates/imagegen-edge/src",
  "supabase/functions/_shared/wasm",
];
const FIX = /Fix: run scripts\/build, then commit supabase\/functions\/_shared\/wasm\//;

/** Runs `test` on a copy of the module and its inputs. */
async function withCopy(test: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "wasm-stamp-" });
  try {
    const copy = await new Deno.Command("cp", { args: ["-r", "--parents", ...INPUTS, dir], cwd: repo })
      .output();
    assert(copy.success, new TextDecoder().decode(copy.stderr));
    await test(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function script(dir: string, name: string) {
  const out = await new Deno.Command(`${dir}/scripts/${name}`, { stdout: "piped", stderr: "piped" }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

async function edit(path: string, change: (text: string) => string) {
  await Deno.writeTextFile(path, change(await Deno.readTextFile(path)));
}

Deno.test("check-wasm: the module in the tree is the build of its sources", async () => {
  await withCopy(async (dir) => {
    const check = await script(dir, "check-wasm");
    assertEquals(check.code, 0, check.stderr);
  });
});

Deno.test("check-wasm: a changed, added or removed source makes the module stale", async () => {
  const changes: [string, (dir: string) => Promise<void>][] = [
    ["a changed line", (dir) => edit(`${dir}/crates/imagegen-core/src/lib.rs`, (t) => `${t}\n// changed\n`)],
    ["a new file", (dir) => Deno.writeTextFile(`${dir}/crates/imagegen-edge/src/new.rs`, "")],
    ["a removed file", (dir) => Deno.remove(`${dir}/crates/imagegen-core/src/error.rs`)],
    [
      "the release profile",
      (dir) => edit(`${dir}/Cargo.toml`, (t) => t.replace('opt-level = "s"', "opt-level = 3")),
    ],
    [
      "the build's flags",
      (dir) => edit(`${dir}/scripts/build`, (t) => t.replace("--remove-name-section ", "")),
    ],
    ["the lock file", (dir) => edit(`${dir}/Cargo.lock`, (t) => `${t}\n`)],
    [
      "the toolchain",
      (dir) => edit(`${dir}/rust-toolchain.toml`, (t) => t.replace(/channel = ".*"/, 'channel = "1.96.0"')),
    ],
    [
      "the glue's version",
      (dir) =>
        edit(
          `${dir}/scripts/lib/env.sh`,
          (t) => t.replace(/WASM_BINDGEN_VERSION=.*/, "WASM_BINDGEN_VERSION=0.2.131"),
        ),
    ],
  ];
  for (const [what, change] of changes) {
    await withCopy(async (dir) => {
      await change(dir);
      const check = await script(dir, "check-wasm");
      assertEquals(check.code, 1, what);
      assertMatch(check.stderr, /is stale/, what);
      assertMatch(check.stderr, FIX, what);
    });
  }
});

Deno.test("check-wasm: generated files that are not the stamped build, or no module, fail", async () => {
  const wasm = (dir: string) => `${dir}/supabase/functions/_shared/wasm`;
  const cases: [string, (dir: string) => Promise<void>, RegExp][] = [
    [
      "glue edited",
      (dir) => edit(`${wasm(dir)}/imagegen_edge.js`, (t) => `${t}\n`),
      /not the ones its build wrote/,
    ],
    ["module left out", (dir) => Deno.remove(`${wasm(dir)}/imagegen_edge_bg.wasm`), /missing/],
    ["stamp left out", (dir) => Deno.remove(`${wasm(dir)}/.source-sha256`), /missing/],
    ["no build at all", (dir) => Deno.remove(wasm(dir), { recursive: true }), /missing/],
  ];
  for (const [what, change, problem] of cases) {
    await withCopy(async (dir) => {
      await change(dir);
      const check = await script(dir, "check-wasm");
      assertEquals(check.code, 1, what);
      assertMatch(check.stderr, problem, what);
      assertMatch(check.stderr, FIX, what);
    });
  }
});

Deno.test("build: a current module is left as it is, without compiling", async () => {
  await withCopy(async (dir) => {
    const module = `${dir}/supabase/functions/_shared/wasm/imagegen_edge_bg.wasm`;
    const before = await Deno.stat(module);
    // No crate of the workspace but the two is copied: a compile would fail.
    const build = await script(dir, "build");
    assertEquals(build.code, 0, build.stderr);
    assertMatch(build.stderr, /current/);
    assertEquals((await Deno.stat(module)).mtime, before.mtime);
  });
});
