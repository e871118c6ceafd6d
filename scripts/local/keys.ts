// The keys `supabase start` uses by default, so clients configured for a local Supabase work unchanged,
// and HS256 signing for local user tokens (GoTrue's claim layout). Dev and test tooling only: the
// product verifies tokens in Rust (crates/imagegen-core/src/auth).

export const LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
export const LOCAL_ANON_KEY =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
export const LOCAL_SERVICE_ROLE_KEY =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
const utf8 = (s: string) => new TextEncoder().encode(s);

/** Signs any claims as an HS256 JWT. */
export async function signHs256(claims: Record<string, unknown>, secret = LOCAL_JWT_SECRET): Promise<string> {
  const input = `${b64url(utf8(JSON.stringify({ alg: "HS256", typ: "JWT" })))}.${
    b64url(utf8(JSON.stringify(claims)))
  }`;
  const key = await crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return `${input}.${b64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(input))))}`;
}

/** Claims of a GoTrue access token for a signed-in user, valid for `ttlSeconds`. */
export function userClaims(
  userId: string,
  email: string,
  ttlSeconds = 3600,
  issuer = "http://127.0.0.1:54321/auth/v1",
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer,
    aud: "authenticated",
    sub: userId,
    exp: now + ttlSeconds,
    iat: now,
    email,
    phone: "",
    role: "authenticated",
    aal: "aal1",
    amr: [{ method: "password", timestamp: now }],
    session_id: crypto.randomUUID(),
    is_anonymous: false,
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: {},
  };
}

// CLI for scripts/dev:
//   keys.ts user <uuid> <email> [ttl seconds]   prints a user access token
//   keys.ts env                                 prints the local keys as KEY=value lines
if (import.meta.main) {
  const [kind, userId, email, ttl] = Deno.args;
  if (kind === "env") {
    console.log(`SUPABASE_ANON_KEY=${LOCAL_ANON_KEY}`);
    console.log(`SUPABASE_SERVICE_ROLE_KEY=${LOCAL_SERVICE_ROLE_KEY}`);
    console.log(`JWT_SECRET=${LOCAL_JWT_SECRET}`);
  } else if (kind === "user" && userId && email) {
    console.log(await signHs256(userClaims(userId, email, Number(ttl ?? 3600))));
  } else {
    console.error("usage: keys.ts user <user uuid> <email> [ttl seconds] | keys.ts env");
    Deno.exit(2);
  }
}
