// Assertions for the Deno tests, on Node's built-in `assert` (jsr:@std/assert is unreachable here).
import strict from "node:assert/strict";

export function assert(condition: unknown, message?: string): asserts condition {
  strict.ok(condition, message);
}

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  strict.deepStrictEqual(actual, expected, message);
}

export function assertMatch(actual: string, pattern: RegExp, message?: string): void {
  strict.match(actual, pattern, message);
}

export async function assertRejects(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  await strict.rejects(fn, (e: unknown) => pattern.test(String(e instanceof Error ? e.message : e)));
}
