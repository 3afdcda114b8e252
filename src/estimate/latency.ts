import { type Budget } from "../budget/budget.js";
import { bytesPerCycle, memoryTiming } from "../budget/memory.js";
import { type EngineGeometry } from "../engine/config.js";
import { type MatmulShape } from "../engine/tiles.js";
import { ROW_SCALES_FOR_TIMING } from "../engine/scales.js";
import { type MatmulWork, type Workload } from "../model/workload.js";
import { UserError } from "../util/errors.js";
import { atEngineClock, describeEngineClock, engineClockMHz, type EngineClock } from "./clock.js";
import { matmulRuns, runsCycles } from "./cycles/closed-form.js";

/**
 * The latency model: decode tokens per second, prefill time and time to first token of a whole
 * model on an engine and a budget. Each ternary matmul costs its exact streaming-engine cycles
 * (the tile runs of ./cycles/closed-form.ts, equal to the event model the simulator is checked
 * against), loading
 * and compute overlapped as the hardware overlaps them. Everything else is counted by bytes
 * against the same memory bandwidth: the KV cache attention reads and writes, and a matmul the
 * engine cannot run (a float LM head), which streams its stored bytes. Matmuls run one after
 * another from an idle engine (no overlap across matmuls), and the norms, RoPE, softmax and
 * activation functions are assumed to hide behind the matmuls: `terms` says so in the output.
 * The engine runs at its own clock (engineClockMHz: the budget's, or the clock estimate when that
 * is lower): cycles are counted against the memory at that clock and turned into seconds at it.
 */
export interface MatmulLatency {
  readonly name: string;
  readonly role: string;
  readonly layer: number | undefined;
  readonly n: number;
  readonly k: number;
  /** How the matmul is costed: on the engine, or by its stored bytes over the memory port. */
  readonly on: "engine" | "memory";
  readonly decodeCycles: number;
}

export interface PhaseLatency {
  readonly matmulCycles: number;
  readonly attentionCycles: number;
  readonly lmHeadCycles: number;
  readonly totalCycles: number;
  readonly seconds: number;
}

export interface LatencyEstimate {
  /** The clock the figures use: clock.mhz. */
  readonly clockMHz: number;
  /**
   * Which clock that is and why: the budget's, or the engine's clock estimate when lower (named
   * apart from `clock`, the full clock estimate `trilut estimate --json` prints beside it).
   */
  readonly clockUsed: EngineClock & { readonly note: string };
  readonly memoryGBps: number;
  readonly contextLength: number;
  readonly decode: PhaseLatency;
  readonly decodeTokensPerSecond: number;
  /** Bandwidth / minimal bytes per token (weights at the engine's index density, LM head, KV cache). */
  readonly roofline: { readonly bytesPerToken: number; readonly tokensPerSecond: number };
  readonly rooflineTokensPerSecond: number;
  /** Decode tokens/s as a share of the roofline. */
  readonly rooflineFraction: number;
  readonly prefill: Record<string, PhaseLatency>;
  readonly ttftSeconds: Record<string, number>;
  readonly layers: MatmulLatency[];
  /** What each figure counts and what it leaves out. */
  readonly terms: string[];
}

export interface LatencyOptions {
  readonly promptLengths: readonly number[];
  readonly contextLength: number;
  /** The model's trained context, when known: a longer context is refused. */
  readonly maxContext?: number | undefined;
}

/**
 * What of a workload the latency model needs, gathered once per model so that a sweep's per-engine
 * call does no work that depends on the model alone: the distinct decoder blocks (identical layers
 * cost the same) and the terms of the roofline.
 */
export interface PreparedWorkload {
  readonly workload: Workload;
  readonly blocks: readonly PreparedBlock[];
  /**
   * Bytes one token must read on an engine of G weights per index of `indexBits` bits: ternary
   * weights at index density, other matmuls as stored, the KV cache. It depends on the engine
   * through (G, indexBits) alone, so each pair is summed once.
   */
  readonly rooflineBytes: (G: number, indexBits: number) => number;
}

export interface PreparedBlock {
  /** The block's ternary matmuls, one descriptor stream on the engine. */
  readonly engine: readonly { readonly n: number; readonly k: number }[];
  /** Stored bytes of the block's other matmuls, streamed over the memory port. */
  readonly memoryBytes: readonly number[];
  /** Decoder blocks with exactly these matmuls. */
  readonly layers: number;
}

const onEngine = (m: MatmulWork): boolean => m.ternary;

