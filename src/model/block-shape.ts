import { type ModelArchitecture } from "./architecture.js";
import { type ModelReader } from "./reader.js";

/**
 * What the decoder block's hardware units are generated for: a model's dimensions and the
 * constants of its non-matmul layers. One shape parameterizes every unit of src/units/decoder/
 * (their Verilog parameters, tables, resources, cycles and HLS).
 */
export interface BlockShape {
  readonly hidden: number;
  readonly ffn: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** The gate: SiLU(gate)·up (llama) or ReLU²(gate)·up (BitNet b1.58). */
  readonly activation: "silu" | "relu2";
  /** BitNet's sub-norms before o_proj (size hidden) and down_proj (size ffn). */
  readonly subNorms: boolean;
  /** RMSNorm's ε. */
  readonly eps: number;
  /** RoPE's base θ. */
  readonly ropeTheta: number;
  /** The longest context (KV cache entries) the hardware holds. */
  readonly maxContext: number;
}

/** A number from GGUF metadata (`<arch>.<key>`) or a Hugging Face config (`configKey`). */
export function modelNumber(model: ModelReader, arch: string, key: string, configKey: string, fallback: number): number {
  const v = model.metadata?.get(`${arch}.${key}`) ?? model.config?.[configKey];
  return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : fallback;
}

/** The block shape of a model (its activation must be one the hardware has: the caller checks). */
export function blockShape(model: ModelReader, arch: ModelArchitecture, maxContext: number): BlockShape {
  const { hidden, ffn, heads, kvHeads, headDim } = arch.dimensions;
  return {
    hidden,
    ffn,
    heads,
    kvHeads,
    headDim,
    activation: arch.activation === "relu2" ? "relu2" : "silu",
    subNorms: arch.subNorms,
    eps: modelNumber(model, arch.name, "attention.layer_norm_rms_epsilon", "rms_norm_eps", 1e-5),
    ropeTheta: modelNumber(model, arch.name, "rope.freq_base", "rope_theta", 10000),
    maxContext,
  };
}
