/**
 * Names of the decoder's non-matmul tensors (embedding and norm weights) in the two layouts trilut
 * reads: llama.cpp's GGUF names and Hugging Face's. The host model reads them; the block planner
 * checks that every one a block needs is present.
 */
export interface DecoderTensorNames {
  readonly embed: string;
  readonly outputNorm: string;
  attnNorm(layer: number): string;
  ffnNorm(layer: number): string;
  /** BitNet's sub-norm before o_proj (size hidden). */
  attnSubNorm(layer: number): string;
  /** BitNet's sub-norm before down_proj (size ffn). */
  ffnSubNorm(layer: number): string;
}

const GGUF_NAMES: DecoderTensorNames = {
  embed: "token_embd.weight",
  outputNorm: "output_norm.weight",
  attnNorm: (l) => `blk.${l}.attn_norm.weight`,
  ffnNorm: (l) => `blk.${l}.ffn_norm.weight`,
  attnSubNorm: (l) => `blk.${l}.attn_sub_norm.weight`,
  ffnSubNorm: (l) => `blk.${l}.ffn_sub_norm.weight`,
};

const HF_NAMES: DecoderTensorNames = {
  embed: "model.embed_tokens.weight",
  outputNorm: "model.norm.weight",
  attnNorm: (l) => `model.layers.${l}.input_layernorm.weight`,
  ffnNorm: (l) => `model.layers.${l}.post_attention_layernorm.weight`,
  attnSubNorm: (l) => `model.layers.${l}.self_attn.attn_sub_norm.weight`,
  ffnSubNorm: (l) => `model.layers.${l}.mlp.ffn_sub_norm.weight`,
};

/** The names for a model read from a Hugging Face checkpoint (`hf`) or anything else (GGUF). */
export function decoderTensorNames(source: "gguf" | "hf" | "given"): DecoderTensorNames {
  return source === "hf" ? HF_NAMES : GGUF_NAMES;
}

/** The norm weight vectors one block reads, with their lengths. */
export function blockNormTensors(
  names: DecoderTensorNames,
  layer: number,
  dims: { hidden: number; ffn: number },
  subNorms: boolean,
): { name: string; length: number }[] {
  return [
    { name: names.attnNorm(layer), length: dims.hidden },
    { name: names.ffnNorm(layer), length: dims.hidden },
    ...(subNorms
      ? [
          { name: names.attnSubNorm(layer), length: dims.hidden },
          { name: names.ffnSubNorm(layer), length: dims.ffn },
        ]
      : []),
  ];
}
