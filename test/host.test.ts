import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeArchitecture } from "../src/model/architecture.js";
import { makeLlamaModel } from "../src/model/make-model.js";
import { withModel } from "../src/model/open.js";
import { quantizeActivations, roundHalfEven } from "../src/ref/activations.js";
import { runHostModel, type MatmulCall } from "../src/ref/host.js";
import { cli } from "./helpers.js";

describe("activation quantization (per-token absmax to int8)", () => {
  it("rounds half to even, as PyTorch does", () => {
    // + 0 turns -0 into 0: the sign of zero does not matter to an int8
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, -2.6].map((v) => roundHalfEven(v) + 0), [0, 2, 2, 0, -2, 2, -3]);
  });

  it("scales each token by its own max |x| / 127; a zero token stays zero", () => {
    const x = Float64Array.from([1, -2, 0.5, 0, 0, 0]);
    const { q, scale } = quantizeActivations(x, 2, 3);
    assert.deepEqual(Array.from(q), [64, -127, 32, 0, 0, 0]); // 63.5 → 64 (half to even), 31.75 → 32
    assert.deepEqual(Array.from(scale), [2 / 127, 1]);
  });
});

describe("the host model", () => {
  let dir: string;
  const models: Record<string, string> = {};
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "trilut-host-"));
    models["llama TQ2_0"] = join(dir, "llama.gguf");
    makeLlamaModel({ path: models["llama TQ2_0"]!, format: "tq2_0", hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, vocab: 64, seed: 3 });
    models["bitnet-b1.58 HF"] = join(dir, "bitnet");
    makeLlamaModel({ path: models["bitnet-b1.58 HF"]!, format: "hf-bitnet", architecture: "bitnet-b1.58", hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, vocab: 64, seed: 3 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (path: string, opts: Parameters<typeof runHostModel>[2]): MatmulCall[] =>
    withModel(path, (m) => runHostModel(m, describeArchitecture(m), opts).calls);

  for (const name of ["llama TQ2_0", "bitnet-b1.58 HF"]) {
    it(`${name}: records every matmul of the requested layers in block order, with real activations`, () => {
      const calls = run(models[name]!, { tokens: [1, 5, 9], record: [0, 1] });
      assert.deepEqual(calls.map((c) => `${c.layer}:${c.role}`), [0, 1].flatMap((l) => ["q", "k", "v", "o", "gate", "up", "down"].map((r) => `${l}:${r}`)));
      for (const c of calls) {
        assert.equal(c.x.length, 3 * c.matmul.planes[0]!.k);
        assert.ok(c.x.some((v) => v !== 0), `${c.name} has all-zero input`);
        // absmax quantization puts ±127 in every token
        for (let t = 0; t < 3; t++) {
          const row = c.x.subarray(t * c.matmul.planes[0]!.k, (t + 1) * c.matmul.planes[0]!.k);
          assert.ok(row.some((v) => Math.abs(v) === 127), `${c.name} token ${t}`);
        }
      }
    });

    it(`${name}: decoding after a prompt sees what the prompt's last position sees (KV cache, RoPE, causal attention)`, () => {
      const prompt = [3, 14, 15, 9, 2];
      const full = run(models[name]!, { tokens: prompt, record: [0, 1] });
      const step = run(models[name]!, { prefix: prompt.slice(0, -1), tokens: prompt.slice(-1), record: [0, 1] });
      assert.equal(step.length, full.length);
      full.forEach((c, i) => {
        const k = c.matmul.planes[0]!.k;
        assert.deepEqual(step[i]!.x, c.x.subarray((prompt.length - 1) * k), `${c.name}`);
      });
    });
  }

  it("trilut sim --block runs on the host model's activations, dequantized on the engine, bit-exact", () => {
    const small = ["--set", "T=8", "--set", "P=4", "--set", "c=1", "--set", "memBits=512", "--set", "maxBurst=8", "--set", "weightMemory=bram", "--set", "bufferDepth=512"];
    for (const path of Object.values(models)) {
      for (const mode of [["--mode", "decode", "--context", "3"], ["--mode", "prefill", "--tokens", "4"]]) {
        for (const dequant of ["true", "false"]) {
          const r = cli(["sim", path, "--scope", "matmuls", "--block", "1", "--device", "kv260", ...small, "--set", `dequant=${dequant}`, ...mode, "--json"]);
          assert.equal(r.status, 0, r.stderr);
          const s = JSON.parse(r.stdout) as { match: boolean; cycles: number; predictedCycles: number; matmuls: unknown[] };
          assert.equal(s.match, true);
          assert.equal(s.cycles, s.predictedCycles);
          assert.equal(s.matmuls.length, 7);
        }
      }
    }
  });
});
