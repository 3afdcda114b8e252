import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { makeDirs, writeFileAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import { type PointResult } from "./evaluate.js";
import { type Axis } from "./space.js";
import { type SweepSpec } from "./spec.js";

/**
 * A sweep directory. `sweep.json` says which spec (by hash), which space and which shard the
 * directory holds; `chunks/NNNNNN.json` hold the evaluated chunks, each written whole (atomically)
 * when done, so an interrupted sweep resumes from the chunks it finished and shards merge by
 * taking the union of their chunks. Everything else (points, Pareto front, plots) is derived from
 * the manifest and the chunks alone, so a merged sweep writes exactly what an unsharded one does.
 */
export interface Manifest {
  readonly format: 1;
  readonly specHash: string;
  /** The spec as evaluated: the model by identity (not path), budgets by value. */
  readonly spec: unknown;
  readonly objectives: SweepSpec["objectives"];
  readonly axes: readonly Axis[];
  readonly size: number;
  readonly count: number;
  readonly chunks: number;
  readonly shard: string | null;
  /** Where the model file was when the sweep ran (not part of the hash: shards may run elsewhere). */
  readonly modelPath?: string;
}

/** Bumped whenever a figure of the analytic models changes, so old chunks are not mixed with new. */
export const FIGURES_VERSION = 2; // 2: times at the engine's clock, clockMHz and clockEstimateMHz

export function specHash(spec: unknown): string {
  return createHash("sha256").update(JSON.stringify({ FIGURES_VERSION, spec })).digest("hex").slice(0, 16);
}

const MANIFEST = "sweep.json";
/**
 * Present while a sweep directory is not finished (running, interrupted or failed): the chunks in it
 * are good and a rerun of the same command resumes from them, but its outputs are not all written,
 * so `report` and `merge` refuse it.
 */
export const INCOMPLETE = "INCOMPLETE";
const INCOMPLETE_TEXT =
  "This sweep has not finished (it is running, or was interrupted or failed). Its chunks/ are kept:\n" +
  "run the same `trilut sweep SPEC -o DIR` command again to resume from them. `trilut report` and\n" +
  "`trilut merge` refuse this directory until the sweep finishes (and this file is removed).\n";
const CHUNKS = "chunks";
const chunkFile = (dir: string, c: number): string => join(dir, CHUNKS, `${String(c).padStart(6, "0")}.json`);

export function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) throw new UserError(`${dir}: not a sweep directory (no ${MANIFEST})`);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Manifest;
  } catch (err) {
    throw new UserError(`${path}: unreadable sweep manifest (${(err as Error).message})`);
  }
}

/** Refuses a sweep directory that is not finished, in one line. */
export function requireComplete(dir: string): void {
  if (existsSync(join(dir, INCOMPLETE))) {
    throw new UserError(`${dir}: the sweep did not finish (${INCOMPLETE} is present); run the same trilut sweep command again to resume it`);
  }
}

/** Marks DIR as being swept: finished only when markComplete runs. */
export function markIncomplete(dir: string): void {
  writeFileAtomic(join(dir, INCOMPLETE), INCOMPLETE_TEXT);
}

export function markComplete(dir: string): void {
  rmSync(join(dir, INCOMPLETE), { force: true });
}

/** Chunks of DIR's share of the sample that are done, as "N of M". */
export function chunksDone(dir: string, of: number): string {
  return `${doneChunks(dir).size} of ${of} chunks`;
}

/**
 * Prepares DIR for a run: a new directory gets the manifest; an existing one must hold the same
 * spec and shard (it is being resumed).
 */
export function openSweepDir(dir: string, manifest: Manifest): void {
  if (existsSync(join(dir, MANIFEST))) {
    const old = readManifest(dir);
    if (old.specHash !== manifest.specHash) {
      throw new UserError(`${dir} holds a sweep of another spec (${old.specHash}, this one is ${manifest.specHash}); use another directory or remove it`);
    }
    if (old.shard !== manifest.shard) {
      throw new UserError(`${dir} holds shard ${old.shard ?? "none (the whole sweep)"}, not ${manifest.shard ?? "the whole sweep"}`);
    }
    return;
  }
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`${dir}: exists and is not a directory; name a new or empty one`);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new UserError(`${dir}: exists and is not a sweep directory; name a new or empty one`);
  makeDirs(dir, "sweep directory");
  makeDirs(join(dir, CHUNKS), "sweep directory");
  writeFileAtomic(join(dir, MANIFEST), JSON.stringify(manifest, null, 1) + "\n");
}

/** Chunks already evaluated in DIR. */
export function doneChunks(dir: string): Set<number> {
  const path = join(dir, CHUNKS);
  if (!existsSync(path)) return new Set();
  return new Set(
    readdirSync(path)
      .filter((f) => /^\d{6}\.json$/.test(f))
      .map((f) => Number(f.slice(0, 6))),
  );
}

type ChunkRow = [index: number, reason: string | null, figures: number[] | null];

export function writeChunk(dir: string, c: number, results: readonly PointResult[]): void {
  const rows: ChunkRow[] = results.map((r) => [r.index, r.reason ?? null, r.figures ?? null]);
  writeFileAtomic(chunkFile(dir, c), JSON.stringify({ chunk: c, points: rows }));
}

export function readChunk(dir: string, c: number): PointResult[] {
  const path = chunkFile(dir, c);
  let rows: ChunkRow[];
  try {
    rows = (JSON.parse(readFileSync(path, "utf8")) as { points: ChunkRow[] }).points;
  } catch (err) {
    throw new UserError(`${path}: unreadable chunk (${(err as Error).message}); remove it and resume`);
  }
  return rows.map(([index, reason, figures]) => ({ index, ...(reason !== null ? { reason: reason as PointResult["reason"] } : {}), ...(figures ? { figures } : {}) }));
}

/**
 * DIR's chunks in sample order, one at a time: what is derived from them is gathered as they
 * pass, so no more than one chunk of points is ever held.
 */
export function* chunksInOrder(dir: string, chunks: Iterable<number>): Generator<PointResult[]> {
  for (const c of [...chunks].sort((a, b) => a - b)) yield readChunk(dir, c);
}

/**
 * Combines shard directories into OUT: the same spec in every one, and together every chunk of
 * the sample, copied chunk by chunk. Returns the merged manifest.
 */
export function mergeSweeps(dirs: readonly string[], out: string): Manifest {
  if (dirs.length === 0) throw new UserError("merge: name the shard directories to merge");
  const manifests = dirs.map(readManifest);
  dirs.forEach(requireComplete);
  const first = manifests[0]!;
  manifests.forEach((m, i) => {
    if (m.specHash !== first.specHash) {
      throw new UserError(`merge: ${dirs[i]} holds spec ${m.specHash}, ${dirs[0]} holds ${first.specHash}: shards of different specs`);
    }
  });
  const from = new Map<number, string>();
  dirs.forEach((d) => {
    for (const c of doneChunks(d)) if (!from.has(c)) from.set(c, d);
  });
  const missing = Array.from({ length: first.chunks }, (_, c) => c).filter((c) => !from.has(c));
  if (missing.length > 0) {
    const shown = missing.slice(0, 8).join(", ") + (missing.length > 8 ? ", ..." : "");
    throw new UserError(`merge: ${missing.length} of ${first.chunks} chunks are missing (${shown}): a shard is incomplete or not named`);
  }
  const manifest: Manifest = { ...first, shard: null };
  openSweepDir(out, manifest);
  for (let c = 0; c < first.chunks; c++) writeChunk(out, c, readChunk(from.get(c)!, c));
  return manifest;
}
