import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presetBudget, resolveBudget } from "../src/budget/budget.js";
import { planEngine } from "../src/plan/plan.js";
import { UserError } from "../src/util/errors.js";
import { fuzz, fuzzTargets } from "./fuzz-harness.js";
import { fuzzSpecs, specTargets } from "./fuzz-specs.js";

const CASES = 2000;
/** Far above a normal read of these small files (a few ms): a case this slow is a hang or a blow-up. */
const TIME_LIMIT_MS = 2000;

describe(`fuzzing the readers (${CASES} seeded mutations per format)`, () => {
  for (const target of fuzzTargets()) {
    it(`${target.name}: every mutation is read or rejected with a UserError, in time`, () => {
      const r = fuzz(target, CASES, 20261122, TIME_LIMIT_MS);
      assert.deepEqual(r.failures.slice(0, 5), [], `${r.failures.length} failures`);
      assert.equal(r.read + r.rejected, CASES);
      // the mutations must be exercising both outcomes, or the fuzzer tests nothing
      assert.ok(r.rejected > CASES / 10, `only ${r.rejected} rejected`);
      assert.ok(r.read > 0, "no mutation was readable");
    });
  }
});

describe(`fuzzing the spec loaders (${CASES} seeded structural mutations per input kind)`, () => {
  for (const target of specTargets()) {
    it(`${target.name}: every mutation is accepted or refused with a one-line UserError, in time`, () => {
      const r = fuzzSpecs(target, CASES, 20261122, TIME_LIMIT_MS);
      assert.deepEqual(r.failures.slice(0, 5), [], `${r.failures.length} failures`);
      assert.equal(r.read + r.rejected, CASES);
      assert.ok(r.rejected > CASES / 10, `only ${r.rejected} rejected`);
      assert.ok(r.read > CASES / 50, `only ${r.read} accepted: the mutations no longer reach the valid path`);
    });
  }
});

describe("regressions the spec fuzzer found", () => {
  it("a UserError quoting a field name with a newline is one line, for a library caller too", () => {
    const dir = mkdtempSync(join(tmpdir(), "trilut-fuzz-reg-"));
    try {
      const file = join(dir, "e.json");
      writeFileSync(file, JSON.stringify({ T: 8, "a\nb": 1 }));
      assert.throws(
        () => planEngine(presetBudget("kv260"), { engineFile: file }),
        (err: Error) => err instanceof UserError && err.message.endsWith('/: unknown field "a\\x0ab"') && !/[\n\r]/.test(err.message),
      );
      // a JSON parser's excerpt of the text carries the file's control characters
      writeFileSync(file, '{"device": "k\u001b[31mv\n260" x}');
      assert.throws(() => resolveBudget({ budget: file }), (err: Error) => err instanceof UserError && /not valid JSON/.test(err.message) && !/[\u0000-\u001f]/.test(err.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
