import { compileSchema } from "../util/schema.js";
import { UserError } from "../util/errors.js";
import { type Encoding, encodeGroupValue, entryAddressBits, entryBits, entryPattern, indexBits, tableEntries, ceilLog2 } from "./encoding.js";

/**
 * Everything that shapes the generated engine. One validated object generates the RTL parameters,
 * the weight packing, the schedule and the cycle model, so none of them can drift apart.
 */
export interface EngineConfig {
  /**
   * tlmm: the table-lookup engine. baseline: the same engine without tables, each weight adding
   * or subtracting its activation in an adder tree of T·G inputs (2-bit trit codes in the buffer),
   * for comparisons at equal weights per cycle.
   */
  kind: "tlmm" | "baseline";
  /** Activations per group (one table per group). */
  G: number;
  encoding: Encoding;
  /** Tables read in parallel per output row per cycle (groups per step). */
  T: number;
  /** Output rows per cycle: readers of every table, and banks of the weight buffer. */
  P: number;
  /** 72-bit URAM288 words cascaded for the width of one bank word (T index fields). */
  c: number;
  /** Activation bits (int8). */
  actBits: number;
  /** Words per weight-buffer bank (URAM288 is 4096 deep). */
  bufferDepth: number;
  /** Largest row count one pass holds partial sums for (int32 per row, in block RAM). */
  maxRows: number;
  /** Weight buffer memory: UltraRAM, or block RAM on parts without it. */
  weightMemory: "uram" | "bram";
  /** Adder-tree levels between pipeline registers. */
  treeLevelsPerStage: number;
  /** AXI read data width in bits: weights stream from off-chip memory into ping-pong buffer halves. */
  memBits: number;
  /** Longest burst in beats, and bursts in flight. */
  maxBurst: number;
  maxOutstanding: number;
  /** A dequantization stage applying row scales, two trit-planes and offsets. */
  dequant: boolean;
}

export const DEFAULT_ENGINE: EngineConfig = {
  kind: "tlmm",
  G: 3,
  encoding: "full",
  T: 28,
  P: 16,
  c: 2,
  actBits: 8,
  bufferDepth: 4096,
  maxRows: 8192,
  weightMemory: "uram",
  treeLevelsPerStage: 2,
  memBits: 1024,
  maxBurst: 32,
  maxOutstanding: 8,
  dequant: false,
};

export const ENGINE_SCHEMA = {
  $id: "https://trilut.dev/schema/engine.json",
  type: "object",
  additionalProperties: false,
  properties: {
    kind: { enum: ["tlmm", "baseline"] },
    G: { type: "integer", minimum: 2, maximum: 5 },
    encoding: { enum: ["full", "mirrored"] },
    T: { type: "integer", minimum: 1, maximum: 256 },
    P: { type: "integer", minimum: 1, maximum: 256 },
    c: { type: "integer", minimum: 1, maximum: 16 },
    actBits: { const: 8 },
    bufferDepth: { type: "integer", minimum: 2, maximum: 1048576 },
    maxRows: { type: "integer", minimum: 1, maximum: 1048576 },
    weightMemory: { enum: ["uram", "bram"] },
    treeLevelsPerStage: { type: "integer", minimum: 1, maximum: 16 },
    memBits: { enum: [128, 256, 512, 1024, 2048, 4096] },
    maxBurst: { type: "integer", minimum: 1, maximum: 256 },
    maxOutstanding: { type: "integer", minimum: 1, maximum: 64 },
    dequant: { type: "boolean" },
  },
} as const;

const validateEngineShape = compileSchema<Partial<EngineConfig>>(ENGINE_SCHEMA);

/** Validates a (partial) engine description over the defaults, with checks a schema cannot express. */
export function resolveEngine(partial: unknown, where: string): EngineConfig {
  refuseLoader(partial, where);
  const given = validateEngineShape(partial, where);
  const cfg: EngineConfig = { ...DEFAULT_ENGINE, ...given };
  if (given.c === undefined) cfg.c = widthFor(cfg);
  checkEngine(cfg, where);
  return cfg;
}

/**
 * The `loader` field chose between two engines until the preloaded one was removed: name it as
 * such rather than as an unknown field, so an old engine file (or a sweep spec's engine or axes,
 * at JSON pointer `at`) says what changed.
 */
