// Supabase Storage's object API as the local gateway serves it (scripts/local/storage.ts), over HTTP
// against a fresh database and storage folder, with the calls the worker and clients make. Error bodies
// are Storage's: HTTP 400 for every 4xx, the real status in `statusCode` (supabase/storage
// src/http/error-handler.ts), codes and messages from its src/internal/errors/codes.ts.
import { createHash } from "node:crypto";
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { spawnStack, type Stack } from "./_stack.ts";
import {
  LOCAL_ANON_KEY,
  LOCAL_JWT_SECRET,
  LOCAL_SERVICE_ROLE_KEY,
  signHs256,
} from "../../../scripts/local/keys.ts";

const BUCKET = "generated-images";
const SECRET_KEY = "sb_secret_local_storage_test";
const OTHER_SECRET = "not-the-project-secret-not-the-project-secret";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const DUPLICATE = {
  statusCode: "409",
  code: "ResourceAlreadyExists",
  error: "Duplicate",
  message: "The resource already exists",
};
const NO_SUCH_KEY = { statusCode: "404", code: "NoSuchKey", error: "not_found", message: "Object not found" };
const NO_SUCH_BUCKET = {
  statusCode: "404",
  code: "NoSuchBucket",
  error: "Bucket not found",
  message: "Bucket not found",
};
const TOO_LARGE = {
  statusCode: "413",
  code: "EntityTooLarge",
  error: "Payload too large",
  message: "The object exceeded the maximum allowed size",
};
const denied = (message: string) => ({
  statusCode: "403",
  code: "AccessDenied",
  error: "Unauthorized",
  message,
});
const RLS_DENIED = denied("new row violates row-level security policy");
const invalidJwt = (message: string) => ({
  statusCode: "400",
  code: "InvalidJWT",
  error: "InvalidJWT",
  message,
});
const INVALID_SIGNATURE = {
  statusCode: "400",
  code: "InvalidSignature",
  error: "InvalidSignature",
  message: "Invalid signature",
};
const invalidMime = (type: string) => ({
  statusCode: "415",
  code: "InvalidMimeType",
  error: "invalid_mime_type",
  message: `mime type ${type} is not supported`,
});

type Sent = { status: number; headers: Headers; bytes: Uint8Array; json: Record<string, unknown> | null };
type Init = {
  token?: string;
  headers?: Record<string, string>;
  body?: BodyInit;
};

/** One request to /storage/v1/<path>; the body is always read (as bytes, and as JSON when it is). */
async function call(stack: Stack, method: string, path: string, init: Init = {}): Promise<Sent> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  const res = await fetch(`${stack.url}/storage/v1/${path}`, { method, headers, body: init.body });
  const bytes = new Uint8Array(await res.arrayBuffer());
  let json = null;
  if (bytes.length > 0 && res.headers.get("content-type")?.startsWith("application/json")) {
    json = JSON.parse(new TextDecoder().decode(bytes));
  }
  return { status: res.status, headers: res.headers, bytes, json };
}

/** POST /object/<bucket>/<key> with the service key (or `token`), Content-Type image/png by default. */
function upload(stack: Stack, key: string, body: BodyInit, init: Init & { bucket?: string } = {}) {
  return call(stack, "POST", `object/${init.bucket ?? BUCKET}/${key}`, {
    token: init.token ?? LOCAL_SERVICE_ROLE_KEY,
    headers: { "content-type": "image/png", ...init.headers },
    body,
  });
}

/** Deterministic pseudo-random bytes (distinct per seed). */
function bytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const md5 = (data: Uint8Array) => `"${createHash("md5").update(data).digest("hex")}"`;

/** Every file under `dir`, as paths relative to it. */
async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) found.push(...await filesUnder(dir, `${path}/`));
    else found.push(path);
  }
  return found.sort();
}

/** The storage.objects rows for one key, as plain objects. */
async function objectRows(stack: Stack, bucket: string, name: string): Promise<Record<string, unknown>[]> {
  const rows = await stack.sql`
    select id, metadata from storage.objects where bucket_id = ${bucket} and name = ${name}`;
  return rows.map((r) => ({ ...r }));
}

function claimsOf(token: string): Record<string, unknown> {
  const part = token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
  return JSON.parse(atob(part + "=".repeat((4 - part.length % 4) % 4)));
}

