// Local stand-in for Supabase Storage (github.com/supabase/storage, "storage-api"): the object routes
// the worker and clients use, with Storage's request and response shapes, over files on disk and the
// `storage` tables that scripts/local/shim.sql creates (buckets are rows there, as on Supabase, so the
// project's migration creates them). gateway.ts mounts it under /storage/v1/.
//
// Routes (paths after /storage/v1):
//   POST   /object/{bucket}/{key}          upload; `x-upsert: true` replaces, otherwise an existing key is
//                                          a Duplicate error. Body = the raw bytes, streamed to disk.
//   PUT    /object/{bucket}/{key}          upload that always replaces (Storage's updateObject: upsert).
//   GET    /object/public/{bucket}/{key}   public buckets only, no token needed. HEAD too.
//   GET    /object/authenticated/{bucket}/{key}, /object/{bucket}/{key}   with a token. HEAD too.
//   DELETE /object/{bucket}/{key}          → {"message":"Successfully deleted"}
//   POST   /object/sign/{bucket}/{key}     {"expiresIn": s} → {"signedURL": "/object/sign/…?token=…"}
//   GET    /object/sign/{bucket}/{key}?token=…   the object, while the token is valid. HEAD too.
//
// Storage's behaviour matched here, as read in supabase/storage:
// - Errors are JSON {statusCode, code, error, message} where `statusCode` is the real status as a
//   string ("404", "409", …) but the HTTP status is 400 for every one of them (500 stays 500):
//   StorageBackendError sets userStatusCode = 400 unless 500 (src/internal/errors/storage-error.ts),
//   and src/http/error-handler.ts sends it; its test expects a missing object to be HTTP 400 with
//   {"statusCode":"404","error":"not_found","code":"NoSuchKey","message":"Object not found"}.
//   Codes and messages are those of ERRORS in src/internal/errors/codes.ts.
// - Auth: the gateway's part first (see `caller`: new API keys from `apikey`, legacy keys refused when
//   LEGACY_KEYS_DISABLED=true); then any valid project JWT is accepted, then Postgres RLS decides
//   (src/http/plugins/jwt.ts). This project's one storage policy lets users delete objects in their own folder of generated-images;
//   deletes run as the caller's role with its claims, so that policy (or its absence) decides. For
//   writes, signing and private reads only the service role (bypassrls) passes here: others get
//   "new row violates row-level security policy" on upload and "Object not found" on sign/private reads. Missing or invalid tokens are
//   AccessDenied with the verifier's message (jose's wording, e.g. "signature verification failed").
// - Uploads (src/storage/uploader.ts): the bucket's allowed_mime_types are checked against
//   Content-Type before the body is read; a declared Content-Length over the limit (the smaller of the
//   bucket's file_size_limit and the project cap) is refused before reading; cache-control defaults to
//   "no-cache". Unlike Storage, a body without Content-Length is also counted and cut off at the limit.
//   The pre-check for an existing key and the final check under the object lock mirror
//   Uploader.canUpload/completeUpload; object rows get Storage's metadata jsonb (eTag, size, mimetype,
//   cacheControl, lastModified, contentLength, httpStatusCode).
// - Serving (src/storage/renderer/renderer.ts): Content-Type (text/html is served as text/plain),
//   Content-Length, ETag, Last-Modified, Cache-Control from the upload; signed URLs send Expires instead;
//   `?download[=name]` sets Content-Disposition; If-None-Match equal to the ETag answers 304.
// - Signed URLs (src/storage/object.ts signObjectUrl, src/http/routes/object/getSignedObject.ts): an
//   HS256 JWT signed with the project JWT secret carrying {url: "<bucket>/<key>", iat, exp}; the GET
//   verifies it (InvalidJWT with jose's message, e.g. '"exp" claim timestamp check failed'), then that
//   `url` names the requested object (InvalidSignature), and refuses upload tokens (those carry `upsert`).
// - Keys (src/storage/limits.ts isValidKey): S3-safe characters only (no control characters, NUL,
//   backslash, # % ~ and the like), no "." or ".." segments, at most 1024 bytes. Stricter here, because
//   keys become file paths: no leading "/", no empty segments, segments of at most 200 bytes.
//
// On disk: <root>/<bucket>/<key>#<version> holds the bytes; each upload writes a new version (as
// Storage's S3 keys do) and the storage.objects row names the current one, so a reader never sees a
// half-replaced object. '#' cannot occur in a key, so these names never collide with a key's folders.
// Uploads stream into <root>/.tmp/ and are renamed into place once complete; a refused or broken
// upload leaves nothing behind. Content-Type and Cache-Control live in the row's metadata, where
// Storage keeps them, not in a separate file.
import { createHash } from "node:crypto";
import postgres from "postgres";