export function refuseLoader(partial: unknown, where: string, at = ""): void {
  if (partial !== null && typeof partial === "object" && Object.hasOwn(partial, "loader")) {
    throw new UserError(`${where}: ${at}/loader: the preload engine was removed and the streaming engine is the only one; drop "loader"`);
  }
}

/**
 * c when the engine does not give it: the default, or more URAM words when T indices need them
 * (so `--set G=4` alone builds an engine rather than asking for c). An engine that gives c keeps it.
 */
export function widthFor(cfg: EngineConfig): number {
  return Math.min(ENGINE_SCHEMA.properties.c.maximum, Math.max(DEFAULT_ENGINE.c, Math.ceil((cfg.T * groupIndexBits(cfg)) / 72)));
}

/**
 * The checks a schema cannot express, on a config whose fields are already in range: what
 * resolveEngine adds to the schema, and all a sweep that builds configs from typed values needs.
 * Returns the first problem as "/field: why", or undefined; no exception, so a sweep that meets
 * thousands of unbuildable engines a second does not pay for stack traces.
 */
export function engineProblem(cfg: EngineConfig): string | undefined {
  const ib = groupIndexBits(cfg);
  if (cfg.T * ib > 72 * cfg.c) {
    return (
      `/T: ${cfg.T} groups × ${ib}-bit ${cfg.kind === "baseline" ? "trit codes" : "indices"} = ${cfg.T * ib} bits do not fit c = ${cfg.c} URAM words ` +
      `(${72 * cfg.c} bits); raise c to ${Math.ceil((cfg.T * ib) / 72)} or lower T to ${Math.floor((72 * cfg.c) / ib)}`
    );
  }
  if (cfg.maxBurst * (cfg.memBits / 8) > 4096) {
    return `/maxBurst: ${cfg.maxBurst} beats of ${cfg.memBits / 8} bytes cross AXI's 4 KB boundary; at most ${4096 / (cfg.memBits / 8)}`;
  }
  if (cfg.dequant && cfg.T * ib < 32) {
    return `/dequant: scale words need 32 bits of a bank word, which has T·indexBits = ${cfg.T * ib}`;
  }
  if (cfg.bufferDepth % 2 !== 0) {
    return `/bufferDepth: ${cfg.bufferDepth} cannot be split into two equal halves`;
  }
  if (cfg.weightMemory === "uram" && cfg.bufferDepth % 4096 !== 0) {
    return `/bufferDepth: ${cfg.bufferDepth} is not a whole number of URAM288 depths (4096)`;
  }
  return undefined;
}

/** engineProblem as a UserError at `where`. */
export function checkEngine(cfg: EngineConfig, where: string): void {
  const problem = engineProblem(cfg);
  if (problem !== undefined) throw new UserError(`${where}: ${problem}`);
}

/** Parses `key=value` overrides from the command line into a partial engine object. */
export function parseEngineOverrides(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UserError(`--set ${pair}: expected key=value`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    // Field names are identifiers; anything else (__proto__, constructor) must not reach an object.
    if (key === "loader") refuseLoader({ loader: raw }, `--set ${pair}`);
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key) || !Object.hasOwn(ENGINE_SCHEMA.properties, key)) {
      throw new UserError(`--set ${pair}: unknown engine field "${key}"; fields: ${Object.keys(ENGINE_SCHEMA.properties).join(", ")}`);
    }
    // Any JSON number (1e9, 0.5) is a number, so the schema reports its range rather than its type.
    out[key] = /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw) ? Number(raw) : raw === "true" ? true : raw === "false" ? false : raw;
  }
  return out;
}

