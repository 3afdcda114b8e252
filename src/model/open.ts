import { statSync } from "node:fs";
import { dirname } from "node:path";
import { UserError } from "../util/errors.js";
import { GgufModelReader } from "./gguf-model.js";
import { HfBitnetReader } from "./hf-bitnet.js";
import { type ModelReader } from "./reader.js";

/** Opens any model file trilut reads; the caller closes it. */
export interface OpenOptions {
  /** Hugging Face checkpoints: W = trit · scale or trit / scale, overriding config.json's linear_class. */
  readonly scaleDirection?: "multiply" | "divide" | undefined;
}

export function openModel(path: string, opts: OpenOptions = {}): ModelReader {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new UserError(`${path}: no such model file`);
  }
  // A directory is a Hugging Face checkpoint (config.json + safetensors); it says what it lacks.
  const hf = opts.scaleDirection ? { scaleDirection: opts.scaleDirection } : {};
  if (isDir) return new HfBitnetReader(path, hf);
  // A checkpoint's weights file or shard index stands for its directory.
  if (/\.safetensors$|\.safetensors\.index\.json$/.test(path)) return new HfBitnetReader(dirname(path), hf);
  if (opts.scaleDirection) throw new UserError(`--scale-direction applies to Hugging Face checkpoints; ${path} is a GGUF file`);
  return new GgufModelReader(path);
}

export function withModel<T>(path: string, fn: (model: ModelReader) => T, opts: OpenOptions = {}): T {
  const model = openModel(path, opts);
  try {
    return fn(model);
  } finally {
    model.close();
  }
}
