/**
 * The work one decoded token costs: every matmul of a decoder block and of the whole model (with
 * its size, storage format and scale structure), the non-matmul work (RMSNorms, attention over a KV
 * cache), and the totals that bound decode speed (weights and bytes streamed per token).
 */
import { UserError } from "../util/errors.js";
import type { ModelArchitecture } from "./architecture.js";
import { ggmlTypeByName } from "./ggml-types.js";
import type { ModelTensorListing } from "./reader.js";

export type MatmulRole = "q" | "k" | "v" | "o" | "gate" | "up" | "down" | "lm_head";
export const BLOCK_ROLES = ["q", "k", "v", "o", "gate", "up", "down"] as const;

/** Per-tensor: one scale (I2_S, HF weight_scale); per-block: one per 256 weights (TQ1_0/TQ2_0). */
export type ScaleStructure = "per-tensor" | "per-block" | "none";

export interface MatmulWork {
  readonly name: string;
  readonly role: MatmulRole;
  /** Decoder block index; undefined for the LM head. */
  readonly layer: number | undefined;
  /** Output rows. */
  readonly n: number;
  /** Input columns. */
  readonly k: number;
  readonly weights: number;
  /** Storage type name as the file states it, e.g. "TQ2_0", "I2_S", "F16". */
  readonly type: string;
  readonly ternary: boolean;
  readonly scale: ScaleStructure;
  /** Bytes streamed for this matmul (the tensor's stored size). */
  readonly bytes: number;
}

export interface AttentionWork {
  readonly contextLength: number;
  /** K and V cache bytes read per token over all layers. */
  readonly kvBytesRead: number;
  /** K and V bytes appended per token over all layers. */
  readonly kvBytesWritten: number;
  /** Q·Kᵀ plus softmax·V multiply-adds per token over all layers. */
  readonly multiplyAdds: number;
  /** Softmax exponentials per token (heads · context · layers). */
  readonly exponentials: number;
}

export interface NormWork {
  /** RMSNorms per token (per layer 2, plus 2 sub-norms in BitNet, plus the final norm). */
  readonly count: number;
  /** Elements normalized per token. */
  readonly elements: number;
}

export interface WorkloadTotals {
  /** Matmuls per token, LM head included. */
  readonly matmulsPerToken: number;
  readonly ternaryMatmulsPerToken: number;
  /** Ternary matmul weights one token passes through (the decoder blocks' linear layers). */
  readonly weightsPerToken: number;
  /** Weights of the LM head (vocab · hidden). */
  readonly lmHeadWeights: number;
  /** Weight bytes streamed per token at each tensor's stored density, LM head included. */
  readonly bytesPerToken: number;
  /** Of bytesPerToken, the ternary matmuls' share. */
  readonly ternaryBytesPerToken: number;
  /** bytesPerToken plus the KV cache read. */
  readonly bytesPerTokenWithKv: number;
}

export interface Workload {
  readonly architecture: string;
  /** Matmuls of decoder block 0 in execution order. */
  readonly block: readonly MatmulWork[];
  /** Every matmul of the model in execution order: blocks, then the LM head. */
  readonly matmuls: readonly MatmulWork[];
  readonly lmHead: MatmulWork;
  readonly norms: NormWork;
  readonly attention: AttentionWork;
  readonly totals: WorkloadTotals;
}

export interface WorkloadOptions {
  /** Tokens in the KV cache the token attends over. */
  readonly contextLength: number;
  /** Bytes per cached K/V element (default 2, f16). */
  readonly kvBytesPerElement?: number;
  /**
   * Storage type assumed for matmul tensors the listing lacks (to size a model from its
   * architecture alone); without it a missing tensor is a UserError.
   */
  readonly assumeType?: string;
  /** Storage type assumed for a missing LM head (default F16). */
  readonly assumeLmHeadType?: string;
  /** Tensors whose decoded scale is known to be uniform (e.g. TQ tensors converted from BitNet). */
  readonly uniformScales?: ReadonlySet<string>;
}