/** Sizes every derived quantity of the hardware once, for codegen, packing and the cycle model. */
export interface EngineGeometry {
  readonly cfg: EngineConfig;
  /** Table entries (E) and the bits addressing them. */
  readonly entries: number;
  readonly entryAddressBits: number;
  /** Bits per stored group index. */
  readonly indexBits: number;
  /**
   * The stored index of a group by its balanced-ternary value v (at v + (3^G − 1)/2). Shared by
   * every geometry of the same kind, G and encoding: read it, never write it.
   */
  readonly indexByValue: Uint16Array;
  /** The index of an all-zero group: what padding rows and columns hold. */
  readonly zeroIndex: number;
  /** Bits of a signed table entry (baseline: of a ±activation). */
  readonly entryBits: number;
  /** Activations consumed per step (T·G). */
  readonly stepActivations: number;
  /** Bits of one bank word (T indices) and of one weight beat (P bank words). */
  readonly bankWordBits: number;
  /** Bits of one activation beat (T·G int8) and of one result beat (P int32). */
  readonly actBeatBits: number;
  readonly resultBeatBits: number;
  /** Row groups the partial-sum memory holds (ceil(maxRows / P)). */
  readonly maxGroups: number;
  /** Adder-tree levels and the pipeline registers they take. */
  readonly treeLevels: number;
  readonly treeStages: number;
  /** Weights consumed per cycle at full rate. */
  readonly weightsPerCycle: number;
  /** 72-bit buffer columns (P·c), and column words per memory beat. */
  readonly columns: number;
  readonly slotsPerBeat: number;
  readonly beatBytes: number;
  /** Words per bank in one half of the buffer: the largest tile. */
  readonly halfDepth: number;
}

/** Bits per group of G weights in the weight buffer: a table index, or G 2-bit trit codes. */
function groupIndexBits(cfg: EngineConfig): number {
  return cfg.kind === "baseline" ? 2 * cfg.G : indexBits(cfg.G, cfg.encoding);
}

/** A baseline group's stored bits: trit i as a 2-bit code at bits [2i, 2i+2): 01 = +1, 10 = −1. */
function tritCodes(trits: readonly number[]): number {
  return trits.reduce((acc, t, i) => acc | ((t > 0 ? 1 : t < 0 ? 2 : 0) << (2 * i)), 0);
}

/**
 * The index of each group value, per kind, G and encoding: shared by every geometry of the same
 * three (a sweep builds thousands of geometries, and the table is the costliest part of one).
 */
const indexTables = new Map<string, Uint16Array>();

function indexTable(cfg: EngineConfig): Uint16Array {
  const baseline = cfg.kind === "baseline";
  const key = `${cfg.kind}/${cfg.G}/${baseline ? "" : cfg.encoding}`;
  let table = indexTables.get(key);
  if (!table) {
    const half = (3 ** cfg.G - 1) / 2;
    table = Uint16Array.from({ length: 3 ** cfg.G }, (_, i) =>
      baseline ? tritCodes(entryPattern(i, cfg.G, "full")) : encodeGroupValue(i - half, cfg.G, cfg.encoding),
    );
    indexTables.set(key, table);
  }
  return table;
}

export function engineGeometry(cfg: EngineConfig): EngineGeometry {
  const baseline = cfg.kind === "baseline";
  // a baseline lane sums T·G signed activations; a table-lookup lane T table entries
  const treeLevels = ceilLog2(baseline ? cfg.T * cfg.G : cfg.T);
  const bankWordBits = cfg.T * groupIndexBits(cfg);
  const half = (3 ** cfg.G - 1) / 2;
  const indexByValue = indexTable(cfg);
  return {
    cfg,
    // the baseline "builds" a step by latching its activations: a one-cycle build, like a 1-entry table
    entries: baseline ? 1 : tableEntries(cfg.G, cfg.encoding),
    entryAddressBits: baseline ? 1 : entryAddressBits(cfg.G, cfg.encoding),
    indexBits: groupIndexBits(cfg),
    entryBits: baseline ? cfg.actBits + 1 : entryBits(cfg.G, cfg.actBits),
    indexByValue,
    zeroIndex: indexByValue[half]!,
    stepActivations: cfg.T * cfg.G,
    bankWordBits,
    actBeatBits: cfg.T * cfg.G * cfg.actBits,
    resultBeatBits: cfg.P * 32,
    maxGroups: Math.ceil(cfg.maxRows / cfg.P),
    treeLevels,
    treeStages: Math.ceil(treeLevels / cfg.treeLevelsPerStage),
    weightsPerCycle: cfg.P * cfg.T * cfg.G,
    columns: cfg.P * cfg.c,
    slotsPerBeat: Math.min(Math.floor(cfg.memBits / 72), cfg.P * cfg.c),
    beatBytes: cfg.memBits / 8,
    halfDepth: cfg.bufferDepth / 2,
  };
}
