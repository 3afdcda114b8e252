import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ToolError } from "../../util/errors.js";

/**
 * The module a yosys error is about, when its message says: `trilut_compute.v:12: ERROR: …` names
 * the file (one module per hw/ file), `… module `\trilut_table' …` the module itself.
 */
export function moduleOfYosysError(message: string): string | undefined {
  const file = /([A-Za-z_][\w]*)\.v:\d+/.exec(message);
  if (file) return file[1];
  const named = /module [`'"]?(?:\$paramod\$[0-9a-f]+)?\\?([A-Za-z_]\w*)/i.exec(message);
  return named?.[1];
}

/** One line for a failed run: the design, the module yosys complained about, and its message. */
export function yosysFailure(design: string, message: string): ToolError {
  const line = message.replace(/\s+/g, " ").trim();
  const mod = moduleOfYosysError(line);
  return new ToolError(`yosys synthesis of ${design} failed${mod && mod !== design ? ` in module ${mod}` : ""}: ${line}`);
}

/**
 * Runs yosys with `script` over `files` in a child process (./yosys-child.ts) and returns the
 * output files named in `want`. A run past `timeoutSeconds` is stopped (the child is killed:
 * WebAssembly cannot be interrupted otherwise) and reported as a ToolError (exit 3), like a failed run.
 */
export function runYosys(
  design: string,
  script: string,
  files: Record<string, string>,
  want: readonly string[],
  timeoutSeconds: number,
): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    // advanced serialization: netlists of tens of megabytes cross as one structured clone
    const child = fork(fileURLToPath(new URL("./yosys-child.js", import.meta.url)), [], {
      serialization: "advanced",
      stdio: ["ignore", "ignore", "ignore", "ipc"],
    });
    // a child left running when this process exits would finish its synthesis for nobody
    const killChild = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    };
    process.once("exit", killChild);
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      process.removeListener("exit", killChild);
      fn();
      killChild();
    };
    const timer = setTimeout(
      () => finish(() => reject(new ToolError(`yosys synthesis of ${design} stopped after ${timeoutSeconds} s`))),
      timeoutSeconds * 1000,
    );
    child.on("message", (m: { ok: true; files: Record<string, string> } | { ok: false; error: string }) =>
      finish(() => (m.ok ? resolve(m.files) : reject(yosysFailure(design, m.error)))),
    );
    child.on("error", (err) => finish(() => reject(yosysFailure(design, err.message))));
    child.on("exit", (code, signal) =>
      finish(() => reject(yosysFailure(design, `yosys process exited (${signal ?? `code ${code}`}) without a result`))),
    );
    child.send({ args: ["-q", "-s", "synth.ys"], files: { ...files, "synth.ys": script }, want });
  });
}
