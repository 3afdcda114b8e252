import { type DelayModel } from "../../fabric/delays.js";
import { adderSteps, PathList } from "../../fabric/paths.js";
import { carryCells, res, type Family, type ModuleResources } from "../../fabric/resources.js";
import { type BlockShape } from "../../model/block-shape.js";
import { A_FRAC } from "../../ref/spec/fixed.js";
import { riseBits, sigmoidTable, type SigmoidTable } from "../../ref/spec/elementwise.js";
import { packageVersion, renderTemplate } from "../../util/templates.js";
import { type SourceFile } from "../unit.js";
import { type DecoderUnit } from "./decoder-unit.js";
import { pipelineCycles, type UnitStream } from "./elementwise-common.js";

/**
 * The gate (trilut_gate, generated per activation): act = f(g)·u over the FFN's gate and up
 * projections, SiLU (σ by a ROM and linear interpolation) or ReLU², then the product rounded once
 * to A. Bit for bit: src/ref/spec/elementwise.ts gateElement.
 */

export type Activation = BlockShape["activation"];

/** The register holding f(g): SiLU after its 10 stages (|g|, ROM, interpolation, σ, g·σ, rounding), ReLU² after 7. */
export const GATE_F_STAGE: Record<Activation, number> = { silu: 10, relu2: 7 };
/** The tail after f(g): f·u in DSPs (3 registers), its rounding, the saturation. */
export const GATE_TAIL_STAGES = 5;

export function gateLatency(activation: Activation): number {
  return GATE_F_STAGE[activation] + GATE_TAIL_STAGES;
}

/** Cycles of `tokens` vectors of n elements through the gate, back to back (docs/latency.md form). */
export function gateCycles(activation: Activation, n: number, tokens: number): number {
  return pipelineCycles(gateLatency(activation), n, tokens);
}

export const GATE_INPUTS: readonly UnitStream[] = [
  { name: "g", width: 32, last: true, cxxType: "int32_t" },
  { name: "u", width: 32, cxxType: "int32_t" },
];
export const GATE_OUTPUTS: readonly UnitStream[] = [{ name: "act", width: 32, last: true, cxxType: "int32_t" }];

/** The template's view of the sigmoid table (the ROM lines and the bit positions of |g|). */
function tableContext(table: SigmoidTable): Record<string, unknown> {
  const { frac, stepBits, indexBits } = table.config;
  const fracBits = A_FRAC - stepBits;
  const rb = riseBits(table);
  return {
    entries: table.value.length,
    points: 2 ** stepBits,
    range: 2 ** (indexBits - stepBits),
    fracBits,
    indexBits,
    indexTop: fracBits + indexBits - 1,
    rangeBit: fracBits + indexBits,
    valueBits: frac + 1,
    riseBits: rb,
    romBits: frac + 1 + rb,
    one: 2 ** frac,
    frac,
    halfOne: 2 ** (frac - 1),
    // g·σ: |g| ≤ 2^31, σ ≤ 2^frac, so |g·σ| ≤ 2^(31 + frac): signed, 33 + frac bits
    productMax: 31 + frac,
    productBits: 33 + frac,
    fTop: frac + 31,
    halfFrac: 2 ** (fracBits - 1),
    // a ROM word: value above rise (value·2^riseBits + rise < 2^(frac + 1 + riseBits) = 2^34: a Number)
    rom: table.value.map((value, i) => ({ i, value, rise: table.rise[i]!, word: value * 2 ** rb + table.rise[i]! })),
  };
}

export function gateRtl(activation: Activation, table: SigmoidTable = sigmoidTable()): SourceFile {
  const f = GATE_F_STAGE[activation];
  const content = renderTemplate("rtl/decoder/trilut_gate.v.hbs", {
    version: packageVersion(),
    activation,
    silu: activation === "silu",
    latency: gateLatency(activation),
    fStage: f,
    tailFirst: f + 1,
    tailProduct: f + 3,
    tailRound: f + 4,
    ...tableContext(table),
  });
  return { name: "trilut_gate.v", content };
}

