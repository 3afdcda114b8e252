import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engineGeometry, resolveEngine, type EngineConfig, type EngineGeometry } from "../src/engine/config.js";
import { scheduleMatmul } from "../src/engine/schedule.js";
import { scheduleCycles } from "../src/estimate/cycles.js";
import { ternaryMatmul } from "../src/ref/kernel.js";
import { loadAddon } from "../src/sim/binding.js";
import { buildSimulator } from "../src/sim/build.js";
import { runIcarus } from "../src/sim/icarus.js";
import { simulateMatmul } from "../src/sim/simulate.js";
import { driveStepped, SteppedEngine } from "../src/sim/stepper.js";
import { hostStreams, unpackResults } from "../src/engine/streams.js";
import { SimulationError } from "../src/util/errors.js";
import { Rng } from "../src/util/random.js";
import { randomActs, randomTrits, lintRtl } from "./helpers.js";

function geometry(partial: Partial<EngineConfig>): EngineGeometry {
  return engineGeometry(resolveEngine(partial, "test"));
}


// G 2..5 × both encodings × two (T, P) shapes, plus corner engines: one table and one lane,
// and block-RAM buffers small enough that layers need several chunks and row tiles.
const GRID: Partial<EngineConfig>[] = [];
for (let G = 2; G <= 5; G++) {
  for (const encoding of ["full", "mirrored"] as const) {
    GRID.push({ loader: "preload", G, encoding, T: 3, P: 2, c: 1 });
    GRID.push({ loader: "preload", G, encoding, T: 5, P: 3, c: 1 });
  }
}
GRID.push({ loader: "preload", G: 3, encoding: "full", T: 1, P: 1, c: 1 });
// the baseline engine: no tables, each weight adds or subtracts its activation
GRID.push({ loader: "preload", kind: "baseline", G: 3, encoding: "full", T: 4, P: 3, c: 1 });
GRID.push({ loader: "preload", kind: "baseline", G: 5, encoding: "full", T: 2, P: 2, c: 1 });
GRID.push({ loader: "preload", G: 3, encoding: "mirrored", T: 16, P: 4, c: 2, treeLevelsPerStage: 1 });
GRID.push({ loader: "preload", G: 2, encoding: "full", T: 4, P: 5, c: 1, weightMemory: "bram", bufferDepth: 16, maxRows: 12 });
GRID.push({ loader: "preload", G: 4, encoding: "mirrored", T: 2, P: 3, c: 1, weightMemory: "bram", bufferDepth: 24, maxRows: 7 });

const label = (c: Partial<EngineConfig>): string =>
  `${c.kind === "baseline" ? "baseline " : ""}G=${c.G} ${c.encoding} T=${c.T} P=${c.P}${c.weightMemory === "bram" ? ` bram×${c.bufferDepth} rows≤${c.maxRows}` : ""}`;

