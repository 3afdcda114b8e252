import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presetBudget } from "../src/budget/budget.js";
import { memoryTiming } from "../src/budget/memory.js";
import { plan } from "../src/cli/common.js";
import { engineGeometry, resolveEngine } from "../src/engine/config.js";
import { streamCycles } from "../src/estimate/cycles/event.js";
import { simulateMatmul } from "../src/sim/simulate.js";
import { parseVcd, readVcdFile, VcdError, type VcdHeader } from "../src/sim/vcd.js";
import { engineWaveform, waveLane, type SignalPick } from "../src/sim/wave.js";
import { parseCycleWindow, windowInRun } from "../src/sim/window.js";
import { UserError } from "../src/util/errors.js";
import { Rng } from "../src/util/random.js";
import { cli, FIXTURES, randomActs, randomTrits, throwsUser, type CliRun } from "./helpers.js";

const SMALL_VCD = `$date today $end
$version hand written $end
$timescale 1 ps $end
$scope module TOP $end
 $var wire 1 ! clk $end
 $var wire 4 " bus [3:0] $end
 $scope module trilut_engine $end
  $var wire 1 ! clk $end
  $var wire 8 # mem[2] [7:0] $end
 $upscope $end
$upscope $end
$enddefinitions $end
$comment the initial values $end
#0
$dumpvars
0!
b101 "
bxx01 #
$end
#1
1!
#2
0!
b1111 "
b1 #
#3
1!
`;

/** Every event of a VCD, as text: header, then "@time" and "id=value" in order. */
function events(feed: (visitor: Parameters<typeof parseVcd>[1]) => void): string[] {
  const out: string[] = [];
  feed({
    header(h: VcdHeader) {
      out.push(`timescale ${h.timescale}`);
      for (const v of h.variables) out.push(`${v.path} ${v.width} ${v.id}`);
      return undefined;
    },
    time(t) {
      out.push(`@${t}`);
    },
    change(id, value) {
      out.push(`${id}=${value}`);
    },
  });
  return out;
}

const EXPECTED_EVENTS = [
  "timescale 1ps",
  "TOP.clk 1 !",
  "TOP.bus 4 \"",
  "TOP.trilut_engine.clk 1 !",
  "TOP.trilut_engine.mem[2] 8 #",
  "@0",
  "!=0",
  "\"=101",
  "#=xx01",
  "@1",
  "!=1",
  "@2",
  "!=0",
  "\"=1111",
  "#=1",
  "@3",
  "!=1",
];

function pick(name: string, width: number, msb = width - 1, lsb = 0): SignalPick {
  return { name, msb, lsb, variable: { path: `TOP.${name}`, scopes: ["TOP"], name, width, id: "!", type: "wire" } };
}

