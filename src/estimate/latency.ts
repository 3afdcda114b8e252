import { type Budget } from "../budget/budget.js";
import { bytesPerCycle, memoryTiming } from "../budget/memory.js";
import { type EngineGeometry } from "../engine/config.js";
import { planMatmuls } from "../engine/tiles.js";
import { ROW_SCALES_FOR_TIMING } from "../engine/scales.js";
import { type MatmulWork, type Workload } from "../model/workload.js";
import { UserError } from "../util/errors.js";
import { streamCycles } from "./stream-cycles.js";

/**
 * The latency model: decode tokens per second, prefill time and time to first token of a whole
 * model on an engine and a budget. Each ternary matmul costs its exact streaming-engine cycles
 * (tile plan + stream-cycles model, the same model the simulator is checked against), loading
 * and compute overlapped as the hardware overlaps them. Everything else is counted by bytes
 * against the same memory bandwidth: the KV cache attention reads and writes, and a matmul the
 * engine cannot run (a float LM head), which streams its stored bytes. Matmuls run one after
 * another from an idle engine (no overlap across matmuls), and the norms, RoPE, softmax and
 * activation functions are assumed to hide behind the matmuls: `terms` says so in the output.
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
  readonly clockMHz: number;
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

export function estimateLatency(workload: Workload, geo: EngineGeometry, budget: Budget, opts: LatencyOptions): LatencyEstimate {
  const memory = memoryTiming(budget);
  const bpc = bytesPerCycle(memory);
  if (!Number.isInteger(opts.contextLength) || opts.contextLength < 1) {
    throw new UserError(`--context ${opts.contextLength}: expected a positive number of tokens`);
  }
  if (opts.maxContext !== undefined && opts.contextLength > opts.maxContext) {
    throw new UserError(`--context ${opts.contextLength} is longer than the model's context length ${opts.maxContext}`);
  }
  for (const p of opts.promptLengths) {
    if (!Number.isInteger(p) || p < 1) throw new UserError(`--prompt ${p}: expected a positive number of tokens`);
    if (opts.maxContext !== undefined && p > opts.maxContext) {
      throw new UserError(`--prompt ${p} is longer than the model's context length ${opts.maxContext}`);
    }
  }

  // identical shapes recur in every layer: cost each stream of (n, k) shapes once per token count
  const cache = new Map<string, number>();
  const engineCycles = (shapes: readonly MatmulWork[], tokens: number): number => {
    const key = `${shapes.map((m) => `${m.n}x${m.k}`).join(",")}@${tokens}`;
    let c = cache.get(key);
    if (c === undefined) {
      // a dequantizing engine applies each matmul's scale in a sweep after its last step
      const scales = geo.cfg.dequant ? ROW_SCALES_FOR_TIMING : undefined;
      c = streamCycles(geo, planMatmuls(geo, shapes.map((m) => ({ n: m.n, k: m.k, scales })), tokens), memory).total;
      cache.set(key, c);
    }
    return c;
  };
  const onEngine = (m: MatmulWork): boolean => m.ternary;
  const memoryCycles = (bytes: number): number => Math.ceil(bytes / bpc);
  const matmulCycles = (m: MatmulWork, tokens: number): number => (onEngine(m) ? engineCycles([m], tokens) : memoryCycles(m.bytes));
  // a decoder block's ternary matmuls run as one descriptor stream: the next matmul's first tile
  // loads while the previous one computes; blocks follow one another
  const layerIds = [...new Set(workload.matmuls.filter((m) => m.role !== "lm_head").map((m) => m.layer))];
  const blockCycles = (layer: number | undefined, tokens: number): number => {
    const ms = workload.matmuls.filter((m) => m.role !== "lm_head" && m.layer === layer);
    const engine = ms.filter(onEngine);
    return (engine.length > 0 ? engineCycles(engine, tokens) : 0) + ms.filter((m) => !onEngine(m)).reduce((c, m) => c + memoryCycles(m.bytes), 0);
  };

  const seconds = (cycles: number): number => cycles / (budget.clockMHz * 1e6);
  const phase = (tokens: number, attentionBytes: number): PhaseLatency => {
    const matmul = layerIds.reduce<number>((c, layer) => c + blockCycles(layer, tokens), 0);
    // the LM head runs for the last position only: the one whose next token is sampled
    const lmHead = matmulCycles(workload.lmHead, 1);
    const attention = memoryCycles(attentionBytes);
    const total = matmul + attention + lmHead;
    return { matmulCycles: matmul, attentionCycles: attention, lmHeadCycles: lmHead, totalCycles: total, seconds: seconds(total) };
  };

  const att = workload.attention;
  const perPositionKv = att.kvBytesWritten; // K and V of one position, every layer
  const decode = phase(1, att.kvBytesRead + att.kvBytesWritten);
  const prefill: Record<string, PhaseLatency> = {};
  const ttftSeconds: Record<string, number> = {};
  for (const p of opts.promptLengths) {
    // the prompt's K/V are written once and read once (its queries attend together, flash-style)
    prefill[String(p)] = phase(p, 2 * p * perPositionKv);
    ttftSeconds[String(p)] = prefill[String(p)]!.seconds;
  }

  const indexBytes = (m: MatmulWork): number => (m.weights / geo.cfg.G) * (geo.indexBits / 8);
  const rooflineBytes =
    workload.matmuls.reduce((s, m) => s + (onEngine(m) ? indexBytes(m) : m.bytes), 0) + att.kvBytesRead + att.kvBytesWritten;
  const rooflineTokensPerSecond = (budget.memoryGBps * 1e9) / rooflineBytes;
  const decodeTokensPerSecond = 1 / decode.seconds;

  const layers: MatmulLatency[] = workload.matmuls.map((m) => ({
    name: m.name,
    role: m.role,
    layer: m.layer,
    n: m.n,
    k: m.k,
    on: onEngine(m) ? "engine" : "memory",
    decodeCycles: matmulCycles(m, 1),
  }));

  const lm = workload.lmHead;
  return {
    clockMHz: budget.clockMHz,
    memoryGBps: budget.memoryGBps,
    contextLength: opts.contextLength,
    decode,
    decodeTokensPerSecond,
    roofline: { bytesPerToken: rooflineBytes, tokensPerSecond: rooflineTokensPerSecond },
    rooflineTokensPerSecond,
    rooflineFraction: decodeTokensPerSecond / rooflineTokensPerSecond,
    prefill,
    ttftSeconds,
    layers,
    terms: [
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
