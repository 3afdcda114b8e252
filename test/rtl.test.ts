import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presetBudget } from "../src/budget/budget.js";
import { memoryTiming } from "../src/budget/memory.js";
import { engineGeometry, resolveEngine, type EngineConfig, type EngineGeometry } from "../src/engine/config.js";
import { planTiles } from "../src/engine/tiles.js";
import { runCycles } from "../src/estimate/cycles/step.js";
import { streamCycles } from "../src/estimate/cycles/event.js";
import { ternaryMatmul } from "../src/ref/kernel.js";
import { loadAddon } from "../src/sim/binding.js";
import { buildSimulator } from "../src/sim/build.js";
import { runIcarus } from "../src/sim/icarus.js";
import { checkStream, descriptorStream, simulateMatmul } from "../src/sim/simulate.js";
import { driveStepped, SteppedEngine } from "../src/sim/stepper.js";
import { SimulationError } from "../src/util/errors.js";
import { Rng } from "../src/util/random.js";
import { randomActs, randomTrits, lintRtl } from "./helpers.js";

function geometry(partial: Partial<EngineConfig>): EngineGeometry {
  return engineGeometry(resolveEngine(partial, "test"));
}


// The kv260's memory (76.8 bytes a cycle, 38 cycles of latency) behind every engine below.
const MEMORY = memoryTiming(presetBudget("kv260"));

// G 2..5 × both encodings × two (T, P) shapes, plus corner engines: one table and one lane,
// and block-RAM buffers small enough that layers need many row tiles (a tile holds every step
// of its rows in half the buffer: 34 words hold the 17 steps of k = 131 at T·G = 8).
const GRID: Partial<EngineConfig>[] = [];
for (let G = 2; G <= 5; G++) {
  for (const encoding of ["full", "mirrored"] as const) {
    GRID.push({ G, encoding, T: 3, P: 2, c: 1 });
    GRID.push({ G, encoding, T: 5, P: 3, c: 1 });
  }
}
GRID.push({ G: 3, encoding: "full", T: 1, P: 1, c: 1 });
// the baseline engine: no tables, each weight adds or subtracts its activation
GRID.push({ kind: "baseline", G: 3, encoding: "full", T: 4, P: 3, c: 1 });
GRID.push({ kind: "baseline", G: 5, encoding: "full", T: 2, P: 2, c: 1 });
GRID.push({ G: 3, encoding: "mirrored", T: 16, P: 4, c: 2, treeLevelsPerStage: 1 });
GRID.push({ G: 2, encoding: "full", T: 4, P: 5, c: 1, weightMemory: "bram", bufferDepth: 34, maxRows: 12 });
GRID.push({ G: 4, encoding: "mirrored", T: 2, P: 3, c: 1, weightMemory: "bram", bufferDepth: 34, maxRows: 7 });

const label = (c: Partial<EngineConfig>): string =>
  `${c.kind === "baseline" ? "baseline " : ""}G=${c.G} ${c.encoding} T=${c.T} P=${c.P}${c.weightMemory === "bram" ? ` bram×${c.bufferDepth} rows≤${c.maxRows}` : ""}`;