export type StorageOptions = {
  /** Folder for the stored files (created on first upload). */
  root: string;
  /** Postgres holding the `storage` schema (SUPABASE_DB_URL); connected on first use. */
  dbUrl?: string;
  /** The project JWT secret: verifies HS256 tokens and signs URL tokens. */
  jwtSecret?: string;
  /** Secret API keys (sb_secret_…): the service role, as Supabase's gateway treats them. */
  secretKeys?: string[];
  /** Publishable API keys (sb_publishable_…): the anon role. */
  publishableKeys?: string[];
  /** Verifies tokens not signed with the JWT secret (ES256/RS256 signing keys): undefined when valid,
   * else the reason. Given the whole `Authorization` value. Without it such tokens are refused. */
  jwtCheck?: (authorization: string) => string | undefined;
  /** The project-wide upload cap in bytes; a bucket's file_size_limit can only lower it. */
  fileSizeLimit?: number;
  /** The project runs with its legacy API keys (the anon and service_role JWTs) disabled: the gateway
   * answers them with 401 before Storage sees the request (LEGACY_KEYS_DISABLED=true). */
  legacyKeysDisabled?: boolean;
};

/** The project-wide cap `supabase start` uses (config.toml [storage] file_size_limit = "50MiB"). */
export const DEFAULT_FILE_SIZE_LIMIT = 50 * 1024 * 1024;
const PREFIX = "/storage/v1";

/** The handler: a Response for /storage/v1/… requests, null for any other path. */
export type StorageHandler = (req: Request) => Promise<Response | null>;

/** The stand-in configured from the environment the gateway runs with (scripts/dev, the test harness). */
export function storageFromEnv(extra: Pick<StorageOptions, "jwtCheck"> = {}): StorageHandler {
  return createStorage({
    root: Deno.env.get("STORAGE_ROOT") || new URL("../../.local/storage", import.meta.url).pathname,
    dbUrl: Deno.env.get("SUPABASE_DB_URL"),
    jwtSecret: Deno.env.get("JWT_SECRET") || Deno.env.get("SUPABASE_JWT_SECRET"),
    secretKeys: keysFromEnv("SUPABASE_SECRET_KEYS"),
    publishableKeys: keysFromEnv("SUPABASE_PUBLISHABLE_KEYS"),
    legacyKeysDisabled: Deno.env.get("LEGACY_KEYS_DISABLED") === "true",
    ...extra,
  });
}

/** Values of a Supabase key map such as SUPABASE_SECRET_KEYS = {"default": "sb_secret_…"}. */
function keysFromEnv(name: string): string[] {
  const raw = Deno.env.get(name);
  if (!raw) return [];
  try {
    return Object.values(JSON.parse(raw)).filter((v): v is string => typeof v === "string" && v !== "");
  } catch {
    console.error(`storage: ${name} is not a JSON object of keys; ignored`);
    return [];
  }
}

// ---- errors, in Storage's shape ----------------------------------------------------------------------

class StorageError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly error: string = code,
  ) {
    super(message);
  }
}

