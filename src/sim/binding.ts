import { createRequire } from "node:module";

/** What a built simulator addon exports (templates/sim/addon.cpp.hbs). */
export interface RunRequest {
  commands: Uint32Array;
  weights: Uint32Array;
  weightWords: number;
  acts: Uint32Array;
  actWords: number;
  resultBeats: number;
  resultWords: number;
  validProb?: number;
  readyProb?: number;
  seed?: number;
  maxCycles?: number;
  stallLimit?: number;
  tracePath?: string;
  traceStart?: number;
  traceEnd?: number;
}

export interface RunReply {
  cycles: number;
  resultsReceived: number;
  results: Uint32Array;
  error?: string;
}

declare const modelHandle: unique symbol;
export type ModelHandle = { readonly [modelHandle]: true };

export interface SimulatorAddon {
  run(request: RunRequest): RunReply;
  open(): ModelHandle;
  poke(model: ModelHandle, port: string, value: Uint32Array): void;
  peek(model: ModelHandle, port: string): Uint32Array;
  clock(model: ModelHandle, level: 0 | 1): void;
}

const require = createRequire(import.meta.url);
const loaded = new Map<string, SimulatorAddon>();

export function loadAddon(path: string): SimulatorAddon {
  let addon = loaded.get(path);
  if (!addon) {
    addon = require(path) as SimulatorAddon;
    loaded.set(path, addon);
  }
  return addon;
}
