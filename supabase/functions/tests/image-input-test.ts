// Cost safety for what Replicate fetches on the project's account (ARCHITECTURE.md "Cost safety"): an
// input image URL must be in the project's Storage or on a host of IMAGE_INPUT_HOSTS (else 422, nothing
// written); the image is checked (type, size) before a prediction is created for it; and an output
// download whose redirect leads off the download allow-list stores nothing.
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { type Simulator, type Stack, type TestUser, TINY_PNG, withSimulatorStack } from "./_stack.ts";

type Row = Record<string, unknown>;

const FLUX_DEV = "black-forest-labs/flux-dev";

async function creates(sim: Simulator): Promise<number> {
  return (await sim.admin("GET", "stats")).creates_total as number;
}

/** What a user reads when an input image fails its check (failure.rs, `input_image_unusable`). */
const UNUSABLE = "The input image cannot be used: it must be a PNG, JPEG, WebP or GIF of at most 10 MB, " +
  "stored in this app or on an allowed site.";

async function start(stack: Stack, user: TestUser, body: Row): Promise<string> {
  const res = await stack.startGeneration(user.token, { prompt: "as a painting", ...body });
  assertEquals(res.status, 200, JSON.stringify(res.body));
  return res.body.generation_id;
}

/** The row once the worker finished it (the worker is woken by start-generation). */
async function finished(stack: Stack, id: string, ms = 30_000): Promise<Row> {
  const until = Date.now() + ms;
  for (;;) {
    // The user's sentence on the row; what exactly failed in the job's error_details.
    const [row] = await stack.sql`
      select g.status, g.error_message, g.storage_path,
             (select j.error_details ->> 'detail' from job_queue j
               where j.payload ->> 'generation_id' = g.id::text and j.error_details is not null
               order by j.id desc limit 1) as detail
        from image_generations g where g.id = ${id}`;
    if (row.status === "completed" || row.status === "failed") return row;
    if (Date.now() > until) throw new Error(`generation ${id} still ${row.status} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function storedObjects(stack: Stack, user: TestUser): Promise<string[]> {
  const rows = await stack.sql<{ name: string }[]>`
    select name from storage.objects where name like ${user.id + "/%"} order by name`;
  return rows.map((r) => r.name);
}

Deno.test("image inputs: an address the rule refuses is a 422 naming field and rule; nothing written", async () => {
  const env = { WORKER_KICK: "false", IMAGE_INPUT_HOSTS: "images.example.com" };
  await withSimulatorStack(["--time-scale", "0"], env, async (stack, sim) => {
    const user = await stack.newUser();
    const cases: [string, string, RegExp][] = [
      ["image_url", "http://images.example.com/a.png", /must use https/],
      ["image_url", "https://169.254.169.254/latest/meta-data/", /not an IP address \(169\.254\.169\.254\)/],
      ["source_image_url", "https://[::1]/a.png", /not an IP address/],
      ["image_url", "https://2852039166/a.png", /not an IP address/],
      ["image_url", "https://user:pass@images.example.com/a.png", /user name or password/],
      ["image_url", "https://images.example.com:8443/a.png", /must not name a port \(:8443\)/],
      ["source_image_url", "https://localhost/a.png", /internal host/],
      ["image_url", "https://metadata.google.internal/computeMetadata/v1/", /internal host/],
      ["image_url", "https://elsewhere.example.net/a.png", /elsewhere\.example\.net is not/],
      ["image_url", "https://images%2eexample.com/a.png", /percent-encode/],
      ["image_url", `${stack.url}/functions/v1/process-jobs`, /not a Storage object URL/],
      [
        "image_url",
        `${stack.url}/storage/v1/object/public/generated-images/../../../rest/v1/x`,
        /not a Storage/,
      ],
    ];
    for (const [field, url, rule] of cases) {
      const body = { prompt: "as a painting", model_id: FLUX_DEV, [field]: url };
      const res = await stack.startGeneration(user.token, body);
      assertEquals(
        [res.status, res.body.success, res.body.code, res.body.field],
        [422, false, "invalid_image_url", field],
        `${url}: ${JSON.stringify(res.body)}`,
      );
      assertMatch(res.body.error, new RegExp(`^${field} `));
      assertMatch(res.body.error, rule);
      // The legacy function accepts through the same code: the same answer.
      const legacy = await stack.call("generate-image", {
        method: "POST",
        token: user.token,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      assertEquals([legacy.status, await legacy.json()], [422, res.body], url);
    }
    assertEquals([await stack.count("image_generations"), await stack.count("job_queue")], [0, 0]);
    assertEquals(await creates(sim), 0);
  });
});

Deno.test("image inputs: the project's Storage is accepted; a wrong type or size fails before any prediction", async () => {
  await withSimulatorStack(["--time-scale", "0"], { WORKER_KICK: "true" }, async (stack, sim) => {
    const user = await stack.newUser();
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>');
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    big.set(TINY_PNG);
    const sources = {
      png: await stack.storeObject(`${user.id}/earlier.png`, TINY_PNG, "image/png"),
      svg: await stack.storeObject(`${user.id}/drawing.svg`, svg, "image/svg+xml"),
      big: await stack.storeObject(`${user.id}/huge.png`, big, "image/png"),
    };

    const wrongType = await finished(
      stack,
      await start(stack, user, { model_id: FLUX_DEV, image_url: sources.svg }),
    );
    assertEquals(
      [wrongType.status, wrongType.error_message, wrongType.detail],
      ["failed", UNUSABLE, "The input image is not a PNG, JPEG, WebP or GIF image (it is image/svg+xml)."],
    );
    const tooBig = await finished(
      stack,
      await start(stack, user, { model_id: FLUX_DEV, source_image_url: sources.big }),
    );
    assertEquals(
      [tooBig.status, tooBig.error_message, tooBig.detail],
      ["failed", UNUSABLE, "The input image is larger than the 10 MB limit."],
    );
    const gone = await finished(
      stack,
      await start(stack, user, { model_id: FLUX_DEV, image_url: sources.png.replace("earlier", "deleted") }),
    );
    assertEquals([gone.status, gone.error_message], ["failed", UNUSABLE]);
    assertMatch(String(gone.detail), /^The input image could not be read \(HTTP 4\d\d\)\.$/);
    assertEquals(await creates(sim), 0, "no prediction was created (nothing paid)");

    const fine = await finished(
      stack,
      await start(stack, user, { model_id: FLUX_DEV, image_url: sources.png }),
    );
    assertEquals(fine.status, "completed", String(fine.error_message));
    assertEquals(await creates(sim), 1, "a usable image is sent to the model");
  });
});

Deno.test("downloads: a redirect off the allow-list stores nothing; one within it is followed", async () => {
  // Where the redirect points: a server the worker must never reach.
  let reached = 0;
  const target = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, () => {
    reached++;
    return new Response(TINY_PNG, { headers: { "content-type": "image/png" } });
  });
  try {
    await withSimulatorStack(["--time-scale", "0"], { WORKER_KICK: "true" }, async (stack, sim) => {
      const user = await stack.newUser();
      const location = `http://127.0.0.1:${target.addr.port}/stolen.png`;
      await sim.admin("POST", "faults", { kind: "redirect", on: "file", times: 1, location });
      const off = await finished(stack, await start(stack, user, {}));
      assertEquals(
        [off.status, off.error_message, off.detail],
        [
          "failed",
          "The model returned a file that could not be saved as an image; please try again.",
          "Refused to follow the image's redirect to an unexpected address (127.0.0.1)",
        ],
      );
      assertEquals(reached, 0, "the redirect target was never requested");
      assertEquals([off.storage_path, await storedObjects(stack, user)], [null, []], "nothing stored");

      // A redirect to the same allowed host (the simulator's own file again) is followed.
      await sim.admin("POST", "faults", { kind: "redirect", on: "file", times: 1 });
      const id = await start(stack, user, {});
      const on = await finished(stack, id);
      assertEquals(on.status, "completed", String(on.error_message));
      assertEquals(await storedObjects(stack, user), [`${user.id}/${id}.webp`]);
      const stats = await sim.admin("GET", "stats");
      assertEquals((stats.faults_fired as Row).redirect, 2);
      assert(reached === 0);
    });
  } finally {
    await target.shutdown();
  }
});