describe("preloaded engine RTL in Verilator", function () {
  for (const partial of GRID) {
    describe(label(partial), () => {
      const geo = geometry(partial);
      const rng = new Rng(partial.G! * 100 + partial.T! * 10 + partial.P!);

      it("lints clean with verilator -Wall", () => {
        assert.equal(lintRtl(geo), "");
      });

      // n not a multiple of P, k not a multiple of T·G; several tokens
      const shapes: [number, number, number][] = [
        [2 * partial.P! + 1, geo.stepActivations * 3 + 2, 2],
        [1, 5, 1],
        [37, 131, 3],
      ];
      for (const [n, k, tokens] of shapes) {
        it(`${n}×${k}, ${tokens} token(s): bit-exact, predicted cycles = measured`, async () => {
          const w = randomTrits(rng, n, k);
          const x = randomActs(rng, tokens * k);
          const r = await simulateMatmul(geo, w, x, { tokens });
          assert.equal(r.mismatches, 0, JSON.stringify(r.firstMismatches));
          assert.deepEqual(r.y, ternaryMatmul(w, x, tokens));
          assert.equal(r.cycles, r.predictedCycles);
        });
      }

      it("random backpressure on every stream: still bit-exact, never faster than predicted", async () => {
        const [n, k, tokens] = [23, geo.stepActivations * 2 + 1, 2];
        const w = randomTrits(rng, n, k);
        const x = randomActs(rng, tokens * k);
        for (const seed of [1, 2]) {
          const r = await simulateMatmul(geo, w, x, { tokens, validProb: 0.6, readyProb: 0.5, seed });
          assert.equal(r.mismatches, 0);
          assert.ok(r.cycles > r.predictedCycles, `${r.cycles} cycles under backpressure vs ${r.predictedCycles}`);
        }
      });

      it("extreme sums: every activation -128 against all -1 (and all +1) weights", async () => {
        const k = geo.stepActivations * 2 + 1;
        const w = { n: 2, k, trits: new Int8Array(2 * k).fill(-1) };
        w.trits.fill(1, k);
        const x = new Int8Array(k).fill(-128);
        const r = await simulateMatmul(geo, w, x);
        assert.deepEqual(Array.from(r.y), [128 * k, -128 * k]);
      });
    });
  }

  it("a second build of the same design comes from the cache", async () => {
    const geo = geometry(GRID[0]!);
    await buildSimulator(geo);
    const again = await buildSimulator(geo);
    assert.equal(again.cached, true);
  });

  it("the cycle model splits weight loading and lookups as the schedule does", () => {
    const geo = geometry({ loader: "preload", G: 3, T: 4, P: 2, c: 1, weightMemory: "bram", bufferDepth: 8, maxRows: 64 });
    const s = scheduleMatmul(geo, 10, 100, 2);
    // 10 rows → 5 groups; 9 steps; 1 step per chunk fits 8 words: each token reloads every chunk
    assert.equal(s.stepsPerChunk, 1);
    assert.equal(s.commands.filter((c) => c.op === "load").length, 18);
    const b = scheduleCycles(geo, s);
    assert.equal(b.load, 18 * (1 + 5));
    assert.equal(b.total, b.load + b.run);
  });

  it("step mode: TypeScript drives the clock with random backpressure and gets the same results", async () => {
    const geo = geometry({ loader: "preload", G: 3, encoding: "mirrored", T: 5, P: 3, c: 1 });
    const rng = new Rng(5);
    const [n, k, tokens] = [11, 40, 2];
    const w = randomTrits(rng, n, k);
    const x = randomActs(rng, tokens * k);
    const schedule = scheduleMatmul(geo, n, k, tokens);
    const streams = hostStreams(geo, schedule, w, x);
    const addon = loadAddon((await buildSimulator(geo)).addonPath);
    const full = driveStepped(new SteppedEngine(addon), streams, { validProb: 1, readyProb: 1, seed: 1 });
    assert.equal(full.cycles, scheduleCycles(geo, schedule).total);
    assert.deepEqual(unpackResults(geo, schedule, full.results), ternaryMatmul(w, x, tokens));
    const stalled = driveStepped(new SteppedEngine(addon), streams, { validProb: 0.4, readyProb: 0.3, seed: 9 });
    assert.ok(stalled.cycles > full.cycles);
    assert.deepEqual(unpackResults(geo, schedule, stalled.results), ternaryMatmul(w, x, tokens));
  });

  it("writes a VCD waveform of a window of cycles", async () => {
    const geo = geometry({ loader: "preload", G: 2, T: 3, P: 2, c: 1 });
    const rng = new Rng(8);
    const w = randomTrits(rng, 6, 30);
    const dir = mkdtempSync(join(tmpdir(), "trilut-trace-"));
    try {
      const path = join(dir, "wave.vcd");
      const r = await simulateMatmul(geo, w, randomActs(rng, 30), { trace: path, traceWindow: [0, 40] });
      assert.equal(r.mismatches, 0);
      const vcd = readFileSync(path, "utf8");
      for (const port of ["clk", "cmd_valid", "x_ready", "y_valid", "y_data"]) assert.match(vcd, new RegExp(`\\$var wire +\\d+ \\S+ ${port}[ \\[]`));
      // 40 cycles are 80 half-cycle time stamps; the run is longer than the window
      const stamps = vcd.split("\n").filter((l) => /^#\d+$/.test(l)).map((l) => Number(l.slice(1)));
      assert.ok(r.cycles > 40);
      assert.equal(stamps.length, 80);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the watchdog ends a hung simulation with a clear error", async () => {
    const geo = geometry({ loader: "preload", G: 2, T: 3, P: 2, c: 1 });
    const rng = new Rng(3);
    const w = randomTrits(rng, 4, 20);
    const schedule = scheduleMatmul(geo, 4, 20, 1);
    const streams = hostStreams(geo, schedule, w, randomActs(rng, 20));
    const addon = loadAddon((await buildSimulator(geo)).addonPath);
    // withhold the last activation beat: the engine waits for it forever
    const reply = addon.run({ ...streams, acts: streams.acts.subarray(0, streams.acts.length - streams.actWords), stallLimit: 500 });
    assert.match(reply.error ?? "", /simulation hung: no handshake for 500 cycles .*activation beats 3\/3/);
    await assert.rejects(
      simulateMatmul(geometry({ loader: "preload", G: 2, T: 3, P: 2, c: 1 }), w, new Int8Array(20), { validProb: 0.000001, stallLimit: 200 }),
      (e: unknown) => e instanceof SimulationError && /hung/.test(e.message),
    );
  });

  it("Icarus Verilog runs the same RTL to the same results and cycles", async () => {
    const geo = geometry({ loader: "preload", G: 3, encoding: "mirrored", T: 5, P: 3, c: 1 });
    const rng = new Rng(11);
    const [n, k, tokens] = [29, 97, 2];
    const w = randomTrits(rng, n, k);
    const x = randomActs(rng, tokens * k);
    const schedule = scheduleMatmul(geo, n, k, tokens);
    const r = await runIcarus(geo, hostStreams(geo, schedule, w, x));
    assert.deepEqual(unpackResults(geo, schedule, r.results), ternaryMatmul(w, x, tokens));
    assert.equal(r.cycles, scheduleCycles(geo, schedule).total);
  });
});
