import { statSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { describeArchitecture, type ModelArchitecture } from "../model/architecture.js";
import { withModel } from "../model/open.js";
import { defaultContextLength, modelWorkload, type Workload } from "../model/workload.js";
import { UserError } from "../util/errors.js";
import { type ModelDimensions } from "./spec.js";

/**
 * The model side of a sweep: its architecture and its workload at each context length the space
 * asks for, read once in the main thread (workers get plain copies), so evaluating a point never
 * touches the model file.
 */
export interface SweepModel {
  readonly architecture: ModelArchitecture;
  /** The workload at context length 1: workloadAt gives it at any other. */
  readonly unitWorkload: Workload;
  /** The context a point without a context axis uses: the model's, at most 1024 (like `estimate`). */
  readonly defaultContext: number;
  /** What identifies the model in a spec hash: a file's name and size (not its path), or its dimensions. */
  readonly identity: unknown;
}

export function loadSweepModel(model: string | ModelDimensions, contexts: readonly number[] | undefined): SweepModel {
  if (typeof model === "string") {
    return withModel(model, (m) => {
      const architecture = describeArchitecture(m);
      const tensors = m.listTensors();
      const make = (contextLength: number): Workload => modelWorkload(architecture, tensors, { contextLength });
      return finish(architecture, make, contexts, { file: basename(model), bytes: pathBytes(model) });
    });
  }
  const d = model;
  if (d.hidden % d.heads !== 0 && d.headDim === undefined) throw new UserError(`model: /model/heads: ${d.heads} does not divide hidden ${d.hidden}; give headDim`);
  if (d.heads % d.kvHeads !== 0) throw new UserError(`model: /model/kvHeads: ${d.kvHeads} does not divide heads ${d.heads}`);
  const bitnet = d.arch === "bitnet-b1.58";
  const architecture: ModelArchitecture = {
    name: d.arch,
    source: "given",
    dimensions: { hidden: d.hidden, ffn: d.ffn, layers: d.layers, heads: d.heads, kvHeads: d.kvHeads, headDim: d.headDim ?? d.hidden / d.heads, vocab: d.vocab },
    tiedEmbeddings: bitnet,
    activation: bitnet ? "relu2" : "silu",
    subNorms: bitnet,
    contextLength: d.contextLength,
  };
  const make = (contextLength: number): Workload =>
    modelWorkload(architecture, [], { contextLength, assumeType: d.weights, assumeLmHeadType: d.lmHead });
  return finish(architecture, make, contexts, d);
}

function finish(
  architecture: ModelArchitecture,
  make: (contextLength: number) => Workload,
  contexts: readonly number[] | undefined,
  identity: unknown,
): SweepModel {
  const defaultContext = defaultContextLength(architecture);
  const max = architecture.contextLength;
  // every length checked, none built: a range may hold a million, and one workload serves them all
  for (const c of contexts ?? []) {
    if (max !== undefined && c > max) throw new UserError(`/axes/context: ${c} is longer than the model's context length ${max}`);
  }
  return { architecture, unitWorkload: make(1), defaultContext, identity };
}

/**
 * The workload at context length `context`, from the one at length 1: only attention depends on
 * the context, and linearly (every KV entry read once, one multiply-add and exponential per entry),
 * so a sweep over a million context lengths needs no million workloads.
 */
export function workloadAt(unit: Workload, context: number): Workload {
  const a = unit.attention;
  const kvBytesRead = a.kvBytesRead * context;
  return {
    ...unit,
    attention: { ...a, contextLength: context, kvBytesRead, multiplyAdds: a.multiplyAdds * context, exponentials: a.exponentials * context },
    totals: { ...unit.totals, bytesPerTokenWithKv: unit.totals.bytesPerToken + kvBytesRead },
  };
}

/** Bytes of a model file, or of the files of a checkpoint directory. */
function pathBytes(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path)
    .map((f) => statSync(join(path, f)))
    .filter((s) => s.isFile())
    .reduce((sum, s) => sum + s.size, 0);
}
