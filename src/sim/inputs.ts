import { describeArchitecture } from "../model/architecture.js";
import { withModel, type OpenOptions } from "../model/open.js";
import { requireTernary } from "../model/reader.js";
import { type TernaryTensor } from "../model/types.js";
import { runHostModel, type MatmulCall } from "../ref/host.js";
import { UserError } from "../util/errors.js";
import { type EngineGeometry } from "../engine/config.js";
import { tensorScales } from "../engine/scales.js";
import { type EngineMatmul } from "./simulate.js";
import { Rng } from "../util/random.js";
import { readInt8Matrix } from "../util/rawio.js";

/**
 * What a simulation runs on: a tensor of a model with raw or seeded int8 activations, or the matmul
 * calls of a decoder block or a whole model with the activations the host model's forward pass
 * gives them. Shared by `sim`, `verify`, `report` and the demo.
 */

/** What a --block/--all run takes: the model, the scope, the mode and the seeded prompt. */
export interface ModelRunArgs {
  readonly model: string;
  readonly block?: number | undefined;
  readonly all?: boolean | undefined;
  readonly mode: string;
  /** Decode: prompt tokens already in the KV cache before the decoded one (default 8). */
  readonly context?: number | undefined;
  readonly seed: number;
}

/** Seeded random int8 activations: what a command simulates when no input file is given. */
export function seededActivations(seed: number, count: number): Int8Array {
  const rng = new Rng(seed);
  const x = new Int8Array(count);
  for (let i = 0; i < count; i++) x[i] = rng.int(-128, 127);
  return x;
}

export function readTensor(modelPath: string, name: string, opts: OpenOptions = {}): TernaryTensor {
  return withModel(modelPath, (m) => m.readTernary(requireTernary(m, name).name), opts);
}

/** Activations from --input, or seeded random int8 values. */
export function activations(tensor: TernaryTensor, input: string | undefined, tokens: number | undefined, seed: number): { x: Int8Array; tokens: number } {
  if (input) {
    const { data, rows } = readInt8Matrix(input, tensor.k, tokens);
    return { x: data, tokens: rows };
  }
  const m = tokens ?? 1;
  return { x: seededActivations(seed, m * tensor.k), tokens: m };
}

/** Tokens of a run: decode is one token; prefill takes --tokens (default 16). */
export function modeTokens(mode: string, tokens: number | undefined): number {
  if (mode === "decode") {
    if (tokens !== undefined && tokens !== 1) throw new UserError(`--mode decode runs one token; --tokens ${tokens} needs --mode prefill`);
    return 1;
  }
  if (mode === "prefill") return tokens ?? 16;
  throw new UserError(`--mode ${mode}: expected decode or prefill`);
}

/**
 * The matmul calls of a --block/--all run: a seeded prompt through the host model, recording each
 * matmul's int8 input (decode: one token after a --context-token prompt in the KV cache).
 */
export function modelCalls(
  args: ModelRunArgs,
  tokens: number,
  opts: OpenOptions = {},
): MatmulCall[] {
  const context = args.context ?? 8;
  if (args.mode === "decode" && !(Number.isInteger(context) && context >= 0)) throw new UserError(`--context ${context}: expected a token count`);
  return withModel(args.model, (m) => {
    const arch = describeArchitecture(m);
    const layers = arch.dimensions.layers;
    if (args.block !== undefined && !(Number.isInteger(args.block) && args.block >= 0 && args.block < layers)) {
      throw new UserError(`--block ${args.block}: the model has blocks 0..${layers - 1}`);
    }
    const rng = new Rng(args.seed);
    const ids = (count: number): number[] => Array.from({ length: count }, () => rng.int(0, arch.dimensions.vocab - 1));
    const prefix = args.mode === "decode" ? ids(context) : [];
    const record = args.all ? Array.from({ length: layers }, (_, l) => l) : [args.block!];
    return runHostModel(m, arch, { tokens: ids(tokens), prefix, record, lmHead: args.all === true }).calls;
  }, opts);
}

/**
 * What an engine runs for one tensor: the tensor itself, or on a dequantizing engine the tensor
 * with its stored scales, so the dequantization stage runs and is checked against the reference's
 * scaled output (as --block does with the host model's matmuls), never bypassed.
 */
export function engineMatmul(geo: EngineGeometry, tensor: TernaryTensor): EngineMatmul {
  // its errors (a NaN scale) get the model and tensor from the caller's inTensor, as every command's do
  return geo.cfg.dequant ? tensorScales(tensor) : tensor;
}
