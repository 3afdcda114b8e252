import assert from "node:assert/strict";
import { engineGeometry, resolveEngine } from "../src/engine/config.js";
import { streamCycles } from "../src/estimate/stream-cycles.js";
import { ternaryMatmul } from "../src/ref/kernel.js";
import { backendNamed, type BackendName } from "../src/sim/backend.js";
import { descriptorStream, runOnBackend, type BackendResult } from "../src/sim/simulate.js";
import { UserError } from "../src/util/errors.js";
import { Rng } from "../src/util/random.js";
import { randomActs, randomTrits } from "./helpers.js";

const MEMORY = { bwNum: 16, bwDen: 1, latency: 10, maxQueued: 16 };

describe("one backend interface: Verilator, Icarus and HLS run the same stream", function () {
  const geo = engineGeometry(resolveEngine({ G: 3, encoding: "mirrored", T: 5, P: 3, c: 1 }, "test"));
  const rng = new Rng(21);
  const tokens = 2;
  // two matmuls in one descriptor stream: rows not a multiple of P, columns not of T·G
  const ws = [randomTrits(rng, 29, 97), randomTrits(rng, 8, 40)];
  const xs = ws.map((w) => randomActs(rng, tokens * w.k));
  const names: BackendName[] = ["verilator", "icarus", "hls"];

  it("identical results, the reference's; both RTL simulators take the predicted cycles", async () => {
    const runs = new Map<BackendName, BackendResult>();
    for (const name of names) runs.set(name, await runOnBackend(backendNamed(name), geo, ws, xs, { tokens, memory: MEMORY }));
    const predicted = streamCycles(geo, descriptorStream(geo, ws, xs, tokens).tiles, MEMORY).total;
    for (const name of names) {
      const r = runs.get(name)!;
      assert.equal(r.backend, name);
      assert.equal(r.mismatches, 0, `${name}: ${JSON.stringify(r.matmuls.map((m) => m.firstMismatches))}`);
      ws.forEach((w, i) => assert.deepEqual(r.matmuls[i]!.y, ternaryMatmul(w, xs[i]!, tokens), `${name}, matmul ${i}`));
      assert.equal(r.predictedCycles, predicted);
    }
    for (const rtl of ["verilator", "icarus"] as const) {
      assert.equal(runs.get(rtl)!.cycles, predicted, `${rtl} cycles`);
      assert.equal(runs.get(rtl)!.cyclesAsPredicted, true);
    }
    // the C simulation has no clock: no cycles, and nothing to hold to the model
    assert.equal(runs.get("hls")!.cycles, undefined);
    assert.equal(runs.get("hls")!.cyclesAsPredicted, undefined);
    assert.equal(runs.get("verilator")!.bytesRead, streamCycles(geo, runs.get("verilator")!.tiles, MEMORY).bytesRead);
  });

  it("a backend refuses what it cannot do before building anything", async () => {
    for (const name of ["icarus", "hls"] as const) {
      await assert.rejects(runOnBackend(backendNamed(name), geo, ws, xs, { tokens, memory: MEMORY, validProb: 0.5 }), (e: unknown) => e instanceof UserError && /backpressure/.test(e.message));
      await assert.rejects(runOnBackend(backendNamed(name), geo, ws, xs, { tokens, memory: MEMORY, trace: "/nonexistent/w.vcd" }), (e: unknown) => e instanceof UserError && /waveform/.test(e.message));
    }
    // a cycle-accurate backend needs the memory it streams weights from
    await assert.rejects(runOnBackend(backendNamed("icarus"), geo, ws, xs, { tokens }), UserError);
  });
});
