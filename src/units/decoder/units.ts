import { attention } from "./attention.js";
import { type DecoderUnit } from "./decoder-unit.js";
import { gateUnit } from "./gate.js";
import { kvCache } from "./kv-cache.js";
import { normQuant } from "./norm-quant.js";
import { residualUnit } from "./residual.js";
import { rope } from "./rope.js";
import { scaleOutUnit } from "./scale-out.js";

/**
 * The decoder block's units around the matmul engine, declared once, in the order a block uses
 * them. The block's resource total, its unit table and the consistency tests walk this list.
 */
export const DECODER_UNITS: readonly DecoderUnit[] = [normQuant, scaleOutUnit, rope, kvCache, attention, residualUnit, gateUnit];
