import { type TritMatrix } from "../model/types.js";
import { type EngineGeometry } from "./config.js";
import { DESCRIPTOR_WORDS, packDescriptor } from "./descriptor.js";
import { activationBeats, encodeIndices, wordsForBits } from "./pack.js";
import { planImage, type TilePlan } from "./tiles.js";

function concat(parts: Uint32Array[]): Uint32Array {
  const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}


/** What the streaming engine's host and memory model need for one matmul. */
export interface AxiStreams {
  readonly descriptors: Uint32Array;
  readonly acts: Uint32Array;
  readonly actWords: number;
  readonly image: Uint32Array;
  readonly resultBeats: number;
  readonly resultWords: number;
}

/**
 * Descriptors, activations (per tile, per token, every step of its matmul) and the weight image of
 * a plan; ws[i] and xs[i] (tokens × k int8) are the weights and inputs of the plan's matmul i.
 */
export function axiStreams(geo: EngineGeometry, plan: TilePlan, ws: readonly TritMatrix[], xs: readonly Int8Array[]): AxiStreams {
  const packed = ws.map((w) => encodeIndices(geo, w));
  const perToken = plan.matmuls.map((m, i) =>
    Array.from({ length: plan.tokens }, (_, t) => activationBeats(geo, xs[i]!.subarray(t * m.k, (t + 1) * m.k), m.k, 0, m.steps)),
  );
  const descriptors = new Uint32Array(plan.tiles.length * DESCRIPTOR_WORDS);
  const acts: Uint32Array[] = [];
  let resultBeats = 0;
  plan.tiles.forEach((tile, i) => {
    const { addr, beats, words, steps, groups, mode, gsteps } = tile;
    packDescriptor(geo, { addr, beats, words, steps, groups, tokens: plan.tokens, mode, gsteps }, descriptors, i * DESCRIPTOR_WORDS);
    acts.push(...perToken[tile.matmul]!);
    resultBeats += plan.tokens * tile.groups;
  });
  return {
    descriptors,
    acts: concat(acts),
    actWords: wordsForBits(geo.actBeatBits),
    image: planImage(geo, packed, plan),
    resultBeats,
    resultWords: wordsForBits(geo.resultBeatBits),
  };
}

/**
 * Places the result beats (tile, then token, then row group) into each matmul's y (tokens × n).
 * With two trit-planes the core rows are pairs and the dequantized row sits in the even lane.
 */
export function unpackTileResults(geo: EngineGeometry, plan: TilePlan, results: Uint32Array): Int32Array[] {
  const { P } = geo.cfg;
  const words = wordsForBits(geo.resultBeatBits);
  const rowsOut = (m: TilePlan["matmuls"][number]): number => (m.scales?.pair ? m.n / 2 : m.n);
  const ys = plan.matmuls.map((m) => new Int32Array(plan.tokens * rowsOut(m)));
  let beat = 0;
  for (const tile of plan.tiles) {
    const m = plan.matmuls[tile.matmul]!;
    const n = rowsOut(m);
    const pair = m.scales?.pair === true;
    const y = ys[tile.matmul]!;
    for (let t = 0; t < plan.tokens; t++) {
      for (let g = 0; g < tile.groups; g++, beat++) {
        for (let p = 0; p < P; p += pair ? 2 : 1) {
          const local = g * P + p;
          const row = pair ? (tile.firstRow + local) >> 1 : tile.firstRow + local;
          if (local < tile.rows) y[t * n + row] = results[beat * words + p]! | 0;
        }
      }
    }
  }
  return ys;
}
