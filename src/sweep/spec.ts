import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parseSpecText } from "../util/yaml.js";
import { ENGINE_SCHEMA, refuseLoader, type EngineConfig } from "../engine/config.js";
import { compileSchema } from "../util/schema.js";
import { UserError } from "../util/errors.js";
import { FIGURES, type FigureName } from "./figures.js";

/**
 * A sweep spec: a model, budgets, a space of engine parameters (axes), constraints, objectives and
 * a sampler, read from YAML or JSON. `extends: other.yaml` starts from another spec: the child's
 * fields replace the parent's, except `axes` and `engine`, which are merged field by field. Paths
 * (model, budget files, extends) are relative to the file that names them.
 */
export interface SweepSpec {
  /** A model file or checkpoint directory (resolved to an absolute path), or bare dimensions. */
  readonly model: string | ModelDimensions;
  /** Preset names or budget files (absolute paths), in order: an axis of the space. */
  readonly budgets: readonly string[];
  /** Engine fields every point shares (the axes override them). */
  readonly engine: Partial<EngineConfig>;
  /** Axis name to its values, in the spec's order. */
  readonly axes: Readonly<Record<string, readonly AxisValue[]>>;
  readonly constraints: readonly Constraint[];
  readonly objectives: readonly Objective[];
  readonly sampler: Sampler;
  /** Points per chunk: the unit of work, of resuming and of sharding. */
  readonly chunk: number;
}

/** A model described by its dimensions alone, to sweep before a checkpoint exists. */
export interface ModelDimensions {
  readonly hidden: number;
  readonly ffn: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly vocab: number;
  readonly headDim?: number;
  readonly arch: "llama" | "bitnet-b1.58";
  /** Storage type of the ternary matmuls (default TQ2_0) and of the LM head (default F16). */
  readonly weights: string;
  readonly lmHead: string;
  readonly contextLength?: number;
}

/** Points per chunk unless the spec says: big enough that a worker's message costs little, small enough to resume well. */
export const DEFAULT_CHUNK_POINTS = 4096;

export type AxisValue = number | string | boolean;
export type Sampler = { readonly kind: "grid" } | { readonly kind: "random"; readonly count: number; readonly seed: number };
export interface Constraint {
  readonly figure: FigureName;
  readonly min?: number;
  readonly max?: number;
}
export interface Objective {
  readonly figure: FigureName;
  readonly goal: "maximize" | "minimize";
}

/** Axes besides the engine's fields: the point's clock, run mode, prompt and context lengths. */
export const RUN_AXES = {
  clock: { type: "number", exclusiveMinimum: 0, maximum: 1000 },
  mode: { enum: ["decode", "prefill"] },
  prompt: { type: "integer", minimum: 1, maximum: 65535 },
  context: { type: "integer", minimum: 1, maximum: 10000000 },
} as const;

export const RUN_AXIS_DEFAULTS = { mode: "decode", prompt: 128 } as const;

const AXIS_ITEM_SCHEMAS: Readonly<Record<string, object>> = { ...ENGINE_SCHEMA.properties, ...RUN_AXES };
export const AXIS_NAMES: readonly string[] = Object.keys(AXIS_ITEM_SCHEMAS);

/** An axis is a list of values, or (numeric axes) a range from..to by step. */
function axisSchema(item: object): object {
  const numeric = "type" in item && (item.type === "integer" || item.type === "number");
  const list = { type: "array", minItems: 1, items: item };
  if (!numeric) return list;
  const range = {
    type: "object",
    additionalProperties: false,
    required: ["from", "to"],
    properties: { from: item, to: item, step: { type: "number", exclusiveMinimum: 0 } },
  };
  // if/then/else (not oneOf) so a bad range reports the range's own error, not "must be array"
  return { if: { type: "array" }, then: list, else: range };
}

const FIGURE_NAMES = Object.keys(FIGURES);

