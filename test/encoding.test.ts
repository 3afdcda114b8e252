import assert from "node:assert/strict";
import {
  decodeIndex,
  encodeGroupValue,
  entryBits,
  entryPattern,
  indexBits,
  pow3,
  tableEntries,
  type Encoding,
} from "../src/engine/encoding.js";

const ENCODINGS: Encoding[] = ["full", "mirrored"];

describe("encoding", () => {
  it("has the entry counts and index widths of REFERENCE.md §1", () => {
    assert.deepEqual([2, 3, 4, 5].map((g) => tableEntries(g, "full")), [9, 27, 81, 243]);
    assert.deepEqual([2, 3, 4, 5].map((g) => tableEntries(g, "mirrored")), [5, 14, 41, 122]);
    assert.deepEqual([2, 3, 4, 5].map((g) => indexBits(g, "full")), [4, 5, 7, 8]);
    // 1 sign bit + ⌈log2 entries⌉
    assert.deepEqual([2, 3, 4, 5].map((g) => indexBits(g, "mirrored")), [4, 5, 7, 8]);
  });

  it("matches TL2's mirrored index for G = 3: idx = |9·t0 + 3·t1 + t2|, sign = v < 0", () => {
    assert.equal(encodeGroupValue(9 * -1 + 3 * 1 + 0, 3, "mirrored"), (1 << 4) | 6);
    assert.equal(encodeGroupValue(13, 3, "mirrored"), 13);
    assert.equal(encodeGroupValue(-13, 3, "full"), 0);
    assert.equal(encodeGroupValue(13, 3, "full"), 26);
  });

  for (const enc of ENCODINGS) {
    it(`${enc}: every group value looks up its own sum (G = 2..5)`, () => {
      for (let g = 2; g <= 5; g++) {
        const half = (pow3(g) - 1) / 2;
        const x = Array.from({ length: g }, (_, i) => 17 * i - 40);
        for (let v = -half; v <= half; v++) {
          const { entry, negate } = decodeIndex(encodeGroupValue(v, g, enc), g, enc);
          assert.ok(entry < tableEntries(g, enc));
          const pattern = entryPattern(entry, g, enc).map((t) => (negate ? -t : t));
          const value = pattern.reduce((acc, t) => acc * 3 + t, 0);
          assert.ok(value === v, `G=${g} v=${v}: pattern value ${value}`); // === treats -0 as 0
          const sum = pattern.reduce((acc, t, i) => acc + t * x[i]!, 0);
          const sumDirect = entryPattern(entry, g, enc).reduce((acc, t, i) => acc + t * x[i]!, 0);
          const looked = negate ? -sumDirect : sumDirect;
          assert.ok(sum === looked, `G=${g} v=${v}: ${sum} vs ${looked}`);
        }
      }
    });
  }

  it("sizes entries for the extreme sum G·128 (8 + ⌈log2 G⌉ would overflow for G = 2, 4)", () => {
    for (let g = 2; g <= 5; g++) {
      const bits = entryBits(g, 8);
      assert.ok(g * 128 <= 2 ** (bits - 1) - 1, `G=${g}: ${bits} bits`);
      assert.ok(-g * 128 >= -(2 ** (bits - 1)));
    }
    assert.deepEqual([2, 3, 4, 5].map((g) => entryBits(g, 8)), [10, 10, 11, 11]);
  });
});
