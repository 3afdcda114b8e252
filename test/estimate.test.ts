import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli } from "./helpers.js";

interface EstimateJson {
  decodeTokensPerSecond: number;
  rooflineTokensPerSecond: number;
  rooflineFraction: number;
  ttftSeconds: Record<string, number>;
  layers: { name: string; role: string; decodeCycles: number; on: string }[];
  clockMHz: number;
  decode: { matmulCycles: number; attentionCycles: number; lmHeadCycles: number; totalCycles: number; seconds: number };
  prefill: Record<string, { matmulCycles: number; totalCycles: number }>;
  terms: string[];
}

interface SimJson {
  match: boolean;
  mismatches: number;
  cycles: number;
  predictedCycles: number;
  memBusyFraction: number;
  computeUtilization: number;
  bytesRead: number;
  microseconds: number;
  clockMHz: number;
  clockUsed: { limitedBy: string };
  matmuls: { tensor: string; match: boolean }[];
}

describe("trilut estimate and whole-block simulation", function () {
  let dir: string;
  let model: string;
  let budget: string;
  // a small engine and budget so the Verilator build stays quick
  const engine = ["--set", "T=8", "--set", "P=4", "--set", "c=1", "--set", "memBits=512", "--set", "maxBurst=8", "--set", "weightMemory=bram", "--set", "bufferDepth=512"];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "trilut-estimate-"));
    model = join(dir, "m.gguf");
    const made = cli(["make-model", "-o", model, "--format", "tq2_0", "--arch", "bitnet-b1.58", "--hidden", "256", "--ffn", "512", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--vocab", "64"]);
    assert.equal(made.status, 0, made.stderr);
    budget = join(dir, "b.json");
    writeFileSync(budget, JSON.stringify({ device: "small", lut: 200000, ff: 400000, bram36: 300, uram: 0, dsp: 100, clockMHz: 200, memoryGBps: 3.2 }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function estimate(extra: string[] = []): EstimateJson {
    const r = cli(["estimate", model, "--budget", budget, ...engine, "--context", "128", "--prompt", "8", "16", "--json", ...extra]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as EstimateJson;
  }

  it("prints decode tokens/s, the roofline, TTFT per prompt and per-matmul cycles", () => {
    const e = estimate();
    assert.equal(e.clockMHz, 200);
    assert.deepEqual(Object.keys(e.ttftSeconds).sort(), ["16", "8"]);
    assert.ok(e.ttftSeconds["16"]! > e.ttftSeconds["8"]!);
    assert.equal(e.layers.length, 2 * 7 + 1, "seven matmuls per layer and the LM head");
    assert.equal(e.layers.filter((l) => l.on === "engine").length, 14);
    const d = e.decode;
    assert.equal(d.totalCycles, d.matmulCycles + d.attentionCycles + d.lmHeadCycles);
    assert.ok(Math.abs(e.decodeTokensPerSecond - (e.clockMHz * 1e6) / d.totalCycles) < 1e-6 * e.decodeTokensPerSecond);
    assert.ok(e.decodeTokensPerSecond <= e.rooflineTokensPerSecond);
    assert.ok(e.terms.some((t) => t.startsWith("not counted")));
  });

  for (const [mode, tokens, dequant] of [["decode", 1, "false"], ["prefill", 8, "false"], ["decode", 1, "true"]] as const) {
    it(`its block cycles are the simulated block's cycles (${mode}${dequant === "true" ? ", scales on the engine" : ""})`, () => {
      const e = estimate(["--set", `dequant=${dequant}`]);
      const args = ["sim", model, "--budget", budget, ...engine, "--set", `dequant=${dequant}`, "--mode", mode, "--json"];
      const blocks = [0, 1].map((b) => {
        const r = cli([...args, "--scope", "matmuls", "--block", String(b), ...(mode === "prefill" ? ["--tokens", String(tokens)] : [])]);
        assert.equal(r.status, 0, r.stderr);
        return JSON.parse(r.stdout) as SimJson;
      });
      for (const s of blocks) {
        assert.equal(s.match, true);
        assert.equal(s.mismatches, 0);
        assert.equal(s.cycles, s.predictedCycles);
        assert.equal(s.matmuls.length, 7);
        assert.ok(s.bytesRead > 0 && s.memBusyFraction > 0 && s.memBusyFraction <= 1 && s.computeUtilization > 0);
      }
      const matmulCycles = mode === "decode" ? e.decode.matmulCycles : e.prefill[String(tokens)]!.matmulCycles;
      assert.equal(matmulCycles, blocks[0]!.cycles + blocks[1]!.cycles);
      // both at the engine's clock, the budget's 200 MHz: the pipelined dequantization stage
      // reaches it (the estimate-limited case is in clock.test.ts)
      for (const s of blocks) {
        assert.equal(s.clockMHz, e.clockMHz);
        assert.equal(s.clockUsed.limitedBy, "budget");
        assert.ok(Math.abs(s.microseconds - s.cycles / s.clockMHz) < 1e-9 * s.microseconds);
      }
      assert.equal(e.clockMHz, 200);
    });
  }

  it("sim --all runs every ternary matmul as one stream", () => {
    const r = cli(["sim", model, "--budget", budget, ...engine, "--all", "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as SimJson;
    assert.equal(s.matmuls.length, 14);
    assert.equal(s.cycles, s.predictedCycles);
    assert.equal(s.match, true);
  });

  it("refuses what the model or the hardware cannot run, in one line", () => {
    const bad = (args: string[], pattern: RegExp): void => {
      const r = cli(args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    };
    bad(["estimate", model, "--budget", budget, ...engine, "--context", "100000"], /longer than the model's context length/);
    bad(["estimate", model, "--budget", budget, ...engine, "--prompt", "0"], /--prompt 0/);
    const zero = join(dir, "zero.json");
    writeFileSync(zero, JSON.stringify({ device: "z", lut: 1000, ff: 1000, bram36: 10, uram: 0, dsp: 0, clockMHz: 100, memoryGBps: 0 }));
    bad(["estimate", model, "--budget", zero], /memoryGBps/);
    bad(["sim", model, "--budget", budget, ...engine, "--block", "2"], /blocks 0\.\.1/);
    bad(["sim", model, "--budget", budget, ...engine, "--block", "0", "--tensor", "blk.0.attn_q.weight"], /one of --tensor/);
    bad(["sim", model, "--budget", budget, ...engine, "--block", "0", "--mode", "decode", "--tokens", "4"], /--mode prefill/);
    bad(["sim", model, "--budget", budget, ...engine, "--set", "bufferDepth=8", "--block", "0"], /buffer half/);
  });
});

describe("--scale-direction", () => {
  it("overrides a Hugging Face checkpoint's linear_class, and is refused for GGUF files", async () => {
    const { FIXTURES } = await import("./helpers.js");
    const dir = join(FIXTURES, "tiny-bitnet-hf");
    const scale = (extra: string[]): number => {
      const r = cli(["inspect", dir, "--json", ...extra]);
      assert.equal(r.status, 0, r.stderr);
      const t = (JSON.parse(r.stdout) as { tensors: { minus?: number; scale?: { value: number } }[] }).tensors.find((x) => x.minus !== undefined)!;
      return t.scale!.value;
    };
    const multiply = scale(["--scale-direction", "multiply"]);
    assert.equal(scale([]), multiply, "the fixture's config says autobitlinear: multiply");
    assert.ok(Math.abs(scale(["--scale-direction", "divide"]) - Math.fround(1 / multiply)) < 1e-6);
    const r = cli(["inspect", join(FIXTURES, "tiny-llama-tq2_0.gguf"), "--scale-direction", "divide"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /applies to Hugging Face checkpoints/);
  });
});

describe("an engine over budget", () => {
  it("is refused with the resource, the need, the limit and the largest engine that fits", () => {
    const r = cli(["sim", "models/tiny-tq2_0.gguf", "--tensor", "blk.0.attn_q.weight", "--device", "kv260", "--set", "bufferDepth=8192"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /URAM needs 64, limit 57 \(90% of 64\); the largest engine that fits has P=14 T=28 \(1176 weights\/cycle\): --set P=14 --set T=28/);
    // and the suggestion does fit
    const ok = cli(["sim", "models/tiny-tq2_0.gguf", "--tensor", "blk.0.attn_q.weight", "--device", "kv260", "--set", "bufferDepth=8192", "--set", "P=14", "--set", "T=28", "--json"]);
    assert.equal(ok.status, 0, ok.stderr);
  });
});