const GGUF_ROLE_NAMES: Readonly<Record<(typeof BLOCK_ROLES)[number], string>> = {
  q: "attn_q",
  k: "attn_k",
  v: "attn_v",
  o: "attn_output",
  gate: "ffn_gate",
  up: "ffn_up",
  down: "ffn_down",
};
const HF_ROLE_NAMES: Readonly<Record<(typeof BLOCK_ROLES)[number], string>> = {
  q: "self_attn.q_proj",
  k: "self_attn.k_proj",
  v: "self_attn.v_proj",
  o: "self_attn.o_proj",
  gate: "mlp.gate_proj",
  up: "mlp.up_proj",
  down: "mlp.down_proj",
};

/** The role and layer of a matmul tensor name (GGUF or Hugging Face), or undefined. */
export function matmulRoleOf(name: string): { role: MatmulRole; layer: number | undefined } | undefined {
  if (name === "output.weight" || name === "lm_head.weight") return { role: "lm_head", layer: undefined };
  const gguf = /^blk\.(\d+)\.([a-z_]+)\.weight$/.exec(name);
  const hf = /^model\.layers\.(\d+)\.([a-z_.]+)\.weight$/.exec(name);
  const m = gguf ?? hf;
  if (!m) return undefined;
  const table = gguf ? GGUF_ROLE_NAMES : HF_ROLE_NAMES;
  const role = BLOCK_ROLES.find((r) => table[r] === m[2]);
  return role ? { role, layer: Number(m[1]) } : undefined;
}

function isTernaryType(type: string): boolean {
  return type === "TQ1_0" || type === "TQ2_0" || type === "I2_S" || type.startsWith("U8");
}

function scaleStructureOf(type: string): ScaleStructure {
  if (type === "TQ1_0" || type === "TQ2_0") return "per-block";
  if (isTernaryType(type)) return "per-tensor";
  return "none";
}

/** Stored bytes of `weights` weights of a type, for tensors sized from the architecture. */
function assumedBytes(type: string, weights: number): number {
  if (type === "I2_S") return weights / 4 + 32;
  const t = ggmlTypeByName(type);
  if (!t) throw new UserError(`cannot size tensors of assumed type ${type}`);
  return (weights / t.blockSize) * t.blockBytes;
}

/** The KV-cache length a decode figure assumes when none is given: the model's, at most 1024. */
export function defaultContextLength(arch: ModelArchitecture): number {
  return Math.min(arch.contextLength ?? 1024, 1024);
}