export function prepareWorkload(workload: Workload): PreparedWorkload {
  const byLayer = new Map<number | undefined, MatmulWork[]>();
  for (const m of workload.matmuls) {
    if (m.role === "lm_head") continue;
    let ms = byLayer.get(m.layer);
    if (!ms) byLayer.set(m.layer, (ms = []));
    ms.push(m);
  }
  const blocks = new Map<string, PreparedBlock>();
  for (const ms of byLayer.values()) {
    const engine = ms.filter(onEngine).map((m) => ({ n: m.n, k: m.k }));
    const memoryBytes = ms.filter((m) => !onEngine(m)).map((m) => m.bytes);
    const key = `${engine.map((m) => `${m.n}x${m.k}`).join(",")}|${memoryBytes.join(",")}`;
    const seen = blocks.get(key);
    blocks.set(key, { engine, memoryBytes, layers: (seen?.layers ?? 0) + 1 });
  }
  const roofline = new Map<number, number>();
  const rooflineBytes = (G: number, indexBits: number): number => {
    const key = G * 4096 + indexBits;
    let bytes = roofline.get(key);
    if (bytes === undefined) {
      // summed matmul by matmul in workload order, as estimateLatency always has (the same float)
      const indexBytes = (m: MatmulWork): number => (m.weights / G) * (indexBits / 8);
      const att = workload.attention;
      bytes = workload.matmuls.reduce((s, m) => s + (onEngine(m) ? indexBytes(m) : m.bytes), 0) + att.kvBytesRead + att.kvBytesWritten;
      roofline.set(key, bytes);
    }
    return bytes;
  };
  return { workload, blocks: [...blocks.values()], rooflineBytes };
}

/** The figures of a latency estimate, without its text and per-matmul list: what a sweep keeps. */
export interface LatencyFigures {
  /** The clock the cycles count memory at and the seconds are taken at. */
  readonly clock: EngineClock;
  readonly decode: PhaseLatency;
  readonly decodeTokensPerSecond: number;
  /** Per prompt length, in the order given. */
  readonly prefill: readonly PhaseLatency[];
  readonly ttftSeconds: readonly number[];
  readonly rooflineBytesPerToken: number;
  readonly rooflineTokensPerSecond: number;
}

function checkPrompts(promptLengths: readonly number[], maxContext: number | undefined): void {
  for (const p of promptLengths) {
    if (!Number.isInteger(p) || p < 1) throw new UserError(`--prompt ${p}: expected a positive number of tokens`);
    if (maxContext !== undefined && p > maxContext) {
      throw new UserError(`--prompt ${p} is longer than the model's context length ${maxContext}`);
    }
  }
}

/** The shapes the latency model times: a dequantizing engine sweeps each row's scales (ROW_SCALES_FOR_TIMING). */
export function engineShapes(geo: EngineGeometry, ms: readonly { readonly n: number; readonly k: number }[]): MatmulShape[] {
  const scales = geo.cfg.dequant ? ROW_SCALES_FOR_TIMING : undefined;
  return ms.map((m) => ({ n: m.n, k: m.k, scales }));
}

/**
 * Decode and prefill cycles, TTFT and the roofline of a prepared workload on an engine: the lean
 * entry point of design-space sweeps, and the numbers estimateLatency reports.
 */
export function latencyFigures(prepared: PreparedWorkload, geo: EngineGeometry, budget: Budget, promptLengths: readonly number[]): LatencyFigures {
  const clock = engineClockMHz(geo, budget);
  const memory = memoryTiming(atEngineClock(budget, clock));
  const bpc = bytesPerCycle(memory);
  checkPrompts(promptLengths, undefined);
  const { workload } = prepared;
  const memoryCycles = (bytes: number): number => Math.ceil(bytes / bpc);

  // a decoder block's ternary matmuls run as one descriptor stream: the next matmul's first tile
  // loads while the previous one computes; blocks follow one another. The tile runs depend on the
  // engine only, so each block's are found once for every token count.
  const blocks = prepared.blocks.map((b) => ({
    runs: b.engine.length > 0 ? matmulRuns(geo, engineShapes(geo, b.engine)) : undefined,
    memory: b.memoryBytes.reduce((c, bytes) => c + memoryCycles(bytes), 0),
    layers: b.layers,
  }));
  const lm = workload.lmHead;
  // the LM head runs for the last position only: the one whose next token is sampled
  const lmHead = onEngine(lm) ? runsCycles(geo, matmulRuns(geo, engineShapes(geo, [lm])), 1, memory).total : memoryCycles(lm.bytes);
  const seconds = (cycles: number): number => cycles / (clock.mhz * 1e6);
  const phase = (tokens: number, attentionBytes: number): PhaseLatency => {
    let matmul = 0;
    for (const b of blocks) matmul += b.layers * ((b.runs ? runsCycles(geo, b.runs, tokens, memory).total : 0) + b.memory);
    const attention = memoryCycles(attentionBytes);
    const total = matmul + attention + lmHead;
    return { matmulCycles: matmul, attentionCycles: attention, lmHeadCycles: lmHead, totalCycles: total, seconds: seconds(total) };
  };

  const att = workload.attention;
  const decode = phase(1, att.kvBytesRead + att.kvBytesWritten);
  // the prompt's K/V are written once and read once (its queries attend together, flash-style)
  const prefill = promptLengths.map((p) => phase(p, 2 * p * att.kvBytesWritten));

  const rooflineBytes = prepared.rooflineBytes(geo.cfg.G, geo.indexBits);
  return {
    clock,
    decode,
    decodeTokensPerSecond: 1 / decode.seconds,
    prefill,
    ttftSeconds: prefill.map((p) => p.seconds),
    rooflineBytesPerToken: rooflineBytes,
    rooflineTokensPerSecond: (budget.memoryGBps * 1e9) / rooflineBytes,
  };
}

