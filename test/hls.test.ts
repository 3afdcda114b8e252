import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engineGeometry, resolveEngine, type EngineConfig, type EngineGeometry } from "../src/engine/config.js";
import { type ScaledMatmul } from "../src/engine/scales.js";
import { generateRtl } from "../src/codegen/rtl.js";
import { checkHlsSupport, generateHls } from "../src/codegen/hls.js";
import { hlsBackend } from "../src/sim/hls-simulate.js";
import { type TritMatrix } from "../src/model/types.js";
import { checkStream, descriptorStream, runOnBackend, simulateMatmuls, type EngineMatmul } from "../src/sim/simulate.js";
import { Rng } from "../src/util/random.js";
import { cli, FIXTURES, loadManifest, randomActs, randomTrits, throwsUser, type CliRun } from "./helpers.js";

const MEMORY = { bwNum: 16, bwDen: 1, latency: 10, maxQueued: 16 };

function geometry(partial: Partial<EngineConfig>): EngineGeometry {
  return engineGeometry(resolveEngine(partial, "test"));
}

/**
 * Every scale scheme the dequantization stage applies, on n × k weights with column groups of
 * `groupSize`, and an integer matmul beside them.
 */
function scaleSchemes(rng: Rng, n: number, k: number, groupSize: number): [string, EngineMatmul][] {
  const groups = Math.ceil(k / groupSize);
  const rows = (lo: number, hi: number, g = 1): Float32Array => Float32Array.from({ length: n * g }, () => lo + (hi - lo) * rng.float());
  const plane = (): TritMatrix => randomTrits(rng, n, k);
  const schemes: [string, ScaledMatmul][] = [
    ["per-tensor scale", { planes: [plane()], alpha: [new Float32Array(n).fill(1.7109375)] }],
    ["per-row scales", { planes: [plane()], alpha: [rows(-3, 3)] }],
    ["two trit-planes", { planes: [plane(), plane()], alpha: [rows(0.5, 2), rows(0.01, 0.3)] }],
    ["asymmetric α·T + μ", { planes: [plane()], alpha: [rows(0.5, 2)], mu: rows(-0.05, 0.05) }],
    ["two planes and an offset", { planes: [plane(), plane()], alpha: [rows(0.5, 2), rows(0.01, 0.3)], mu: rows(-0.05, 0.05) }],
    [`per row and ${groupSize}-column group`, { planes: [plane()], alpha: [rows(-3, 3, groups)], groupSize }],
    [
      `two planes, offsets, ${groupSize}-column groups`,
      { planes: [plane(), plane()], alpha: [rows(0.5, 2, groups), rows(0.01, 0.3, groups)], mu: rows(-0.05, 0.05, groups), groupSize },
    ],
  ];
  return [...schemes, ["integer", plane()]];
}

/** Odd shapes: rows not a multiple of P, columns not of T·G, several tiles. */
function integerShapes(rng: Rng, geo: EngineGeometry): [string, EngineMatmul][] {
  const P = geo.cfg.P;
  const shapes: [number, number][] = [
    [37, geo.stepActivations * 3 + 5],
    [2 * P + 1, 61],
    [geo.halfDepth * P + 3, geo.stepActivations - 1],
  ];
  return shapes.map(([n, k]) => [`${n}×${k}`, randomTrits(rng, n, k)]);
}

/** The seven matmuls of one block of a scaled-down llama (hidden 256, ffn 512, 2 KV heads). */
function blockShapes(rng: Rng): [string, EngineMatmul][] {
  const shapes: [string, number, number][] = [
    ["q", 256, 256], ["k", 128, 256], ["v", 128, 256], ["o", 256, 256], ["gate", 512, 256], ["up", 512, 256], ["down", 256, 512],
  ];
  return shapes.map(([name, n, k]) => [name, randomTrits(rng, n, k)]);
}