Deno.test("storage", async (t) => {
  const stack = await spawnStack({ SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }) });
  // Buckets beside the migration's: a private one and a public one with a 1 KiB cap and no type list.
  await stack.sql`
    insert into storage.buckets (id, name, public, file_size_limit)
    values ('private-test', 'private-test', false, null), ('tiny', 'tiny', true, 1024)`;
  const user = await stack.newUser();
  const png = bytes(100_000, 1);
  try {
    await t.step("the migration creates the public generated-images bucket with its limits", async () => {
      const rows = await stack.sql`
        select name, public, file_size_limit::text as limit, allowed_mime_types
          from storage.buckets where id = ${BUCKET}`;
      assertEquals(rows.map((r) => ({ ...r })), [{
        name: BUCKET,
        public: true,
        limit: String(20 * 1024 * 1024),
        allowed_mime_types: ["image/png", "image/jpeg", "image/webp", "image/svg+xml"],
      }]);
    });

    await t.step("upload, then the public URL serves the same bytes and headers", async () => {
      const res = await upload(stack, "u1/a.png", png, { headers: { "cache-control": "max-age=3600" } });
      assertEquals(res.status, 200, JSON.stringify(res.json));
      assertEquals(Object.keys(res.json!).sort(), ["Id", "Key"]);
      assertEquals(res.json!.Key, `${BUCKET}/u1/a.png`);
      assertMatch(String(res.json!.Id), UUID);
      const [row] = await objectRows(stack, BUCKET, "u1/a.png");
      assertEquals(row.id, res.json!.Id);
      const metadata = row.metadata as Record<string, unknown>;
      assertEquals(
        [metadata.mimetype, metadata.size, metadata.cacheControl, metadata.eTag],
        ["image/png", png.length, "max-age=3600", md5(png)],
      );

      const got = await call(stack, "GET", `object/public/${BUCKET}/u1/a.png`);
      assertEquals(got.status, 200);
      assertEquals(got.bytes, png);
      assertEquals(got.headers.get("content-type"), "image/png");
      assertEquals(got.headers.get("content-length"), String(png.length));
      assertEquals(got.headers.get("cache-control"), "max-age=3600");
      assertEquals(got.headers.get("etag"), md5(png));
      assert(!Number.isNaN(Date.parse(got.headers.get("last-modified") ?? "")), "last-modified");

      const cached = await call(stack, "GET", `object/public/${BUCKET}/u1/a.png`, {
        headers: { "if-none-match": md5(png) },
      });
      assertEquals([cached.status, cached.bytes.length], [304, 0]);
      const download = await call(stack, "GET", `object/public/${BUCKET}/u1/a.png?download=cat.png`);
      assertEquals(
        download.headers.get("content-disposition"),
        "attachment; filename=cat.png; filename*=UTF-8''cat.png;",
      );
    });

    await t.step("cache-control defaults to no-cache; keys may hold spaces and UTF-8", async () => {
      const key = "u1/a photo é.webp";
      const encoded = key.split("/").map(encodeURIComponent).join("/");
      const res = await upload(stack, encoded, bytes(10, 2), { headers: { "content-type": "image/webp" } });
      assertEquals([res.status, res.json!.Key], [200, `${BUCKET}/${key}`]);
      const got = await call(stack, "GET", `object/public/${BUCKET}/${encoded}`);
      assertEquals([got.status, got.headers.get("cache-control")], [200, "no-cache"]);
      assertEquals(got.bytes, bytes(10, 2));
    });

    await t.step("an existing key is a Duplicate unless x-upsert: true; PUT replaces", async () => {
      const first = await upload(stack, "u1/b.png", bytes(500, 3));
      assertEquals(first.status, 200);
      const again = await upload(stack, "u1/b.png", bytes(500, 4));
      assertEquals([again.status, again.json], [400, DUPLICATE]);
      const notTrue = await upload(stack, "u1/b.png", bytes(500, 4), { headers: { "x-upsert": "false" } });
      assertEquals([notTrue.status, notTrue.json], [400, DUPLICATE]);
      assertEquals((await call(stack, "GET", `object/public/${BUCKET}/u1/b.png`)).bytes, bytes(500, 3));

      const upserted = await upload(stack, "u1/b.png", bytes(700, 5), { headers: { "x-upsert": "true" } });
      assertEquals([upserted.status, upserted.json!.Id], [200, first.json!.Id], "the row is kept");
      const afterUpsert = await call(stack, "GET", `object/public/${BUCKET}/u1/b.png`);
      assertEquals([afterUpsert.bytes, afterUpsert.headers.get("etag")], [bytes(700, 5), md5(bytes(700, 5))]);

      const put = await call(stack, "PUT", `object/${BUCKET}/u1/b.png`, {
        token: LOCAL_SERVICE_ROLE_KEY,
        headers: { "content-type": "image/jpeg" },
        body: bytes(300, 6),
      });
      assertEquals([put.status, put.json], [200, { Id: first.json!.Id, Key: `${BUCKET}/u1/b.png` }]);
      const afterPut = await call(stack, "GET", `object/public/${BUCKET}/u1/b.png`);
      assertEquals([afterPut.bytes, afterPut.headers.get("content-type")], [bytes(300, 6), "image/jpeg"]);
      // Replaced versions are removed from disk: one file holds the key.
      const files = (await filesUnder(stack.storageRoot)).filter((f) => f.startsWith(`${BUCKET}/u1/b.png#`));
      assertEquals(files.length, 1, files.join(", "));

      // Two plain uploads of one new key racing: both pass the early check while their bodies are
      // still arriving; the check under the object's lock lets exactly one of them in.
      let open!: () => void;
      const gate = new Promise<void>((resolve) => open = resolve);
      const slowBody = (seed: number) =>
        new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(bytes(100, seed));
            await gate;
            controller.enqueue(bytes(100, seed + 1));
            controller.close();
          },
        });
      const racing = [upload(stack, "u1/race.png", slowBody(20)), upload(stack, "u1/race.png", slowBody(30))];
      await new Promise((resolve) => setTimeout(resolve, 300));
      open();
      const results = await Promise.all(racing);
      assertEquals(results.map((r) => r.status).sort(), [200, 400]);
      const loser = results.find((r) => r.status === 400)!;
      assertEquals(loser.json, DUPLICATE);
      const winnerSeed = results[0].status === 200 ? 20 : 30;
      const raced = await call(stack, "GET", `object/public/${BUCKET}/u1/race.png`);
      assertEquals(raced.bytes, new Uint8Array([...bytes(100, winnerSeed), ...bytes(100, winnerSeed + 1)]));
      const raceFiles = (await filesUnder(stack.storageRoot)).filter((f) =>
        f.includes("race.png") || f.startsWith(".tmp/")
      );
      assertEquals(raceFiles.length, 1, raceFiles.join(", "));

      const putNew = await call(stack, "PUT", `object/${BUCKET}/u1/c.png`, {
        token: LOCAL_SERVICE_ROLE_KEY,
        headers: { "content-type": "image/png" },
        body: bytes(10, 7),
      });
      assertEquals(putNew.status, 200, "PUT creates a missing key");
      assertEquals((await call(stack, "GET", `object/public/${BUCKET}/u1/c.png`)).bytes, bytes(10, 7));
    });

    await t.step("the bucket's size cap: the limit passes, one byte more is refused", async () => {
      const exact = await upload(stack, "exact.bin", bytes(1024, 8), { bucket: "tiny" });
      assertEquals(exact.status, 200);
      const over = await upload(stack, "over.bin", bytes(1025, 9), { bucket: "tiny" });
      assertEquals([over.status, over.json], [400, TOO_LARGE]);
      assertEquals(await objectRows(stack, "tiny", "over.bin"), []);
    });

    await t.step(
      "a streamed body over the cap is cut off: no row, no file, not read to the end",
      async () => {
        const total = 64 * 1024 * 1024;
        const chunk = bytes(64 * 1024, 10);
        let pulled = 0;
        // No Content-Length (chunked), so the server only learns the size by reading.
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (pulled >= total) return controller.close();
            pulled += chunk.length;
            controller.enqueue(chunk);
          },
        });
        const res = await upload(stack, "stream.bin", body, { bucket: "tiny" });
        assertEquals([res.status, res.json], [400, TOO_LARGE]);
        assert(pulled < total / 2, `the server read the whole body (${pulled} bytes pulled)`);
        assertEquals(await objectRows(stack, "tiny", "stream.bin"), []);
        const files = await filesUnder(stack.storageRoot);
        assertEquals(files.filter((f) => f.includes("stream.bin") || f.startsWith(".tmp/")), []);
      },
    );

    await t.step(
      "Content-Types outside the bucket's list are refused before anything is stored",
      async () => {
        for (
          const type of ["image/gif", "text/plain", "image/png; charset=binary", "application/octet-stream"]
        ) {
          const res = await upload(stack, "u1/typed", bytes(10, 11), { headers: { "content-type": type } });
          assertEquals([res.status, res.json], [400, invalidMime(type)], type);
        }
        assertEquals(await objectRows(stack, BUCKET, "u1/typed"), []);
        for (const type of ["image/jpeg", "image/webp", "image/svg+xml"]) {
          const res = await upload(stack, `u1/typed.${type.slice(6, 9)}`, bytes(10, 12), {
            headers: { "content-type": type },
          });
          assertEquals(res.status, 200, type);
        }
      },
    );

    await t.step("uploads need the service role: no, bad, anon and user tokens are refused", async () => {
      const now = Math.floor(Date.now() / 1000);
      const forged = await signHs256({ role: "service_role", exp: now + 60 }, OTHER_SECRET);
      const expired = await signHs256({ role: "service_role", exp: now - 60 });
      const cases: [string | undefined, unknown][] = [
        [undefined, denied("Invalid Compact JWS")],
        ["not-a-jwt", denied("Invalid Compact JWS")],
        [forged, denied("signature verification failed")],
        [expired, denied('"exp" claim timestamp check failed')],
        [LOCAL_ANON_KEY, RLS_DENIED],
        [user.token, RLS_DENIED],
      ];
      for (const [token, shape] of cases) {
        const res = await call(stack, "POST", `object/${BUCKET}/u1/auth.png`, {
          token,
          headers: { "content-type": "image/png" },
          body: bytes(10, 13),
        });
        assertEquals([res.status, res.json], [400, shape], token?.slice(0, 24));
      }
      assertEquals(await objectRows(stack, BUCKET, "u1/auth.png"), []);
      assertEquals((await filesUnder(stack.storageRoot)).filter((f) => f.includes("auth.png")), []);

      // The service role in its other forms: a secret API key in apikey (alone or, as supabase-js sends
      // it, in both headers), a fresh service JWT.
      const minted = await signHs256({ role: "service_role", exp: now + 60 });
      const forms: Record<string, string>[] = [
        { apikey: SECRET_KEY },
        { apikey: SECRET_KEY, authorization: `Bearer ${SECRET_KEY}` },
        { authorization: `Bearer ${minted}` },
      ];
      for (const [i, headers] of forms.entries()) {
        const res = await call(stack, "POST", `object/${BUCKET}/u1/auth-${i}.png`, {
          headers: { "content-type": "image/png", ...headers },
          body: bytes(10, 14),
        });
        assertEquals(res.status, 200, JSON.stringify(headers));
      }
      // A secret key is no JWT: in Authorization alone the gateway does not take it, Storage refuses it.
      const bearerOnly = await call(stack, "POST", `object/${BUCKET}/u1/auth-bearer.png`, {
        token: SECRET_KEY,
        headers: { "content-type": "image/png" },
        body: bytes(10, 14),
      });
      assertEquals([bearerOnly.status, bearerOnly.json?.code], [400, "AccessDenied"]);
      assertEquals(await objectRows(stack, BUCKET, "u1/auth-bearer.png"), []);
    });

    await t.step("delete and sign need the service role too (RLS hides the object from others)", async () => {
      for (const token of [LOCAL_ANON_KEY, user.token]) {
        const del = await call(stack, "DELETE", `object/${BUCKET}/u1/a.png`, { token });
        assertEquals([del.status, del.json], [400, NO_SUCH_KEY]);
        const sign = await call(stack, "POST", `object/sign/${BUCKET}/u1/a.png`, {
          token,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ expiresIn: 60 }),
        });
        assertEquals([sign.status, sign.json], [400, NO_SUCH_KEY]);
      }
      const anonymous = await call(stack, "DELETE", `object/${BUCKET}/u1/a.png`);
      assertEquals([anonymous.status, anonymous.json], [400, denied("Invalid Compact JWS")]);
      assertEquals((await call(stack, "GET", `object/public/${BUCKET}/u1/a.png`)).bytes, png, "still there");
    });

    await t.step(
      "a user deletes objects in their own folder (the apps' gallery delete), nothing else",
      async () => {
        const own = `${user.id}/own.png`;
        const up = await call(stack, "POST", `object/${BUCKET}/${own}`, {
          token: LOCAL_SERVICE_ROLE_KEY,
          headers: { "content-type": "image/png" },
          body: png,
        });
        assertEquals(up.status, 200);
        const other = await stack.newUser();
        const foreign = await call(stack, "DELETE", `object/${BUCKET}/${own}`, { token: other.token });
        assertEquals([foreign.status, foreign.json], [400, NO_SUCH_KEY], "another user's folder");
        const del = await call(stack, "DELETE", `object/${BUCKET}/${own}`, { token: user.token });
        assertEquals([del.status, del.json], [200, { message: "Successfully deleted" }]);
        assertEquals((await call(stack, "GET", `object/public/${BUCKET}/${own}`)).status, 400, "gone");
      },
    );

    await t.step("private buckets: no public URL; only the service role reads", async () => {
      const html = new TextEncoder().encode("<script>alert(1)</script>");
      const up = await upload(stack, "doc.html", html, {
        bucket: "private-test",
        headers: { "content-type": "text/html" },
      });
      assertEquals(up.status, 200);
      const path = "private-test/doc.html";
      const publicGet = await call(stack, "GET", `object/public/${path}`);
      assertEquals([publicGet.status, publicGet.json], [400, NO_SUCH_BUCKET]);
      const publicHead = await call(stack, "HEAD", `object/public/${path}`);
      assertEquals(publicHead.status, 400);
      const noToken = await call(stack, "GET", `object/${path}`);
      assertEquals([noToken.status, noToken.json], [400, NO_SUCH_BUCKET]);
      for (const token of [LOCAL_ANON_KEY, user.token]) {
        const res = await call(stack, "GET", `object/authenticated/${path}`, { token });
        assertEquals([res.status, res.json], [400, NO_SUCH_KEY]);
      }
      const forged = await call(stack, "GET", `object/authenticated/${path}`, {
        token: await signHs256({ role: "service_role" }, OTHER_SECRET),
      });
      assertEquals([forged.status, forged.json], [400, denied("signature verification failed")]);
      for (const route of [`object/${path}`, `object/authenticated/${path}`]) {
        const res = await call(stack, "GET", route, { token: LOCAL_SERVICE_ROLE_KEY });
        assertEquals([res.status, res.bytes], [200, html], route);
        // Storage never serves text/html as such.
        assertEquals(res.headers.get("content-type"), "text/plain");
      }
      // Public buckets serve anyone on the token routes too (a bad token counts as none).
      const viaUser = await call(stack, "GET", `object/${BUCKET}/u1/a.png`, { token: "garbage" });
      assertEquals([viaUser.status, viaUser.bytes], [200, png]);
    });

    await t.step("missing objects and buckets get Storage's not-found errors", async () => {
      const missing = await call(stack, "GET", `object/public/${BUCKET}/u1/none.png`);
      assertEquals([missing.status, missing.json], [400, NO_SUCH_KEY]);
      const noBucket = await call(stack, "GET", `object/public/no-such-bucket/a.png`);
      assertEquals([noBucket.status, noBucket.json], [400, NO_SUCH_BUCKET]);
      const uploadNoBucket = await upload(stack, "a.png", bytes(10, 15), { bucket: "no-such-bucket" });
      assertEquals([uploadNoBucket.status, uploadNoBucket.json], [400, NO_SUCH_BUCKET]);
    });

    await t.step("HEAD answers the headers of GET without the bytes", async () => {
      const head = await call(stack, "HEAD", `object/public/${BUCKET}/u1/a.png`);
      assertEquals(head.status, 200);
      assertEquals(head.bytes.length, 0);
      assertEquals(
        ["content-type", "content-length", "etag", "cache-control"].map((h) => head.headers.get(h)),
        ["image/png", String(png.length), md5(png), "max-age=3600"],
      );
      const privateHead = await call(stack, "HEAD", `object/authenticated/private-test/doc.html`, {
        token: LOCAL_SERVICE_ROLE_KEY,
      });
      assertEquals([privateHead.status, privateHead.bytes.length], [200, 0]);
      const missing = await call(stack, "HEAD", `object/public/${BUCKET}/u1/none.png`);
      assertEquals(missing.status, 400);
    });

    await t.step("signed URLs: a JWT for the object that serves it until it expires", async () => {
      for (const [path, content] of [[`${BUCKET}/u1/a.png`, png], ["private-test/doc.html", null]] as const) {
        const res = await call(stack, "POST", `object/sign/${path}`, {
          token: LOCAL_SERVICE_ROLE_KEY,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ expiresIn: 60 }),
        });
        assertEquals([res.status, Object.keys(res.json!)], [200, ["signedURL"]]);
        const signedURL = String(res.json!.signedURL);
        const token = signedURL.match(/\?token=([^&]+)$/)?.[1];
        assert(token && signedURL === `/object/sign/${path}?token=${token}`, signedURL);
        // Storage's token: HS256 with the project secret, {url, iat, exp}.
        const [header, payload, signature] = token.split(".");
        const key = await crypto.subtle.importKey(
          "raw",
          new TextEncoder().encode(LOCAL_JWT_SECRET),
          { name: "HMAC", hash: "SHA-256" },
          false,
          ["sign"],
        );
        const expected = new Uint8Array(
          await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${header}.${payload}`)),
        );
        assertEquals(
          signature,
          btoa(String.fromCharCode(...expected)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, ""),
        );
        const claims = claimsOf(token);
        assertEquals(Object.keys(claims).sort(), ["exp", "iat", "url"]);
        assertEquals([claims.url, Number(claims.exp) - Number(claims.iat)], [path, 60]);

        const got = await call(stack, "GET", `object/sign/${path}?token=${token}`);
        assertEquals(got.status, 200, JSON.stringify(got.json));
        if (content) assertEquals(got.bytes, content);
        assertEquals(got.headers.get("expires"), new Date(Number(claims.exp) * 1000).toUTCString());
        assertEquals(got.headers.get("cache-control"), null);
      }
      const missing = await call(stack, "POST", `object/sign/${BUCKET}/u1/none.png`, {
        token: LOCAL_SERVICE_ROLE_KEY,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ expiresIn: 60 }),
      });
      assertEquals([missing.status, missing.json], [400, NO_SUCH_KEY]);
      for (const body of [{}, { expiresIn: 0 }, { expiresIn: 1.5 }]) {
        const bad = await call(stack, "POST", `object/sign/${BUCKET}/u1/a.png`, {
          token: LOCAL_SERVICE_ROLE_KEY,
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        assertEquals([bad.status, bad.json!.statusCode, bad.json!.code], [400, "400", "InvalidRequest"]);
      }
    });

    await t.step("expired, forged, misdirected and upload tokens are refused", async () => {
      const now = Math.floor(Date.now() / 1000);
      const url = `${BUCKET}/u1/a.png`;
      const cases: [string, unknown][] = [
        [
          await signHs256({ url, iat: now - 120, exp: now - 60 }),
          invalidJwt('"exp" claim timestamp check failed'),
        ],
        [
          await signHs256({ url, iat: now, exp: now + 60 }, OTHER_SECRET),
          invalidJwt("signature verification failed"),
        ],
        ["garbage", invalidJwt("Invalid Compact JWS")],
        [await signHs256({ url: `${BUCKET}/u1/b.png`, iat: now, exp: now + 60 }), INVALID_SIGNATURE],
        [await signHs256({ url, iat: now, exp: now + 60, upsert: true }), INVALID_SIGNATURE],
        [LOCAL_SERVICE_ROLE_KEY, INVALID_SIGNATURE],
      ];
      for (const [token, shape] of cases) {
        const res = await call(stack, "GET", `object/sign/${url}?token=${token}`);
        assertEquals([res.status, res.json], [400, shape], token.slice(0, 24));
      }
      const none = await call(stack, "GET", `object/sign/${url}`);
      assertEquals([none.status, none.json!.code], [400, "InvalidRequest"]);
    });

    await t.step("keys and bucket names that could leave the storage folder are refused", async () => {
      const keys = [
        "..%2F..%2Fescape.png",
        "u1%2F..%2F..%2F..%2Fescape.png",
        "%2Fescape.png",
        "u1%5C..%5Cescape.png",
        "escape%00.png",
        "u1%2F%2Fescape.png",
        "u1%2F.%2Fescape.png",
        "escape%E0%A4%A.png",
      ];
      for (const key of keys) {
        const res = await upload(stack, key, bytes(10, 16));
        assertEquals([res.status, res.json?.statusCode, res.json?.code], [400, "400", "InvalidKey"], key);
        const get = await call(stack, "GET", `object/public/${BUCKET}/${key}`);
        assertEquals([get.status, get.json?.code], [400, "InvalidKey"], key);
      }
      for (const bucket of ["..%2F..", "a%2Fb", ".tmp", "%2E%2E%2Fx"]) {
        const res = await upload(stack, "escape.png", bytes(10, 17), { bucket });
        assertEquals([res.status, res.json?.code], [400, "InvalidBucketName"], bucket);
      }
      // A raw request with dot segments (fetch would normalise them away before sending).
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(stack.url).port) });
      const request = `POST /storage/v1/object/${BUCKET}/../../../escape.png HTTP/1.1\r\nHost: x\r\n` +
        `Authorization: Bearer ${LOCAL_SERVICE_ROLE_KEY}\r\nContent-Type: image/png\r\n` +
        `Content-Length: 3\r\nConnection: close\r\n\r\nabc`;
      await conn.write(new TextEncoder().encode(request));
      const answer = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
      assert(!answer.startsWith("HTTP/1.1 200"), answer.split("\r\n")[0]);

      const parent = stack.storageRoot.slice(0, stack.storageRoot.lastIndexOf("/"));
      for await (const entry of Deno.readDir(parent)) assert(!entry.name.startsWith("escape"), entry.name);
      assertEquals((await filesUnder(stack.storageRoot)).filter((f) => f.includes("escape")), []);
      const [{ n }] = await stack
        .sql`select count(*)::int as n from storage.objects where name like '%escape%'`;
      assertEquals(n, 0);
    });

    await t.step("DELETE removes the row and the file; a second DELETE finds nothing", async () => {
      const del = await call(stack, "DELETE", `object/${BUCKET}/u1/a.png`, { token: LOCAL_SERVICE_ROLE_KEY });
      assertEquals([del.status, del.json], [200, { message: "Successfully deleted" }]);
      const gone = await call(stack, "GET", `object/public/${BUCKET}/u1/a.png`);
      assertEquals([gone.status, gone.json], [400, NO_SUCH_KEY]);
      assertEquals(await objectRows(stack, BUCKET, "u1/a.png"), []);
      assertEquals(
        (await filesUnder(stack.storageRoot)).filter((f) => f.startsWith(`${BUCKET}/u1/a.png#`)),
        [],
      );
      const again = await call(stack, "DELETE", `object/${BUCKET}/u1/a.png`, {
        headers: { apikey: SECRET_KEY },
      });
      assertEquals([again.status, again.json], [400, NO_SUCH_KEY]);
    });

    await t.step("unknown routes get Fastify's 404", async () => {
      const res = await call(stack, "GET", "bucket");
      assertEquals([res.status, res.json!.statusCode, res.json!.error], [404, 404, "Not Found"]);
    });
  } finally {
    await stack.close();
  }
});