export function gateHls(activation: Activation, table: SigmoidTable = sigmoidTable()): SourceFile {
  const content = renderTemplate("hls/decoder/gate.cpp.hbs", {
    version: packageVersion(),
    activation,
    silu: activation === "silu",
    ...tableContext(table),
  });
  return { name: "trilut_gate.cpp", content };
}

/**
 * Resources of trilut_gate per activation, independent of the rest of the shape (yosys
 * synth_xilinx -family xcup; not calibrated on 7-series: the same figures). DSP structural: the
 * 32 × 32 signed f·u takes 4 DSP48E2 (27 × 18 tiles: 2 × 2); SiLU's g·σ (32 × 22) 4 more and the
 * 13 × 11 rise·fraction 1; ReLU²'s 31 × 31 square 4. Memory structural: the 512 × 34 sigmoid ROM
 * is one RAMB18 (0.5 BRAM36). LUTRAM: u delayed beside f(g) (32 bits × 10 or 7 stages) and the
 * valid/last chains, in SRL16s. LUT and FF as mapped (the 64-bit partial-product sums and rounding
 * adders, the saturation selects, the sigmoid's index, interpolation and σ stages).
 * Carry structural: the adders' chains.
 */
export function gateResources(activation: Activation, family: Family): ModuleResources {
  const chains = activation === "silu" ? [32, 24, 21, 21, 53, 53] : [47, 63, 62];
  const carry = [...chains, 64, 64, 48].reduce((a, bits) => a + carryCells(bits, family), 0);
  return activation === "silu"
    ? res({ lut: 580, ff: 368, lutram: 115, bram36: 0.5, dsp: 9, carry })
    : res({ lut: 543, ff: 234, lutram: 129, dsp: 8, carry });
}

/** Longest register-to-register steps per stage, as yosys maps them. */
function gatePaths(activation: Activation, _m: DelayModel): PathList {
  const p = new PathList();
  const mod = "trilut_gate";
  if (activation === "silu") {
    p.add(mod, "|g|, table index and range check", "ff", [...adderSteps(32), "lut", "lut"], "ff");
    p.add(mod, "sigmoid ROM read", "ff", ["lut", "muxf", "muxf", "muxf", "lut"], "ff");
    p.add(mod, "sigmoid interpolation, rounding", "ff", adderSteps(21), "ff");
    p.add(mod, "σ(|g|) (add, select)", "ff", [...adderSteps(17), "lut"], "ff");
    p.add(mod, "g·σ into the DSPs", "ff", ["dsp"], "dsp");
    p.add(mod, "round g·σ", "ff", adderSteps(53), "ff");
  } else {
    p.add(mod, "g² into the DSPs", "ff", ["dsp"], "dsp");
    p.add(mod, "round g², saturate", "dsp", [...adderSteps(47)], "ff");
  }
  // the path yosys's mapping makes longest (measured): the partial products summed in two adders
  p.add(mod, "f·u partial products summed", "ff", ["dsp", "lut", { carry: 4 }, "lut", { carry: 48 }], "lutram");
  p.add(mod, "round f·u", "ff", adderSteps(64), "ff");
  p.add(mod, "saturate to 32 bits", "ff", ["lut", "lut", "lut"], "ff");
  return p;
}

export const gateUnit: DecoderUnit = {
  name: "gate",
  summary:
    "act = f(gate)·up on A values, SiLU (σ from a 512-entry ROM with linear interpolation) or ReLU², the product of two A values rounded once; one element a cycle.",
  has: () => true,
  rtl: (shape) => [gateRtl(shape.activation)],
  resources: (shape, family) => [{ module: "trilut_gate", instances: 1, resources: gateResources(shape.activation, family) }],
  paths: (shape, m) => gatePaths(shape.activation, m).paths,
  cycles: "a pipeline of gateLatency registers at one element a cycle: tokens·ffn + latency (gateCycles)",
  cycleFigures: (shape) => ({ latency: gateLatency(shape.activation), perElement: 1 }),
  hls: (shape) => gateHls(shape.activation),
};
