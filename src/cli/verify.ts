import { type CheckResult } from "../verify/run.js";
import { verdictOf, verifySpec } from "../verify/verify.js";
import { printJson, table } from "./output.js";

/**
 * `trilut verify SPEC [--junit FILE]`: every check of the spec through simulation (and yosys when a
 * check asks), a verdict per check, JUnit XML for CI; exit 1 when any check fails.
 */
export async function verifyCommand(args: { spec: string; junit?: string | undefined; json: boolean }): Promise<number> {
  const results: CheckResult[] = await verifySpec(args.spec, {
    junit: args.junit,
    onCheck: (i, count, p) => {
      if (!args.json) process.stderr.write(`check ${i + 1}/${count}: ${p.check.name}\n`);
    },
  });
  if (args.json) {
    printJson({
      passed: results.filter((r) => verdictOf(r) === "pass").length,
      failed: results.filter((r) => verdictOf(r) !== "pass").length,
      checks: results.map((r) => ({ name: r.check.name, verdict: verdictOf(r), failures: r.failures, error: r.error, properties: r.properties, seconds: r.seconds })),
    });
  } else {
    console.log(
      table(
        ["check", "verdict", "cycles", "predicted", "mismatches", "why"],
        results.map((r) => [
          r.check.name,
          verdictOf(r),
          String(r.properties["cycles"] ?? "-"),
          String(r.properties["predictedCycles"] ?? "-"),
          String(r.properties["mismatches"] ?? "-"),
          r.error ?? r.failures.map((f) => f.message).join("; "),
        ]),
      ),
    );
    const bad = results.filter((r) => verdictOf(r) !== "pass").length;
    console.log(`\n${results.length - bad} of ${results.length} checks passed${args.junit ? `; JUnit XML in ${args.junit}` : ""}`);
  }
  return results.every((r) => verdictOf(r) === "pass") ? 0 : 1;
}
