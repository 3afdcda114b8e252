import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type EngineGeometry } from "../engine/config.js";
import { type TilePlan } from "../engine/tiles.js";
import { checkStream, descriptorStream, type EngineMatmul, type MatmulCheck } from "./simulate.js";
import { SimulationError } from "../util/errors.js";
import { buildHls } from "./hls-build.js";

const execFileAsync = promisify(execFile);

export interface HlsSimulateOptions {
  /** Tokens (rows of each x). */
  tokens?: number;
}

/** Matmuls through the HLS engine built with g++ (C simulation), each checked against the reference. */
export interface HlsResult {
  readonly match: boolean;
  readonly mismatches: number;
  readonly matmuls: MatmulCheck[];
  readonly tiles: TilePlan;
  readonly tokens: number;
  /** Seconds spent building the engine (or finding it in the cache), and running it. */
  readonly compileSeconds: number;
  readonly cached: boolean;
  readonly runSeconds: number;
}

function bytes(words: Uint32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

/**
 * Runs matmuls back to back through the HLS engine as one descriptor stream, on exactly the
 * inputs the RTL simulation gets (the same descriptors, activation beats and memory image), and
 * checks every output against the reference (the kernel, then the dequantization for scaled
 * matmuls). ws[i] and xs[i] (tokens × k int8) are matmul i's weights and inputs. Throws
 * SimulationError when the engine's testbench fails.
 */
export async function simulateMatmulsHls(
  geo: EngineGeometry,
  ws: readonly EngineMatmul[],
  xs: readonly Int8Array[],
  options: HlsSimulateOptions = {},
): Promise<HlsResult> {
  const tokens = options.tokens ?? 1;
  const stream = descriptorStream(geo, ws, xs, tokens);
  const { tiles, streams } = stream;
  const built = await buildHls(geo);
  const dir = mkdtempSync(join(tmpdir(), "trilut-hls-"));
  let results: Uint32Array;
  let runSeconds: number;
  try {
    const files = ["descriptors.bin", "acts.bin", "image.bin", "results.bin"].map((f) => join(dir, f));
    writeFileSync(files[0]!, bytes(streams.descriptors));
    writeFileSync(files[1]!, bytes(streams.acts));
    writeFileSync(files[2]!, bytes(streams.image));
    const started = performance.now();
    try {
      await execFileAsync(built.exePath, files, { maxBuffer: 64 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new SimulationError(`the HLS engine's C simulation failed: ${(e.stderr ?? "").trim() || e.message}`);
    }
    runSeconds = (performance.now() - started) / 1000;
    const raw = readFileSync(files[3]!);
    results = new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (results.length !== streams.resultBeats * streams.resultWords) {
    throw new SimulationError(`the HLS engine wrote ${results.length} result words, expected ${streams.resultBeats * streams.resultWords}`);
  }
  const matmuls = checkStream(geo, stream, results);
  return {
    match: matmuls.every((m) => m.match),
    mismatches: matmuls.reduce((sum, m) => sum + m.mismatches, 0),
    matmuls,
    tiles,
    tokens,
    compileSeconds: built.compileSeconds,
    cached: built.cached,
    runSeconds,
  };
}
