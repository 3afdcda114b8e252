import { type ModelArchitecture } from "../model/architecture.js";
import { type ModelReader } from "../model/reader.js";
import { runHostModel } from "./host.js";
import { fromA, INT32_MAX, INT32_MIN } from "./spec/fixed.js";
import { runSpecModel, type SpecModelOptions } from "./spec/model.js";

/**
 * How far the number spec's whole model (runSpecModel) lands from the float64 host model
 * (runHostModel) on the same tokens: the accuracy figures of docs/numerics.md.
 */
export interface SpecError {
  /** max over tokens of max_j |spec − ref| / max_j |ref| (the token's own largest magnitude). */
  readonly maxRel: number;
  /** The mean over all elements of |spec − ref| / max_j |ref| of the element's token. */
  readonly meanRel: number;
  /** Elementwise |spec − ref| / |ref| over elements with |ref| ≥ ELEMENT_FLOOR · max_j |ref|: max and mean. */
  readonly elemMax: number;
  readonly elemMean: number;
  /** Spec values at the int32 bounds (A saturated: the float value left A's ±32768 range). */
  readonly saturated: number;
}

/** Elements below this share of their token's largest magnitude are left out of the elementwise error. */
export const ELEMENT_FLOOR = 0.01;

/** Error of spec values in A (tokens × d) against float values (tokens × d). */
export function specError(spec: Int32Array, ref: Float64Array, d: number): SpecError {
  if (spec.length !== ref.length || spec.length % d !== 0) throw new RangeError(`spec of ${spec.length} values against a reference of ${ref.length} (rows of ${d})`);
  let maxRel = 0;
  let sumRel = 0;
  let elemMax = 0;
  let elemSum = 0;
  let elemCount = 0;
  let saturated = 0;
  for (let t = 0; t < spec.length / d; t++) {
    let top = 0;
    for (let j = 0; j < d; j++) top = Math.max(top, Math.abs(ref[t * d + j]!));
    for (let j = 0; j < d; j++) {
      const i = t * d + j;
      if (spec[i] === INT32_MAX || spec[i] === INT32_MIN) saturated++;
      const err = Math.abs(fromA(spec[i]!) - ref[i]!);
      const rel = top > 0 ? err / top : err;
      maxRel = Math.max(maxRel, rel);
      sumRel += rel;
      if (top > 0 && Math.abs(ref[i]!) >= ELEMENT_FLOOR * top) {
        const e = err / Math.abs(ref[i]!);
        elemMax = Math.max(elemMax, e);
        elemSum += e;
        elemCount++;
      }
    }
  }
  return { maxRel, meanRel: sumRel / spec.length, elemMax, elemMean: elemCount > 0 ? elemSum / elemCount : 0, saturated };
}

export interface ModelSpecError {
  /** Positions compared (prompt and decode steps). */
  readonly positions: number;
  readonly hidden: SpecError;
  /** Only for a ternary LM head. */
  readonly logits: SpecError | undefined;
}

/**
 * Runs the spec (prompt as one prefill, then the decode tokens one at a time) and the float64 model
 * on the same token sequence (one causal pass: a position's float result is the same either way) and
 * measures the final hidden state and, for a ternary head, the logits.
 */
export function measureSpecModel(model: ModelReader, arch: ModelArchitecture, opts: SpecModelOptions): ModelSpecError {
  const spec = runSpecModel(model, arch, opts);
  const ids = [...opts.tokens, ...(opts.decode ?? [])];
  const host = runHostModel(model, arch, { tokens: ids, record: [], lmHead: true });
  const { hidden, vocab } = arch.dimensions;
  return {
    positions: ids.length,
    hidden: specError(spec.hidden, host.hidden, hidden),
    logits: spec.logits && host.logits ? specError(spec.logits, host.logits, vocab) : undefined,
  };
}
