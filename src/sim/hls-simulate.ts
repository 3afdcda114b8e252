import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type AxiStreams } from "../engine/streams.js";
import { SimulationError } from "../util/errors.js";
import { onlyOnVerilator, type BackendRun, type SimBackend } from "./backend.js";
import { buildHls } from "./hls-build.js";

const execFileAsync = promisify(execFile);

function bytes(words: Uint32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

/**
 * The HLS engine built with g++ (C simulation), run on exactly the inputs the RTL simulation gets
 * (the same descriptors, activation beats and memory image). Not cycle-accurate: the C simulation
 * runs the engine's dataflow without a clock, so its runs have results but no cycles, and it
 * neither stalls its streams nor writes waveforms. Throws SimulationError when the testbench fails.
 */
export const hlsBackend: SimBackend = {
  name: "hls",
  cycleAccurate: false,
  async build(geo, options) {
    onlyOnVerilator(options, {
      backpressure: "the HLS backend's C simulation has no handshakes to stall",
      waveform: "the HLS backend is a C simulation and has none",
    });
    const built = await buildHls(geo);
    return {
      buildSeconds: built.compileSeconds,
      cached: built.cached,
      run: (streams) => runHls(built.exePath, streams),
    };
  },
};

async function runHls(exePath: string, streams: AxiStreams): Promise<BackendRun> {
  const dir = mkdtempSync(join(tmpdir(), "trilut-hls-"));
  let results: Uint32Array;
  let simSeconds: number;
  try {
    const files = ["descriptors.bin", "acts.bin", "image.bin", "results.bin"].map((f) => join(dir, f));
    writeFileSync(files[0]!, bytes(streams.descriptors));
    writeFileSync(files[1]!, bytes(streams.acts));
    writeFileSync(files[2]!, bytes(streams.image));
    const started = performance.now();
    try {
      await execFileAsync(exePath, files, { maxBuffer: 64 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new SimulationError(`the HLS engine's C simulation failed: ${(e.stderr ?? "").trim() || e.message}`);
    }
    simSeconds = (performance.now() - started) / 1000;
    const raw = readFileSync(files[3]!);
    results = new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (results.length !== streams.resultBeats * streams.resultWords) {
    throw new SimulationError(`the HLS engine wrote ${results.length} result words, expected ${streams.resultBeats * streams.resultWords}`);
  }
  return { results, cycles: undefined, bytesRead: undefined, simSeconds };
}
