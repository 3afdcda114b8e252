/**
 * Writes Hugging Face BitNet checkpoint directories in the layout HfBitnetReader reads: config.json
 * plus model.safetensors, or numbered shards plus model.safetensors.index.json. Ternary weights are
 * packed four trits per byte into U8 [n/4, k] with a one-value `<name>_scale` tensor.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../util/errors.js";
import { writeDirAtomic } from "../util/atomic.js";
import { f32ToFp16 } from "./half.js";
import { HF_CONFIG, HF_INDEX_FILE, HF_SINGLE_FILE } from "./hf-bitnet.js";
import { encodeSafetensors, type SafetensorsWriteTensor } from "./safetensors-writer.js";

export interface HfTernaryTensor {
  readonly name: string;
  readonly kind: "ternary";
  /** n·k trits in {-1, 0, +1}, row-major (row r, column j at r·k + j). */
  readonly trits: Int8Array;
  readonly n: number;
  readonly k: number;
  /** The value stored in `<name>_scale` (what it means depends on config's linear_class). */
  readonly scale: number;
  readonly scaleDtype?: "BF16" | "F32";
}

export interface HfFloatTensor {
  readonly name: string;
  readonly kind: "float";
  readonly dtype: "F32" | "F16" | "BF16";
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type HfWriteTensor = HfTernaryTensor | HfFloatTensor;

export interface HfWriteOptions {
  readonly config: Readonly<Record<string, unknown>>;
  readonly tensors: readonly HfWriteTensor[];
  /** When given, split tensors into shards of at most about this many bytes and write an index. */
  readonly shardBytes?: number;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Float to the nearest bfloat16 bit pattern, ties to even (as torch rounds). */
export function f32ToBf16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff; // quiet NaN
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Floats to little-endian bytes of dtype. */
export function encodeFloats(data: Float32Array, dtype: "F32" | "F16" | "BF16"): Uint8Array {
  const width = dtype === "F32" ? 4 : 2;
  const out = new Uint8Array(data.length * width);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (dtype === "F32") view.setFloat32(4 * i, v, true);
    else view.setUint16(2 * i, dtype === "F16" ? f32ToFp16(v) : f32ToBf16(v), true);
  }
  return out;
}

/** Packs an n x k trit matrix into U8 [n/4, k]: trit row q·(n/4) + p goes to bits 2q of byte row p. */
export function packHfTrits(name: string, trits: Int8Array, n: number, k: number): Uint8Array {
  if (!Number.isSafeInteger(n) || !Number.isSafeInteger(k) || n <= 0 || k <= 0) {
    throw new UserError(`tensor "${name}": n and k must be positive integers, got ${n} x ${k}`);
  }
  if (n % 4 !== 0) throw new UserError(`tensor "${name}": n = ${n} must be a multiple of 4 to pack four trits per byte`);
  if (trits.length !== n * k) throw new UserError(`tensor "${name}": expected ${n} x ${k} = ${n * k} trits, got ${trits.length}`);
  const rows = n / 4;
  const out = new Uint8Array(rows * k);
  for (let r = 0; r < n; r++) {
    const q = Math.floor(r / rows);
    const p = r - q * rows;
    for (let j = 0; j < k; j++) {
      const t = trits[r * k + j]!;
      if (t < -1 || t > 1) throw new UserError(`tensor "${name}": value ${t} at row ${r}, column ${j} is not a trit`);
      out[p * k + j]! |= (t + 1) << (2 * q);
    }
  }
  return out;
}

/** The safetensors entries one checkpoint tensor becomes. */
function toSafetensors(t: HfWriteTensor): SafetensorsWriteTensor[] {
  if (t.kind === "ternary") {
    const scaleDtype = t.scaleDtype ?? "F32";
    return [
      { name: t.name, dtype: "U8", shape: [t.n / 4, t.k], data: packHfTrits(t.name, t.trits, t.n, t.k) },
      { name: `${t.name}_scale`, dtype: scaleDtype, shape: [1], data: encodeFloats(Float32Array.of(t.scale), scaleDtype) },
    ];
  }
  const elements = t.shape.reduce((a, b) => a * b, 1);
  if (elements !== t.data.length) {
    throw new UserError(`tensor "${t.name}": shape [${t.shape.join(", ")}] holds ${elements} values, got ${t.data.length}`);
  }
  return [{ name: t.name, dtype: t.dtype, shape: t.shape, data: encodeFloats(t.data, t.dtype) }];
}

/** Writes the checkpoint directory atomically: built in a temporary sibling, then renamed into place. */
export function writeHfBitnet(dir: string, options: HfWriteOptions): void {
  const groups = options.tensors.map(toSafetensors);
  const { shardBytes } = options;
  if (shardBytes !== undefined && (!Number.isFinite(shardBytes) || shardBytes <= 0)) {
    throw new UserError(`shard size must be a positive number of bytes, got ${shardBytes}`);
  }
  // Names must be unique across shards too (each shard's encoder checks only its own).
  const names = new Set<string>();
  for (const t of groups.flat()) {
    if (names.has(t.name)) throw new UserError(`tensor "${t.name}" given twice`);
    names.add(t.name);
  }

  writeDirAtomic(dir, (tmp) => {
    writeFileSync(join(tmp, HF_CONFIG), JSON.stringify(options.config, null, 2) + "\n");
    if (shardBytes === undefined) {
      writeFileSync(join(tmp, HF_SINGLE_FILE), Buffer.concat(encodeSafetensors(groups.flat(), { format: "pt" })));
      return;
    }
    // Greedy packing: a tensor goes into a new shard when it would push the current one past the limit;
    // a weight and its scale stay together.
    const shards: SafetensorsWriteTensor[][] = [];
    let current: SafetensorsWriteTensor[] = [];
    let bytes = 0;
    for (const group of groups) {
      const size = group.reduce((a, t) => a + t.data.length, 0);
      if (current.length > 0 && bytes + size > shardBytes) {
        shards.push(current);
        current = [];
        bytes = 0;
      }
      current.push(...group);
      bytes += size;
    }
    if (current.length > 0 || shards.length === 0) shards.push(current);
    const count = shards.length;
    const pad = (i: number): string => String(i).padStart(5, "0");
    const weightMap: Record<string, string> = {};
    let total = 0;
    shards.forEach((shard, i) => {
      const file = `model-${pad(i + 1)}-of-${pad(count)}.safetensors`;
      writeFileSync(join(tmp, file), Buffer.concat(encodeSafetensors(shard, { format: "pt" })));
      for (const t of shard) {
        weightMap[t.name] = file;
        total += t.data.length;
      }
    });
    const index = { metadata: { total_size: total }, weight_map: weightMap };
    writeFileSync(join(tmp, HF_INDEX_FILE), JSON.stringify(index, null, 2) + "\n");
  });
}
