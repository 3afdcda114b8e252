import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type EngineGeometry } from "../engine/config.js";
import { DESCRIPTOR_FIELDS, DESCRIPTOR_WORDS, descriptorPort, descriptorWidths } from "../engine/descriptor.js";
import { generateRtl } from "../codegen/rtl.js";
import { packageVersion, renderTemplate } from "../util/templates.js";
import { SimulationError, ToolError, UserError } from "../util/errors.js";
import { onlyOnVerilator, type SimBackend } from "./backend.js";
import { type AxiStreams } from "../engine/streams.js";
import { type MemoryTiming } from "../budget/memory.js";

const execFileAsync = promisify(execFile);

/** Beats as $readmemh lines: one beat per line, most significant word first. */
function hexLines(data: Uint32Array, wordsPerBeat: number, bits: number): string {
  const digits = Math.ceil(bits / 4);
  const lines: string[] = [];
  for (let b = 0; b * wordsPerBeat < data.length; b++) {
    let hex = "";
    for (let w = wordsPerBeat - 1; w >= 0; w--) hex += data[b * wordsPerBeat + w]!.toString(16).padStart(8, "0");
    lines.push(hex.slice(-digits));
  }
  return lines.join("\n") + "\n";
}

export interface IcarusRun {
  readonly cycles: number;
  readonly results: Uint32Array;
}

/**
 * Runs the engine's RTL in Icarus Verilog on the same descriptor stream, activations and memory
 * image the Verilator host uses, with the weights served by the same memory model (no backpressure).
 */
export async function runIcarus(geo: EngineGeometry, s: AxiStreams, memory: MemoryTiming): Promise<IcarusRun> {
  const dir = mkdtempSync(join(tmpdir(), "trilut-icarus-"));
  try {
    const rtl = generateRtl(geo);
    for (const f of rtl) writeFileSync(join(dir, f.name), f.content);
    writeFileSync(join(dir, "descs.hex"), hexLines(s.descriptors, DESCRIPTOR_WORDS, 32 * DESCRIPTOR_WORDS));
    writeFileSync(join(dir, "acts.hex"), hexLines(s.acts, s.actWords, geo.actBeatBits));
    writeFileSync(join(dir, "image.hex"), hexLines(s.image, 1, 32));
    const beats = (data: Uint32Array, words: number): number => data.length / words;
    const widths = descriptorWidths(geo);
    const tb = renderTemplate("sim/tb_icarus.v.hbs", {
      version: packageVersion(),
      descCount: beats(s.descriptors, DESCRIPTOR_WORDS),
      descDepth: Math.max(1, beats(s.descriptors, DESCRIPTOR_WORDS)),
      descBits: 32 * DESCRIPTOR_WORDS,
      // field i of a descriptor is its stream word i, cut to the port's width
      descFields: DESCRIPTOR_FIELDS.map((f, i) => ({ port: descriptorPort(f.name), lsb: 32 * i, width: widths[f.name] })),
      actBits: geo.actBeatBits,
      actCount: beats(s.acts, s.actWords),
      actDepth: Math.max(1, beats(s.acts, s.actWords)),
      imageWords: Math.max(1, s.image.length),
      memBits: geo.cfg.memBits,
      beatBytes: geo.beatBytes,
      bwNum: memory.bwNum,
      bwDen: memory.bwDen,
      latency: memory.latency,
      maxQueued: memory.maxQueued,
      resultBits: geo.resultBeatBits,
      resultCount: s.resultBeats,
      maxCycles: 10_000_000,
    });
    writeFileSync(join(dir, "tb.v"), tb);
    try {
      await execFileAsync("iverilog", ["-g2005", "-o", join(dir, "tb.vvp"), "-s", "tb", join(dir, "tb.v"), ...rtl.map((f) => join(dir, f.name))]);
    } catch (err) {
      const e = err as { code?: string; stderr?: string };
      if (e.code === "ENOENT") throw new ToolError("iverilog not found: apt-get install -y iverilog");
      throw new ToolError("iverilog rejected the design", e.stderr ?? "");
    }
    const { stdout } = await execFileAsync("vvp", ["-n", join(dir, "tb.vvp")], { cwd: dir, maxBuffer: 256 * 1024 * 1024 });
    const results = new Uint32Array(s.resultBeats * s.resultWords);
    let beat = 0;
    let cycles = -1;
    for (const line of stdout.split("\n")) {
      if (line.startsWith("y ")) {
        const hex = line.slice(2).trim();
        for (let w = 0; w < s.resultWords; w++) {
          const end = hex.length - 8 * w;
          results[beat * s.resultWords + w] = parseInt(hex.slice(Math.max(0, end - 8), end) || "0", 16) >>> 0;
        }
        beat++;
      } else if (line.startsWith("cycles ")) {
        cycles = Number(line.slice(7));
      } else if (line.startsWith("timeout")) {
        throw new SimulationError("the Icarus simulation timed out");
      }
    }
    if (cycles < 0 || beat !== s.resultBeats) throw new SimulationError(`the Icarus run ended early: ${beat}/${s.resultBeats} result beats`);
    return { cycles, results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Icarus Verilog as a backend: the same RTL as Verilator, cycle-accurate, an independent second
 * simulator. Its testbench drives the streams without stalls and writes no waveform. The testbench
 * is compiled with the stream's sizes, so there is nothing to build ahead: iverilog's compile is
 * part of each run's seconds.
 */
export const icarusBackend: SimBackend = {
  name: "icarus",
  cycleAccurate: true,
  async build(geo, options) {
    onlyOnVerilator(options, {
      backpressure: "the Icarus testbench drives the streams without stalls",
      waveform: "the Icarus backend writes none",
    });
    return {
      buildSeconds: 0,
      cached: false,
      async run(streams, runOptions) {
        if (!runOptions.memory) throw new UserError("an engine that streams weights needs a memory timing (a budget)");
        const started = performance.now();
        const r = await runIcarus(geo, streams, runOptions.memory);
        return { results: r.results, cycles: r.cycles, bytesRead: undefined, simSeconds: (performance.now() - started) / 1000 };
      },
    };
  },
};
