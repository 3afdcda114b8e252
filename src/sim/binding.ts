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

/** What the streaming (axi) engine's run() takes: descriptors, activations and the memory. */
export interface AxiRunRequest {
  descriptors: Uint32Array;
  acts: Uint32Array;
  actWords: number;
  image: Uint32Array;
  resultBeats: number;
  resultWords: number;
  beatBytes: number;
  bwNum: number;
  bwDen: number;
  latency: number;
  maxQueued?: number;
  validProb?: number;
  readyProb?: number;
  seed?: number;
  maxCycles?: number;
  stallLimit?: number;
  tracePath?: string;
  traceStart?: number;
  traceEnd?: number;
}

export interface AxiRunReply extends RunReply {
  bytesRead: number;
  memBusyCycles: number;
}

declare const modelHandle: unique symbol;
export type ModelHandle = { readonly [modelHandle]: true };

export interface SimulatorAddon {
  /** Preload engines take a RunRequest; axi engines an AxiRunRequest. */
  run(request: RunRequest): RunReply;
  run(request: AxiRunRequest): AxiRunReply;
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
