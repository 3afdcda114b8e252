/**
 * Runs one yosys invocation (the WebAssembly build of @yowasp/yosys) in a worker thread, so that
 * the caller can stop it with Worker.terminate() when it overruns its time limit.
 *
 * In: { args, files, want } — yosys arguments, input files by name, and the output files to return.
 * Out: { ok: true, files } with the wanted files as text, or { ok: false, error } with yosys's
 * first ERROR line (or the end of its output).
 */
import { parentPort, workerData } from "node:worker_threads";
import { runYosys } from "@yowasp/yosys";

interface Job {
  args: string[];
  files: Record<string, string>;
  want: string[];
}

const job = workerData as Job;
let stderr = "";
const decoder = new TextDecoder();
const keep = (bytes: Uint8Array | null): void => {
  if (bytes) stderr += decoder.decode(bytes, { stream: true });
};

function text(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return decoder.decode(v);
  return undefined;
}

try {
  const out = (await runYosys(job.args, job.files, { stdout: keep, stderr: keep })) ?? {};
  const files: Record<string, string> = {};
  for (const name of job.want) {
    const t = text(out[name]);
    if (t !== undefined) files[name] = t;
  }
  parentPort!.postMessage({ ok: true, files });
} catch (err) {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  const errorLine = lines.find((l) => /ERROR:/.test(l));
  const error = errorLine ?? (lines.slice(-3).join(" ") || (err as Error).message);
  parentPort!.postMessage({ ok: false, error });
}