// The parity grid. Engines are those the RTL suites (stream, dequant, cli) simulate, so their
// Verilator builds come from the shared cache when the whole suite runs.
const GRID: { name: string; engine: Partial<EngineConfig>; workload: (rng: Rng, geo: EngineGeometry) => [string, EngineMatmul][] }[] = [
  {
    name: "tlmm G=3 full T=8 P=4, dequantizing",
    engine: { G: 3, encoding: "full", T: 8, P: 4, c: 1, memBits: 512, maxBurst: 8, weightMemory: "bram", bufferDepth: 256, dequant: true },
    workload: (rng, geo) => scaleSchemes(rng, 2 * geo.cfg.P + 3, geo.stepActivations * 4 + 5, 2 * geo.stepActivations),
  },
  {
    name: "tlmm G=2 mirrored T=16 P=2, dequantizing",
    engine: { G: 2, encoding: "mirrored", T: 16, P: 2, c: 1, memBits: 256, maxBurst: 16, weightMemory: "bram", bufferDepth: 128, dequant: true },
    // T·G = 32 divides TQ's 256-column blocks
    workload: (rng, geo) => [...scaleSchemes(rng, 2 * geo.cfg.P + 3, geo.stepActivations * 4 + 5, 2 * geo.stepActivations), ...scaleSchemes(rng, 6, 768, 256).slice(5, 6)],
  },
  {
    name: "baseline G=2 T=8 P=2, dequantizing",
    engine: { kind: "baseline", G: 2, encoding: "full", T: 8, P: 2, c: 1, memBits: 256, maxBurst: 16, weightMemory: "bram", bufferDepth: 256, dequant: true },
    workload: (rng, geo) => scaleSchemes(rng, 2 * geo.cfg.P + 3, geo.stepActivations * 4 + 5, 2 * geo.stepActivations),
  },
  {
    name: "tlmm G=5 full T=2 P=4",
    engine: { G: 5, encoding: "full", T: 2, P: 4, c: 1, memBits: 512, maxBurst: 8, weightMemory: "bram", bufferDepth: 256 },
    workload: integerShapes,
  },
  {
    name: "tlmm G=4 mirrored T=9 P=5, 1024-bit memory, bursts of 2",
    engine: { G: 4, encoding: "mirrored", T: 9, P: 5, c: 1, memBits: 1024, maxBurst: 2, weightMemory: "bram", bufferDepth: 96 },
    workload: integerShapes,
  },
  {
    name: "baseline G=2 T=9 P=3",
    engine: { kind: "baseline", G: 2, encoding: "full", T: 9, P: 3, c: 1, memBits: 256, maxBurst: 16, weightMemory: "bram", bufferDepth: 128 },
    workload: integerShapes,
  },
  {
    name: "the kv260 default: tlmm G=3 full T=28 P=16 c=2, URAM buffer",
    engine: {},
    workload: (rng) => blockShapes(rng),
  },
];

describe("HLS engine: RTL (Verilator), HLS (g++ C simulation) and the reference agree", () => {
  for (const entry of GRID) {
    const geo = geometry(entry.engine);
    for (const tokens of [1, 4]) {
      it(`${entry.name}, ${tokens === 1 ? "decode" : `prefill of ${tokens} tokens`}: every output equal`, async () => {
        const rng = new Rng(tokens * 1000 + geo.weightsPerCycle);
        const cases = entry.workload(rng, geo);
        const ms = cases.map(([, m]) => m);
        const xs = ms.map((m) => randomActs(rng, tokens * ("planes" in m ? m.planes[0]!.k : m.k)));
        const hls = await runOnBackend(hlsBackend, geo, ms, xs, { tokens });
        const rtl = await simulateMatmuls(geo, ms, xs, { tokens, memory: MEMORY });
        cases.forEach(([name], i) => {
          assert.equal(hls.matmuls[i]!.mismatches, 0, `HLS, ${name}: ${JSON.stringify(hls.matmuls[i]!.firstMismatches)}`);
          assert.equal(rtl.matmuls[i]!.mismatches, 0, `RTL, ${name}: ${JSON.stringify(rtl.matmuls[i]!.firstMismatches)}`);
          assert.deepEqual(hls.matmuls[i]!.y, rtl.matmuls[i]!.y, `${name}: HLS and RTL outputs differ`);
        });
        assert.ok(hls.tiles.tiles.length >= cases.length);
      });
    }
  }
});

