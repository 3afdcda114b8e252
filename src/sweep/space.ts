import { UserError } from "../util/errors.js";
import { Rng } from "../util/random.js";
import { type AxisValue, type SweepSpec } from "./spec.js";

/**
 * The space of a sweep: the budgets, then the spec's axes, in the spec's order. Point i of the
 * space is i written in mixed radix (the last axis varies fastest), so a point's parameters follow
 * from its index alone and every process agrees on them. The sample is the grid, or a seeded
 * random subset of its indices; it is cut into fixed-size chunks, the unit of work, of resuming
 * and of sharding (shard i of N takes chunks i-1, i-1+N, ...).
 */
export interface Axis {
  readonly name: string;
  readonly values: readonly AxisValue[];
}

export interface Space {
  readonly axes: readonly Axis[];
  /** Points of the whole grid. */
  readonly size: number;
  /** The sampled point indices, ascending; undefined for the whole grid (0 .. size-1). */
  readonly sample: readonly number[] | undefined;
  /** Points sampled. */
  readonly count: number;
  /** Points per chunk, and chunks. */
  readonly chunk: number;
  readonly chunks: number;
}

/** Largest grid enumerated whole; beyond it the spec must sample. */
export const MAX_GRID_POINTS = 50_000_000;

export function buildSpace(spec: SweepSpec, budgetNames: readonly string[], where: string): Space {
  const axes: Axis[] = [{ name: "budget", values: budgetNames }, ...Object.entries(spec.axes).map(([name, values]) => ({ name, values }))];
  const size = axes.reduce((s, a) => s * a.values.length, 1);
  if (!Number.isSafeInteger(size)) throw new UserError(`${where}: the space has more than 2^53 points; split it into several specs`);
  if (size === 0) throw new UserError(`${where}: the space is empty`);
  let sample: number[] | undefined;
  if (spec.sampler.kind === "random" && spec.sampler.count < size) {
    sample = randomSample(size, spec.sampler.count, spec.sampler.seed);
  } else if (size > MAX_GRID_POINTS) {
    throw new UserError(
      `${where}: the grid has ${size.toLocaleString("en-US")} points (at most ${MAX_GRID_POINTS.toLocaleString("en-US")}); ` +
        `sample it: sampler: {kind: random, count: N}`,
    );
  }
  const count = sample ? sample.length : size;
  return { axes, size, sample, count, chunk: spec.chunk, chunks: Math.ceil(count / spec.chunk) };
}

/** Distinct indices in [0, size), seeded (Floyd's algorithm: count draws, no retries), ascending. */
function randomSample(size: number, count: number, seed: number): number[] {
  const rng = new Rng(seed);
  const below = (n: number): number => {
    // 53 random bits from two draws, then scaled: uniform enough for n up to 2^53
    const r = (rng.u32() * 2 ** 21 + (rng.u32() >>> 11)) / 2 ** 53;
    return Math.floor(r * n);
  };
  const chosen = new Set<number>();
  for (let j = size - count; j < size; j++) {
    const t = below(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}

/** The point index at position `position` of the sample. */
export function pointAt(space: Space, position: number): number {
  return space.sample ? space.sample[position]! : position;
}

/** A point's value on every axis, by axis name. */
export function pointParams(space: Pick<Space, "axes">, index: number): Record<string, AxisValue> {
  const digits: AxisValue[] = [];
  let rest = index;
  for (let a = space.axes.length - 1; a >= 0; a--) {
    const n = space.axes[a]!.values.length;
    digits.push(space.axes[a]!.values[rest % n]!);
    rest = Math.floor(rest / n);
  }
  // keyed in the spec's order, so printed points read as the spec is written
  const out: Record<string, AxisValue> = {};
  space.axes.forEach((axis, a) => (out[axis.name] = digits[space.axes.length - 1 - a]!));
  return out;
}

/** Sample positions [from, to) of chunk c. */
export function chunkRange(space: Space, c: number): [number, number] {
  return [c * space.chunk, Math.min(space.count, (c + 1) * space.chunk)];
}

export interface Shard {
  /** 1-based, as array jobs count. */
  readonly index: number;
  readonly of: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) throw new UserError(`--shard ${text}: expected i/N, e.g. 1/4`);
  const index = Number(m[1]);
  const of = Number(m[2]);
  if (of < 1) throw new UserError(`--shard ${text}: N must be at least 1`);
  if (index < 1 || index > of) throw new UserError(`--shard ${text}: the shard index must be in 1..${of}`);
  return { index, of };
}

/** The chunks a shard evaluates (every chunk without a shard). */
export function shardChunks(space: Space, shard: Shard | undefined): number[] {
  const all = Array.from({ length: space.chunks }, (_, c) => c);
  return shard ? all.filter((c) => c % shard.of === shard.index - 1) : all;
}
