import { type DelayModel } from "../../fabric/delays.js";
import { type ClockPath } from "../../fabric/paths.js";
import { type Family } from "../../fabric/resources.js";
import { type BlockShape } from "../../model/block-shape.js";
import { type ModuleShare, type SourceFile } from "../unit.js";

/**
 * A hardware unit of the decoder block around the matmul engine (RMSNorm and the activation
 * quantizer, dequantization by the token's scale, RoPE, attention over the KV cache, gating,
 * residual adds), in one place as the engine's units are (./../unit.ts): its Verilog, resources,
 * register-to-register paths, cycle figures, and HLS C++, all generated from the block shape. Its
 * function is specified bit for bit by its reference in src/ref/spec/ (docs/numerics.md).
 */
export interface DecoderUnit {
  readonly name: string;
  /** What the unit does, in a sentence or two. */
  readonly summary: string;
  /** Whether a block of this shape has the unit. */
  has(shape: BlockShape): boolean;
  /** Its Verilog modules, leaves first: hw/ files, or generated ones (tables as ROMs). */
  rtl(shape: BlockShape): SourceFile[];
  /** Modules with no register of their own, each with the reason. */
  readonly unregistered?: Readonly<Record<string, string>>;
  /** Resources per module it adds to (calibrated against yosys: docs/calibration.md). */
  resources(shape: BlockShape, family: Family): ModuleShare[];
  /** Its register-to-register paths (docs/clock.md). */
  paths(shape: BlockShape, m: DelayModel): ClockPath[];
  /** Where its cycles are counted (docs/latency.md). */
  readonly cycles: string;
  /** Its cycle figures by name (constants of its cycle model). */
  cycleFigures(shape: BlockShape): Readonly<Record<string, number>>;
  /** Its HLS C++ (a function computing the same bits as the reference), or why it has none. */
  hls(shape: BlockShape): SourceFile | { readonly none: string };
}
