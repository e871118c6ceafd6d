// scripts/demo: the client's view of a generation — POST start-generation, follow the row through
// GET start-generation?id=, download the stored image, print how long each phase took.
const [envFile, outDir, ...args] = Deno.args;
const env = Object.fromEntries(
  (await Deno.readTextFile(envFile)).split("\n").filter((l) => l.includes("=")).map((l) => {
    const i = l.indexOf("=");
    return [l.slice(0, i), l.slice(i + 1)];
  }),
);

const body: Record<string, unknown> = {};
const positional: string[] = [];
for (let i = 0; i < args.length; i++) {
  const flag = args[i];
  if (flag === "--model") body.model_id = args[++i];
  else if (flag === "--width") body.width = Number(args[++i]);
  else if (flag === "--height") body.height = Number(args[++i]);
  else positional.push(flag);
}
body.prompt = positional.join(" ") || "a lighthouse at dusk, oil painting";

const api = `${env.SUPABASE_URL}/functions/v1/start-generation`;
const auth = { authorization: `Bearer ${env.USER_TOKEN}` };
const t0 = performance.now();
const started = await fetch(api, {
  method: "POST",
  headers: { ...auth, "content-type": "application/json" },
  body: JSON.stringify(body),
});
const accepted = await started.json();
const acceptMs = performance.now() - t0;
if (!started.ok) {
  console.error(`refused (${started.status}): ${accepted.error} [${accepted.code}]`);
  Deno.exit(1);
}
console.log(`accepted   ${acceptMs.toFixed(1)} ms  generation ${accepted.generation_id}`);

let row: Record<string, string | null> = {};
const deadline = Date.now() + 10 * 60_000;
while (Date.now() < deadline) {
  const res = await fetch(`${api}?id=${accepted.generation_id}`, { headers: auth });
  row = await res.json();
  if (row.status === "completed" || row.status === "failed") break;
  await new Promise((r) => setTimeout(r, 100));
}
const ms = (from: string | null, to: string | null) =>
  from && to ? `${(Date.parse(to) - Date.parse(from)).toFixed(0)} ms` : "n/a";
console.log(`started    ${ms(row.created_at, row.started_at)} after accept (job start)`);
if (row.status !== "completed") {
  console.error(`${row.status ?? "timed out"}: ${row.error_message ?? "no answer within 10 minutes"}`);
  Deno.exit(1);
}
console.log(`completed  ${ms(row.created_at, row.completed_at)} after accept (image stored)`);
const image = await fetch(row.image_url!);
const ext = row.storage_path!.split(".").pop();
await Deno.mkdir(outDir, { recursive: true });
const file = `${outDir}/${accepted.generation_id}.${ext}`;
await Deno.writeFile(file, new Uint8Array(await image.arrayBuffer()));
console.log(`saved      ${file}  (${row.model_id}, from ${row.image_url})`);
