import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blockProgram } from "../src/codegen/block-program.js";
import { planMatmuls } from "../src/engine/tiles.js";
import { memoryTiming } from "../src/budget/memory.js";
import { atEngineClock, engineClockMHz } from "../src/estimate/clock.js";
import { blockClockMHz } from "../src/estimate/block-resources.js";
import { blockProgramCycles } from "../src/estimate/cycles/block.js";
import { engineShapes } from "../src/estimate/latency.js";
import { type BlockShape } from "../src/model/block-shape.js";
import { blockEngine } from "../src/plan/block-estimate.js";
import { plan } from "../src/cli/common.js";
import { cli } from "./helpers.js";

interface BlockRun {
  tokens: number;
  position: number;
  cycles: number;
  units: Record<string, number>;
  nonMatmulShare: number;
}

interface EstimateJson {
  scope: string;
  contextLength: number;
  block?: { scope: string; shape: BlockShape; layers: number; clockMHz: number; decode: BlockRun & { context: number }; prefill: Record<string, BlockRun>; covers: string[] };
  [key: string]: unknown;
}

describe("the CLI runs the whole decoder block (issue 14 item 6)", function () {
  let dir: string;
  let model: string;
  const kv260 = ["--device", "kv260"];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "trilut-cli-block-"));
    model = join(dir, "m.gguf");
    const made = cli(["make-model", "-o", model, "--format", "tq2_0", "--arch", "bitnet-b1.58", "--hidden", "256", "--ffn", "512", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--vocab", "64"]);
    assert.equal(made.status, 0, made.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[]): string => {
    const r = cli(args);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const refused = (args: string[], pattern: RegExp): void => {
    const r = cli(args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  };

  describe("estimate", () => {
    it("says out loud when a run's buffers do not fit the part's block RAM", () => {
      const e = JSON.parse(run(["estimate", model, ...kv260, "--context", "17", "--prompt", "2", "--prompt", "512", "--json"])) as {
        block: { decode: { fitsBram: boolean; bram36: number }; prefill: Record<string, { fitsBram: boolean; bram36: number }>; covers: string[] };
      };
      assert.equal(e.block.decode.fitsBram, true);
      assert.equal(e.block.prefill["2"]!.fitsBram, true);
      assert.equal(e.block.prefill["512"]!.fitsBram, false, `${e.block.prefill["512"]!.bram36} BRAM36`);
      assert.deepEqual(e.block.covers.filter((c) => c.startsWith("DOES NOT FIT")).length, 1);
      assert.match(e.block.covers.join("\n"), /DOES NOT FIT: a 512-token prefill needs buffers for its 512 tokens at once, [\d.]+ BRAM36 in all, beyond kv260's 144/);
    });

    const args = (): string[] => ["estimate", model, ...kv260, "--context", "17", "--prompt", "5", "--json"];

    it("adds one block's cycles by unit in decode and prefill, as the block's exact cycle model gives them", () => {
      const e = JSON.parse(run(args())) as EstimateJson;
      assert.equal(e.scope, "block");
      const b = e.block!;
      assert.equal(b.scope, "block");
      assert.deepEqual([b.shape.hidden, b.shape.ffn, b.shape.heads, b.shape.kvHeads, b.shape.headDim, b.shape.activation, b.shape.subNorms], [256, 512, 4, 2, 64, "relu2", true]);
      assert.equal(b.layers, 2);
      // decode: one token attending over the estimate's context, itself included
      assert.deepEqual([b.decode.context, b.decode.tokens, b.decode.position], [17, 1, 16]);
      assert.deepEqual(Object.keys(b.prefill), ["5"]);
      assert.deepEqual([b.prefill["5"]!.tokens, b.prefill["5"]!.position], [5, 0]);
      // the same figures from the library's pieces: the kv260 engine with its dequantization stage
      const { geo } = blockEngine(plan({ device: "kv260" }).engine.geo);
      const { budget } = plan({ device: "kv260" });
      // the block's clock: the engine's, or a decoder unit's slower path (named in `covers`)
      const clock = blockClockMHz(geo, b.shape, budget);
      assert.equal(b.clockMHz, clock.mhz);
      assert.ok(clock.mhz <= engineClockMHz(geo, budget).mhz);
      const memory = memoryTiming(atEngineClock(budget, clock));
      const { hidden, ffn, kvHeads, headDim } = b.shape;
      const fused = engineShapes(geo, [{ n: hidden + 2 * kvHeads * headDim, k: hidden }, { n: hidden, k: hidden }, { n: 2 * ffn, k: hidden }, { n: hidden, k: ffn }]);
      for (const r of [b.decode, b.prefill["5"]!]) {
        const program = blockProgram(geo, b.shape, planMatmuls(geo, fused, r.tokens), { position: r.position, tokens: r.tokens, kvAddr: 0 });
        const model = blockProgramCycles(geo, b.shape, program, memory);
        assert.equal(r.cycles, model.total);
        assert.deepEqual(r.units, model.units);
        assert.equal(Object.values(r.units).reduce((x, y) => x + y, 0), r.cycles, "every cycle is booked to one unit");
        assert.ok(Math.abs(r.nonMatmulShare - (1 - r.units["engine"]! / r.cycles)) < 1e-12);
        for (const u of ["engine", "normQuant", "scaleOut", "rope", "kvWriter", "attention", "residual", "gate"]) assert.ok(r.units[u]! > 0, u);
      }
      assert.ok(b.prefill["5"]!.cycles > b.decode.cycles);
      assert.ok(b.covers.some((c) => /LM head/.test(c) && /not in the block/.test(c)), "says the LM head is not in the figures");
      assert.ok(b.covers.some((c) => /dequant/.test(c)), "says the engine gains its dequantization stage");
    });

    it("prints the block's units in text, and --scope matmuls keeps today's output and says so", () => {
      const text = run(["estimate", model, ...kv260, "--context", "17", "--prompt", "5"]);
      assert.match(text, /scope block: ONE decoder block in hardware/);
      assert.match(text, /decode, context 17 +[\d,]+/);
      assert.match(text, /prefill 5 tokens +[\d,]+/);
      assert.match(text, /not in the block: the embedding lookup, the final norm and the LM head/);
      const block = JSON.parse(run(args())) as EstimateJson;
      const matmuls = JSON.parse(run([...args(), "--scope", "matmuls"])) as EstimateJson;
      assert.equal(matmuls.scope, "matmuls");
      assert.equal(matmuls.block, undefined);
      const { block: _b, scope: _s, ...rest } = block;
      const { scope: _m, ...restMatmuls } = matmuls;
      assert.deepEqual(restMatmuls, rest, "the matmul figures are the same in both scopes");
      const mtext = run(["estimate", model, ...kv260, "--context", "17", "--prompt", "5", "--scope", "matmuls"]);
      assert.doesNotMatch(mtext, /scope block:/);
      assert.match(mtext, /scope matmuls: the ternary matmuls/);
      assert.equal(mtext.replace(/\nscope matmuls:.*\n$/, "\n"), text.slice(0, text.indexOf("\nscope block:")) + "\n");
    });

    it("refuses a model the block cannot map in one line (exit 2) under --scope block; by default estimates the matmuls and says so", () => {
      const odd = join(dir, "odd.gguf");
      assert.equal(cli(["make-model", "-o", odd, "--format", "tq2_0", "--arch", "llama", "--hidden", "768", "--ffn", "256", "--layers", "1", "--heads", "256", "--kv-heads", "256", "--vocab", "32"]).status, 0);
      refused(["estimate", odd, ...kv260, "--scope", "block"], /odd\.gguf: head dimension 3 \(hidden 768 \/ 256 heads\) is odd; RoPE rotates pairs/);
      // by default the matmul estimate stands, and the missing block is said
      assert.match(run(["estimate", odd, ...kv260]), /NOT ESTIMATED: one decoder block in hardware: odd\.gguf: head dimension 3 .* is odd/);
      const j = JSON.parse(run(["estimate", odd, ...kv260, "--json"])) as { block: { estimated: boolean; reason: string } };
      assert.deepEqual([j.block.estimated, /head dimension 3/.test(j.block.reason)], [false, true]);
      run(["estimate", odd, ...kv260, "--scope", "matmuls"]);
      refused(["estimate", model, ...kv260, "--scope", "all"], /--scope all: expected block or matmuls/);
    });
  });

  describe("compile", () => {
    it("writes the block accelerator's RTL beside the engine's and lists it; --scope matmuls writes the engine alone", () => {
      const out = join(dir, "c");
      const text = run(["compile", model, ...kv260, "-o", out, "--no-report"]);
      assert.match(text, /and rtl\/block\/: the whole decoder block accelerator \(top trilut_block, \d+ Verilog files/);
      assert.match(text, /hidden 256, ffn 512, 4 heads \/ 2 KV heads of 64, relu2, sub-norms/);
      const files = readdirSync(join(out, "rtl", "block")).sort();
      for (const f of ["trilut_block.v", "trilut_engine.v", "trilut_attention.v", "trilut_rope.v", "trilut_gate.v", "trilut_kv_reader.v", "trilut_kv_writer.v", "trilut_residual.v", "trilut_scale_out.v"]) assert.ok(files.includes(f), f);
      // a complete design: Verilator elaborates it with trilut_block as the top
      const lint = spawnSync("verilator", ["--lint-only", "-Wno-fatal", "-Wno-lint", "-Wno-style", "--top-module", "trilut_block", ...files], { cwd: join(out, "rtl", "block"), encoding: "utf8" });
      assert.equal(lint.status, 0, lint.stderr);
      // the block's engine has the dequantization stage (the kv260 default engine has none)
      assert.match(readFileSync(join(out, "rtl", "block", "trilut_engine.v"), "utf8"), /\.DEQUANT\(1\)/);
      assert.match(readFileSync(join(out, "rtl", "trilut_engine.v"), "utf8"), /\.DEQUANT\(0\)/, "the engine's own RTL stays as planned");
      const json = join(dir, "j");
      const j = JSON.parse(run(["compile", model, ...kv260, "-o", json, "--no-report", "--json"])) as { scope: string; rtlFiles: string[]; block: { top: string; rtlFiles: string[]; buffersBram36: number; dequantAdded: boolean; shape: BlockShape } };
      assert.equal(j.scope, "block");
      assert.equal(j.block.top, "trilut_block");
      assert.deepEqual(j.block.rtlFiles.map((f) => f.replace("rtl/block/", "")).sort(), files);
      assert.equal(j.block.dequantAdded, true);
      assert.ok(j.block.buffersBram36 > 0);
      assert.equal(j.block.shape.maxContext, 1024);

      const m = join(dir, "m");
      const mtext = run(["compile", model, ...kv260, "-o", m, "--no-report", "--scope", "matmuls"]);
      assert.match(mtext, /scope matmuls: the engine alone/);
      assert.equal(existsSync(join(m, "rtl", "block")), false);
      assert.deepEqual(readdirSync(join(m, "rtl")).sort(), readdirSync(join(out, "rtl")).filter((f) => f !== "block").sort());
    });

    it("refuses a model the block cannot map in one line under --scope block, writing nothing; by default writes the engine and says so", () => {
      const odd = join(dir, "odd.gguf");
      if (!existsSync(odd)) assert.equal(cli(["make-model", "-o", odd, "--format", "tq2_0", "--arch", "llama", "--hidden", "768", "--ffn", "256", "--layers", "1", "--heads", "256", "--kv-heads", "256", "--vocab", "32"]).status, 0);
      const out = join(dir, "odd");
      refused(["compile", odd, ...kv260, "-o", out, "--no-report", "--scope", "block"], /head dimension 3 .* is odd/);
      assert.equal(existsSync(out), false);
      // by default the engine is written and the missing block is said
      assert.match(run(["compile", odd, ...kv260, "-o", out, "--no-report"]), /NOT WRITTEN: rtl\/block\/, the whole decoder block accelerator: odd\.gguf: head dimension 3/);
      assert.equal(existsSync(join(out, "rtl", "block")), false);
    });
  });

  describe("sim --block", function () {
    // a small engine and budget, as test/estimate.test.ts, so the block builds in about half a minute
    const small = ["--set", "T=8", "--set", "P=4", "--set", "c=1", "--set", "memBits=512", "--set", "maxBurst=8", "--set", "weightMemory=bram", "--set", "bufferDepth=512"];
    let budget: string;
    before(() => {
      budget = join(dir, "b.json");
      writeFileSync(budget, JSON.stringify({ device: "small", lut: 200000, ff: 400000, bram36: 300, uram: 0, dsp: 100, clockMHz: 200, memoryGBps: 3.2 }));
    });
    interface BlockSimJson {
      scope: string;
      block: number;
      tokens: number;
      position: number;
      match: boolean;
      mismatches: number;
      kvMatch: boolean;
      kvMismatches: number;
      cycles: number;
      predictedCycles: number;
      predictionApplies: boolean;
      units: Record<string, number>;
    }
    const UNITS = ["sequencer", "load", "normQuant", "engine", "scaleOut", "rope", "kvWriter", "attention", "residual", "gate", "store"];

    it("runs the whole block in Verilator by default: residual stream and KV cache bit-exact, cycles as the model, cycles per unit", () => {
      const s = JSON.parse(run(["sim", model, "--budget", budget, ...small, "--block", "1", "--context", "3", "--json"])) as BlockSimJson;
      assert.equal(s.scope, "block");
      assert.deepEqual([s.block, s.tokens, s.position], [1, 1, 3]);
      assert.equal(s.match, true);
      assert.equal(s.mismatches, 0);
      assert.equal(s.kvMatch, true);
      assert.equal(s.kvMismatches, 0);
      assert.equal(s.predictionApplies, true);
      assert.equal(s.cycles, s.predictedCycles);
      assert.deepEqual(Object.keys(s.units).sort(), [...UNITS].sort());
      assert.equal(Object.values(s.units).reduce((a, b) => a + b, 0), s.predictedCycles);
      for (const u of UNITS) assert.ok(s.units[u]! > 0, u);
      // the text run (the build is cached) prints the verdicts and the units
      const text = run(["sim", model, "--budget", budget, ...small, "--block", "1", "--context", "3"]);
      assert.match(text, /residual stream out: outputs match the reference bit for bit/);
      assert.match(text, /KV cache image: bit-exact with the reference/);
      assert.match(text, new RegExp(`cycles ${s.cycles.toLocaleString("en-US")} \\(predicted ${s.cycles.toLocaleString("en-US")}\\)`));
      assert.match(text, new RegExp(`attention +${s.units["attention"]!.toLocaleString("en-US")} `));
    });

    it("a prefill stays bit-exact under random backpressure on every stream and memory port", () => {
      const s = JSON.parse(run(["sim", model, "--budget", budget, ...small, "--block", "1", "--mode", "prefill", "--tokens", "2", "--backpressure", "0.3", "--seed", "4", "--json"])) as BlockSimJson;
      assert.deepEqual([s.tokens, s.position], [2, 0]);
      assert.equal(s.match, true);
      assert.equal(s.kvMatch, true);
      assert.equal(s.predictionApplies, false);
      assert.ok(s.cycles > s.predictedCycles, "backpressure only adds cycles");
    });

    it("--scope matmuls runs the block's matmuls alone and says so; what has no block counterpart is refused in one line", () => {
      const m = JSON.parse(run(["sim", model, "--budget", budget, ...small, "--scope", "matmuls", "--block", "1", "--json"])) as { scope: string; block: number; match: boolean; matmuls: unknown[] };
      assert.deepEqual([m.scope, m.block, m.match, m.matmuls.length], ["matmuls", 1, true, 7]);
      refused(["sim", model, "--budget", budget, ...small, "--block", "1", "--backend", "hls"], /--backend hls: the block accelerator runs at --scope matmuls only/);
      refused(["sim", model, "--budget", budget, ...small, "--block", "1", "--wave", join(dir, "w.svg")], /--wave: waveforms are drawn at --scope matmuls only/);
      refused(["sim", model, "--budget", budget, ...small, "--all", "--scope", "block"], /--scope block runs a whole decoder block: name it with --block B/);
      refused(["sim", model, "--budget", budget, ...small, "--block", "2"], /--block 2: the model has blocks 0\.\.1/);
      refused(["sim", model, "--budget", budget, ...small, "--block", "0", "--mode", "decode", "--tokens", "4"], /--mode prefill/);
      const odd = join(dir, "odd.gguf");
      if (!existsSync(odd)) assert.equal(cli(["make-model", "-o", odd, "--format", "tq2_0", "--arch", "llama", "--hidden", "768", "--ffn", "256", "--layers", "1", "--heads", "256", "--kv-heads", "256", "--vocab", "32"]).status, 0);
      refused(["sim", odd, ...kv260, "--block", "0"], /head dimension 3 .* is odd/);
    });
  });
});