const ERRORS = {
  noSuchBucket: () => new StorageError(404, "NoSuchBucket", "Bucket not found", "Bucket not found"),
  noSuchKey: () => new StorageError(404, "NoSuchKey", "Object not found", "not_found"),
  accessDenied: (message: string) => new StorageError(403, "AccessDenied", message, "Unauthorized"),
  rlsDenied: () => ERRORS.accessDenied("new row violates row-level security policy"),
  invalidJwt: (message: string) => new StorageError(400, "InvalidJWT", message || "Invalid JWT"),
  invalidSignature: () => new StorageError(400, "InvalidSignature", "Invalid signature"),
  alreadyExists: () =>
    new StorageError(409, "ResourceAlreadyExists", "The resource already exists", "Duplicate"),
  invalidMimeType: (mimeType: string) =>
    new StorageError(415, "InvalidMimeType", `mime type ${mimeType} is not supported`, "invalid_mime_type"),
  entityTooLarge: () =>
    new StorageError(
      413,
      "EntityTooLarge",
      "The object exceeded the maximum allowed size",
      "Payload too large",
    ),
  invalidKey: (key: string) => new StorageError(400, "InvalidKey", `Invalid key: ${key}`),
  invalidBucketName: () => new StorageError(400, "InvalidBucketName", "Bucket name invalid", "Invalid Input"),
  invalidRequest: (message: string) => new StorageError(400, "InvalidRequest", message),
  internal: (message = "Internal server error") => new StorageError(500, "InternalError", message),
};

/** A refusal by the API gateway in front of Storage: its own status and body, not Storage's shape. */
class GatewayError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function render(e: StorageError): Response {
  return Response.json(
    { statusCode: String(e.status), code: e.code, error: e.error, message: e.message },
    { status: e.status === 500 ? 500 : 400 },
  );
}

// ---- names ---------------------------------------------------------------------------------------

// Bucket names: Storage's VALID_BUCKET_NAME, at most 100 characters. A leading "." is refused too,
// since bucket names are folder names here ("..", ".tmp").
const VALID_BUCKET_NAME = /^[A-Za-z0-9_!.*'() &$=@;:+,?-]{1,100}$/;
// Object keys: Storage's VALID_OBJECT_KEY (control characters, S3's "characters to avoid" and
// invisible formatting characters refused).
const VALID_OBJECT_KEY =
  // deno-lint-ignore no-control-regex
  /^[^\u0000-\u001f\u007f\u0080-\u009f#\[\]{}^`"<>\\|%~\u{034F}\u{061C}\u{200B}\u{200E}\u{200F}\u{2028}\u{2029}\u{202A}-\u{202E}\u{2060}\u{2066}-\u{2069}\u{FEFF}]+$/u;
const MAX_KEY_BYTES = 1024;
const MAX_SEGMENT_BYTES = 200;
const utf8 = new TextEncoder();

function bucketName(raw: string): string {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    throw ERRORS.invalidBucketName();
  }
  if (!VALID_BUCKET_NAME.test(name) || name.startsWith(".")) throw ERRORS.invalidBucketName();
  return name;
}

function objectKey(raw: string): string {
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    throw ERRORS.invalidKey(raw);
  }
  const segments = key.split("/");
  const valid = VALID_OBJECT_KEY.test(key) && utf8.encode(key).length <= MAX_KEY_BYTES &&
    segments.every((s) => s !== "" && s !== "." && s !== ".." && utf8.encode(s).length <= MAX_SEGMENT_BYTES);
  if (!valid) throw ERRORS.invalidKey(key);
  return key;
}

// ---- tokens ----------------------------------------------------------------------------------------

type Claims = Record<string, unknown>;
type Verified = { ok: true; claims: Claims } | { ok: false; message: string };

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