describe("waveforms", () => {
  describe("VCD reader", () => {
    it("reads scopes, variables, timestamps and scalar and vector changes", () => {
      assert.deepEqual(
        events((v) => parseVcd([SMALL_VCD], v)),
        EXPECTED_EVENTS,
      );
    });

    it("gives the same events however the text is cut into chunks", () => {
      for (let size = 1; size <= 13; size++) {
        const chunks: string[] = [];
        for (let at = 0; at < SMALL_VCD.length; at += size) chunks.push(SMALL_VCD.slice(at, at + size));
        assert.deepEqual(events((v) => parseVcd(chunks, v)), EXPECTED_EVENTS, `chunks of ${size}`);
      }
      const dir = mkdtempSync(join(tmpdir(), "trilut-vcd-"));
      try {
        const path = join(dir, "small.vcd");
        writeFileSync(path, SMALL_VCD);
        for (const bytes of [3, 64, 1 << 20]) assert.deepEqual(events((v) => readVcdFile(path, v, bytes)), EXPECTED_EVENTS);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("reports only the ids asked for, and stops when told", () => {
      const seen: string[] = [];
      parseVcd([SMALL_VCD], {
        header: () => new Set(['"']),
        time: (t) => t < 2,
        change: (id, value) => seen.push(`${id}=${value}`),
      });
      assert.deepEqual(seen, ['"=101']);
    });

    it("rejects what is not a VCD", () => {
      assert.throws(() => parseVcd(["#0\n1!\n"], { header: () => undefined }), VcdError);
      assert.throws(() => parseVcd(["$scope module TOP $end\n"], { header: () => undefined }), /ends before \$enddefinitions/);
      assert.throws(() => parseVcd([SMALL_VCD + "q!\n"], { header: () => undefined }), /unexpected "q!"/);
    });
  });

  describe("cycle windows", () => {
    it("parses START:END and START:", () => {
      assert.deepEqual(parseCycleWindow("10:20"), [10, 20]);
      assert.deepEqual(parseCycleWindow("0:1"), [0, 1]);
      assert.deepEqual(parseCycleWindow("5:"), [5, Infinity]);
      for (const bad of ["", "10", "a:b", "-1:5", "5:2", "3:3", "1.5:4", "1:2:3"]) throwsUser(() => parseCycleWindow(bad), /--trace-window/);
    });

    it("a window outside the run names the run's cycle count", () => {
      assert.deepEqual(windowInRun([10, 20], 20), [10, 20]);
      assert.deepEqual(windowInRun([10, Infinity], 1234), [10, 1234]);
      throwsUser(() => windowInRun([10, 21], 20), /10:21 is outside the run: it has 20 cycles/);
      throwsUser(() => windowInRun([2000, Infinity], 1234), /it has 1,234 cycles \(0\.\.1233\)/);
    });
  });

  describe("WaveJSON lanes", () => {
    it("draws bits, buses as hex data, bit selects and the clock", () => {
      assert.deepEqual(waveLane(pick("v", 1), ["0", "1", "1", "0", "x"]), { name: "v", wave: "01.0x" });
      assert.deepEqual(waveLane(pick("clk", 1), ["0", "0", "0", "0"]), { name: "clk", wave: "p..." });
      const bytes = ["00000101", "00000101", "11111111", "xxxxxxxx"];
      assert.deepEqual(waveLane(pick("b", 8), bytes), { name: "b", wave: "=.=x", data: ["5", "ff"] });
      assert.deepEqual(waveLane(pick("b[7:4]", 8, 7, 4), bytes), { name: "b[7:4]", wave: "=.=x", data: ["0", "f"] });
      assert.deepEqual(waveLane(pick("b[0]", 8, 0, 0), bytes), { name: "b[0]", wave: "1..x" });
      // a wide bus shows its low end
      const wide = waveLane(pick("w", 128), ["1".repeat(128)]);
      assert.deepEqual(wide.data, ["…ffffffffffff"]);
    });
  });

  // The CLI's engine and the library's are one geometry, so one traced simulator serves both
  const MODEL = join(FIXTURES, "tiny-llama-tq2_0.gguf");
  const TENSOR = "blk.0.attn_k.weight";
  const ENGINE_FLAGS = ["--device", "kv260", "--set", "T=4", "--set", "P=2"];
  const small = plan({ device: "kv260", set: ["T=4", "P=2"] });
  const memory = memoryTiming(small.budget);
  let tmp = "";
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "trilut-wave-test-"));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /** The time stamps of a VCD file, in order. */
  function stamps(path: string): number[] {
    const out: number[] = [];
    readVcdFile(path, { header: () => new Set<string>(), time: (t) => void out.push(t) });
    return out;
  }

  describe("on a streaming engine in Verilator", () => {
    const rng = new Rng(81);
    const w = randomTrits(rng, 24, 100);
    const x = randomActs(rng, 100);

    it("a trace window records only its cycles, in a smaller file", async () => {
      const full = join(tmp, "full.vcd");
      const part = join(tmp, "part.vcd");
      const r = await simulateMatmul(small.engine.geo, w, x, { memory, trace: full });
      assert.equal(r.mismatches, 0);
      const end = Math.min(r.cycles, 60);
      const windowed = await simulateMatmul(small.engine.geo, w, x, { memory, trace: part, traceWindow: [20, end] });
      assert.equal(windowed.cycles, r.cycles);
      // cycle c is the half periods 4 + 2c (clock low) and 5 + 2c (the rising edge)
      const expected = Array.from({ length: 2 * (end - 20) }, (_, i) => 44 + i);
      assert.deepEqual(stamps(part), expected);
      assert.ok(statSync(part).size < statSync(full).size / 2, `${statSync(part).size} vs ${statSync(full).size}`);
      assert.equal(stamps(full).at(-1), 4 + 2 * r.cycles);
    });

    it("a window outside the run is one line naming the cycle count, and writes nothing", async () => {
      const path = join(tmp, "outside.vcd");
      const { cycles } = await simulateMatmul(small.engine.geo, w, x, { memory });
      await assert.rejects(
        simulateMatmul(small.engine.geo, w, x, { memory, trace: path, traceWindow: [cycles - 5, cycles + 1] }),
        (e: unknown) => e instanceof UserError && e.message.includes(`it has ${cycles} cycles`) && !e.message.includes("\n"),
      );
      // with backpressure the run's length is known only after it: the file is removed then
      await assert.rejects(
        simulateMatmul(small.engine.geo, w, x, { memory, trace: path, traceWindow: [cycles * 10, cycles * 10 + 5], validProb: 0.9, readyProb: 0.9, seed: 3 }),
        (e: unknown) => e instanceof UserError && /outside the run/.test(e.message),
      );
      assert.deepEqual(readdirSync(tmp).filter((f) => f.includes("outside")), []);
    });

    it("engineWaveform draws the first work: table build, lookups, partial sums, the first result", async () => {
      const a = await engineWaveform(small.engine.geo, [w], [x], { memory, title: "test" });
      const b = await engineWaveform(small.engine.geo, [w], [x], { memory, title: "test" });
      assert.equal(a.svg, b.svg, "the same run draws the same SVG");
      assert.ok(a.svg.startsWith("<svg"));
      for (const name of ["clk", "x_valid", "core.compute.g_tables.pre_we", "core.compute.issue", "core.compute.psum_we", "y_valid", "y_data[31:0]"]) {
        assert.ok(a.signals.includes(name), name);
        assert.ok(a.svg.includes(`>${name}<`), `${name} in the SVG`);
      }
      const lane = (name: string): string => a.wavejson.signal.find((l) => l.name === name)!.wave;
      for (const name of ["x_ready", "core.compute.g_tables.pre_we", "core.compute.issue", "core.compute.psum_we", "y_valid"]) {
        assert.match(lane(name), /1/, `${name} rises in the window`);
      }
      const width = a.window[1] - a.window[0];
      assert.ok(width >= 60 && width <= 400, `${a.window}`);
      assert.equal(lane("clk").length, width);
      // a few cycles before the first activations are taken
      assert.match(lane("x_ready"), /^0\.+1/);
    });

    it("draws chosen signals and bit selects over a chosen window", async () => {
      const r = await engineWaveform(small.engine.geo, [w], [x], { memory, window: [10, 30], signals: ["clk", "ar_valid", "desc_addr[3:0]", "core.compute.pv[1]"] });
      assert.deepEqual(r.window, [10, 30]);
      assert.deepEqual(r.signals, ["clk", "ar_valid", "desc_addr[3:0]", "core.compute.pv[1]"]);
      assert.equal(r.wavejson.signal[0]!.wave, "p" + ".".repeat(19));
    });

    it("an unknown signal lists the engine's ports; a window too wide or past the run is refused", async () => {
      await assert.rejects(engineWaveform(small.engine.geo, [w], [x], { memory, signals: ["clk", "no_such_net"] }), (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /--signals no_such_net: no such signal .* ports .*desc_valid.*x_ready.*y_data/);
        return true;
      });
      await assert.rejects(engineWaveform(small.engine.geo, [w], [x], { memory, signals: ["y_data[99:0]"] }), /y_data has bits \[63:0\]/);
      await assert.rejects(engineWaveform(small.engine.geo, [w], [x], { memory, window: [0, 401] }), /at most 400/);
      await assert.rejects(engineWaveform(small.engine.geo, [w], [x], { memory, window: [0, 10 ** 6] }), /at most 400/);
      await assert.rejects(engineWaveform(small.engine.geo, [w], [x], { memory, window: [10 ** 6, 10 ** 6 + 10] }), /outside the run/);
    });
  });

  describe("on a short run", () => {
    it("draws the descriptor, memory and activation streams, from the first pass to the run's end", async () => {
      const geo = engineGeometry(resolveEngine({ G: 2, T: 3, P: 2, c: 1 }, "test"));
      const memory = memoryTiming(presetBudget("kv260"));
      const rng = new Rng(8);
      const w = randomTrits(rng, 6, 30);
      const x = randomActs(rng, 30);
      const r = await engineWaveform(geo, [w], [x], { memory });
      for (const name of ["desc_valid", "ar_valid", "r_valid", "x_valid", "core.compute.g_tables.pre_we", "y_valid"]) assert.ok(r.signals.includes(name), name);
      // from just before the first pass (its tile's weights in the buffer) to the end of this short run
      const { cycles, tiles } = await simulateMatmul(geo, w, x, { memory });
      assert.deepEqual(r.window, [streamCycles(geo, tiles, memory).tileLoaded[0]! - 4, cycles]);
    });
  });

  describe("trilut sim --trace-window / --wave", () => {
    const sim = ["sim", MODEL, "--tensor", TENSOR, ...ENGINE_FLAGS];

    function userError(r: CliRun, pattern: RegExp): void {
      const shown = `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
      assert.equal(r.status, 2, shown);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, shown);
      assert.match(r.stderr, pattern, shown);
    }

    it("--trace-window limits the trace, --wave draws the run, --json says what was drawn", () => {
      const trace = join(tmp, "cli.vcd");
      const svg = join(tmp, "cli.svg");
      const r = cli([...sim, "--trace", trace, "--trace-window", "100:140", "--wave", svg, "--json"]);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { match: boolean; cycles: number; wave: { file: string; window: number[]; signals: string[] } };
      assert.equal(out.match, true);
      assert.deepEqual(out.wave.window, [100, 140]);
      assert.deepEqual(stamps(trace), Array.from({ length: 80 }, (_, i) => 204 + i));
      const drawing = readFileSync(svg, "utf8");
      for (const name of out.wave.signals) assert.ok(drawing.includes(`>${name}<`), name);
      const text = cli([...sim, "--wave", svg, "--signals", "clk,x_valid,y_valid"]);
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`waveform ${svg.replace(/[.]/g, "\\.")}: 3 signals over cycles \\d+\\.\\.\\d+`));
      assert.deepEqual(readdirSync(tmp).filter((f) => f.includes("partial")), []);
    });

    it("bad windows and unknown signals are one line, exit 2", () => {
      userError(cli([...sim, "--trace", join(tmp, "t.vcd"), "--trace-window", "12"]), /--trace-window 12: expected START:END/);
      userError(cli([...sim, "--trace", join(tmp, "t.vcd"), "--trace-window", "9:3"]), /START < END/);
      userError(cli([...sim, "--trace", join(tmp, "t.vcd"), "--trace-window", "0:99999999"]), /outside the run: it has [\d,]+ cycles/);
      userError(cli([...sim, "--trace-window", "0:10"]), /add one of them/);
      userError(cli([...sim, "--wave", join(tmp, "w.svg"), "--trace-window", "0:1000"]), /at most 400/);
      userError(cli([...sim, "--wave", join(tmp, "w.png")]), /\.svg/);
      userError(cli([...sim, "--signals", "clk"]), /add --wave/);
      userError(cli([...sim, "--wave", join(tmp, "w.svg"), "--signals", "clk,bogus"]), /no such signal .*ports .*clk.*desc_valid/);
      assert.equal(existsSync(join(tmp, "t.vcd")), false);
      assert.equal(existsSync(join(tmp, "w.svg")), false);
    });

    it("--block draws its descriptor stream", () => {
      const svg = join(tmp, "block.svg");
      const r = cli(["sim", MODEL, "--scope", "matmuls", "--block", "0", ...ENGINE_FLAGS, "--wave", svg, "--json"]);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { match: boolean; wave: { window: number[] } };
      assert.equal(out.match, true);
      assert.ok(readFileSync(svg, "utf8").includes(">core.compute.issue<"));
    });
  });
});
