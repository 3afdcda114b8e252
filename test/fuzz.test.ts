import assert from "node:assert/strict";
import { fuzz, fuzzTargets } from "./fuzz-harness.js";

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
