import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { whileRunning } from "../util/atomic.js";
import { type CheckResult, type Planned } from "./run.js";

/**
 * Runs one check in a child process (./child.ts) and fails it as "timeout" when it takes longer
 * than its `timeout:` seconds. The child leads its own process group, so ending it also ends the
 * Verilator, g++ or yosys processes it started.
 */
export function runCheckWithin(p: Planned): Promise<CheckResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL("./child.js", import.meta.url)), [], {
      detached: true,
      serialization: "advanced",
      // the child's stdout is the parent's stderr: stdout stays the --json document
      stdio: ["ignore", 2, 2, "ipc"],
    });
    const killGroup = (): void => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const forget = whileRunning(killGroup);
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      forget();
      fn();
    };
    const timer = setTimeout(() => {
      killGroup();
      const seconds = (performance.now() - started) / 1000;
      settle(() =>
        resolve({
          check: p.check,
          seconds,
          failures: [{ type: "timeout", message: `stopped after ${p.check.timeout} s (timeout: ${p.check.timeout}); give the check a longer timeout if it needs one` }],
          properties: { backend: p.check.backend, weightsPerCycle: p.geo.weightsPerCycle },
        }),
      );
    }, p.check.timeout * 1000);
    child.on("message", (m: { result?: CheckResult; internal?: string }) => {
      settle(() => (m.result ? resolve(m.result) : reject(new Error(`verify check "${p.check.name}": ${m.internal}`))));
      killGroup();
    });
    child.on("error", (err) => settle(() => reject(err)));
    child.on("exit", (code, signal) => settle(() => reject(new Error(`verify check "${p.check.name}": its process ended (${signal ?? `exit ${code}`}) without a result`))));
    child.send(p);
  });
}
