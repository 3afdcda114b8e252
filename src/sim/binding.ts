import { createRequire } from "node:module";

/** How the host drives the streams, and what it records. */
export interface HostOptions {
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

/** What a built simulator addon's run() takes (templates/sim/addon.cpp.hbs): descriptors, activations and the memory. */
export interface AxiRunRequest extends HostOptions {
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
}

export interface AxiRunReply extends RunReply {
  bytesRead: number;
  memBusyCycles: number;
}

declare const modelHandle: unique symbol;
export type ModelHandle = { readonly [modelHandle]: true };

export interface SimulatorAddon {
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
