import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type EngineGeometry } from "../engine/config.js";
import { commandWidths } from "../engine/ports.js";
import { generateRtl } from "../codegen/rtl.js";
import { packageVersion, renderTemplate } from "../util/templates.js";
import { UserError } from "../util/errors.js";
import { COMMAND_WORDS, type HostStreams } from "../engine/streams.js";

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

function commandHex(geo: EngineGeometry, commands: Uint32Array): { text: string; bits: number } {
  const { countBits, groupBits } = commandWidths(geo);
  const bits = 3 + countBits + groupBits;
  const lines: string[] = [];
  for (let i = 0; i < commands.length; i += COMMAND_WORDS) {
    const [op, count, groups, clear, drain] = commands.subarray(i, i + COMMAND_WORDS);
    const v =
      BigInt(op!) |
      (BigInt(count!) << 1n) |
      (BigInt(groups!) << BigInt(1 + countBits)) |
      (BigInt(clear!) << BigInt(1 + countBits + groupBits)) |
      (BigInt(drain!) << BigInt(2 + countBits + groupBits));
    lines.push(v.toString(16));
  }
  return { text: lines.join("\n") + "\n", bits };
}

export interface IcarusRun {
  readonly cycles: number;
  readonly results: Uint32Array;
}

/** Runs the engine's RTL in Icarus Verilog on the same streams the Verilator host uses. */
export async function runIcarus(geo: EngineGeometry, s: HostStreams): Promise<IcarusRun> {
  const dir = mkdtempSync(join(tmpdir(), "trilut-icarus-"));
  try {
    const rtl = generateRtl(geo);
    for (const f of rtl) writeFileSync(join(dir, f.name), f.content);
    const { countBits, groupBits } = commandWidths(geo);
    const cmd = commandHex(geo, s.commands);
    writeFileSync(join(dir, "cmds.hex"), cmd.text);
    writeFileSync(join(dir, "weights.hex"), hexLines(s.weights, s.weightWords, geo.weightBeatBits));
    writeFileSync(join(dir, "acts.hex"), hexLines(s.acts, s.actWords, geo.actBeatBits));
    const beats = (data: Uint32Array, words: number): number => data.length / words;
    const tb = renderTemplate("sim/tb_icarus.v.hbs", {
      version: packageVersion(),
      cmdBits: cmd.bits,
      countBits,
      groupBits,
      cmdCount: beats(s.commands, COMMAND_WORDS),
      cmdDepth: Math.max(1, beats(s.commands, COMMAND_WORDS)),
      weightBits: geo.weightBeatBits,
      weightCount: beats(s.weights, s.weightWords),
      weightDepth: Math.max(1, beats(s.weights, s.weightWords)),
      actBits: geo.actBeatBits,
      actCount: beats(s.acts, s.actWords),
      actDepth: Math.max(1, beats(s.acts, s.actWords)),
      resultBits: geo.resultBeatBits,
      resultCount: s.resultBeats,
      maxCycles: 10_000_000,
    });
    writeFileSync(join(dir, "tb.v"), tb);
    try {
      await execFileAsync("iverilog", ["-g2005", "-o", join(dir, "tb.vvp"), "-s", "tb", join(dir, "tb.v"), ...rtl.map((f) => join(dir, f.name))]);
    } catch (err) {
      const e = err as { code?: string; stderr?: string };
      if (e.code === "ENOENT") throw new UserError("iverilog not found: apt-get install -y iverilog");
      throw new Error(`iverilog rejected the design:\n${e.stderr ?? ""}`);
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
        throw new Error("Icarus simulation timed out");
      }
    }
    if (cycles < 0 || beat !== s.resultBeats) throw new Error(`Icarus run ended early: ${beat}/${s.resultBeats} result beats`);
    return { cycles, results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
