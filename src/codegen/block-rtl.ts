import { type EngineGeometry } from "../engine/config.js";
import { descriptorWidths } from "../engine/descriptor.js";
import { bramBlocks, lutramLuts } from "../fabric/resources.js";
import { type BlockShape } from "../model/block-shape.js";
import { attentionRtl, attentionWidths, checkAttentionShape } from "../units/decoder/attention.js";
import { gateRtl } from "../units/decoder/gate.js";
import { normQuantInstances, normQuantSources } from "../units/decoder/norm-quant.js";
import { KV_READER_MAX_BURST, KV_READER_MAX_OUTSTANDING, kvCountBits, kvUnitLayout } from "../units/decoder/kv-cache.js";
import { ropePosBits, ropeRtl } from "../units/decoder/rope.js";
import { hw, type SourceFile } from "../units/unit.js";
import { packageVersion, renderTemplate } from "../util/templates.js";
import { BLOCK_OPCODES, blockVectorLayout, descriptorItemLayout, PROGRAM_ITEM_BITS } from "./block-program.js";
import { generateRtl } from "./rtl.js";

/** The block accelerator's top module. */
export const BLOCK_TOP = "trilut_block";

/**
 * What the block's on-chip buffers hold: the longest matmul input (int8, k values) and output
 * (n rows) of the block, for up to `tokens` tokens at once (a prefill chunk).
 */
export interface BlockCapacity {
  readonly maxK: number;
  readonly maxN: number;
  readonly tokens: number;
  /** A values the vector buffer holds. */
  readonly vector: number;
  /** A values the residual buffer holds (tokens × hidden). */
  readonly residual: number;
  /** A values the up buffer holds (tokens × ffn). */
  readonly up: number;
}

/**
 * The buffers a block of this shape needs for `tokens` tokens at once: the widest matmul input
 * (max of hidden and ffn) and output (the fused q|k|v or the interleaved gate|up), the vector
 * layout (q|k|v and the attention output) or the gate values, whichever is larger, the residual
 * and the up values.
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

const clog2 = (n: number): number => Math.max(1, Math.ceil(Math.log2(n)));

/** Depths of the int8 buffer (x beats) and the result buffer (P-row beats). */
export function blockBufferDepths(geo: EngineGeometry, cap: BlockCapacity): { x: number; y: number } {
  return { x: cap.tokens * Math.ceil(cap.maxK / geo.stepActivations), y: cap.tokens * Math.ceil(cap.maxN / geo.cfg.P) };
}

/** Every Verilog file of the block accelerator: the engine's, the block's modules, the top. */
export function generateBlockRtl(geo: EngineGeometry, shape: BlockShape, cap: BlockCapacity): SourceFile[] {
  const depths = blockBufferDepths(geo, cap);
  const widths = descriptorWidths(geo);
  const desc = descriptorItemLayout().map((f) => {
    const width = widths[f.name as keyof typeof widths];
    return { name: f.name, lsb: f.lsb, width, range: width > 1 ? `[${width - 1}:0] ` : "" };
  });
  checkAttentionShape(shape);
  const kv = kvUnitLayout(shape);
  const content = renderTemplate("rtl/block/trilut_block.v.hbs", {
    version: packageVersion(),
    PROG_BITS: PROGRAM_ITEM_BITS,
    MEM_BITS: geo.cfg.memBits,
    MEM_BYTES: geo.cfg.memBits / 8,
    TG: geo.stepActivations,
    P: geo.cfg.P,
    XW: geo.actBeatBits,
    YW: geo.resultBeatBits,
    XDEPTH: depths.x,
    YDEPTH: depths.y,
    XA: clog2(depths.x),
    YA: clog2(depths.y),
    ADEPTH: cap.vector,
    HDEPTH: cap.residual,
    HA: clog2(cap.residual),
    UDEPTH: cap.up,
    UA: clog2(cap.up),
    TOKENS: cap.tokens,
    TA: clog2(cap.tokens),
    AA: clog2(cap.vector),
    POS_BITS: ropePosBits(shape),
    KV_BITS: 8 * kv.beatBytes,
    KV_BYTES: kv.beatBytes,
    KV_POS_BITS: kvCountBits(kv),
    KV_HD: kv.headDim,
    KV_RB: kv.rowBytes,
    KV_KVH: kv.kvHeads,
    KV_REGION: kv.regionBytes,
    KV_REGION2: 2 * kv.regionBytes,
    KV_MAXBURST: KV_READER_MAX_BURST,
    KV_MAXOUT: KV_READER_MAX_OUTSTANDING,
    MAX_CONTEXT: shape.maxContext,
    KA: clog2(shape.maxContext),
    ATT_LW: attentionWidths(shape).LW,
    GROUP: shape.heads / shape.kvHeads,
    norms: normQuantInstances(shape),
    opcodes: Object.entries(BLOCK_OPCODES).map(([name, code]) => ({ name, code })),
    desc,
  });
  return [...generateRtl(geo), ropeRtl(shape), attentionRtl(shape), gateRtl(shape.activation), ...normQuantSources(normQuantInstances(shape), shape.eps), ...hw("trilut_scale_out.v", "trilut_residual.v", "trilut_kv_writer.v", "trilut_kv_reader.v", "trilut_block_ram.v", "trilut_block_prefetch.v", "trilut_block_walk.v"), { name: `${BLOCK_TOP}.v`, content }];
}

/** One on-chip memory of the block (beside the engine's and the units' own). */
export interface BlockBuffer {
  readonly name: string;
  readonly width: number;
  readonly depth: number;
  /** RAMB36 equivalents (src/fabric/resources.ts bramBlocks); 0 for a buffer in distributed RAM. */
  readonly bram36: number;
  /** LUTs of distributed RAM, for a shallow buffer, and the flip-flops of its registered read. */
  readonly lutram: number;
  readonly ff: number;
}

/**
 * Deepest buffer yosys keeps in distributed RAM: it mapped the test block's 15- and 32-deep buffers
 * to LUTRAM with a registered read and its 180-deep and deeper ones to block RAM.
 */
const LUTRAM_DEPTH = 64;

/**
 * The block's buffers for a capacity: the int8 buffer (x beats), the result buffer (P-lane
 * beats), the vector buffer (A values), and the two KV row buffers (a kv head's K and V rows over
 * the context), each counted in BRAM.
 */
export function blockBuffers(geo: EngineGeometry, shape: BlockShape, cap: BlockCapacity): BlockBuffer[] {
  const d = blockBufferDepths(geo, cap);
  const rowBits = 8 * shape.headDim + 24;
  const list: [string, number, number][] = [
    ["int8 input", geo.actBeatBits, d.x],
    ["results", geo.resultBeatBits, d.y],
    ["vectors", 32, cap.vector],
    ["residual", 32, cap.residual],
    ["up", 32, cap.up],
    ["K rows", rowBits, shape.maxContext],
    ["V rows", rowBits, shape.maxContext],
  ];
  return list.map(([name, width, depth]) =>
    depth <= LUTRAM_DEPTH
      ? { name, width, depth, bram36: 0, lutram: lutramLuts(width, depth, "ultrascale+"), ff: width }
      : { name, width, depth, bram36: bramBlocks(width, depth), lutram: 0, ff: 0 },
  );
}
