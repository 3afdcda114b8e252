import { type CheckResult } from "./run.js";

/**
 * JUnit XML of a verify run, as CI systems read it (Jenkins, GitLab, GitHub test reporters): one
 * <testcase> per check, its figures as <property> elements, a <failure> per failed expectation
 * (mismatch, cycles, resources, hang) and an <error> for a check that could not run.
 */
function escape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${escape(String(v))}"`)
    .join("");
}

export function junitXml(suite: string, results: readonly CheckResult[]): string {
  const failures = results.filter((r) => r.failures.length > 0 && r.error === undefined).length;
  const errors = results.filter((r) => r.error !== undefined).length;
  const time = results.reduce((s, r) => s + r.seconds, 0).toFixed(3);
  const counts = { tests: results.length, failures, errors, skipped: 0, time };
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites${attrs({ name: "trilut verify", ...counts })}>`, `  <testsuite${attrs({ name: suite, ...counts })}>`];
  for (const r of results) {
    const classname = `trilut.${r.check.backend}.${r.check.model.split(/[\\/]/).pop()!}`;
    lines.push(`    <testcase${attrs({ name: r.check.name, classname, time: r.seconds.toFixed(3) })}>`);
    lines.push("      <properties>");
    for (const [k, v] of Object.entries(r.properties)) lines.push(`        <property${attrs({ name: k, value: String(v) })}/>`);
    lines.push("      </properties>");
    for (const f of r.failures) lines.push(`      <failure${attrs({ type: f.type, message: f.message })}>${escape(f.message)}</failure>`);
    if (r.error !== undefined) lines.push(`      <error${attrs({ type: "error", message: r.error })}>${escape(r.error)}</error>`);
    lines.push("    </testcase>");
  }
  lines.push("  </testsuite>", "</testsuites>");
  return lines.join("\n") + "\n";
}
