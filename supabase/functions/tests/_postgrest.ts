// The Supabase APIs the Picture apps call, as the tests replay them.
//
// Table access: the local stack has no PostgREST, so `Postgrest` does what PostgREST does for each request,
// over SQL: one transaction that takes the API role (`set local role anon|authenticated|service_role`),
// puts the JWT claims where auth.uid()/auth.jwt()/auth.role() read them (`request.jwt.claims`, and the
// older per-claim `request.jwt.claim.sub`/`.role`), runs one statement and commits. Rows are written with
// json_populate_record(set) and read back with json_agg, as PostgREST does, so values come back as JSON
// (numbers, ISO timestamps, nested embeds). The builder mirrors the postgrest-js calls the apps make
// (from/select/insert/update/delete, eq/neq/gt/gte/lt/lte/is/not/in, order/limit/range, single/maybeSingle),
// so a test reads like the client code it replays. Errors come back as PostgREST answers them:
// `{code: <SQLSTATE or PGRSTnnn>, message, details, hint}` and an HTTP status; a row that RLS hides is
// simply not there (0 rows, no error), a WITH CHECK violation or a missing grant is 42501.
// Embedding (`select('*, images(*)')`) follows the foreign key between the two tables, as PostgREST's
// schema cache does; without one it answers PGRST200, as PostgREST does.
//
// Function calls: `invoke` is supabase-js's own `functions.invoke` (the apps' call), signed in through
// the `accessToken` option: it sends `Authorization: Bearer <access token>`, `apikey: <anon key>`,
// `x-client-info` and a JSON body, exactly as the apps do.
import postgres from "postgres";
import { createClient } from "@supabase/supabase-js";
import { LOCAL_ANON_KEY, userClaims } from "../../../scripts/local/keys.ts";

export type Row = Record<string, unknown>;
export type ApiRole = "anon" | "authenticated" | "service_role";
export type PostgrestError = { code: string; message: string; details: string | null; hint: string | null };
/** As postgrest-js answers. `count`: rows counted (`count: 'exact'`) or, for writes, rows affected. */
export type PostgrestResponse<T> = {
  data: T | null;
  error: PostgrestError | null;
  count: number | null;
  status: number;
};

const IDENT = /^[a-z_][a-z0-9_]*$/;