export function modelWorkload(arch: ModelArchitecture, tensors: readonly ModelTensorListing[], opts: WorkloadOptions): Workload {
  const { hidden, ffn, layers, heads, kvHeads, headDim, vocab } = arch.dimensions;
  const ctx = opts.contextLength;
  if (!Number.isSafeInteger(ctx) || ctx < 0) throw new UserError(`contextLength must be a non-negative integer, got ${ctx}`);
  const kvDim = kvHeads * headDim;
  const qDim = heads * headDim;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const hf = tensors.some((t) => t.name.startsWith("model.layers.")) || (tensors.length > 0 && !tensors.some((t) => t.name.startsWith("blk.")) && arch.source === "hf");
  const shapes: Readonly<Record<(typeof BLOCK_ROLES)[number], readonly [number, number]>> = {
    q: [qDim, hidden],
    k: [kvDim, hidden],
    v: [kvDim, hidden],
    o: [hidden, qDim],
    gate: [ffn, hidden],
    up: [ffn, hidden],
    down: [hidden, ffn],
  };

  const work = (name: string, role: MatmulRole, layer: number | undefined, n: number, k: number, listing: ModelTensorListing | undefined, assume: string | undefined): MatmulWork => {
    const weights = n * k;
    if (!listing) {
      if (assume === undefined) throw new UserError(`the model has no tensor "${name}" (${role} of ${layer === undefined ? "the model" : `block ${layer}`}, ${n} x ${k})`);
      return { name, role, layer, n, k, weights, type: assume, ternary: isTernaryType(assume), scale: scaleStructureOf(assume), bytes: assumedBytes(assume, weights) };
    }
    if (listing.shape[1] !== k || (listing.elements !== weights && listing.elements * 4 !== weights)) {
      throw new UserError(`tensor "${name}" has shape ${listing.dims.join(" x ")}, expected ${n} x ${k} for the ${arch.name} dimensions`);
    }
    const ternary = listing.ternary || isTernaryType(listing.typeName);
    let scale = scaleStructureOf(listing.typeName);
    if (ternary && scale === "per-block" && opts.uniformScales?.has(name)) scale = "per-tensor";
    if (ternary && scale === "none") scale = "per-tensor";
    const bytes = listing.byteLength ?? (isTernaryType(listing.typeName) || ggmlTypeByName(listing.typeName) ? assumedBytesOrZero(listing.typeName, weights) : 0);
    return { name, role, layer, n, k, weights, type: listing.typeName, ternary, scale, bytes };
  };

  const matmuls: MatmulWork[] = [];
  for (let l = 0; l < layers; l++) {
    for (const role of BLOCK_ROLES) {
      const name = hf ? `model.layers.${l}.${HF_ROLE_NAMES[role]}.weight` : `blk.${l}.${GGUF_ROLE_NAMES[role]}.weight`;
      const [n, k] = shapes[role];
      matmuls.push(work(name, role, l, n, k, byName.get(name), opts.assumeType));
    }
  }
  const headName = hf ? "lm_head.weight" : "output.weight";
  const embName = hf ? "model.embed_tokens.weight" : "token_embd.weight";
  const lmName = byName.has(headName) ? headName : arch.tiedEmbeddings && byName.has(embName) ? embName : arch.tiedEmbeddings ? embName : headName;
  const lmHead = work(lmName, "lm_head", undefined, vocab, hidden, byName.get(lmName), opts.assumeLmHeadType ?? (opts.assumeType !== undefined ? "F16" : undefined));
  matmuls.push(lmHead);

  const kvBytes = opts.kvBytesPerElement ?? 2;
  const attention: AttentionWork = {
    contextLength: ctx,
    kvBytesRead: layers * 2 * kvDim * ctx * kvBytes,
    kvBytesWritten: layers * 2 * kvDim * kvBytes,
    multiplyAdds: layers * 2 * qDim * ctx,
    exponentials: layers * heads * ctx,
  };
  const normsPerLayer = 2 + (arch.subNorms ? 2 : 0);
  const norms: NormWork = {
    count: layers * normsPerLayer + 1,
    elements: layers * (2 * hidden + (arch.subNorms ? hidden + ffn : 0)) + hidden,
  };
  const ternaryMatmuls = matmuls.filter((m) => m.ternary && m.role !== "lm_head");
  const bytesPerToken = matmuls.reduce((s, m) => s + m.bytes, 0);
  const totals: WorkloadTotals = {
    matmulsPerToken: matmuls.length,
    ternaryMatmulsPerToken: matmuls.filter((m) => m.ternary).length,
    weightsPerToken: ternaryMatmuls.reduce((s, m) => s + m.weights, 0),
    lmHeadWeights: lmHead.weights,
    bytesPerToken,
    ternaryBytesPerToken: ternaryMatmuls.reduce((s, m) => s + m.bytes, 0),
    bytesPerTokenWithKv: bytesPerToken + attention.kvBytesRead,
  };
  return { architecture: arch.name, block: matmuls.slice(0, Math.min(BLOCK_ROLES.length, matmuls.length - 1)), matmuls, lmHead, norms, attention, totals };
}

function assumedBytesOrZero(type: string, weights: number): number {
  try {
    return assumedBytes(type, weights);
  } catch {
    return 0;
  }
}