function specSchema(requireAll: boolean): object {
  return {
    type: "object",
    additionalProperties: false,
    ...(requireAll ? { required: ["model", "budgets", "objectives"] } : {}),
    properties: {
      extends: { type: "string", minLength: 1 },
      model: {
        if: { type: "string" },
        then: { type: "string", minLength: 1 },
        else: {
          type: "object",
          additionalProperties: false,
          required: ["hidden", "ffn", "layers", "heads", "kvHeads", "vocab"],
          properties: {
            hidden: { type: "integer", minimum: 1 },
            ffn: { type: "integer", minimum: 1 },
            layers: { type: "integer", minimum: 1, maximum: 4096 },
            heads: { type: "integer", minimum: 1 },
            kvHeads: { type: "integer", minimum: 1 },
            vocab: { type: "integer", minimum: 1 },
            headDim: { type: "integer", minimum: 1 },
            arch: { enum: ["llama", "bitnet-b1.58"], default: "llama" },
            weights: { enum: ["TQ2_0", "TQ1_0", "I2_S"], default: "TQ2_0" },
            lmHead: { enum: ["F16", "F32", "TQ2_0", "TQ1_0", "I2_S"], default: "F16" },
            contextLength: { type: "integer", minimum: 1 },
          },
        },
      },
      budgets: { type: "array", minItems: 1, items: { type: "string", minLength: 1 } },
      engine: ENGINE_SCHEMA,
      axes: {
        type: "object",
        additionalProperties: false,
        properties: Object.fromEntries(Object.entries(AXIS_ITEM_SCHEMAS).map(([k, s]) => [k, axisSchema(s)])),
      },
      constraints: {
        type: "array",
        items: {
          type: "object",
          additionalProperties: false,
          required: ["figure"],
          minProperties: 2,
          properties: { figure: { enum: FIGURE_NAMES }, min: { type: "number" }, max: { type: "number" } },
        },
      },
      objectives: {
        type: "array",
        minItems: 1,
        items: {
          if: { type: "string" },
          then: { enum: FIGURE_NAMES },
          else: {
            type: "object",
            additionalProperties: false,
            required: ["figure"],
            properties: { figure: { enum: FIGURE_NAMES }, goal: { enum: ["maximize", "minimize"] } },
          },
        },
      },
      chunk: { type: "integer", minimum: 1, maximum: 1000000 },
      sampler: {
        type: "object",
        additionalProperties: false,
        required: ["kind"],
        properties: {
          kind: { enum: ["grid", "random"] },
          count: { type: "integer", minimum: 1 },
          seed: { type: "integer", minimum: 0 },
        },
      },
    },
  };
}

const validatePart = compileSchema<Record<string, unknown>>({ $id: "https://trilut.dev/schema/sweep-part.json", ...specSchema(false) });
const validateWhole = compileSchema<Record<string, unknown>>({ $id: "https://trilut.dev/schema/sweep.json", ...specSchema(true) });

/** Largest number of values a range may expand to (a typo like step 0.0001 should not hang). */
const MAX_RANGE_VALUES = 1_000_000;

function readSpecFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UserError(`${path}: cannot read sweep spec`);
  }
  // YAML 1.2 is a superset of JSON: one parser reads both
  const value = parseSpecText(text, path);
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new UserError(`${path}: /: expected a mapping of spec fields`);
  return value as Record<string, unknown>;
}

/** Makes the paths a spec file names absolute, relative to that file. */
function anchorPaths(raw: Record<string, unknown>, dir: string): Record<string, unknown> {
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(dir, p));
  const out = { ...raw };
  if (typeof out["model"] === "string") out["model"] = at(out["model"]);
  if (Array.isArray(out["budgets"])) {
    // a budget that names a file (has a path separator or ends in .json) is anchored; a preset is not
    out["budgets"] = (out["budgets"] as string[]).map((b) => (/[/\\]|\.json$/i.test(b) ? at(b) : b));
  }
  return out;
}

function merge(parent: Record<string, unknown>, child: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...parent, ...child };
  for (const key of ["axes", "engine"]) {
    if (parent[key] !== undefined && child[key] !== undefined) {
      out[key] = { ...(parent[key] as object), ...(child[key] as object) };
    }
  }
  delete out["extends"];
  return out;
}

function loadMerged(path: string, seen: readonly string[]): Record<string, unknown> {
  const abs = resolve(path);
  if (seen.includes(abs)) throw new UserError(`${path}: /extends: the specs extend each other in a cycle (${[...seen, abs].join(" -> ")})`);
  const raw = validatePart(withoutLoader(readSpecFile(abs), path), path);
  const own = anchorPaths(raw, dirname(abs));
  if (typeof raw["extends"] !== "string") return own;
  const parentPath = resolve(dirname(abs), raw["extends"]);
  return merge(loadMerged(parentPath, [...seen, abs]), own);
}

