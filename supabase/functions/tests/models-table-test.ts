// The `models` table the original clients read is kept in step with the Rust catalog: after the migrations,
// every row equals what the catalog defines (EdgeApp.modelsRows, the same rows the generated migration
// writes). A catalog change without a regenerated migration fails here and in cargo's drift test.
import { assertEquals } from "./_assert.ts";
import { EdgeApp, initSync } from "../_shared/wasm/imagegen_edge.js";
import { TestDatabase } from "./_stack.ts";

initSync({ module: await Deno.readFile(new URL("../_shared/wasm/imagegen_edge_bg.wasm", import.meta.url)) });

Deno.test("models table: every row equals the catalog's, none missing, none extra", async () => {
  const expected: Record<string, unknown>[] = JSON.parse(EdgeApp.modelsRows());
  const columns = Object.keys(expected[0]);
  const db = await TestDatabase.create();
  try {
    // jsonb on both sides, so numeric and json columns compare by value, not by their text.
    const rows = await db.sql`
      select to_jsonb(m) as row from public.models m order by m.sort_order, m.replicate_id`;
    const actual = rows.map((r) => Object.fromEntries(columns.map((c) => [c, r.row[c]])));
    const normalise = (v: Record<string, unknown>[]) =>
      v.map((row) => JSON.stringify(row, Object.keys(row).sort())).sort();
    assertEquals(normalise(actual), normalise(expected));
    const [{ active }] = await db.sql`select count(*)::int as active from public.models where is_active`;
    assertEquals(active, expected.length);
  } finally {
    await db.drop();
  }
});
