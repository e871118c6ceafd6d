// Shared by the end-to-end benchmark drivers: bench users, the client call, percentiles.
import postgres from "postgres";
import { signHs256, userClaims } from "../../local/keys.ts";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Flags as `--name value` pairs. */
export function flags(): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < Deno.args.length; i += 2) out[Deno.args[i].replace(/^--/, "")] = Deno.args[i + 1];
  return out;
}

/** `n` signed-in users (rows in auth.users), as access tokens. */
export async function users(sql: postgres.Sql, n: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = crypto.randomUUID();
    const email = `bench-${id}@example.test`;
    await sql`insert into auth.users (id, email) values (${id}, ${email})`;
    tokens.push(await signHs256(userClaims(id, email, 6 * 3600)));
  }
  return tokens;
}

export type Accepted = { status: number; id?: string; ms: number; error?: string };

/** POST start-generation as the app does; never throws. */
export async function startGeneration(url: string, token: string, body: unknown): Promise<Accepted> {
  const started = performance.now();
  try {
    const res = await fetch(`${url}/functions/v1/start-generation`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await res.json();
    return {
      status: res.status,
      id: answer.generation_id,
      ms: performance.now() - started,
      error: answer.code,
    };
  } catch (e) {
    return { status: 0, ms: performance.now() - started, error: String(e) };
  }
}

export type Distribution = { n: number; min: number; p50: number; p90: number; p99: number; max: number };

/** Nearest-rank percentiles. */
export function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  return {
    n: sorted.length,
    min: sorted[0] ?? NaN,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

export const connect = (url: string) => postgres(url, { max: 2, onnotice: () => {} });