function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`_postgrest: unsupported identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** A table name as PostgREST takes it: unqualified names are in `public`. */
function table(name: string): { schema: string; name: string; sql: string } {
  const [schema, rel] = name.includes(".") ? name.split(".", 2) : ["public", name];
  return { schema, name: rel, sql: `${ident(schema)}.${ident(rel)}` };
}

/** PostgREST's HTTP status for a Postgres error (PostgREST docs, "Errors": SQLSTATE to HTTP). */
function httpStatus(code: string, role: ApiRole): number {
  if (code === "42501") return role === "anon" ? 401 : 403;
  if (code === "23505" || code === "23503") return 409;
  if (code === "42P01" || code === "42883") return 404;
  if (code.startsWith("22") || code.startsWith("23") || code === "42703" || code === "P0001") return 400;
  return 500;
}

function failure<T>(error: PostgrestError, status: number): PostgrestResponse<T> {
  return { data: null, error, count: null, status };
}

/**
 * A value as a statement parameter. postgres.js learns each parameter's type from the server and
 * serializes by it (JSON for json/jsonb, 't'/'f' for boolean), so values go as they are.
 */
function toParam(value: unknown): unknown {
  return value === undefined ? null : value;
}

/** Keys that go over the wire: JSON.stringify drops undefined values. */
const sentKeys = (row: Row) => Object.keys(row).filter((k) => row[k] !== undefined);

/** One API caller: an API role and the claims of its token. */
export class Postgrest {
  constructor(
    private readonly sql: postgres.Sql,
    readonly role: ApiRole,
    readonly claims: Row,
  ) {}

  /** A signed-in user (GoTrue's access-token claims). */
  static user(sql: postgres.Sql, user: { id: string; email: string }): Postgrest {
    return new Postgrest(sql, "authenticated", userClaims(user.id, user.email));
  }

  /** The anon key, signed out. */
  static anon(sql: postgres.Sql): Postgrest {
    return new Postgrest(sql, "anon", { iss: "supabase-demo", role: "anon" });
  }

  /** The service_role key (bypasses RLS). */
  static service(sql: postgres.Sql): Postgrest {
    return new Postgrest(sql, "service_role", { iss: "supabase-demo", role: "service_role" });
  }

  from(name: string): Query {
    return new Query(this, name);
  }

  /** `supabase.rpc(fn, args)`: named arguments; a set-returning function answers an array of rows. */
  async rpc(fn: string, args: Row = {}): Promise<PostgrestResponse<unknown>> {
    const target = table(fn);
    const names = sentKeys(args);
    const call = `${target.sql}(${names.map((n, i) => `${ident(n)} => $${i + 1}`).join(", ")})`;
    const [{ set }] = await this.sql<{ set: boolean }[]>`
      select coalesce(bool_or(proretset), false) as set from pg_proc
       where proname = ${target.name} and pronamespace = ${target.schema}::regnamespace`;
    try {
      const rows = await this.run(
        `select coalesce(json_agg(to_json(_r)), '[]'::json) as data from ${call} as _r`,
        names.map((n) => toParam(args[n])),
      );
      const data = rows[0].data as unknown[];
      return { data: set ? data : data[0] ?? null, error: null, count: null, status: 200 };
    } catch (e) {
      return this.fail(e);
    }
  }

  /**
   * Runs one statement as this caller, as PostgREST runs a request (and as Storage runs its queries on
   * storage.objects): role and claims set locally in a transaction of its own. Throws Postgres errors.
   */
  async run(text: string, params: unknown[] = []): Promise<postgres.RowList<Row[]>> {
    const sub = typeof this.claims.sub === "string" ? this.claims.sub : "";
    return await this.sql.begin(async (tx) => {
      await tx.unsafe(`set local role ${ident(this.role)}`);
      await tx`select set_config('request.jwt.claims', ${JSON.stringify(this.claims)}, true),
                      set_config('request.jwt.claim.sub', ${sub}, true),
                      set_config('request.jwt.claim.role', ${this.role}, true)`;
      return await tx.unsafe<Row[]>(text, params as postgres.ParameterOrJSON<never>[]);
    }) as postgres.RowList<Row[]>;
  }

  /** A thrown Postgres error as PostgREST answers it. */
  fail<T>(e: unknown): PostgrestResponse<T> {
    if (!(e instanceof postgres.PostgresError)) throw e;
    return failure(
      { code: e.code, message: e.message, details: e.detail ?? null, hint: e.hint ?? null },
      httpStatus(e.code, this.role),
    );
  }

  /** The single-column foreign key between two tables, as PostgREST's schema cache finds it. */
  async relationship(from: string, to: string): Promise<
    { toMany: boolean; fromColumn: string; toColumn: string } | null
  > {
    const a = table(from);
    const b = table(to);
    const rows = await this.sql<{ to_many: boolean; from_col: string; to_col: string }[]>`
      select c.conrelid = to_regclass(${`${b.schema}.${b.name}`}) as to_many,
             case when c.conrelid = to_regclass(${`${a.schema}.${a.name}`}) then ka.attname else fa.attname end
               as from_col,
             case when c.conrelid = to_regclass(${`${a.schema}.${a.name}`}) then fa.attname else ka.attname end
               as to_col
        from pg_constraint c
        join pg_attribute ka on ka.attrelid = c.conrelid and ka.attnum = c.conkey[1]
        join pg_attribute fa on fa.attrelid = c.confrelid and fa.attnum = c.confkey[1]
       where c.contype = 'f' and cardinality(c.conkey) = 1
         and ((c.conrelid = to_regclass(${`${a.schema}.${a.name}`})
               and c.confrelid = to_regclass(${`${b.schema}.${b.name}`}))
           or (c.conrelid = to_regclass(${`${b.schema}.${b.name}`})
               and c.confrelid = to_regclass(${`${a.schema}.${a.name}`})))`;
    if (rows.length !== 1) return null;
    return { toMany: rows[0].to_many, fromColumn: rows[0].from_col, toColumn: rows[0].to_col };
  }
}

type Op =
  | { kind: "select" }
  | { kind: "insert"; rows: Row[] }
  | { kind: "update"; patch: Row }
  | { kind: "delete" };

/** One request, built like postgrest-js's and run when awaited. */
export class Query implements PromiseLike<PostgrestResponse<Row[]>> {
  #op: Op = { kind: "select" };
  #columns: string | null = null;
  #filters: string[] = [];
  #params: unknown[] = [];
  #order: string[] = [];
  #limit: number | null = null;
  #offset: number | null = null;
  #count = false;
  #head = false;

  constructor(private readonly api: Postgrest, private readonly name: string) {}

  /** Columns to read (or, after a write, to return: Prefer: return=representation). */
  select(columns = "*", options: { count?: "exact"; head?: boolean } = {}): this {
    this.#columns = columns;
    this.#count = options.count === "exact";
    this.#head = options.head ?? false;
    return this;
  }

  insert(values: Row | Row[]): this {
    this.#op = { kind: "insert", rows: Array.isArray(values) ? values : [values] };
    return this;
  }

  update(patch: Row): this {
    this.#op = { kind: "update", patch };
    return this;
  }

  delete(): this {
    this.#op = { kind: "delete" };
    return this;
  }

  #filter(column: string, operator: string, value: unknown): this {
    this.#params.push(toParam(value));
    this.#filters.push(`t.${ident(column)} ${operator} $${this.#params.length}`);
    return this;
  }

  eq(column: string, value: unknown): this {
    return this.#filter(column, "=", value);
  }
  neq(column: string, value: unknown): this {
    return this.#filter(column, "<>", value);
  }
  gt(column: string, value: unknown): this {
    return this.#filter(column, ">", value);
  }
  gte(column: string, value: unknown): this {
    return this.#filter(column, ">=", value);
  }
  lt(column: string, value: unknown): this {
    return this.#filter(column, "<", value);
  }
  lte(column: string, value: unknown): this {
    return this.#filter(column, "<=", value);
  }
  is(column: string, value: null | boolean): this {
    this.#filters.push(`t.${ident(column)} is ${value === null ? "null" : String(value)}`);
    return this;
  }
  /** Only the form the apps use: `.not(column, 'is', null)`. */
  not(column: string, operator: "is", value: null): this {
    if (operator !== "is" || value !== null) throw new Error("_postgrest: only not(column, 'is', null)");
    this.#filters.push(`t.${ident(column)} is not null`);
    return this;
  }
  in(column: string, values: unknown[]): this {
    this.#params.push(values.map((v) => v === null || v === undefined ? null : String(v)));
    this.#filters.push(`t.${ident(column)}::text = any($${this.#params.length}::text[])`);
    return this;
  }

  order(column: string, options: { ascending?: boolean } = {}): this {
    this.#order.push(`t.${ident(column)} ${options.ascending === false ? "desc" : "asc"}`);
    return this;
  }
  limit(count: number): this {
    this.#limit = count;
    return this;
  }
  range(from: number, to: number): this {
    this.#offset = from;
    this.#limit = to - from + 1;
    return this;
  }

  /** Exactly one row, else PGRST116 (406), as `.single()`. */
  single(): PromiseLike<PostgrestResponse<Row>> {
    return this.#one(false);
  }

  /** At most one row (null when none), as `.maybeSingle()`. */
  maybeSingle(): PromiseLike<PostgrestResponse<Row>> {
    return this.#one(true);
  }

  async #one(maybe: boolean): Promise<PostgrestResponse<Row>> {
    const res = await this.#execute();
    if (res.error) return { ...res, data: null };
    const rows = res.data ?? [];
    if (rows.length === 1 || (maybe && rows.length === 0)) return { ...res, data: rows[0] ?? null };
    return failure({
      code: "PGRST116",
      message: "JSON object requested, multiple (or no) rows returned",
      details: `The result contains ${rows.length} rows`,
      hint: null,
    }, 406);
  }

  then<A = PostgrestResponse<Row[]>, B = never>(
    onfulfilled?: ((value: PostgrestResponse<Row[]>) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): PromiseLike<A | B> {
    return this.#execute().then(onfulfilled, onrejected);
  }

  #where(): string {
    return this.#filters.length ? ` where ${this.#filters.join(" and ")}` : "";
  }

  /** The select list over alias `t`, with embedded resources as json subqueries. */
  async #selectList(): Promise<string | PostgrestError> {
    const items: string[] = [];
    let depth = 0;
    let current = "";
    for (const ch of this.#columns ?? "*") {
      if (ch === "," && depth === 0) {
        items.push(current.trim());
        current = "";
        continue;
      }
      if (ch === "(") depth++;
      if (ch === ")") depth--;
      current += ch;
    }
    items.push(current.trim());
    const out: string[] = [];
    for (const item of items) {
      const embed = item.match(/^([a-z_][a-z0-9_]*)\((.*)\)$/s);
      if (item === "*") out.push("t.*");
      else if (!embed) out.push(`t.${ident(item)}`);
      else {
        const [, rel, inner] = embed;
        const fk = await this.api.relationship(this.name, rel);
        if (!fk) {
          return {
            code: "PGRST200",
            message: `Could not find a relationship between '${this.name}' and '${rel}' in the schema cache`,
            details: null,
            hint: null,
          };
        }
        const cols = inner.trim() === "*"
          ? "e.*"
          : inner.split(",").map((c) => `e.${ident(c.trim())}`).join(", ");
        const from = `(select ${cols} from ${table(rel).sql} e where e.${ident(fk.toColumn)} = t.${
          ident(fk.fromColumn)
        }) _e`;
        out.push(
          fk.toMany
            ? `coalesce((select json_agg(_e) from ${from}), '[]'::json) as ${ident(rel)}`
            : `(select row_to_json(_e) from ${from}) as ${ident(rel)}`,
        );
      }
    }
    return out.join(", ");
  }

  async #execute(): Promise<PostgrestResponse<Row[]>> {
    const list = await this.#selectList();
    if (typeof list !== "string") return failure(list, 400);
    const target = table(this.name).sql;
    const op = this.#op;
    const params = [...this.#params];
    const returning = op.kind === "select" || this.#columns !== null;
    let text: string;
    if (op.kind === "select") {
      const order = this.#order.length ? ` order by ${this.#order.join(", ")}` : "";
      const page = (this.#limit !== null ? ` limit ${this.#limit}` : "") +
        (this.#offset !== null ? ` offset ${this.#offset}` : "");
      const count = this.#count ? `, (select count(*) from ${target} t${this.#where()})::int as count` : "";
      text = `select coalesce(json_agg(_r), '[]'::json) as data${count}
                from (select ${list} from ${target} t${this.#where()}${order}${page}) _r`;
    } else {
      let write: string;
      if (op.kind === "insert") {
        // Keys of undefined values are not sent (JSON.stringify drops them), so their defaults apply.
        const columns = [...new Set(op.rows.flatMap(sentKeys))].map(ident).join(", ");
        params.push(op.rows);
        write = `insert into ${target} as t (${columns})
                 select ${columns} from json_populate_recordset(null::${target}, $${params.length}::json)`;
      } else if (op.kind === "update") {
        const sets = sentKeys(op.patch).map((c) => `${ident(c)} = _p.${ident(c)}`).join(", ");
        params.push(op.patch);
        write = `update ${target} as t set ${sets}
                   from json_populate_record(null::${target}, $${params.length}::json) _p${this.#where()}`;
      } else {
        write = `delete from ${target} as t${this.#where()}`;
      }
      text = returning
        ? `with _w as (${write} returning t.*)
           select coalesce(json_agg(_r), '[]'::json) as data, (select count(*) from _w)::int as count
             from (select ${list} from _w t) _r`
        : write;
    }
    try {
      const rows = await this.api.run(text, params);
      if (!returning) {
        return { data: null, error: null, count: rows.count, status: op.kind === "insert" ? 201 : 204 };
      }
      const data = this.#head ? null : rows[0].data as Row[];
      const count = (rows[0].count as number | undefined) ?? null;
      return { data, error: null, count, status: op.kind === "insert" ? 201 : 200 };
    } catch (e) {
      return this.api.fail(e);
    }
  }
}

/** What `functions.invoke` gave the app, with the HTTP status and the body of an error answer. */
export type Invoked = { data: Row | null; error: Error | null; status: number; body: Row | null };

/**
 * `supabase.functions.invoke(name, { body })` from an app signed in as `token` (null: signed out, the
 * anon key is the bearer, as supabase-js sends it then).
 */
export async function invoke(
  stackUrl: string,
  token: string | null,
  name: string,
  body?: Row,
): Promise<Invoked> {
  const client = createClient(stackUrl, LOCAL_ANON_KEY, { accessToken: () => Promise.resolve(token) });
  const { data, error, response } = await client.functions.invoke(name, { body });
  const status = response?.status ?? 0;
  if (!error) return { data: data as Row, error: null, status, body: data as Row };
  let answer: Row | null = null;
  try {
    answer = response ? await response.json() : null;
  } catch { /* not JSON */ }
  return { data: null, error, status, body: answer };
}
