// What the worker spent, read from outside: its job runs from the drain summaries process-jobs logs (one
// `{"msg":"drain finished", ..., "jobs":[{"id","job_type","outcome","ms"}, ...]}` line per drain, written
// when the drain ends), whether a drain is still running (the gateway's isolate list), and the Replicate
// API calls the simulator counted. No production code logs anything for the benchmark's sake.

/** One job run: a job held in a worker slot from its claim (or wake) to its completion, deferral or park. */
export type JobRun = { id: number; job_type: string; outcome: string; ms: number };

export type DrainLog = {
  /** `drain finished` lines read. */
  drains: number;
  runs: JobRun[];
  /** Lines naming a finished drain that do not parse (a torn or cut write): their runs are missing. */
  unreadable: number;
  /** process-jobs isolates ended other than idle (wall clock limit, crash): a drain they ran never logged. */
  isolatesCut: number;
};

/** Reads a gateway's log (its stdout: every function's log lines and the gateway's own). */
export function readDrainLog(text: string): DrainLog {
  const log: DrainLog = { drains: 0, runs: [], unreadable: 0, isolatesCut: 0 };
  for (const line of text.split("\n")) {
    if (line.includes('"drain finished"')) {
      const drain = parseObject(line);
      if (drain && drain.msg !== "drain finished") continue; // another line quoting the words
      if (!Array.isArray(drain?.jobs)) {
        log.unreadable++;
        continue;
      }
      log.drains++;
      for (const job of drain.jobs) {
        log.runs.push({
          id: Number(job.id),
          job_type: job.job_type,
          outcome: job.outcome,
          ms: Number(job.ms),
        });
      }
    } else if (line.includes('"isolate ended"')) {
      const ended = parseObject(line);
      if (ended?.fn === "process-jobs" && ended.reason !== "idle") log.isolatesCut++;
    }
  }
  return log;
}

// deno-lint-ignore no-explicit-any
function parseObject(line: string): Record<string, any> | null {
  try {
    const value = JSON.parse(line);
    return value !== null && typeof value === "object" ? value : null;
  } catch {
    return null;
  }
}

/** Worker-seconds: the summed duration of the runs (of the jobs in `only`, when given). */
export function slotSeconds(runs: JobRun[], only?: Set<number>): number {
  return runs.filter((r) => !only || only.has(r.id)).reduce((sum, r) => sum + r.ms, 0) / 1000;
}

/** Whether any process-jobs isolate still has a request or background work (a drain) in flight. */
export async function workerBusy(gatewayUrl: string): Promise<boolean> {
  const res = await fetch(`${gatewayUrl}/_gateway/isolates`);
  const isolates: { fn: string; inflight: number; background: number; ended?: string }[] = await res.json();
  return isolates.some((i) => i.fn === "process-jobs" && !i.ended && (i.inflight > 0 || i.background > 0));
}

/** Requests the simulator answered by endpoint (`create`, `get`, `cancel`, `list`, `secret`, ...), and
 * their sum without `file` (image downloads from the delivery host are not API calls). */
export async function replicateCalls(simUrl: string): Promise<{ api: number; by: Record<string, number> }> {
  const res = await fetch(`${simUrl}/admin/stats`);
  if (!res.ok) throw new Error(`simulator /admin/stats answered ${res.status}`);
  const by: Record<string, number> = (await res.json()).requests;
  const api = Object.entries(by).reduce((sum, [endpoint, n]) => endpoint === "file" ? sum : sum + n, 0);
  return { api, by };
}
