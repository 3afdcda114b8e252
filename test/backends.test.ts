import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeLlamaModel } from "../src/model/make-model.js";
import { engineGeometry, resolveEngine } from "../src/engine/config.js";
import { streamCycles } from "../src/estimate/cycles/event.js";
import { ternaryMatmul } from "../src/ref/kernel.js";
import { type BackendName } from "../src/sim/backend.js";
import { backendNamed } from "../src/sim/backends.js";
import { descriptorStream, runOnBackend, type BackendResult } from "../src/sim/simulate.js";
import { UserError } from "../src/util/errors.js";
import { Rng } from "../src/util/random.js";
import { cli, randomActs, randomTrits } from "./helpers.js";

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

describe("Icarus where the other backends are: sim --backend icarus, verify backend: icarus", function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), "trilut-backends-"));
    makeLlamaModel({ path: join(dir, "m.gguf"), format: "tq2_0", architecture: "llama", hidden: 256, ffn: 512, layers: 1, heads: 4, kvHeads: 2, vocab: 64, seed: 3 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("sim --backend icarus: a tensor bit-exact in the predicted cycles, as JSON", function () {
    const r = cli(["sim", join(dir, "m.gguf"), "--tensor", "blk.0.attn_k.weight", "--device", "kv260", "--backend", "icarus", "--json"]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const s = JSON.parse(r.stdout) as { backend: string; match: boolean; cycles: number; predictedCycles: number };
    assert.equal(s.backend, "icarus");
    assert.equal(s.match, true);
    assert.ok(s.cycles > 0);
    assert.equal(s.cycles, s.predictedCycles);
  });

  it("verify backend: icarus runs a tensor and reports its cycles against the model", function () {
    writeFileSync(join(dir, "ci.yaml"), "checks:\n  - {model: m.gguf, tensor: blk.0.attn_k.weight, device: kv260, backend: icarus}\n");
    const junit = join(dir, "ci.xml");
    const r = cli(["verify", join(dir, "ci.yaml"), "--junit", junit]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const xml = readFileSync(junit, "utf8");
    assert.match(xml, /tests="1" failures="0" errors="0"/);
    assert.match(xml, /classname="trilut\.icarus\.m_gguf"/);
    const prop = (name: string): string => new RegExp(`<property name="${name}" value="([^"]*)"/>`).exec(xml)![1]!;
    assert.equal(prop("backend"), "icarus");
    assert.equal(prop("mismatches"), "0");
    assert.ok(Number(prop("cycles")) > 0);
    assert.equal(prop("cycles"), prop("predictedCycles"));
  });
});