function expandRange(name: string, r: { from: number; to: number; step?: number }, where: string): number[] {
  const step = r.step ?? 1;
  const integer = "type" in AXIS_ITEM_SCHEMAS[name]! && (AXIS_ITEM_SCHEMAS[name] as { type: string }).type === "integer";
  if (integer && !Number.isInteger(step)) throw new UserError(`${where}: /axes/${name}/step: ${step} must be an integer for an integer axis`);
  if (r.to < r.from) throw new UserError(`${where}: /axes/${name}: the range from ${r.from} to ${r.to} is empty`);
  const count = Math.floor((r.to - r.from) / step + 1e-9) + 1;
  if (count > MAX_RANGE_VALUES) throw new UserError(`${where}: /axes/${name}: the range has ${count} values, at most ${MAX_RANGE_VALUES}`);
  // from + i·step, not repeated addition: no drift on fractional steps
  return Array.from({ length: count }, (_, i) => (integer ? r.from + i * step : Number((r.from + i * step).toPrecision(12))));
}

/** The first value listed twice, in one pass (a range may hold a million values). */
function firstRepeat(values: readonly AxisValue[]): AxisValue | undefined {
  const seen = new Set<AxisValue>();
  for (const v of values) {
    if (seen.has(v)) return v;
    seen.add(v);
  }
  return undefined;
}

/** Reads, merges (`extends`), validates and normalizes a sweep spec. */
export function loadSweepSpec(path: string): SweepSpec {
  return normalizeSpec(loadMerged(path, []), path);
}

/** A spec given as an object (paths already absolute), e.g. the search of `compile --auto`. */
export function sweepSpecOf(value: Record<string, unknown>, where: string): SweepSpec {
  return normalizeSpec(validatePart(withoutLoader(value, where), where), where);
}

/** A spec whose engine or axes still name the removed `loader` is refused as such. */
function withoutLoader(raw: Record<string, unknown>, where: string): Record<string, unknown> {
  if (raw !== null && typeof raw === "object") {
    refuseLoader(raw["engine"], where, "/engine");
    refuseLoader(raw["axes"], where, "/axes");
  }
  return raw;
}

function normalizeSpec(raw: Record<string, unknown>, path: string): SweepSpec {
  const merged = validateWhole(raw, path);
  const axes: Record<string, AxisValue[]> = {};
  for (const [name, v] of Object.entries((merged["axes"] ?? {}) as Record<string, unknown>)) {
    const values = Array.isArray(v) ? (v as AxisValue[]) : expandRange(name, v as { from: number; to: number; step?: number }, path);
    const dup = firstRepeat(values);
    if (dup !== undefined) throw new UserError(`${path}: /axes/${name}: the value ${JSON.stringify(dup)} is listed twice`);
    axes[name] = values;
  }
  const engine = (merged["engine"] ?? {}) as Partial<EngineConfig>;
  for (const name of Object.keys(engine)) {
    if (name in axes) throw new UserError(`${path}: /engine/${name}: also an axis; give it in one place`);
  }
  const objectives = (merged["objectives"] as (string | { figure: FigureName; goal?: Objective["goal"] })[]).map((o): Objective => {
    const figure = (typeof o === "string" ? o : o.figure) as FigureName;
    return { figure, goal: (typeof o === "object" && o.goal) || FIGURES[figure].goal };
  });
  const s = (merged["sampler"] ?? { kind: "grid" }) as { kind: "grid" | "random"; count?: number; seed?: number };
  if (s.kind === "random" && s.count === undefined) throw new UserError(`${path}: /sampler: missing required field "count" (points to draw)`);
  const sampler: Sampler = s.kind === "random" ? { kind: "random", count: s.count!, seed: s.seed ?? 1 } : { kind: "grid" };
  return {
    model: merged["model"] as SweepSpec["model"],
    budgets: merged["budgets"] as string[],
    engine,
    axes,
    constraints: (merged["constraints"] ?? []) as Constraint[],
    objectives,
    sampler,
    chunk: (merged["chunk"] as number | undefined) ?? DEFAULT_CHUNK_POINTS,
  };
}
