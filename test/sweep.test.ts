import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presetBudget } from "../src/budget/budget.js";
import { engineGeometry } from "../src/engine/config.js";
import { engineClockMHz } from "../src/estimate/clock.js";
import { makeLlamaModel } from "../src/model/make-model.js";
import { pointEngine } from "../src/sweep/evaluate.js";
import { FIGURE_NAMES } from "../src/sweep/figures.js";
import { ParetoSet, paretoFront, rank } from "../src/sweep/pareto.js";
import { MAX_DRAWN, PlotSample } from "../src/sweep/plots.js";
import { SmallestK } from "../src/sweep/smallest.js";
import { type Manifest } from "../src/sweep/store.js";
import { Rng } from "../src/util/random.js";
import { spawnSync } from "node:child_process";
import { buildSpace, parseShard, pointAt, pointParams } from "../src/sweep/space.js";
import { loadSweepSpec } from "../src/sweep/spec.js";
import { runSweep } from "../src/sweep/run.js";
import { cli, throwsUser } from "./helpers.js";

describe("design-space sweeps", function () {
  let dir: string;
  let model: string;
  const spec = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  /** Every output file of a sweep directory but the chunks and verification, by name. */
  const outputs = (d: string): Record<string, string> =>
    Object.fromEntries(
      ["points.json", "points.csv", "pareto.json", "summary.json", ...readdirSync(join(d, "plots")).map((f) => `plots/${f}`)].map((f) => [
        f,
        readFileSync(join(d, f), "utf8"),
      ]),
    );

  before(function () {
    dir = mkdtempSync(join(tmpdir(), "trilut-sweep-"));
    model = join(dir, "m.gguf");
    makeLlamaModel({ path: model, format: "tq2_0", architecture: "llama", hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, vocab: 64, seed: 3 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // a 48-point space in chunks of 5: several chunks, some engines over budget or unbuildable
  const SMALL = `model: m.gguf
budgets: [kv260]
axes:
  G: [2, 3, 5]
  encoding: [full, mirrored]
  T: [4, 30]
  P: {from: 2, to: 8, step: 2}
objectives: [decodeTokensPerSecond, lutTotal]
engine: {c: 2}
chunk: 5
`;

  describe("spec", function () {
    it("accepts the issue's example as written, ranges expanded, goals by the figures' nature", function () {
      const path = spec(
        "example.yaml",
        `model: m.gguf
budgets: [kv260]            # preset names or budget files
axes:
  G: [2, 3, 4, 5]           # a list
  encoding: [full, mirrored]
  T: {from: 1, to: 64}      # a range, step 1 unless \`step\` is given
  P: {from: 1, to: 64, step: 1}
  kind: [tlmm, baseline]
objectives: [decodeTokensPerSecond, lut]   # each maximized or minimized by its nature
`,
      );
      const s = loadSweepSpec(path);
      assert.equal(s.model, model);
      assert.deepEqual(s.axes["T"], Array.from({ length: 64 }, (_, i) => i + 1));
      assert.equal(s.axes["P"]!.length, 64);
      assert.deepEqual(s.objectives, [
        { figure: "decodeTokensPerSecond", goal: "maximize" },
        { figure: "lut", goal: "minimize" },
      ]);
      assert.equal(buildSpace(s, ["kv260"], path).size, 4 * 2 * 64 * 64 * 2);
    });

    it("reads JSON too, and extends another spec field by field", function () {
      spec("base.json", JSON.stringify({ model: "m.gguf", budgets: ["kv260"], axes: { G: [2, 3], T: [4, 8] }, objectives: ["lutTotal"] }));
      const child = spec("child.yaml", "extends: base.json\naxes:\n  T: [16]\n  P: [2, 4]\nobjectives: [{figure: lutTotal, goal: maximize}]\n");
      const s = loadSweepSpec(child);
      assert.deepEqual(s.axes, { G: [2, 3], T: [16], P: [2, 4] });
      assert.deepEqual(s.objectives, [{ figure: "lutTotal", goal: "maximize" }]);
      const loop = spec("loop.yaml", "extends: loop2.yaml\n");
      spec("loop2.yaml", "extends: loop.yaml\n");
      throwsUser(() => loadSweepSpec(loop), /extends/, /cycle/);
    });

    it("names the JSON pointer of an invalid field", function () {
      const cases: [string, RegExp][] = [
        ["axes: {T: {from: 0, to: 4}}", /\/axes\/T\/from: must be >= 1/],
        ["axes: {Q: [1]}", /\/axes: unknown field "Q"/],
        ["axes: {encoding: [full, twisted]}", /\/axes\/encoding\/1: must be equal to one of the allowed values/],
        ["axes: {G: []}", /\/axes\/G: must NOT have fewer than 1 items/],
        ["objectives: [speed]", /\/objectives\/0: must be equal to one of the allowed values/],
        ["sampler: {kind: random}", /\/sampler: missing required field "count"/],
      ];
      for (const [line, pattern] of cases) {
        const text = `model: m.gguf\nbudgets: [kv260]\n${line.startsWith("objectives") ? "" : "objectives: [lut]\n"}${line}\n`;
        throwsUser(() => loadSweepSpec(spec("bad.yaml", text)), /bad\.yaml: /, pattern);
      }
      throwsUser(() => loadSweepSpec(spec("bad.yaml", "model: m.gguf\nobjectives: [lut]\n")), /missing required field "budgets"/);
      throwsUser(() => loadSweepSpec(spec("bad.yaml", "model: [\n")), /not valid YAML or JSON/);
    });

    it("refuses an empty space", function () {
      throwsUser(() => loadSweepSpec(spec("empty.yaml", "model: m.gguf\nbudgets: [kv260]\nobjectives: [lut]\naxes: {T: {from: 9, to: 4}}\n")), /\/axes\/T: the range from 9 to 4 is empty/);
    });
  });

  describe("space", function () {
    it("numbers points in mixed radix, samples at random reproducibly, and shards by chunk", function () {
      const s = loadSweepSpec(spec("s.yaml", SMALL));
      const space = buildSpace(s, ["kv260"], "s.yaml");
      assert.equal(space.count, 3 * 2 * 2 * 4);
      assert.deepEqual(pointParams(space, 0), { budget: "kv260", G: 2, encoding: "full", T: 4, P: 2 });
      assert.deepEqual(pointParams(space, 47), { budget: "kv260", G: 5, encoding: "mirrored", T: 30, P: 8 });
      const random = { ...s, sampler: { kind: "random" as const, count: 10, seed: 7 } };
      const a = buildSpace(random, ["kv260"], "r");
      const b = buildSpace(random, ["kv260"], "r");
      assert.deepEqual(a.sample, b.sample);
      assert.equal(new Set(a.sample).size, 10);
      assert.ok(a.sample!.every((i, n) => i >= 0 && i < 48 && (n === 0 || i > a.sample![n - 1]!)));
      assert.notDeepEqual(buildSpace({ ...random, sampler: { kind: "random", count: 10, seed: 8 } }, ["kv260"], "r").sample, a.sample);
      assert.equal(pointAt(a, 3), a.sample![3]);
      throwsUser(() => parseShard("0/4"), /shard index must be in 1\.\.4/);
      throwsUser(() => parseShard("5/4"), /shard index must be in 1\.\.4/);
      throwsUser(() => parseShard("two"), /expected i\/N/);
    });
  });

  describe("Pareto front", function () {
    it("keeps exactly the non-dominated points and ranks by the objectives in order", function () {
      const col = (f: string): number => FIGURE_NAMES.indexOf(f as never);
      const point = (index: number, tps: number, lut: number): { index: number; figures: number[] } => {
        const figures = FIGURE_NAMES.map(() => 0);
        figures[col("decodeTokensPerSecond")] = tps;
        figures[col("lutTotal")] = lut;
        return { index, figures };
      };
      const pts = [point(0, 10, 100), point(1, 20, 300), point(2, 15, 300), point(3, 20, 200), point(4, 5, 50), point(5, 10, 100)];
      const objectives = [
        { figure: "decodeTokensPerSecond" as const, goal: "maximize" as const },
        { figure: "lutTotal" as const, goal: "minimize" as const },
      ];
      assert.deepEqual(rank(pts, objectives).map((p) => p.index), [3, 1, 2, 0, 5, 4]);
      // 1 and 2 are dominated by 3; 0 and 5 tie (neither dominates the other)
      assert.deepEqual(paretoFront(pts, objectives).map((p) => p.index), [3, 0, 5, 4]);
    });

    // points with few distinct figure values, so ties and duplicates are common
    const randomPoints = (rng: Rng, n: number): { index: number; figures: number[] }[] =>
      Array.from({ length: n }, (_, index) => ({ index, figures: FIGURE_NAMES.map(() => rng.int(0, 9)) }));
    const shuffled = <T>(rng: Rng, xs: readonly T[]): T[] => {
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    };

    it("keeps the same front and top K point by point, in any order, as the whole-list ranking does", function () {
      const rng = new Rng(11);
      const objectives = [
        { figure: "decodeTokensPerSecond" as const, goal: "maximize" as const },
        { figure: "lutTotal" as const, goal: "minimize" as const },
        { figure: "uram" as const, goal: "minimize" as const },
      ];
      for (let trial = 0; trial < 20; trial++) {
        const pts = randomPoints(rng, 1 + rng.int(0, 400));
        const expected = paretoFront(pts, objectives).map((p) => p.index);
        const ranked = rank(pts, objectives).map((p) => p.index);
        for (const order of [pts, shuffled(rng, pts)]) {
          const set = new ParetoSet(objectives);
          const top = new SmallestK<{ index: number; figures: number[] }>(7, (a, b) => ranked.indexOf(a.index) - ranked.indexOf(b.index));
          for (const p of order) {
            set.add(p);
            top.add(p);
          }
          assert.deepEqual(set.front().map((p) => p.index), expected);
          assert.deepEqual(top.sorted().map((p) => p.index), ranked.slice(0, 7));
        }
      }
    });

    it("plots each pair's front over every point, and a sample of at most MAX_DRAWN that does not depend on arrival order", function () {
      const rng = new Rng(12);
      const manifest = { objectives: [{ figure: "decodeTokensPerSecond", goal: "maximize" }, { figure: "lutTotal", goal: "minimize" }], axes: [] } as unknown as Manifest;
      // the two-figure front as plots.ts drew it over the whole list: sorted by x then y, each point whose y beats all before
      const frontOf = (pts: readonly { index: number; figures: number[] }[], y: string, x: string): number[] => {
        const [cy, cx] = [FIGURE_NAMES.indexOf(y as never), FIGURE_NAMES.indexOf(x as never)];
        const sign = (f: string): number => (f === "decodeTokensPerSecond" ? -1 : 1);
        const sorted = [...pts].sort((a, b) => sign(x) * (a.figures[cx]! - b.figures[cx]!) || sign(y) * (a.figures[cy]! - b.figures[cy]!) || a.index - b.index);
        let bestY = Infinity;
        return sorted.filter((p) => sign(y) * p.figures[cy]! < bestY && ((bestY = sign(y) * p.figures[cy]!), true)).map((p) => p.index);
      };
      for (const n of [300, MAX_DRAWN + 1500]) {
        const pts = randomPoints(rng, n);
        const samples = [pts, shuffled(rng, pts)].map((order) => {
          const s = new PlotSample(manifest);
          for (const p of order) s.add(p);
          s.pairs.forEach(([y, x], i) => assert.deepEqual(s.front(i).map((p) => p.index), frontOf(pts, y, x), `${y} vs ${x}`));
          return s.drawn().map((p) => p.index);
        });
        assert.deepEqual(samples[1], samples[0]);
        assert.equal(samples[0]!.length, Math.min(n, MAX_DRAWN));
      }
    });
  });

  describe("trilut sweep", function () {
    it("evaluates the space, drops what does not fit, writes points, front and plots, and prints a --json summary", function () {
      const out = join(dir, "run1");
      const r = cli(["sweep", spec("small.yaml", SMALL), "-o", out, "--json"]);
      assert.equal(r.status, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as Record<string, unknown> & {
        evaluated: number;
        feasible: number;
        pointsPerSecond: number;
        pareto: { params: Record<string, unknown>; figures: Record<string, number> }[];
        best: { params: Record<string, unknown>; figures: Record<string, number> };
        dropped: { invalid: number };
      };
      assert.equal(summary.evaluated, 48);
      assert.ok(summary.feasible > 0 && summary.feasible < 48, `${summary.feasible} kept`);
      assert.ok(summary.dropped.invalid > 0, "G=5 T=30 needs more than c=2 URAM words");
      assert.ok(summary.pointsPerSecond > 0);
      assert.ok(summary.pareto.length >= 1);
      const points = JSON.parse(readFileSync(join(out, "points.json"), "utf8")) as { points: { params: Record<string, unknown>; figures: Record<string, number> }[] };
      assert.equal(points.points.length, summary.feasible);
      const bestTps = Math.max(...points.points.map((p) => p.figures["decodeTokensPerSecond"]!));
      assert.equal(summary.best.figures["decodeTokensPerSecond"], bestTps);
      // the front is non-dominated among all kept points
      for (const f of summary.pareto) {
        assert.ok(!points.points.some((p) => p.figures["decodeTokensPerSecond"]! >= f.figures["decodeTokensPerSecond"]! && p.figures["lutTotal"]! < f.figures["lutTotal"]!));
      }
      const csv = readFileSync(join(out, "points.csv"), "utf8").trim().split("\n");
      assert.equal(csv.length, summary.feasible + 1);
      assert.match(csv[0]!, /^index,budget,G,encoding,T,P,tokensPerSecond,decodeTokensPerSecond,/);
      const svg = readFileSync(join(out, "plots", "decodeTokensPerSecond-vs-lutTotal.svg"), "utf8");
      assert.match(svg, /^<svg/);
      assert.match(svg, /decode tokens\/s/);
    });

    it("resumes: a rerun evaluates nothing again, and a lost chunk only that chunk", async function () {
      const out = join(dir, "resume");
      const path = spec("small.yaml", SMALL);
      const first = await runSweep(path, { out, jobs: 1, quiet: true });
      assert.equal(first.evaluatedNow, 48);
      const before = outputs(out);
      const again = await runSweep(path, { out, jobs: 1, quiet: true });
      assert.equal(again.evaluatedNow, 0);
      unlinkSync(join(out, "chunks", "000003.json"));
      const partial = await runSweep(path, { out, jobs: 1, quiet: true });
      assert.equal(partial.evaluatedNow, 5);
      assert.deepEqual(outputs(out), before);
    });

    it("merges shards into exactly the unsharded result; worker threads change nothing", async function () {
      const path = spec("small.yaml", SMALL);
      const whole = join(dir, "whole");
      await runSweep(path, { out: whole, jobs: 1, quiet: true });
      const shards = [1, 2, 3].map((i) => join(dir, `shard${i}`));
      for (const [i, d] of shards.entries()) {
        const r = cli(["sweep", path, "-o", d, "--shard", `${i + 1}/3`, "--jobs", "2"]);
        assert.equal(r.status, 0, r.stderr);
      }
      const merged = join(dir, "merged");
      const m = cli(["merge", ...shards, "-o", merged]);
      assert.equal(m.status, 0, m.stderr);
      assert.deepEqual(outputs(merged), outputs(whole));
      const threads = join(dir, "threads");
      await runSweep(path, { out: threads, jobs: 2, quiet: true });
      assert.deepEqual(outputs(threads), outputs(whole));

      const missing = cli(["merge", shards[0]!, shards[1]!, "-o", join(dir, "merged2")]);
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /chunks are missing/);
      const other = join(dir, "other");
      assert.equal(cli(["sweep", spec("other.yaml", SMALL.replace("P: {from: 2, to: 8, step: 2}", "P: [2]")), "-o", other]).status, 0);
      const mixed = cli(["merge", shards[0]!, other, "-o", join(dir, "merged3")]);
      assert.equal(mixed.status, 2);
      assert.match(mixed.stderr, /shards of different specs/);
      assert.ok(!existsSync(join(dir, "merged3")));
    });

    it("says which resource rules every point out, and refuses bad shards and foreign directories", function () {
      const tiny = join(dir, "tiny.json");
      writeFileSync(tiny, JSON.stringify({ device: "tiny", lut: 500, ff: 100000, bram36: 100, uram: 100, dsp: 10, clockMHz: 200, memoryGBps: 4 }));
      const r = cli(["sweep", spec("none.yaml", SMALL.replace("budgets: [kv260]", "budgets: [tiny.json]")), "-o", join(dir, "none")]);
      assert.equal(r.status, 2);
      // stderr holds the progress line, then the error: one line
      const errors = r.stderr.split("\n").filter((l) => l.startsWith("trilut:"));
      assert.equal(errors.length, 1);
      assert.match(errors[0]!, /^trilut: no point of the sweep fits tiny: of 48 points, LUT rules out \d+; 16 are not buildable engines \(e\.g\. \/T: 30 groups/);
      const s = cli(["sweep", spec("small.yaml", SMALL), "-o", join(dir, "bad-shard"), "--shard", "4/3"]);
      assert.equal(s.status, 2);
      assert.match(s.stderr, /shard index must be in 1\.\.3/);
      const foreign = cli(["sweep", spec("small.yaml", SMALL), "-o", join(dir, "other")]);
      assert.equal(foreign.status, 2);
      assert.match(foreign.stderr, /holds a sweep of another spec/);
    });

    it("compile --auto compiles the engine the search picks, keeping --set fields fixed", function () {
      const out = join(dir, "auto");
      const r = cli(["compile", model, "--device", "kv260", "--auto", "--set", "G=2", "-o", out]);
      assert.equal(r.status, 0, r.stderr);
      const line = r.stdout.split("\n")[0]!;
      assert.match(line, /^--auto: searched 32,768 engines, [\d,]+ fit; best by decode tokens\/s, then LUTs \(logic \+ memory\): G=2 encoding=\S+ T=\d+ P=\d+ c=\d /);
      const chosen = Object.fromEntries([...line.matchAll(/(\w+)=(\w+)/g)].map((m) => [m[1], m[2]]));
      const engine = JSON.parse(readFileSync(join(out, "engine.json"), "utf8")) as Record<string, unknown>;
      const cfg = (engine["engine"] ?? engine) as Record<string, unknown>;
      for (const key of ["G", "encoding", "T", "P", "c"]) assert.equal(String(cfg[key]), chosen[key], key);
      const bad = cli(["compile", model, "--device", "kv260", "--auto", "--objective", "speed", "-o", join(dir, "auto2")]);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--objective speed: expected one of/);
    });

    it("holds memory flat: 256,000 points sweep in a heap too small to hold them, in the memory 25,600 take; points.json up to 250,000", function () {
      this.timeout(120_000);
      // 25,600 or 256,000 points of a small model, every one kept (u280 fits them all); before the
      // sweep streamed its outputs, 204,800 kept points already ran out of a 96 MB heap
      const memSpec = (clocks: string): string =>
        spec(
          `mem-${clocks.length}.yaml`,
          `model: {arch: llama, hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, vocab: 64, weights: TQ2_0, lmHead: F16}
budgets: [u280]
axes: {G: [2, 3, 4, 5], encoding: [full, mirrored], T: {from: 1, to: 25}, P: {from: 1, to: 64}, kind: [tlmm, baseline], clock: ${clocks}}
objectives: [decodeTokensPerSecond, lutTotal]
`,
        );
      const runJs = new URL("../src/sweep/run.js", import.meta.url).href;
      const script = `const { runSweep } = await import(${JSON.stringify(runJs)});
const r = await runSweep(process.argv[1], { out: process.argv[2], jobs: 1, quiet: true });
console.log(JSON.stringify({ kept: r.summary.feasible, maxRSS: process.resourceUsage().maxRSS }));`;
      const run = (clocks: string): { kept: number; maxRSS: number; json: boolean; csvLines: number } => {
        const out = join(dir, `mem-out-${clocks.length}`);
        const r = spawnSync(process.execPath, ["--max-old-space-size=96", "--input-type=module", "-e", script, memSpec(clocks), out], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr.slice(-2000));
        const csv = readFileSync(join(out, "points.csv"));
        const files = { json: existsSync(join(out, "points.json")), csvLines: csv.filter((b) => b === 0x0a).length };
        rmSync(out, { recursive: true, force: true });
        return { ...(JSON.parse(r.stdout) as { kept: number; maxRSS: number }), ...files };
      };
      const small = run("[250]");
      const large = run("{from: 200, to: 290, step: 10}");
      assert.deepEqual([small.kept, large.kept], [25_600, 256_000]);
      assert.deepEqual([small.json, large.json], [true, false], "points.json only for samples of at most 250,000 points");
      assert.deepEqual([small.csvLines, large.csvLines], [25_601, 256_001]);
      assert.ok(large.maxRSS < 1.5 * small.maxRSS, `peak RSS ${large.maxRSS} kB for 256,000 points, ${small.maxRSS} kB for 25,600`);
    });

    it("compile --auto ranks engines at their clock estimate when it is below the budget's, and says so", function () {
      // a budget clock above every engine's estimate (the pipelined dequantization stage reaches 250 MHz)
      const fast = join(dir, "fast-kv260.json");
      writeFileSync(fast, JSON.stringify({ ...presetBudget("kv260"), device: "fast-kv260", clockMHz: 400 }));
      const r = cli(["compile", model, "--budget", fast, "--auto", "--set", "dequant=true", "--set", "G=3", "--set", "encoding=full", "-o", join(dir, "auto-dq")]);
      assert.equal(r.status, 0, r.stderr);
      const line = r.stdout.split("\n")[0]!;
      const m = /\(predicted at ([\d.]+) MHz, its own clock estimate, below the budget's clock: ([\d.]+) decode tokens\/s/.exec(line);
      assert.ok(m, line);
      assert.ok(Number(m[1]) < 400);
    });

    it("ranks every point at its own clock: at its clock estimate where that is below the budget's, and says so", function () {
      const out = join(dir, "dequant");
      // a budget clock above every engine's estimate: each point runs at its own
      writeFileSync(join(dir, "fast.json"), JSON.stringify({ ...presetBudget("kv260"), device: "fast", clockMHz: 400 }));
      const text = `model: m.gguf
budgets: [fast.json]
axes:
  dequant: [false, true]
  T: [8, 16]
  P: [4, 8]
objectives: [decodeTokensPerSecond, lutTotal]
`;
      const r = cli(["sweep", spec("dequant.yaml", text), "-o", out]);
      assert.equal(r.status, 0, r.stderr);
      type Point = { params: Record<string, string | number | boolean>; figures: Record<string, number> };
      const { points } = JSON.parse(readFileSync(join(out, "points.json"), "utf8")) as { points: Point[] };
      assert.equal(points.length, 8);
      const fast = { ...presetBudget("kv260"), device: "fast", clockMHz: 400 };
      for (const p of points) {
        const engine = pointEngine({ fast }, {}, p.params);
        assert.ok(typeof engine !== "string", String(engine));
        const clock = engineClockMHz(engineGeometry(engine.cfg), fast);
        assert.equal(p.figures["clockMHz"], clock.mhz);
        assert.equal(p.figures["clockEstimateMHz"], clock.estimateMHz);
        assert.ok(clock.limitedBy === "estimate" && clock.mhz < 400, `${clock.mhz} MHz`);
        const tps = (p.figures["clockMHz"]! * 1e6) / p.figures["decodeCycles"]!;
        assert.ok(Math.abs(p.figures["decodeTokensPerSecond"]! - tps) < 1e-9 * tps, "tokens/s at the point's clock");
      }
      // each dequantizing engine takes more cycles than its integer twin: its pipelined stage ends every pass later
      for (const p of points.filter((q) => q.params["dequant"])) {
        const twin = points.find((q) => !q.params["dequant"] && q.params["T"] === p.params["T"] && q.params["P"] === p.params["P"])!;
        assert.ok(p.figures["decodeCycles"]! > twin.figures["decodeCycles"]!);
      }
      const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as { atClockEstimate: number; best: Point; pareto: Point[] };
      assert.equal(summary.atClockEstimate, 8);
      for (const p of summary.pareto) assert.equal(typeof p.figures["clockMHz"], "number");
      assert.match(readFileSync(join(out, "points.csv"), "utf8").split("\n")[0]!, /,clockMHz,clockEstimateMHz,/);
      assert.match(readFileSync(join(out, "plots", "decodeTokensPerSecond-vs-lutTotal.svg"), "utf8"), /8 drawn points at their own clock estimate/);
      assert.match(r.stdout, /8 of the kept points run at their own clock estimate, below the budget's clock/);
      const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as { clock: { mhz: number; limitedBy: string } };
      assert.deepEqual([report.clock.mhz, report.clock.limitedBy], [summary.best.figures["clockMHz"], "estimate"]);
    });

    it("--verify-top simulates the best points in Verilator: bit-exact, with the predicted cycles", function () {
      const out = join(dir, "verify");
      const text = `model: m.gguf
budgets: [kv260]
axes:
  G: [3]
  T: [8, 16]
  P: [4]
  mode: [decode, prefill]
  prompt: [3]
objectives: [decodeTokensPerSecond, lutTotal]
`;
      const r = cli(["sweep", spec("verify.yaml", text), "-o", out, "--verify-top", "2", "--json"]);
      assert.equal(r.status, 0, r.stderr);
      const { verified } = JSON.parse(r.stdout) as { verified: { mode: string; tokens: number; predictedCycles: number; measuredCycles: number; bitExact: boolean }[] };
      assert.equal(verified.length, 2);
      for (const v of verified) {
        assert.ok(v.bitExact);
        assert.equal(v.measuredCycles, v.predictedCycles);
      }
      assert.deepEqual(new Set(verified.map((v) => `${v.mode}×${v.tokens}`)), new Set(["decode×1", "prefill×3"]));
      assert.ok(existsSync(join(out, "verify.json")));
    });
  });
});