describe("HLS engine: generated code", () => {
  it("is deterministic and independent of any model", () => {
    const geo = geometry(GRID[0]!.engine);
    assert.deepEqual(generateHls(geo), generateHls(geometry(GRID[0]!.engine)));
    const header = generateHls(geo).find((f) => f.name === "trilut_engine.h")!.content;
    for (const line of ["constexpr int G = 3;", "constexpr int T = 8;", "constexpr int P = 4;", "constexpr bool DEQUANT = true;", `constexpr int Q = ${geo.slotsPerBeat};`]) {
      assert.ok(header.includes(line), line);
    }
  });

  it("the configuration header holds the RTL top's parameters", () => {
    // RTL parameter → header constant
    const names: [string, string][] = [
      ["G", "G"], ["E", "E"], ["EB", "EB"], ["IB", "IB"], ["EW", "EW"], ["T", "T"], ["P", "P"], ["C", "C"], ["DEPTH", "DEPTH"],
      ["MAXRG", "MAX_GROUPS"], ["DW", "MEM_BITS"], ["Q", "Q"], ["MAXBURST", "MAX_BURST"], ["MAXOUT", "MAX_OUTSTANDING"],
      ["MIRRORED", "MIRRORED"], ["BASELINE", "BASELINE"], ["DEQUANT", "DEQUANT"],
    ];
    for (const entry of GRID) {
      const geo = geometry(entry.engine);
      const top = generateRtl(geo).find((f) => f.name === "trilut_engine.v")!.content;
      const header = generateHls(geo).find((f) => f.name === "trilut_engine.h")!.content;
      for (const [rtl, hls] of names) {
        const v = top.match(new RegExp(`\\.${rtl}\\((\\d+)\\)`))?.[1];
        const h = header.match(new RegExp(`constexpr (?:int|bool) ${hls} = (\\w+);`))?.[1];
        assert.ok(v !== undefined && h !== undefined, `${entry.name}: ${rtl} / ${hls}`);
        assert.equal(h === "true" ? "1" : h === "false" ? "0" : h, v, `${entry.name}: RTL ${rtl} vs HLS ${hls}`);
      }
    }
  });

  it("carries the Vitis HLS interfaces and pragmas", () => {
    const uram = generateHls(geometry({})).find((f) => f.name === "trilut_engine.cpp")!.content;
    for (const pragma of [
      /#pragma HLS INTERFACE mode=m_axi port=mem .*max_read_burst_length=32 num_read_outstanding=8/,
      /#pragma HLS INTERFACE mode=axis port=desc/,
      /#pragma HLS INTERFACE mode=axis port=x/,
      /#pragma HLS INTERFACE mode=axis port=y/,
      /#pragma HLS INTERFACE mode=ap_ctrl_hs port=return/,
      /#pragma HLS DATAFLOW/,
      /#pragma HLS PIPELINE II=1/,
      /#pragma HLS ARRAY_PARTITION variable=tbl complete dim=0/,
      /#pragma HLS BIND_STORAGE variable=buf type=ram_2p impl=uram/,
    ]) {
      assert.match(uram, pragma);
    }
    const bram = generateHls(geometry({ weightMemory: "bram" })).find((f) => f.name === "trilut_engine.cpp")!.content;
    assert.match(bram, /BIND_STORAGE variable=buf type=ram_2p impl=bram/);
  });

  it("builds clean under -Wall -Wextra and runs every scale scheme clean under ASan and UBSan", () => {
    const geo = geometry(GRID[1]!.engine);
    const dir = mkdtempSync(join(tmpdir(), "trilut-hls-san-"));
    try {
      for (const f of generateHls(geo)) writeFileSync(join(dir, f.name), f.content);
      execFileSync("g++", [
        "-O1", "-std=c++14", "-DTRILUT_PLAIN_CXX", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
        // HLS loop labels and pragmas are for the vendor tool
        "-Wall", "-Wextra", "-Werror", "-Wno-unknown-pragmas", "-Wno-unused-label",
        `-I${dir}`, join(dir, "trilut_engine.cpp"), join(dir, "trilut_tb.cpp"), "-o", join(dir, "tb"),
      ], { stdio: ["ignore", "pipe", "pipe"] });
      const rng = new Rng(77);
      const tokens = 2;
      const cases = scaleSchemes(rng, 2 * geo.cfg.P + 3, geo.stepActivations * 4 + 5, 2 * geo.stepActivations).map(([, m]) => m);
      const xs = cases.map((m) => randomActs(rng, tokens * ("planes" in m ? m.planes[0]!.k : m.k)));
      const stream = descriptorStream(geo, cases, xs, tokens);
      const s = stream.streams;
      const files = ["d.bin", "a.bin", "i.bin", "r.bin"].map((f) => join(dir, f));
      [s.descriptors, s.acts, s.image].forEach((w, i) => writeFileSync(files[i]!, new Uint8Array(w.buffer, w.byteOffset, w.byteLength)));
      execFileSync(join(dir, "tb"), files, { stdio: ["ignore", "pipe", "pipe"] });
      const raw = readFileSync(files[3]!);
      const checks = checkStream(geo, stream, new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
      checks.forEach((c) => assert.equal(c.mismatches, 0));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses, in one line, engines the template cannot express", () => {
    // the preloaded engine is gone: an engine that still names a loader is refused before HLS sees it
    throwsUser(() => checkHlsSupport(engineGeometry(resolveEngine({ loader: "preload" }, "test"))), /^test: \/loader: the preload engine was removed/);
    throwsUser(() => checkHlsSupport(geometry({ memBits: 2048, maxBurst: 16 })), /\/memBits: 2048-bit .* m_axi port \(at most 1024 bits/);
    throwsUser(() => checkHlsSupport(geometry({ G: 5, T: 110, c: 13 })), /\/T: activation beats of T·G·8 = 4400 bits .* at most T = 102/);
    throwsUser(() => checkHlsSupport(geometry({ P: 130, T: 4, c: 1 })), /\/P: result beats of P·32 = 4160 bits .* at most P = 128/);
    throwsUser(() => generateHls(engineGeometry(resolveEngine({ loader: "axi" }, "test"))), /\/loader: the preload engine was removed and the streaming engine is the only one/);
  });
});

// ---------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------

const MANIFEST = loadManifest();
const TQ2_MODEL = MANIFEST.models.find((m) => m.file === "tiny-llama-tq2_0.gguf")!;
const TQ2 = join(FIXTURES, TQ2_MODEL.file);

function ok(r: CliRun, what: string): void {
  assert.equal(r.status, 0, `${what}: exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

/** Exit 2 with exactly one "trilut: ..." line naming every expected piece, nothing on stdout. */
function userError(r: CliRun, ...expected: RegExp[]): void {
  const shown = `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  assert.equal(r.status, 2, shown);
  assert.equal(r.stdout, "", shown);
  assert.match(r.stderr, /^trilut: [^\n]*\n$/, shown);
  for (const e of expected) assert.match(r.stderr, e, shown);
}

interface HlsSimJson {
  backend: string;
  tensor: string;
  n: number;
  k: number;
  tokens: number;
  match: boolean;
  mismatches: number;
  compileSeconds: number;
  cached: boolean;
  runSeconds: number;
}

describe("trilut compile --hls and sim --backend hls", function () {
  let TMP = "";
  before(() => {
    TMP = mkdtempSync(join(tmpdir(), "trilut-hls-cli-"));
  });
  after(() => rmSync(TMP, { recursive: true, force: true }));

  const compileArgs = (out: string, ...extra: string[]): string[] =>
    ["compile", TQ2, "--device", "kv260", "--hls", "-o", out, "--tensor", "blk.0.attn_k.weight", "--tensor", "blk.1.ffn_down.weight", ...extra];

  for (const [label, extra] of [["integer results", []], ["a dequantizing engine", ["--set", "dequant=true"]]] as const) {
    it(`writes hls/ whose testbench, built with plain g++ as run_hls.tcl names it, passes (${label})`, () => {
      const out = join(TMP, `compile-${extra.length}`);
      const r = cli(compileArgs(out, ...extra));
      ok(r, "compile --hls");
      assert.match(r.stdout, /hls\/: the engine as Vitis HLS C\+\+/);
      const hls = join(out, "hls");
      assert.deepEqual(readdirSync(hls).sort(), ["run_hls.tcl", "tb", "trilut_descriptor.h", "trilut_engine.cpp", "trilut_engine.h", "trilut_hls_stream.h", "trilut_tb.cpp"]);
      assert.deepEqual(readdirSync(join(hls, "tb")).sort(), ["acts.bin", "descriptors.bin", "expected.bin"]);
      const tcl = readFileSync(join(hls, "run_hls.tcl"), "utf8");
      assert.match(tcl, /^set_part xck26-sfvc784-2LV-c$/m);
      assert.match(tcl, /^create_clock -period 4 -name default$/m);
      assert.match(tcl, /^set_top trilut_engine$/m);
      for (const step of ["csim_design", "csynth_design", "cosim_design"]) assert.match(tcl, new RegExp(`\\b${step}\\b`));
      // the testbench runs the first tensor from the weight image compile wrote for the RTL
      assert.match(tcl, /\$here\/\.\.\/mem\/blk\.0\.attn_k\.weight\.bin/);
      const exe = join(out, "tb-exe");
      execFileSync("g++", ["-O1", "-std=c++14", `-I${hls}`, join(hls, "trilut_engine.cpp"), join(hls, "trilut_tb.cpp"), "-o", exe], { stdio: ["ignore", "pipe", "pipe"] });
      const tb = (f: string): string => join(hls, "tb", f);
      const run = execFileSync(exe, [tb("descriptors.bin"), tb("acts.bin"), join(out, "mem", "blk.0.attn_k.weight.bin"), join(out, "results.bin"), tb("expected.bin")], {
        encoding: "utf8",
      });
      assert.match(run, /128 results, 0 mismatches/);
    });
  }

  it("is deterministic: two compiles write byte-identical hls/ directories", () => {
    const [a, b] = ["det-a", "det-b"].map((d) => join(TMP, d));
    ok(cli(compileArgs(a!)), "compile a");
    ok(cli(compileArgs(b!)), "compile b");
    const files = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
    assert.deepEqual(files(join(a!, "hls")), files(join(b!, "hls")));
    for (const f of files(join(a!, "hls"))) {
      if (f === "tb") continue;
      assert.ok(readFileSync(join(a!, "hls", f)).equals(readFileSync(join(b!, "hls", f))), f);
    }
  });

  for (const check of TQ2_MODEL.matmul.slice(0, 2)) {
    it(`sim --backend hls ${check.tensor}: the fixture's y bit for bit, as JSON`, () => {
      const out = join(TMP, `${check.tensor}.y.i32`);
      const r = cli(["sim", TQ2, "--tensor", check.tensor, "--device", "kv260", "--backend", "hls", "--input", join(FIXTURES, check.input), "--out", out, "--json"]);
      ok(r, "sim --backend hls");
      const s = JSON.parse(r.stdout) as HlsSimJson;
      assert.equal(s.backend, "hls");
      assert.deepEqual([s.tensor, s.n, s.k, s.tokens], [check.tensor, check.n, check.k, check.tokens]);
      assert.equal(s.match, true);
      assert.equal(s.mismatches, 0);
      assert.ok(typeof s.compileSeconds === "number" && s.compileSeconds >= 0);
      assert.equal(typeof s.cached, "boolean");
      assert.ok(readFileSync(out).equals(readFileSync(join(FIXTURES, check.expected))));
    });
  }

  it("sim --backend hls: prefill of a tensor, and a dequantizing block on the host model's activations", () => {
    const prefill = cli(["sim", TQ2, "--tensor", "blk.1.ffn_down.weight", "--device", "kv260", "--backend", "hls", "--mode", "prefill", "--tokens", "5"]);
    ok(prefill, "prefill");
    assert.match(prefill.stdout, /blk\.1\.ffn_down\.weight \(256×512, 5 tokens\) on kv260, HLS C simulation: match/);
    const block = cli(["sim", TQ2, "--scope", "matmuls", "--block", "1", "--device", "kv260", "--backend", "hls", "--set", "dequant=true", "--mode", "prefill", "--tokens", "3", "--json"]);
    ok(block, "block");
    const s = JSON.parse(block.stdout) as { match: boolean; mismatches: number; tokens: number; matmuls: { match: boolean }[] };
    assert.equal(s.match, true);
    assert.equal(s.mismatches, 0);
    assert.equal(s.tokens, 3);
    assert.equal(s.matmuls.length, 7);
  });

  it("refuses what the HLS backend cannot do with one line, writing nothing", () => {
    const parent = join(TMP, "refused");
    mkdirSync(parent);
    const out = join(parent, "out");
    userError(cli(compileArgs(out, "--set", "loader=preload")), /\/loader: the preload engine was removed/);
    userError(cli(compileArgs(out, "--set", "memBits=2048", "--set", "maxBurst=16")), /--hls: \/memBits: 2048-bit/);
    const budget = join(TMP, "no-part.json");
    writeFileSync(budget, JSON.stringify({ device: "mine", lut: 200000, ff: 400000, bram36: 200, uram: 64, dsp: 1248, clockMHz: 200, memoryGBps: 10 }));
    userError(cli(["compile", TQ2, "--budget", budget, "--hls", "-o", out]), /budget "mine" names no part/);
    assert.deepEqual(readdirSync(parent), []);
    const sim = ["sim", TQ2, "--tensor", "blk.0.attn_k.weight", "--device", "kv260", "--backend", "hls"];
    userError(cli([...sim, "--set", "loader=axi"]), /\/loader: the preload engine was removed/);
    userError(cli([...sim, "--backpressure", "0.3"]), /--backpressure: .*--backend rtl/);
    userError(cli([...sim, "--trace", join(TMP, "t.vcd")]), /--trace: .*--backend rtl/);
  });
});
