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
