// The PostgREST stand-in of the conformance tests (_postgrest.ts) against tables of its own, so its answers
// can be trusted where the conformance tests rely on them: JSON values, filters by type, RLS hiding rows
// (0 rows) versus refusing them (42501 and the status PostgREST gives it), .single(), counts, embedding
// along a foreign key, and rpc.
import { assertEquals } from "./_assert.ts";
import { Postgrest } from "./_postgrest.ts";
import { TestDatabase } from "./_stack.ts";

const ME = { id: "a0000000-0000-4000-8000-00000000000a", email: "me@example.test" };
const YOU = { id: "b0000000-0000-4000-8000-00000000000b", email: "you@example.test" };

Deno.test("postgrest emulation: answers as PostgREST does", async () => {
  const db = await TestDatabase.create();
  try {
    await db.sql.unsafe(`
      create table public.pe_parent (
        id uuid primary key default gen_random_uuid(), owner uuid not null, label text not null,
        flag boolean not null default false, amount numeric, payload jsonb, created_at timestamptz default now());
      create table public.pe_child (id serial primary key, parent_id uuid references public.pe_parent (id), note text);
      create table public.pe_lonely (id int primary key);
      alter table public.pe_parent enable row level security;
      revoke all on public.pe_parent, public.pe_child, public.pe_lonely from anon, authenticated;
      grant select, insert, update on public.pe_parent to authenticated;
      grant select on public.pe_child, public.pe_lonely to authenticated;
      create policy own_read on public.pe_parent for select to authenticated using (owner = auth.uid());
      create policy own_insert on public.pe_parent for insert to authenticated with check (owner = auth.uid());
      create policy own_update on public.pe_parent for update to authenticated
        using (owner = auth.uid()) with check (label <> 'forbidden');
      create function public.pe_double(x integer) returns integer language sql as 'select x * 2';
      create function public.pe_rows(n integer) returns setof public.pe_lonely language sql
        as 'select g from generate_series(1, n) g';`);
    await db.sql`insert into public.pe_lonely values (1)`;
    const me = Postgrest.user(db.sql, ME);
    const you = Postgrest.user(db.sql, YOU);

    const inserted = await me.from("pe_parent")
      .insert({ owner: ME.id, label: "one", amount: 0.7, payload: { a: [1] }, flag: true })
      .select().single();
    assertEquals(inserted.error, null);
    assertEquals(
      [inserted.status, inserted.data?.label, inserted.data?.amount, inserted.data?.payload],
      [201, "one", 0.7, { a: [1] }],
    );
    const id = inserted.data!.id;
    await me.from("pe_parent").insert([{ owner: ME.id, label: "two" }, { owner: ME.id, label: "three" }]);
    await db
      .sql`insert into public.pe_child (parent_id, note) values (${id as string}, 'c1'), (${id as string}, 'c2')`;

    const foreign = await me.from("pe_parent").insert({ owner: YOU.id, label: "theirs" });
    assertEquals([foreign.error?.code, foreign.status], ["42501", 403], "WITH CHECK refuses");
    assertEquals((await you.from("pe_parent").select("*")).data, [], "RLS hides others' rows");

    assertEquals((await me.from("pe_parent").select("label").eq("flag", true)).data, [{ label: "one" }]);
    assertEquals((await me.from("pe_parent").select("label").eq("flag", false).order("label")).data, [
      { label: "three" },
      { label: "two" },
    ]);
    assertEquals(
      (await me.from("pe_parent").select("label").order("label", { ascending: false }).range(1, 1)).data,
      [{ label: "three" }],
    );
    assertEquals(
      (await me.from("pe_parent").select("label").in("label", ["one", "two"]).order("label")).data,
      [
        { label: "one" },
        { label: "two" },
      ],
    );
    assertEquals((await me.from("pe_parent").select("label").is("amount", null)).data?.length, 2);
    assertEquals((await me.from("pe_parent").select("label").not("amount", "is", null)).data, [{
      label: "one",
    }]);
    const counted = await me.from("pe_parent").select("*", { count: "exact", head: true }).eq("flag", false);
    assertEquals([counted.data, counted.count], [null, 2]);

    const none = await me.from("pe_parent").select("*").eq("label", "nope").single();
    assertEquals([none.error?.code, none.status], ["PGRST116", 406]);
    assertEquals((await me.from("pe_parent").select("*").eq("label", "nope").maybeSingle()).data, null);

    const updated = await me.from("pe_parent").update({ label: "uno" }).eq("id", id);
    assertEquals([updated.error, updated.count, updated.status], [null, 1, 204]);
    assertEquals(
      (await you.from("pe_parent").update({ label: "x" }).eq("id", id)).count,
      0,
      "hidden: 0 rows",
    );
    const checked = await me.from("pe_parent").update({ label: "forbidden" }).eq("id", id);
    assertEquals(checked.error?.code, "42501", "WITH CHECK on update");
    assertEquals((await me.from("pe_parent").delete().eq("id", id)).error?.code, "42501", "no grant");

    const embedded = await me.from("pe_parent").select("label, pe_child(note)").eq("id", id).single();
    assertEquals(embedded.data, { label: "uno", pe_child: [{ note: "c1" }, { note: "c2" }] });
    const parent = await me.from("pe_child").select("note, pe_parent(label)").eq("note", "c1").single();
    assertEquals(parent.data, { note: "c1", pe_parent: { label: "uno" } });
    assertEquals((await me.from("pe_parent").select("*, pe_lonely(*)")).error?.code, "PGRST200");

    const anon = Postgrest.anon(db.sql);
    assertEquals([(await anon.from("pe_parent").select("*")).status], [401]);
    assertEquals((await me.rpc("pe_double", { x: 21 })).data, 42);
    assertEquals((await me.rpc("pe_rows", { n: 2 })).data, [{ id: 1 }, { id: 2 }]);
  } finally {
    await db.drop();
  }
});
