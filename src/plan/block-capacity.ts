import { blockVectorLayout } from "../codegen/block-program.js";
import { type BlockCapacity } from "../codegen/block-rtl.js";
import { type BlockShape } from "../model/block-shape.js";

/**
 * The buffers one run of `tokens` tokens needs: the widest matmul input (max(hidden, ffn) int8)
 * and output (q|k|v or the interleaved gate|up), the vector buffer holding q|k|v with the
 * attention output or the FFN's gate half, the residual stream and the up half.
 */
export function blockCapacity(shape: BlockShape, tokens: number): BlockCapacity {
  const { hidden, ffn, kvHeads, headDim } = shape;
  return {
    maxK: Math.max(hidden, ffn),
    maxN: Math.max(hidden + 2 * kvHeads * headDim, 2 * ffn),
    tokens,
    vector: Math.max(blockVectorLayout(shape, tokens).size, tokens * ffn),
    residual: tokens * hidden,
    up: tokens * ffn,
  };
}
