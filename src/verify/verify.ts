import { basename } from "node:path";
import { checkOutputFile, writeFileAtomic } from "../util/atomic.js";
import { runCheckWithin } from "./isolate.js";
import { junitXml } from "./junit.js";
import { planChecks, type CheckResult, type Planned } from "./run.js";
import { loadVerifySpec } from "./spec.js";

export interface VerifyOptions {
  /** Where to write JUnit XML: valid from the start and rewritten after every check. */
  readonly junit?: string | undefined;
  /** Called before each check runs (progress). */
  readonly onCheck?: (index: number, count: number, planned: Planned) => void;
}

export type Verdict = "pass" | "FAIL" | "ERROR";

export function verdictOf(r: CheckResult): Verdict {
  return r.error !== undefined ? "ERROR" : r.failures.length > 0 ? "FAIL" : "pass";
}

/**
 * Runs every check of a verify spec, each in its own process with its time limit (./isolate.ts).
 * The whole spec is checked first (a check naming what does not exist is bad input); the JUnit
 * file, when asked for, is valid from the start and after every check, so a CI job stopped midway
 * still has the results so far and the rest as skipped.
 */
export async function verifySpec(specPath: string, opts: VerifyOptions = {}): Promise<CheckResult[]> {
  const planned = planChecks(loadVerifySpec(specPath), specPath);
  const results: CheckResult[] = [];
  const suite = basename(specPath);
  const { junit } = opts;
  const writeJunit = (): void => {
    if (junit) writeFileAtomic(junit, junitXml(suite, results, planned.slice(results.length).map((p) => p.check)));
  };
  if (junit) checkOutputFile(junit, "--junit");
  writeJunit();
  for (const [i, p] of planned.entries()) {
    opts.onCheck?.(i, planned.length, p);
    results.push(await runCheckWithin(p));
    writeJunit();
  }
  return results;
}