describe("engine RTL in Verilator (small engines, kv260 memory)", function () {
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
          const r = await simulateMatmul(geo, w, x, { tokens, memory: MEMORY });
          assert.equal(r.mismatches, 0, JSON.stringify(r.firstMismatches));
          assert.deepEqual(r.y, ternaryMatmul(w, x, tokens));
          assert.equal(r.cycles, r.predictedCycles);
          assert.equal(r.cycles, streamCycles(geo, r.tiles, MEMORY).total);
        });
      }

      it("random backpressure on every stream: still bit-exact, never faster than predicted", async () => {
        const [n, k, tokens] = [23, geo.stepActivations * 2 + 1, 2];
        const w = randomTrits(rng, n, k);
        const x = randomActs(rng, tokens * k);
        for (const seed of [1, 2]) {
          const r = await simulateMatmul(geo, w, x, { tokens, memory: MEMORY, validProb: 0.6, readyProb: 0.5, seed });
          assert.equal(r.mismatches, 0);
          assert.ok(r.cycles > r.predictedCycles, `${r.cycles} cycles under backpressure vs ${r.predictedCycles}`);
        }
      });

      it("extreme sums: every activation -128 against all -1 (and all +1) weights", async () => {
        const k = geo.stepActivations * 2 + 1;
        const w = { n: 2, k, trits: new Int8Array(2 * k).fill(-1) };
        w.trits.fill(1, k);
        const x = new Int8Array(k).fill(-128);
        const r = await simulateMatmul(geo, w, x, { memory: MEMORY });
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

  it("the tile plan and the cycle model split a layer as half the buffer allows", () => {
    const geo = geometry({ G: 3, T: 4, P: 2, c: 1, weightMemory: "bram", bufferDepth: 18, maxRows: 64 });
    const plan = planTiles(geo, 10, 100, 2);
    // 10 rows → 5 groups; 9 steps; one group of 9 steps fills a 9-word half: five tiles of 2 rows
    assert.deepEqual(plan.tiles.map((t) => [t.firstRow, t.rows, t.groups, t.steps]), [0, 2, 4, 6, 8].map((r) => [r, 2, 1, 9]));
    const model = streamCycles(geo, plan, MEMORY);
    assert.equal(model.bytesRead, plan.tiles.reduce((b, t) => b + t.beats, 0) * geo.beatBytes);
    // every tile loads, then passes once per token: never fewer cycles than the passes alone
    assert.ok(model.total >= plan.tiles.reduce((c, t) => c + plan.tokens * runCycles(geo, t.steps, t.groups), 0));
    assert.deepEqual(model.tileDone, [...model.tileDone].sort((a, b) => a - b));
  });

  it("step mode: TypeScript drives the clock with random backpressure and gets the same results", async () => {
    const geo = geometry({ G: 3, encoding: "mirrored", T: 5, P: 3, c: 1 });
    const rng = new Rng(5);
    const [n, k, tokens] = [11, 40, 2];
    const w = randomTrits(rng, n, k);
    const x = randomActs(rng, tokens * k);
    const stream = descriptorStream(geo, [w], [x], tokens);
    const memory = { ...MEMORY, beatBytes: geo.beatBytes };
    const addon = loadAddon((await buildSimulator(geo)).addonPath);
    const full = driveStepped(new SteppedEngine(addon), stream.streams, memory, { validProb: 1, readyProb: 1, seed: 1 });
    assert.equal(full.cycles, streamCycles(geo, stream.tiles, MEMORY).total);
    assert.equal(full.bytesRead, streamCycles(geo, stream.tiles, MEMORY).bytesRead);
    assert.deepEqual(checkStream(geo, stream, full.results)[0]!.y, ternaryMatmul(w, x, tokens));
    const stalled = driveStepped(new SteppedEngine(addon), stream.streams, memory, { validProb: 0.4, readyProb: 0.3, seed: 9 });
    assert.ok(stalled.cycles > full.cycles);
    assert.deepEqual(checkStream(geo, stream, stalled.results)[0]!.y, ternaryMatmul(w, x, tokens));
  });

  it("writes a VCD waveform of a window of cycles", async () => {
    const geo = geometry({ G: 2, T: 3, P: 2, c: 1 });
    const rng = new Rng(8);
    const w = randomTrits(rng, 6, 30);
    const dir = mkdtempSync(join(tmpdir(), "trilut-trace-"));
    try {
      const path = join(dir, "wave.vcd");
      const r = await simulateMatmul(geo, w, randomActs(rng, 30), { memory: MEMORY, trace: path, traceWindow: [0, 40] });
      assert.equal(r.mismatches, 0);
      const vcd = readFileSync(path, "utf8");
      for (const port of ["clk", "desc_valid", "x_ready", "y_valid", "y_data"]) assert.match(vcd, new RegExp(`\\$var wire +\\d+ \\S+ ${port}[ \\[]`));
      // 40 cycles are 80 half-cycle time stamps; the run is longer than the window
      const stamps = vcd.split("\n").filter((l) => /^#\d+$/.test(l)).map((l) => Number(l.slice(1)));
      assert.ok(r.cycles > 40);
      assert.equal(stamps.length, 80);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the watchdog ends a hung simulation with a clear error", async () => {
    const geo = geometry({ G: 2, T: 3, P: 2, c: 1 });
    const rng = new Rng(3);
    const w = randomTrits(rng, 4, 20);
    const { streams } = descriptorStream(geo, [w], [randomActs(rng, 20)], 1);
    const addon = loadAddon((await buildSimulator(geo)).addonPath);
    // withhold the last activation beat: the engine waits for it forever
    const reply = addon.run({ ...streams, ...MEMORY, beatBytes: geo.beatBytes, acts: streams.acts.subarray(0, streams.acts.length - streams.actWords), stallLimit: 500 });
    assert.match(reply.error ?? "", /simulation hung: no handshake for 500 cycles .*activation beats 3\/3/);
    await assert.rejects(
      simulateMatmul(geometry({ G: 2, T: 3, P: 2, c: 1 }), w, new Int8Array(20), { memory: MEMORY, validProb: 0.000001, stallLimit: 200 }),
      (e: unknown) => e instanceof SimulationError && /hung/.test(e.message),
    );
  });

  it("Icarus Verilog runs the same RTL to the same results and cycles", async () => {
    const geo = geometry({ G: 3, encoding: "mirrored", T: 5, P: 3, c: 1 });
    const rng = new Rng(11);
    const [n, k, tokens] = [29, 97, 2];
    const w = randomTrits(rng, n, k);
    const x = randomActs(rng, tokens * k);
    const stream = descriptorStream(geo, [w], [x], tokens);
    const r = await runIcarus(geo, stream.streams, MEMORY);
    assert.deepEqual(checkStream(geo, stream, r.results)[0]!.y, ternaryMatmul(w, x, tokens));
    assert.equal(r.cycles, streamCycles(geo, stream.tiles, MEMORY).total);
  });
});
