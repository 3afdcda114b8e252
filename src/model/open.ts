import { statSync } from "node:fs";
import { UserError } from "../util/errors.js";
import { GgufModelReader } from "./gguf-model.js";
import { type ModelReader } from "./reader.js";

/** Opens any model file trilut reads; the caller closes it. */
export function openModel(path: string): ModelReader {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new UserError(`${path}: no such model file`);
  }
  if (isDir) throw new UserError(`${path}: a directory (Hugging Face checkpoints are not supported yet); expected a .gguf file`);
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
