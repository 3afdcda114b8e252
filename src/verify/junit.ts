import { type Check } from "./spec.js";
import { type CheckResult } from "./run.js";

/**
 * JUnit XML of a verify run, as CI systems read it (Jenkins, GitLab, GitHub test reporters). Each
 * check is a <testsuite> of one <testcase>, so that its figures can be <property> elements: the
 * JUnit schema allows <properties> only in a <testsuite>, before its test cases. A failed
 * expectation (mismatch, cycles, resources, hang, timeout) is a <failure>, a check that could not
 * run an <error>, and a check not run yet (the file is rewritten after every check, so a CI job
 * stopped midway leaves valid XML) a <skipped>.
 */
function escape(text: string): string {
  // XML 1.0 has no escape for most control characters: they are dropped
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "").replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${escape(String(v))}"`)
    .join("");
}

/** trilut.BACKEND.MODEL, the model's file name without dots: reporters read dots as packages. */
export function classname(check: Check): string {
  return `trilut.${check.backend}.${check.model.split(/[\\/]/).pop()!.replace(/\./g, "_")}`;
}

/** Results of the checks run so far; `pending` checks (not run yet) appear as skipped. */
export function junitXml(suite: string, results: readonly CheckResult[], pending: readonly Check[] = []): string {
  const failed = (r: CheckResult): boolean => r.failures.length > 0 && r.error === undefined;
  const failures = results.filter(failed).length;
  const errors = results.filter((r) => r.error !== undefined).length;
  const time = results.reduce((s, r) => s + r.seconds, 0).toFixed(3);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    // only the attributes the schema gives <testsuites>; skipped counts are on each <testsuite>
    `<testsuites${attrs({ name: `trilut verify`, tests: results.length + pending.length, failures, errors, time })}>`,
    `<!-- ${escape(suite).replace(/--/g, "- -")} -->`,
  ];
  results.forEach((r, i) => {
    const counts = { tests: 1, failures: failed(r) ? 1 : 0, errors: r.error !== undefined ? 1 : 0, skipped: 0, time: r.seconds.toFixed(3) };
    lines.push(`  <testsuite${attrs({ name: r.check.name, id: i, ...counts })}>`);
    lines.push("    <properties>");
    for (const [k, v] of Object.entries(r.properties)) lines.push(`      <property${attrs({ name: k, value: String(v) })}/>`);
    lines.push("    </properties>");
    lines.push(`    <testcase${attrs({ name: r.check.name, classname: classname(r.check), time: r.seconds.toFixed(3) })}>`);
    for (const f of r.failures) lines.push(`      <failure${attrs({ type: f.type, message: f.message })}>${escape(f.message)}</failure>`);
    if (r.error !== undefined) lines.push(`      <error${attrs({ type: "error", message: r.error })}>${escape(r.error)}</error>`);
    lines.push("    </testcase>", "  </testsuite>");
  });
  pending.forEach((check, j) => {
    lines.push(`  <testsuite${attrs({ name: check.name, id: results.length + j, tests: 1, failures: 0, errors: 0, skipped: 1, time: "0.000" })}>`);
    lines.push(`    <testcase${attrs({ name: check.name, classname: classname(check), time: "0.000" })}>`);
    lines.push(`      <skipped${attrs({ message: "not run (yet): the verify run stopped before it" })}/>`);
    lines.push("    </testcase>", "  </testsuite>");
  });
  lines.push("</testsuites>");
  return lines.join("\n") + "\n";
}
