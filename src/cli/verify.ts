import { basename } from "node:path";
import { checkOutputFile, writeFileAtomic } from "../util/atomic.js";
import { junitXml } from "../verify/junit.js";
import { planChecks, type CheckResult } from "../verify/run.js";
import { runCheckWithin } from "../verify/isolate.js";
import { loadVerifySpec } from "../verify/spec.js";
import { printJson, table } from "./output.js";

/**
 * `trilut verify SPEC [--junit FILE]`: every check of the spec through simulation (and yosys when a
 * check asks), a verdict per check, JUnit XML for CI; exit 1 when any check fails.
 */
export async function verifyCommand(args: { spec: string; junit?: string | undefined; json: boolean }): Promise<number> {
  const planned = planChecks(loadVerifySpec(args.spec), args.spec);
  const results: CheckResult[] = [];
  // the JUnit file is valid from the start and rewritten after every check: a CI job stopped
  // midway (its own time limit) still has the results so far, and the rest as skipped
  const suite = basename(args.spec);
  const writeJunit = (): void => {
    if (args.junit) writeFileAtomic(args.junit, junitXml(suite, results, planned.slice(results.length).map((p) => p.check)));
  };
  if (args.junit) checkOutputFile(args.junit, "--junit");
  writeJunit();
  for (const [i, p] of planned.entries()) {
    if (!args.json) process.stderr.write(`check ${i + 1}/${planned.length}: ${p.check.name}\n`);
    results.push(await runCheckWithin(p));
    writeJunit();
  }
  const verdict = (r: CheckResult): string => (r.error !== undefined ? "ERROR" : r.failures.length > 0 ? "FAIL" : "pass");
  if (args.json) {
    printJson({
      passed: results.filter((r) => verdict(r) === "pass").length,
      failed: results.filter((r) => verdict(r) !== "pass").length,
      checks: results.map((r) => ({ name: r.check.name, verdict: verdict(r), failures: r.failures, error: r.error, properties: r.properties, seconds: r.seconds })),
    });
  } else {
    console.log(
      table(
        ["check", "verdict", "cycles", "predicted", "mismatches", "why"],
        results.map((r) => [
          r.check.name,
          verdict(r),
          String(r.properties["cycles"] ?? "-"),
          String(r.properties["predictedCycles"] ?? "-"),
          String(r.properties["mismatches"] ?? "-"),
          r.error ?? r.failures.map((f) => f.message).join("; "),
        ]),
      ),
    );
    const bad = results.filter((r) => verdict(r) !== "pass").length;
    console.log(`\n${results.length - bad} of ${results.length} checks passed${args.junit ? `; JUnit XML in ${args.junit}` : ""}`);
  }
  return results.every((r) => verdict(r) === "pass") ? 0 : 1;
}
