// start-generation over HTTP through the local gateway, against a fresh database.
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { spawnStack } from "./_stack.ts";
import { LOCAL_ANON_KEY, signHs256, userClaims } from "../../../scripts/local/keys.ts";

const REQUEST = { prompt: "test", model_id: "black-forest-labs/flux-schnell", width: 1024, height: 1024 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

Deno.test("start-generation", async (t) => {
  const stack = await spawnStack();
  try {
    const user = await stack.newUser();

    await t.step("accepts the seed client's request: the row and its job exist", async () => {
      const res = await stack.startGeneration(user.token, REQUEST);
      assertEquals(res.status, 200);
      // The original start-generation's fields, then this project's.
      assertEquals(Object.keys(res.body).sort(), [
        "adjusted",
        "generation_id",
        "job_id",
        "message",
        "status",
        "success",
      ]);
      assertEquals([res.body.success, res.body.status], [true, "queued"]);
      assertMatch(res.body.generation_id, UUID);
      assertMatch(res.body.job_id, /^[0-9]+$/);
      const [row] = await stack.sql`
        select g.user_id, g.prompt, g.replicate_model, g.status, g.params, g.width, g.height,
               j.id::text as job_id, j.job_type, j.status as job_status
          from image_generations g join job_queue j on j.payload->>'generation_id' = g.id::text
         where g.id = ${res.body.generation_id}`;
      assertEquals(row, {
        user_id: user.id,
        prompt: "test",
        replicate_model: "black-forest-labs/flux-schnell",
        status: "queued",
        params: { width: 1024, height: 1024, num_outputs: 1 },
        width: 1024,
        height: 1024,
        job_id: res.body.job_id,
        job_type: "generate-image",
        job_status: "pending",
      });
      assert(res.headers.get("x-request-id"), "x-request-id header");
    });

    await t.step("logs one JSON line per request, without the token or prompt", async () => {
      const marker = crypto.randomUUID();
      const res = await stack.startGeneration(user.token, { ...REQUEST, prompt: "secret prompt" }, {
        "x-request-id": marker,
      });
      assertEquals(res.status, 200);
      await waitFor(() => stack.logs.some((l) => l.includes(marker)));
      const lines = stack.logs.filter((l) => l.includes(marker));
      assertEquals(lines.length, 1);
      const line = JSON.parse(lines[0]);
      assertEquals([line.fn, line.status, line.user_id, line.generation_id], [
        "start-generation",
        200,
        user.id,
        res.body.generation_id,
      ]);
      assert(typeof line.duration_ms === "number");
      assert(!lines[0].includes(user.token) && !lines[0].includes("secret prompt"));
    });

    await t.step(
      "what a model cannot take is fitted, listed in adjusted, and stored as applied",
      async () => {
        // The original passed these on ("model-specific parameter optimization"); refusing them would break
        // its clients. flux-schnell takes no negative prompt and at most 4 outputs.
        const res = await stack.startGeneration(user.token, {
          ...REQUEST,
          width: 8192,
          num_outputs: 9,
          output_format: "gif",
          negative_prompt: "blurry",
          seed: -1,
          strength: 0.5,
        });
        assertEquals(res.status, 200, JSON.stringify(res.body));
        const fields = (res.body.adjusted as { field: string }[]).map((a) => a.field).sort();
        for (const f of ["negative_prompt", "num_outputs", "output_format", "seed", "strength"]) {
          assert(fields.includes(f), `${f} in ${fields}`);
        }
        const [row] = await stack.sql`select adjusted, negative_prompt, params from image_generations
                                     where id = ${res.body.generation_id}`;
        assertEquals(row.adjusted, res.body.adjusted);
        assertEquals(row.negative_prompt, null, "dropped: not stored as sent");
      },
    );

    await t.step("each validation error is a 400 naming its field and writes nothing", async () => {
      const cases: [unknown, string, string][] = [
        [{ model_id: "black-forest-labs/flux-schnell" }, "prompt", "prompt_missing"],
        [{ ...REQUEST, prompt: "   " }, "prompt", "prompt_empty"],
        [{ ...REQUEST, prompt: "x".repeat(2001) }, "prompt", "prompt_too_long"],
        [{ ...REQUEST, prompt: 42 }, "prompt", "invalid_type"],
        [{ ...REQUEST, model_id: "acme/unknown-model" }, "model_id", "unknown_model"],
        [{ ...REQUEST, width: 9000 }, "width", "size_out_of_range"],
        [{ ...REQUEST, height: 63 }, "height", "size_out_of_range"],
        [{ ...REQUEST, width: "1024" }, "width", "invalid_type"],
        [{ ...REQUEST, image_url: "https://example.com/a.png" }, "image_url", "unsupported_img2img"],
        [{ ...REQUEST, aspect_ratio: "wide" }, "aspect_ratio", "invalid_aspect_ratio"],
        [{ ...REQUEST, strength: 2 }, "strength", "invalid_strength"],
        [{ ...REQUEST, model_version: "v1" }, "model_version", "invalid_model_version"],
        ["{not json", "body", "invalid_json"],
        ["[1,2,3]", "body", "invalid_json"],
        [JSON.stringify({ ...REQUEST, prompt: "x".repeat(70 * 1024) }), "body", "body_too_large"],
      ];
      const before = [await stack.count("image_generations"), await stack.count("job_queue")];
      for (const [body, field, code] of cases) {
        const res = await stack.startGeneration(user.token, body);
        assertEquals(
          [res.status, res.body.field, res.body.code],
          [400, field, code],
          JSON.stringify(res.body),
        );
        assert(typeof res.body.error === "string" && res.body.error.length > 0);
      }
      const bad = await stack.startGeneration(user.token, REQUEST, { "idempotency-key": "has spaces in it" });
      assertEquals([bad.status, bad.body.field], [400, "Idempotency-Key"]);
      assertEquals([await stack.count("image_generations"), await stack.count("job_queue")], before);
    });

    await t.step("missing, expired, forged and non-user tokens get 401 and write nothing", async () => {
      const before = await stack.count("image_generations");
      const now = Math.floor(Date.now() / 1000);
      const expired = await signHs256({
        ...userClaims(user.id, user.email),
        exp: now - 3600,
        iat: now - 7200,
      });
      const forged = await signHs256(
        userClaims(user.id, user.email),
        "not-the-project-secret-not-the-project-secret",
      );
      const algNone = `${b64(JSON.stringify({ alg: "none", typ: "JWT" }))}.${
        b64(JSON.stringify(userClaims(user.id, user.email)))
      }.`;
      for (const token of [undefined, "not-a-jwt", expired, forged, algNone, LOCAL_ANON_KEY]) {
        const res = await stack.startGeneration(token, REQUEST);
        assertEquals(res.status, 401, `${token?.slice(0, 20)}: ${JSON.stringify(res.body)}`);
      }
      // The function itself refuses the anon key (a gateway check would let any project JWT through).
      const anon = await stack.startGeneration(LOCAL_ANON_KEY, REQUEST);
      assertEquals(anon.body.code, "forbidden_role");
      assertEquals(await stack.count("image_generations"), before);
    });

    // verify_jwt is off (config.toml): the gateway's 401 has no CORS headers, and a browser would see a
    // CORS error instead. The function's own 401 names the origin, so the web app can read it.
    await t.step("a browser without a valid token gets a 401 it can read (CORS headers)", async () => {
      for (const fn of ["start-generation", "generate-image"]) {
        for (const authorization of [undefined, "Bearer not-a-jwt", "Bearer sb_publishable_x"]) {
          const res = await fetch(`${stack.url}/functions/v1/${fn}`, {
            method: "POST",
            headers: {
              origin: "https://app.example",
              "content-type": "application/json",
              ...(authorization ? { authorization } : {}),
            },
            body: JSON.stringify(REQUEST),
          });
          const body = await res.json();
          assertEquals(res.status, 401, `${fn} ${authorization}: ${JSON.stringify(body)}`);
          assertEquals(res.headers.get("access-control-allow-origin"), "*", `${fn} ${authorization}`);
          assertEquals(body.success, false, `${fn}: the function's own answer`);
        }
      }
    });

    await t.step("a token whose user was deleted gets 401", async () => {
      const ghost = await stack.newUser();
      await stack.sql`delete from auth.users where id = ${ghost.id}`;
      const res = await stack.startGeneration(ghost.token, REQUEST);
      assertEquals([res.status, res.body.code], [401, "user_not_found"]);
    });

    await t.step("Idempotency-Key: a retry returns the same generation and writes nothing", async () => {
      const key = crypto.randomUUID();
      const first = await stack.startGeneration(user.token, REQUEST, { "idempotency-key": key });
      const counts = [await stack.count("image_generations"), await stack.count("job_queue")];
      const retry = await stack.startGeneration(user.token, REQUEST, { "idempotency-key": key });
      assertEquals(first.status, 200);
      assertEquals(retry.status, 200);
      assertEquals(retry.body.generation_id, first.body.generation_id);
      assertEquals(retry.headers.get("idempotent-replayed"), "true");
      assertEquals([await stack.count("image_generations"), await stack.count("job_queue")], counts);
      const reuse = await stack.startGeneration(user.token, { ...REQUEST, prompt: "other" }, {
        "idempotency-key": key,
      });
      assertEquals([reuse.status, reuse.body.code], [422, "idempotency_key_reused"]);
      const other = await stack.newUser();
      const theirs = await stack.startGeneration(other.token, REQUEST, { "idempotency-key": key });
      assert(theirs.body.generation_id !== first.body.generation_id, "keys are per user");
    });

    await t.step("concurrent retries with one key create one generation", async () => {
      const racer = await stack.newUser();
      const key = crypto.randomUUID();
      const results = await Promise.all(
        Array.from(
          { length: 8 },
          () => stack.startGeneration(racer.token, REQUEST, { "idempotency-key": key }),
        ),
      );
      assertEquals(results.map((r) => r.status), Array(8).fill(200));
      assertEquals(new Set(results.map((r) => r.body.generation_id)).size, 1);
      const [{ n }] = await stack
        .sql`select count(*)::int as n from image_generations where user_id = ${racer.id}`;
      assertEquals(n, 1);
    });

    await t.step("CORS preflight, wrong method, unknown function", async () => {
      const pre = await stack.call("start-generation", {
        method: "OPTIONS",
        headers: { origin: "https://app.example", "access-control-request-method": "POST" },
      });
      assertEquals(pre.status, 200);
      assertEquals(pre.headers.get("access-control-allow-origin"), "*");
      assertMatch(pre.headers.get("access-control-allow-headers") ?? "", /authorization/);
      await pre.body?.cancel();
      const put = await stack.call("start-generation", { method: "PUT", token: user.token });
      assertEquals(put.status, 405);
      await put.body?.cancel();
      const get = await stack.call("start-generation", { token: user.token });
      assertEquals([get.status, (await get.json()).field], [400, "id"], "GET needs ?id=");
      const missing = await stack.call("no-such-function", { token: user.token });
      assertEquals(missing.status, 404);
      await missing.body?.cancel();
    });
  } finally {
    await stack.close();
  }
});

Deno.test("start-generation: the pending limit holds under concurrency", async () => {
  const stack = await spawnStack({ MAX_PENDING_GENERATIONS: "3" });
  try {
    const user = await stack.newUser();
    const results = await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) => stack.startGeneration(user.token, { ...REQUEST, prompt: `p${i}` }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    assertEquals(statuses, [200, 200, 200, 429, 429, 429, 429, 429, 429, 429]);
    const refused = results.find((r) => r.status === 429)!;
    assertEquals(refused.body.code, "too_many_pending");
    assertEquals(await stack.count("image_generations"), 3);
    assertEquals(await stack.count("job_queue"), 3);
    // A finished generation frees a slot; other users are unaffected.
    await stack.sql`update image_generations set status = 'completed' where id = ${
      results.find((r) => r.status === 200)!.body.generation_id
    }`;
    assertEquals((await stack.startGeneration(user.token, REQUEST)).status, 200);
    assertEquals((await stack.startGeneration((await stack.newUser()).token, REQUEST)).status, 200);
  } finally {
    await stack.close();
  }
});

Deno.test("start-generation: an unreachable database is a 503, not a crash", async () => {
  const stack = await spawnStack({ SUPABASE_DB_URL: "postgresql://postgres@127.0.0.1:9/postgres" });
  try {
    const user = { token: await signHs256(userClaims(crypto.randomUUID(), "x@example.test")) };
    const res = await stack.startGeneration(user.token, REQUEST);
    assertEquals([res.status, res.body.code], [503, "database_unavailable"]);
  } finally {
    await stack.close();
  }
});

function b64(s: string): string {
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

async function waitFor(condition: () => boolean, ms = 2000) {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("start-generation: ES256 tokens verify against SUPABASE_JWKS (asymmetric signing keys)", async () => {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const jwk = {
    ...(await crypto.subtle.exportKey("jwk", keys.publicKey)),
    kid: "test-key-1",
    alg: "ES256",
    use: "sig",
  };
  const stack = await spawnStack({ SUPABASE_JWKS: JSON.stringify({ keys: [jwk] }) });
  try {
    const user = await stack.newUser();
    const sign = async (kid: string) => {
      const input = `${b64(JSON.stringify({ alg: "ES256", typ: "JWT", kid }))}.${
        b64(JSON.stringify(userClaims(user.id, user.email)))
      }`;
      // WebCrypto's ECDSA signature is r||s (IEEE P1363), which is what JWS ES256 uses.
      const sig = await crypto.subtle.sign(
        { name: "ECDSA", hash: "SHA-256" },
        keys.privateKey,
        new TextEncoder().encode(input),
      );
      return `${input}.${b64(String.fromCharCode(...new Uint8Array(sig)))}`;
    };
    const ok = await stack.startGeneration(await sign("test-key-1"), REQUEST);
    assertEquals(ok.status, 200, JSON.stringify(ok.body));
    const unknownKid = await stack.startGeneration(await sign("other-key"), REQUEST);
    assertEquals(unknownKid.status, 401);
    // HS256 tokens keep working alongside (JWT_SECRET is still set).
    assertEquals((await stack.startGeneration(user.token, REQUEST)).status, 200);
  } finally {
    await stack.close();
  }
});