export function estimateLatency(workload: Workload, geo: EngineGeometry, budget: Budget, opts: LatencyOptions): LatencyEstimate {
  if (!Number.isInteger(opts.contextLength) || opts.contextLength < 1) {
    throw new UserError(`--context ${opts.contextLength}: expected a positive number of tokens`);
  }
  if (opts.maxContext !== undefined && opts.contextLength > opts.maxContext) {
    throw new UserError(`--context ${opts.contextLength} is longer than the model's context length ${opts.maxContext}`);
  }
  checkPrompts(opts.promptLengths, opts.maxContext);
  const f = latencyFigures(prepareWorkload(workload), geo, budget, opts.promptLengths);
  const clock = f.clock;
  const memory = memoryTiming(atEngineClock(budget, clock));

  const prefill: Record<string, PhaseLatency> = {};
  const ttftSeconds: Record<string, number> = {};
  opts.promptLengths.forEach((p, i) => {
    prefill[String(p)] = f.prefill[i]!;
    ttftSeconds[String(p)] = f.ttftSeconds[i]!;
  });

  // each matmul alone from an idle engine; identical shapes recur in every layer
  const alone = new Map<string, number>();
  const decodeCycles = (m: MatmulWork): number => {
    if (!onEngine(m)) return Math.ceil(m.bytes / bytesPerCycle(memory));
    const key = `${m.n}x${m.k}`;
    let c = alone.get(key);
    if (c === undefined) {
      c = runsCycles(geo, matmulRuns(geo, engineShapes(geo, [m])), 1, memory).total;
      alone.set(key, c);
    }
    return c;
  };
  const layers: MatmulLatency[] = workload.matmuls.map((m) => ({
    name: m.name,
    role: m.role,
    layer: m.layer,
    n: m.n,
    k: m.k,
    on: onEngine(m) ? "engine" : "memory",
    decodeCycles: decodeCycles(m),
  }));

  const lm = workload.lmHead;
  const clockNote = `latency ${describeEngineClock(clock)}`;
  return {
    clockMHz: clock.mhz,
    clockUsed: { ...clock, note: clockNote },
    memoryGBps: budget.memoryGBps,
    contextLength: opts.contextLength,
    decode: f.decode,
    decodeTokensPerSecond: f.decodeTokensPerSecond,
    roofline: { bytesPerToken: f.rooflineBytesPerToken, tokensPerSecond: f.rooflineTokensPerSecond },
    rooflineTokensPerSecond: f.rooflineTokensPerSecond,
    rooflineFraction: f.decodeTokensPerSecond / f.rooflineTokensPerSecond,
    prefill,
    ttftSeconds,
    layers,
    terms: [
      `clock: ${clockNote}`,
      `matmul: every ternary matmul on the engine, exact cycles of its tiles (weights streamed at ${budget.memoryGBps} GB/s, loads overlapped with compute); a block's matmuls run as one descriptor stream, blocks one after another; layers[].decodeCycles is each matmul alone from an idle engine`,
      `attention: KV cache traffic at f16 over the same bandwidth (decode: read ${opts.contextLength} positions and write one; prefill: write and read the prompt's once)`,
      lm.ternary
        ? `lmHead: ${lm.name} (${lm.n}×${lm.k}, ternary) on the engine, for the sampled position only`
        : `lmHead: ${lm.name} (${lm.type}, ${lm.bytes.toLocaleString("en-US")} bytes) streamed over the memory port, for the sampled position only`,
      "not counted: norms, RoPE, softmax, activation functions and activation quantization (on-chip, assumed hidden behind the matmuls)",
      `roofline: ${budget.memoryGBps} GB/s over the bytes one token must read (ternary weights at ${geo.indexBits} bits per ${geo.cfg.G} weights, the LM head as stored, the KV cache)`,
    ],
  };
}
