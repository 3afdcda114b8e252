import assert from "node:assert/strict";
import { engineGeometry, resolveEngine } from "../src/engine/config.js";
import { encodeIndices } from "../src/engine/pack.js";
import { ternaryMatmul } from "../src/ref/kernel.js";
import { tableLookupMatmul } from "../src/ref/tlmm.js";
import { Rng } from "../src/util/random.js";
import { randomActs, randomTrits } from "./helpers.js";

describe("reference kernels", () => {
  it("plain add/subtract: a hand-checked example", () => {
    const w = { n: 2, k: 3, trits: Int8Array.from([1, -1, 0, 0, 1, 1]) };
    const x = Int8Array.from([5, 7, -2, 1, 1, 1]);
    assert.deepEqual(Array.from(ternaryMatmul(w, x, 2)), [5 - 7, 7 - 2, 0, 2]);
  });

  for (const encoding of ["full", "mirrored"] as const) {
    for (let G = 2; G <= 5; G++) {
      it(`table lookup equals add/subtract: G=${G} ${encoding}, odd shapes, several tokens`, () => {
        const rng = new Rng(G * 10 + (encoding === "full" ? 0 : 1));
        for (const [T, n, k, tokens] of [
          [1, 3, 7, 1],
          [4, 17, 61, 3],
          [7, 9, 200, 2],
        ] as const) {
          const geo = engineGeometry(resolveEngine({ G, encoding, T, P: 2, c: 2 }, "test"));
          const w = randomTrits(rng, n, k);
          const x = randomActs(rng, tokens * k);
          const plain = ternaryMatmul(w, x, tokens);
          const tlmm = tableLookupMatmul(geo, encodeIndices(geo, w), x, k, tokens);
          assert.deepEqual(tlmm, plain, `T=${T} n=${n} k=${k}`);
        }
      });
    }
  }

  it("table lookup handles the extreme activation -128 against all -1 weights", () => {
    for (let G = 2; G <= 5; G++) {
      for (const encoding of ["full", "mirrored"] as const) {
        const geo = engineGeometry(resolveEngine({ G, encoding, T: 3, P: 1, c: 1 }, "test"));
        const k = 3 * G * 2;
        const w = { n: 2, k, trits: new Int8Array(2 * k).fill(-1) };
        w.trits.fill(1, k);
        const x = new Int8Array(k).fill(-128);
        assert.deepEqual(Array.from(tableLookupMatmul(geo, encodeIndices(geo, w), x, k, 1)), [128 * k, -128 * k]);
      }
    }
  });
});
