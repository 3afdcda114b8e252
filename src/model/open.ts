import { statSync } from "node:fs";
import { dirname } from "node:path";
import { UserError } from "../util/errors.js";
import { GgufModelReader } from "./gguf-model.js";
import { HfBitnetReader } from "./hf-bitnet.js";
import { type ModelReader } from "./reader.js";

/** Opens any model file trilut reads; the caller closes it. */
export function openModel(path: string): ModelReader {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new UserError(`${path}: no such model file`);
  }
  // A directory is a Hugging Face checkpoint (config.json + safetensors); it says what it lacks.
  if (isDir) return new HfBitnetReader(path);
  // A checkpoint's weights file or shard index stands for its directory.
  if (/\.safetensors$|\.safetensors\.index\.json$/.test(path)) return new HfBitnetReader(dirname(path));
  return new GgufModelReader(path);
}

export function withModel<T>(path: string, fn: (model: ModelReader) => T): T {
  const model = openModel(path);
  try {
    return fn(model);
  } finally {
    model.close();
  }
}
