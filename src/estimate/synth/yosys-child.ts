/**
 * Runs one yosys invocation (the WebAssembly build of @yowasp/yosys) in a child process of its
 * own, so that the caller can kill it when it overruns its time limit. (A worker thread terminated
 * while yosys's 38 MB WebAssembly module compiles can bring the whole Node process down with it.)
 *
 * In (IPC message): { args, files, want } — yosys arguments, input files by name, and the output
 * files to return. Out: { ok: true, files } with the wanted files as text, or { ok: false, error }
 * with yosys's first ERROR line (or the end of its output).
 */
import { runYosys } from "@yowasp/yosys";

interface Job {
  args: string[];
  files: Record<string, string>;
  want: string[];
}

const decoder = new TextDecoder();

function text(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return decoder.decode(v);
  return undefined;
}

async function run(job: Job): Promise<{ ok: true; files: Record<string, string> } | { ok: false; error: string }> {
  let output = "";
  const keep = (bytes: Uint8Array | null): void => {
    if (bytes) output += decoder.decode(bytes, { stream: true });
  };
  try {
    const out = (await runYosys(job.args, job.files, { stdout: keep, stderr: keep })) ?? {};
    const files: Record<string, string> = {};
    for (const name of job.want) {
      const t = text(out[name]);
      if (t !== undefined) files[name] = t;
    }
    return { ok: true, files };
  } catch (err) {
    const lines = output.split("\n").map((l) => l.trim()).filter(Boolean);
    const errorLine = lines.find((l) => /ERROR:/.test(l));
    return { ok: false, error: errorLine ?? (lines.slice(-3).join(" ") || (err as Error).message) };
  }
}

// the parent went away (its own exit kills us; this covers a crash): stop as soon as yosys yields
process.once("disconnect", () => process.exit(1));
process.once("message", (job: Job) => {
  void run(job).then((result) => process.send!(result, undefined, {}, () => process.exit(0)));
});