Deno.test("storage: with the legacy keys disabled the gateway refuses them (401); new keys and users pass", async () => {
  const stack = await spawnStack({
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }),
    LEGACY_KEYS_DISABLED: "true",
  });
  const user = await stack.newUser();
  try {
    const put = (name: string, headers: Record<string, string>) =>
      call(stack, "POST", `object/${BUCKET}/u1/${name}.png`, {
        headers: { "content-type": "image/png", ...headers },
        body: bytes(10, 15),
      });
    for (const key of [LOCAL_SERVICE_ROLE_KEY, LOCAL_ANON_KEY]) {
      const forms: Record<string, string>[] = [{ authorization: `Bearer ${key}` }, { apikey: key }];
      for (const headers of forms) {
        const res = await put("legacy", headers);
        assertEquals([res.status, res.json], [401, { message: "Legacy API keys are disabled" }]);
      }
    }
    // A user's own token still reaches Storage, where RLS decides.
    const asUser = await put("user", { authorization: `Bearer ${user.token}` });
    assertEquals([asUser.status, asUser.json?.code], [400, "AccessDenied"]);
    const asService = await put("service", { apikey: SECRET_KEY, authorization: `Bearer ${SECRET_KEY}` });
    assertEquals(asService.status, 200, JSON.stringify(asService.json));
    assertEquals(await objectRows(stack, BUCKET, "u1/legacy.png"), []);
  } finally {
    await stack.close();
  }
});