function fromB64url(s: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error("not base64url");
  const bin = atob(s.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - s.length % 4) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

const decodeJson = (part: string): unknown => JSON.parse(new TextDecoder().decode(fromB64url(part)));
const isObject = (v: unknown): v is Claims => typeof v === "object" && v !== null && !Array.isArray(v);

/** The authenticated caller, or why the token was refused. */
type Caller =
  | { authenticated: true; role: string; sub?: string }
  | { authenticated: false; rejection: string };

// ---- the handler -----------------------------------------------------------------------------------

type Bucket = {
  id: string;
  public: boolean;
  file_size_limit: number | null;
  allowed_mime_types: string[] | null;
};
type ObjectMetadata = {
  eTag: string;
  size: number;
  mimetype: string;
  cacheControl: string;
  lastModified: string;
  contentLength: number;
  httpStatusCode: number;
};
type ObjectRow = { id: string; version: string; metadata: ObjectMetadata };

export function createStorage(options: StorageOptions): StorageHandler {
  const root = options.root.replace(/\/+$/, "");
  const tmpDir = `${root}/.tmp`;
  const secretKeys = new Set(options.secretKeys ?? []);
  const publishableKeys = new Set(options.publishableKeys ?? []);
  const projectLimit = options.fileSizeLimit ?? DEFAULT_FILE_SIZE_LIMIT;

  let sqlClient: postgres.Sql | undefined;
  const db = (): postgres.Sql => {
    if (!options.dbUrl) throw ERRORS.internal("storage: SUPABASE_DB_URL is not set");
    return sqlClient ??= postgres(options.dbUrl, {
      max: 5,
      idle_timeout: 30,
      connect_timeout: 5,
      onnotice: () => {},
    });
  };

  let hmacKey: Promise<CryptoKey> | undefined;
  const secretKey = (): Promise<CryptoKey> => {
    if (!options.jwtSecret) throw ERRORS.internal("storage: JWT_SECRET is not set");
    return hmacKey ??= crypto.subtle.importKey(
      "raw",
      utf8.encode(options.jwtSecret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
  };

  /** Verifies a JWT as Storage does with jose (HS256 with the project secret; signing keys through
   * jwtCheck), with jose's messages. */
  async function verifyJwt(token: string, allowSigningKeys: boolean): Promise<Verified> {
    const parts = token.split(".");
    let header: unknown, claims: unknown;
    try {
      if (parts.length !== 3) throw new Error("parts");
      header = decodeJson(parts[0]);
      claims = decodeJson(parts[1]);
      fromB64url(parts[2]);
    } catch {
      return { ok: false, message: "Invalid Compact JWS" };
    }
    if (!isObject(header) || !isObject(claims)) {
      return { ok: false, message: "JWT Claims Set must be a top-level JSON object" };
    }
    if (header.alg !== "HS256") {
      const reason = allowSigningKeys && options.jwtCheck
        ? options.jwtCheck(`Bearer ${token}`)
        : '"alg" (Algorithm) Header Parameter value not allowed';
      return reason ? { ok: false, message: reason } : { ok: true, claims };
    }
    const signed = await crypto.subtle.verify(
      "HMAC",
      await secretKey(),
      fromB64url(parts[2]),
      utf8.encode(`${parts[0]}.${parts[1]}`),
    );
    if (!signed) return { ok: false, message: "signature verification failed" };
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp === "number" && claims.exp <= now) {
      return { ok: false, message: '"exp" claim timestamp check failed' };
    }
    if (typeof claims.nbf === "number" && claims.nbf > now) {
      return { ok: false, message: '"nbf" claim timestamp check failed' };
    }
    return { ok: true, claims };
  }

  async function signJwt(claims: Claims): Promise<string> {
    // jose's SignJWT with setProtectedHeader({ alg }) writes exactly this header.
    const input = `${b64url(utf8.encode(JSON.stringify({ alg: "HS256" })))}.${
      b64url(utf8.encode(JSON.stringify(claims)))
    }`;
    const signature = await crypto.subtle.sign("HMAC", await secretKey(), utf8.encode(input));
    return `${input}.${b64url(new Uint8Array(signature))}`;
  }

  /** Who is calling, as Supabase's gateway and Storage decide it together: a JWT in `Authorization:
   * Bearer …`, else the `apikey` header. The new API keys are not JWTs: the gateway takes them from
   * `apikey` only (supabase-js sends them in both headers) and stands a role in for them, secret keys
   * the service role, publishable keys anon; in `Authorization` alone one reaches Storage as a malformed
   * JWT. With the legacy keys disabled, a legacy anon or service_role JWT in either header is answered
   * 401 by the gateway (GatewayError), while users' access tokens still pass. */
  async function caller(req: Request): Promise<Caller> {
    const authorization = req.headers.get("authorization");
    const bearer = authorization?.replace(/^Bearer\s+/i, "").trim();
    const apikey = req.headers.get("apikey")?.trim();
    if (options.legacyKeysDisabled && [bearer, apikey].some(isLegacyApiKey)) {
      throw new GatewayError(401, "Legacy API keys are disabled");
    }
    const isNewKey = (key: string | undefined) => key !== undefined && /^sb_(secret|publishable)_/.test(key);
    const token = bearer !== undefined && !(isNewKey(bearer) && bearer === apikey) ? bearer : apikey ?? "";
    if (token === apikey && secretKeys.has(token)) return { authenticated: true, role: "service_role" };
    if (token === apikey && publishableKeys.has(token)) return { authenticated: true, role: "anon" };
    const verified = await verifyJwt(token, true);
    if (!verified.ok) return { authenticated: false, rejection: verified.message };
    const { role, sub } = verified.claims;
    return {
      authenticated: true,
      role: typeof role === "string" ? role : "anon",
      sub: typeof sub === "string" ? sub : undefined,
    };
  }

  async function authenticated(req: Request) {
    const who = await caller(req);
    if (!who.authenticated) throw ERRORS.accessDenied(who.rejection);
    return who;
  }

  // Only the service role bypasses RLS; with no storage policies nobody else sees or writes rows.
  const bypassesRls = (who: { role: string }) => who.role === "service_role";

  async function findBucket(id: string): Promise<Bucket | undefined> {
    const [bucket] = await db()<Bucket[]>`
      select id, public, file_size_limit::float8 as file_size_limit, allowed_mime_types
        from storage.buckets where id = ${id}`;
    return bucket;
  }

  async function findObject(bucket: string, key: string): Promise<ObjectRow> {
    const [row] = await db()<ObjectRow[]>`
      select id, version, metadata from storage.objects where bucket_id = ${bucket} and name = ${key}`;
    if (!row) throw ERRORS.noSuchKey();
    return row;
  }

  const dataPath = (bucket: string, key: string, version: string) => `${root}/${bucket}/${key}#${version}`;

  // ---- upload ----

  /** Streams the body into a temp file, counting bytes and hashing as it goes; past `limit` it stops
   * reading, removes the file and refuses. */
  async function receive(body: ReadableStream<Uint8Array> | null, limit: number) {
    await Deno.mkdir(tmpDir, { recursive: true });
    const path = `${tmpDir}/${crypto.randomUUID()}`;
    const file = await Deno.open(path, { write: true, createNew: true });
    const md5 = createHash("md5");
    let size = 0;
    try {
      const reader = body?.getReader();
      try {
        while (reader) {
          const { done, value } = await reader.read();
          if (done) break;
          size += value.byteLength;
          if (size > limit) throw ERRORS.entityTooLarge();
          md5.update(value);
          for (let written = 0; written < value.byteLength;) {
            written += await file.write(value.subarray(written));
          }
        }
      } catch (e) {
        await reader?.cancel().catch(() => {});
        throw e;
      } finally {
        file.close();
      }
    } catch (e) {
      await Deno.remove(path).catch(() => {});
      throw e;
    }
    return { path, size, eTag: `"${md5.digest("hex")}"` };
  }

  async function upload(req: Request, rawBucket: string, rawKey: string, upsert: boolean) {
    const who = await authenticated(req);
    const name = bucketName(rawBucket);
    const key = objectKey(rawKey);
    const bucket = await findBucket(name);
    if (!bucket) throw ERRORS.noSuchBucket();

    const mimetype = req.headers.get("content-type") || "application/octet-stream";
    const cacheControl = req.headers.get("cache-control") ?? "no-cache";
    if (bucket.allowed_mime_types?.length && !mimeAllowed(mimetype, bucket.allowed_mime_types)) {
      throw ERRORS.invalidMimeType(mimetype);
    }
    const limit = Math.min(projectLimit, bucket.file_size_limit ?? Infinity);
    const declared = Number(req.headers.get("content-length") ?? NaN);
    if (declared > limit) throw ERRORS.entityTooLarge();
    if (!bypassesRls(who)) throw ERRORS.rlsDenied();
    // Storage's canUpload: a plain upload of an existing key fails before the body is read.
    if (!upsert) {
      const [row] = await db()`
        select 1 from storage.objects where bucket_id = ${bucket.id} and name = ${key}`;
      if (row) throw ERRORS.alreadyExists();
    }

    const staged = await receive(req.body, limit);
    const version = crypto.randomUUID();
    const path = dataPath(bucket.id, key, version);
    const metadata: ObjectMetadata = {
      eTag: staged.eTag,
      size: staged.size,
      mimetype,
      cacheControl,
      lastModified: new Date().toISOString(),
      contentLength: staged.size,
      httpStatusCode: 200,
    };
    let placed = false;
    try {
      // Storage's completeUpload: under the object's lock, check again (another upload may have
      // finished meanwhile), then point the row at the new version.
      const { id, previous } = await db().begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(hashtext(${`${bucket.id}/${key}`}))`;
        const [current] = await tx<{ version: string | null }[]>`
          select version from storage.objects where bucket_id = ${bucket.id} and name = ${key} for update`;
        if (current && !upsert) throw ERRORS.alreadyExists();
        await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
        await Deno.rename(staged.path, path);
        placed = true;
        const owner = who.sub && /^[0-9a-f-]{36}$/i.test(who.sub) ? who.sub : null;
        const [row] = await tx<{ id: string }[]>`
          insert into storage.objects (bucket_id, name, owner, owner_id, metadata, version)
          values (${bucket.id}, ${key}, ${owner}, ${who.sub ?? null}, ${tx.json(metadata)}, ${version})
          on conflict (bucket_id, name) do update
            set owner = excluded.owner, owner_id = excluded.owner_id, metadata = excluded.metadata,
                version = excluded.version, updated_at = now(), last_accessed_at = now()
          returning id`;
        return { id: row.id, previous: current?.version ?? null };
      });
      if (previous) await Deno.remove(dataPath(bucket.id, key, previous)).catch(() => {});
      return Response.json({ Id: id, Key: `${bucket.id}/${key}` });
    } catch (e) {
      await Deno.remove(placed ? path : staged.path).catch(() => {});
      throw e;
    }
  }

  // ---- reads ----

  /** Storage's renderer: the stored bytes with the upload's headers. */
  async function serve(
    req: Request,
    url: URL,
    bucket: string,
    key: string,
    row: ObjectRow,
    expires?: number,
  ): Promise<Response> {
    const meta = row.metadata;
    const headers = new Headers({
      "content-type": meta.mimetype.includes("text/html") ? "text/plain" : meta.mimetype,
      "content-length": String(meta.size),
      etag: meta.eTag,
      "last-modified": new Date(meta.lastModified).toUTCString(),
    });
    if (expires !== undefined) headers.set("expires", new Date(expires * 1000).toUTCString());
    else headers.set("cache-control", meta.cacheControl);
    const download = url.searchParams.get("download");
    if (download === "") headers.set("content-disposition", "attachment;");
    else if (download !== null) {
      const encoded = encodeURIComponent(download);
      headers.set("content-disposition", `attachment; filename=${encoded}; filename*=UTF-8''${encoded};`);
    }
    if (req.headers.get("if-none-match") === meta.eTag) {
      headers.delete("content-length");
      return new Response(null, { status: 304, headers });
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(dataPath(bucket, key, row.version));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      // The row without its bytes: what the renderer answers when S3 has no such key.
      return Response.json(
        { error: "Not found", message: "The resource was not found", statusCode: "404" },
        { status: 400, headers: { "cache-control": "no-store" } },
      );
    }
    if (req.method === "HEAD") {
      file.close();
      return new Response(null, { headers });
    }
    return new Response(file.readable, { headers });
  }

  /** GET /object/public/{bucket}/{key}: public buckets only (Storage finds the bucket with isPublic). */
  async function getPublic(req: Request, url: URL, rawBucket: string, rawKey: string) {
    const name = bucketName(rawBucket);
    const key = objectKey(rawKey);
    const bucket = await findBucket(name);
    if (!bucket?.public) throw ERRORS.noSuchBucket();
    return serve(req, url, bucket.id, key, await findObject(bucket.id, key));
  }

  /** GET /object/[authenticated/]{bucket}/{key} (Storage's getObject): public buckets serve anyone,
   * private ones need the token's RLS access; the plain route treats a bad token as no token. */
  async function getWithToken(req: Request, url: URL, rawBucket: string, rawKey: string, strict: boolean) {
    const who = await caller(req);
    if (!who.authenticated && strict) throw ERRORS.accessDenied(who.rejection);
    const name = bucketName(rawBucket);
    const key = objectKey(rawKey);
    const bucket = await findBucket(name);
    if (!bucket || (!who.authenticated && !bucket.public)) throw ERRORS.noSuchBucket();
    if (!bucket.public && !(who.authenticated && bypassesRls(who))) throw ERRORS.noSuchKey();
    return serve(req, url, bucket.id, key, await findObject(bucket.id, key));
  }

  async function remove(req: Request, rawBucket: string, rawKey: string) {
    const who = await authenticated(req);
    const name = bucketName(rawBucket);
    const key = objectKey(rawKey);
    type Deleted = { version: string | null }[];
    const remove = (tx: postgres.Sql | postgres.TransactionSql) =>
      tx<Deleted>`delete from storage.objects where bucket_id = ${name} and name = ${key} returning version`;
    // As Storage does: the service role bypasses RLS; anyone else deletes as their role and claims,
    // so the storage.objects policies decide (a row RLS hides is "not found").
    const [row] = bypassesRls(who) ? await remove(db()) : await db().begin(async (tx) => {
      await tx.unsafe(`set local role ${who.role === "authenticated" ? "authenticated" : "anon"}`);
      await tx`select set_config('request.jwt.claims', ${
        JSON.stringify({ sub: who.sub, role: who.role })
      }, true)`;
      return await remove(tx);
    }) as Deleted;
    if (!row) throw ERRORS.noSuchKey();
    if (row.version) await Deno.remove(dataPath(name, key, row.version)).catch(() => {});
    return Response.json({ message: "Successfully deleted" });
  }

  // ---- signed URLs ----

  async function sign(req: Request, rawBucket: string, rawKey: string) {
    const who = await authenticated(req);
    let body: unknown;
    try {
      body = await req.json();
    } catch {
      throw ERRORS.invalidRequest("body must be object");
    }
    const expiresIn = isObject(body) ? body.expiresIn : undefined;
    if (expiresIn === undefined) throw ERRORS.invalidRequest("body must have required property 'expiresIn'");
    if (!Number.isSafeInteger(expiresIn)) throw ERRORS.invalidRequest("body/expiresIn must be integer");
    if ((expiresIn as number) < 1) throw ERRORS.invalidRequest("body/expiresIn must be >= 1");
    const name = bucketName(rawBucket);
    const key = objectKey(rawKey);
    // signObjectUrl first finds the object with the caller's RLS.
    if (!bypassesRls(who)) throw ERRORS.noSuchKey();
    await findObject(name, key);
    const iat = Math.floor(Date.now() / 1000);
    const url = `${name}/${key}`;
    const token = await signJwt({ url, iat, exp: iat + (expiresIn as number) });
    return Response.json({ signedURL: `/object/sign/${url}?token=${token}` });
  }

  async function getSigned(req: Request, url: URL, rawBucket: string, rawKey: string) {
    const token = url.searchParams.get("token");
    if (!token) throw ERRORS.invalidRequest("querystring must have required property 'token'");
    const verified = await verifyJwt(token, false);
    if (!verified.ok) throw ERRORS.invalidJwt(verified.message);
    const { claims } = verified;
    const name = bucketName(rawBucket);
    const key = objectKey(rawKey);
    // Download tokens only: upload tokens carry `upsert` (or scope "upload").
    const downloadScoped = claims.scope === "download" ||
      (claims.scope === undefined && !("upsert" in claims));
    if (!downloadScoped || claims.url !== `${name}/${key}`) throw ERRORS.invalidSignature();
    const exp = typeof claims.exp === "number" ? claims.exp : undefined;
    return serve(req, url, name, key, await findObject(name, key), exp);
  }

  // ---- routing ----

  async function route(req: Request, url: URL): Promise<Response> {
    const path = url.pathname.slice(PREFIX.length);
    const match = path.match(/^\/object\/(?:(sign|public|authenticated)\/)?([^/]+)\/(.+)$/);
    const read = req.method === "GET" || req.method === "HEAD";
    if (match) {
      const [, kind, rawBucket, rawKey] = match;
      if (kind === "sign" && req.method === "POST") return await sign(req, rawBucket, rawKey);
      if (kind === "sign" && read) return await getSigned(req, url, rawBucket, rawKey);
      if (kind === "public" && read) return await getPublic(req, url, rawBucket, rawKey);
      if (kind === "authenticated" && read) return await getWithToken(req, url, rawBucket, rawKey, true);
      if (!kind) {
        if (read) return await getWithToken(req, url, rawBucket, rawKey, false);
        if (req.method === "POST") {
          return await upload(req, rawBucket, rawKey, req.headers.get("x-upsert") === "true");
        }
        if (req.method === "PUT") return await upload(req, rawBucket, rawKey, true);
        if (req.method === "DELETE") return await remove(req, rawBucket, rawKey);
      }
    }
    // Fastify's answer for a route it does not have.
    return Response.json(
      { message: `Route ${req.method}:${path}${url.search} not found`, error: "Not Found", statusCode: 404 },
      { status: 404 },
    );
  }

  return async (req: Request) => {
    const url = new URL(req.url);
    if (url.pathname !== PREFIX && !url.pathname.startsWith(`${PREFIX}/`)) return null;
    try {
      return await route(req, url);
    } catch (e) {
      if (e instanceof StorageError) return render(e);
      if (e instanceof GatewayError) return Response.json({ message: e.message }, { status: e.status });
      console.error("storage: uncaught", e);
      return render(ERRORS.internal());
    }
  };
}

/** A legacy API key: a JWT whose role is anon or service_role and that names no user (`sub`), as the
 * project's anon and service_role keys do; read without verifying, as only its kind matters here. */
function isLegacyApiKey(token: string | undefined): boolean {
  const claims = token?.split(".")[1];
  if (!claims) return false;
  try {
    const { role, sub } = JSON.parse(atob(claims.replaceAll("-", "+").replaceAll("_", "/")));
    return (role === "anon" || role === "service_role") && sub === undefined;
  } catch {
    return false;
  }
}

/** Storage's mime check: type and subtype equal to an allowed one, or an allowed `type/*`; the header
 * is compared whole, so parameters (`; charset=…`) make it fail there as here. */
function mimeAllowed(mimeType: string, allowed: string[]): boolean {
  const [type, subtype, ...rest] = mimeType.split("/");
  if (subtype === undefined || rest.length > 0) return false;
  return allowed.some((a) => {
    const [allowedType, allowedSubtype] = a.split("/");
    return allowedType === type && (allowedSubtype === "*" || allowedSubtype === subtype);
  });
}
