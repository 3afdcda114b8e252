import { UserError } from "../util/errors.js";
import { type EngineGeometry } from "./config.js";
import { type FixedScales } from "./scales.js";
import { putBits, wordsForBits, type PackedIndices } from "./pack.js";
import { INTEGER_MODE, MEM_ADDRESS_BITS, modeField, packMode, TOKEN_BITS } from "./descriptor.js";

/**
 * How matmuls run on the streaming engine: tiles of whole rows. A tile holds every step of its
 * rows, so its partial sums finish within one pass per token and no sum outlives a tile; it must
 * fit one half of the buffer (with scales, (steps + column groups) · groups ≤ half depth) while
 * the next tile loads into the other half.
 *
 * A tile's weights sit in memory as a stream of 72-bit column words in buffer order: bank word
 * address (stepAddress(s)·groups + g: steps in order, each column group of scales followed by its
 * scale words), then bank p, then column j holding bits [72j, 72j+72) of the bank word (T indices,
 * index t at bits [t·IB, (t+1)·IB)). Q = slotsPerBeat words fill a memory beat, slot i at bits
 * [72i, 72i+72); a tile starts on a 4 KB boundary so no burst crosses one.
 */
export interface Tile {
  /** Which matmul of the plan the tile belongs to. */
  readonly matmul: number;
  readonly firstRow: number;
  readonly rows: number;
  readonly groups: number;
  readonly steps: number;
  /** 72-bit column words and memory beats of the tile's weights. */
  readonly words: number;
  readonly beats: number;
  /** Byte address of the tile's weights in the memory image. */
  readonly addr: number;
  /** The descriptor's mode word (packMode in descriptor.ts). */
  readonly mode: number;
  /** Steps per column group of scales (0: one group); a scale sweep follows each group. */
  readonly gsteps: number;
}

export interface MatmulShape {
  /** Rows the integer core computes (two trit-planes: both planes' rows, interleaved). */
  readonly n: number;
  readonly k: number;
  /** Scales applied by the dequantization stage; their words follow the tile's weights. */
  readonly scales?: FixedScales | undefined;
}

export interface PlannedMatmul extends MatmulShape {
  readonly steps: number;
  readonly groupsPerTile: number;
  /** Its tiles: tiles[firstTile .. firstTile + tileCount). */
  readonly firstTile: number;
  readonly tileCount: number;
}

/**
 * One or more matmuls (a layer, a decoder block, a model) as one descriptor stream: their tiles
 * back to back in the memory image and in the order the engine runs them, so the next matmul's
 * first tile loads while the last one computes.
 */
export interface TilePlan {
  readonly tokens: number;
  readonly matmuls: PlannedMatmul[];
  readonly tiles: Tile[];
  /** Bytes of the memory image (tiles padded to 4 KB). */
  readonly imageBytes: number;
}

export const TILE_ALIGN = 4096;

/**
 * How one matmul splits into tiles: whole row groups per tile, as many as half the buffer holds;
 * every tile but the last is identical, the last holds the rows left over. Validates the shape
 * against the engine, so a plan and a cycle model built from the same tiling refuse the same shapes.
 */
export interface MatmulTiling {
  readonly steps: number;
  /** Bank words of scales per row group (one per column group), 0 without scales. */
  readonly scaleSteps: number;
  readonly groupsPerTile: number;
  readonly rowsPerTile: number;
  readonly tileCount: number;
  /** Row groups of the last tile (groupsPerTile when the rows fill it). */
  readonly lastGroups: number;
  readonly mode: number;
  readonly gsteps: number;
}

export function matmulTiling(geo: EngineGeometry, { n, k, scales }: MatmulShape): MatmulTiling {
  if (scales && !geo.cfg.dequant) throw new UserError("scaled matmuls need an engine with the dequantization stage (--set dequant=true)");
  if (scales?.pair && geo.cfg.P % 2 !== 0) throw new UserError(`two trit-planes pair rows in lanes 2j, 2j+1: P = ${geo.cfg.P} must be even`);
  // the dequantization stage reads one more bank word per row group and column group: the scales
  let gsteps = 0;
  if (scales && scales.groupSize > 0) {
    if (scales.groupSize % geo.stepActivations !== 0) {
      throw new UserError(
        `scale groups of ${scales.groupSize} columns are not whole steps of T·G = ${geo.stepActivations} activations; ` +
          `choose T and G so that T·G divides ${scales.groupSize}`,
      );
    }
    gsteps = scales.groupSize / geo.stepActivations;
  }
  const scaleSteps = scales ? scales.groups : 0;
  const mode = packMode(scales ? { dequant: true, pair: scales.pair, asym: scales.asym, shift: scales.shift } : INTEGER_MODE);
  checkPositive("n", n);
  checkPositive("k", k);
  const steps = Math.ceil(k / geo.stepActivations);
  if (steps + scaleSteps > geo.halfDepth) {
    throw new UserError(
      `k = ${k} needs ${steps} steps of ${geo.stepActivations} activations, more than a buffer half holds ` +
        `(${geo.halfDepth} words per bank); raise bufferDepth or T·G`,
    );
  }
  const groupsPerTile = Math.min(Math.floor(geo.halfDepth / (steps + scaleSteps)), geo.maxGroups, Math.ceil(n / geo.cfg.P));
  const rowsPerTile = groupsPerTile * geo.cfg.P;
  const tileCount = Math.ceil(n / rowsPerTile);
  const lastGroups = Math.ceil((n - (tileCount - 1) * rowsPerTile) / geo.cfg.P);
  return { steps, scaleSteps, groupsPerTile, rowsPerTile, tileCount, lastGroups, mode, gsteps };
}

function checkPositive(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new UserError(`${what} must be a positive integer, got ${v}`);
}

/** Memory beats of a tile of `groups` row groups: its 72-bit column words, Q to a beat. */
export function tileBeats(geo: EngineGeometry, tiling: MatmulTiling, groups: number): number {
  return Math.ceil(((tiling.steps + tiling.scaleSteps) * groups * geo.columns) / geo.slotsPerBeat);
}

/** Refuses a token count a descriptor cannot hold. */
export function checkTokens(tokens: number): void {
  if (!Number.isInteger(tokens) || tokens < 1) throw new UserError(`tokens must be a positive integer, got ${tokens}`);
  if (tokens >= 2 ** TOKEN_BITS) throw new UserError(`tokens = ${tokens}: a descriptor holds at most ${2 ** TOKEN_BITS - 1}`);
}

export function planMatmuls(geo: EngineGeometry, shapes: readonly MatmulShape[], tokens: number): TilePlan {
  checkTokens(tokens);
  const tiles: Tile[] = [];
  const matmuls: PlannedMatmul[] = [];
  let addr = 0;
  shapes.forEach((shape, index) => {
    const tiling = matmulTiling(geo, shape);
    const { steps, scaleSteps, groupsPerTile, rowsPerTile, mode, gsteps } = tiling;
    const { n, k, scales } = shape;
    const firstTile = tiles.length;
    for (let firstRow = 0; firstRow < n; firstRow += rowsPerTile) {
      const rows = Math.min(rowsPerTile, n - firstRow);
      const groups = Math.ceil(rows / geo.cfg.P);
      const words = (steps + scaleSteps) * groups * geo.columns;
      const beats = tileBeats(geo, tiling, groups);
      tiles.push({ matmul: index, firstRow, rows, groups, steps, words, beats, addr, mode, gsteps });
      addr += Math.ceil((beats * geo.beatBytes) / TILE_ALIGN) * TILE_ALIGN;
    }
    matmuls.push({ n, k, scales, steps, groupsPerTile, firstTile, tileCount: tiles.length - firstTile });
  });
  if (addr > 2 ** MEM_ADDRESS_BITS) throw new UserError(`the weight image needs ${addr} bytes, past the ${2 ** (MEM_ADDRESS_BITS - 30)} GB a ${MEM_ADDRESS_BITS}-bit AXI address reaches`);
  return { tokens, matmuls, tiles, imageBytes: addr };
}

export function planTiles(geo: EngineGeometry, n: number, k: number, tokens: number): TilePlan {
  return planMatmuls(geo, [{ n, k }], tokens);
}

/** Writes one tile's weights into `image` (32-bit little-endian words) at the tile's address. */
export function writeTileImage(geo: EngineGeometry, packed: PackedIndices, tile: Tile, image: Uint32Array): void {
  const { P, T, c } = geo.cfg;
  const ib = geo.indexBits;
  const Q = geo.slotsPerBeat;
  const tileBit = tile.addr * 8;
  const pad = geo.zeroIndex;
  for (let s = 0; s < tile.steps; s++) {
    for (let g = 0; g < tile.groups; g++) {
      const address = stepAddress(tile, s) * tile.groups + g;
      for (let p = 0; p < P; p++) {
        const local = g * P + p;
        const rowBase = local < tile.rows ? ((tile.firstRow + local) * packed.steps + s) * T : -1;
        for (let t = 0; t < T; t++) {
          const idx = rowBase >= 0 ? packed.data[rowBase + t]! : pad; // rows past n hold the zero group
          // the index's bits may straddle two columns of the bank word
          for (let done = 0; done < ib; ) {
            const bit = t * ib + done;
            const within = bit % 72;
            const take = Math.min(ib - done, 72 - within);
            const word = (address * P + p) * c + Math.floor(bit / 72);
            const at = tileBit + Math.floor(word / Q) * geo.cfg.memBits + (word % Q) * 72 + within;
            if (idx !== 0) putBits(image, at, take, (idx >>> done) & ((1 << take) - 1));
            done += take;
          }
        }
      }
    }
  }
}

/**
 * Bank words run in issue order: with column groups of gsteps steps, each group's steps are
 * followed by its scale words. Weight step s sits at (s + ⌊s / gsteps⌋) · groups, the scales of
 * column group b right after its last step.
 */
function stepAddress(tile: Tile, s: number): number {
  return modeField(tile.mode, "dequant") === 1 && tile.gsteps > 0 ? s + Math.floor(s / tile.gsteps) : s;
}

function scaleAddress(tile: Tile, b: number): number {
  const groupSteps = tile.gsteps > 0 ? tile.gsteps : tile.steps;
  return Math.min((b + 1) * groupSteps, tile.steps) + b;
}

/**
 * Writes a tile's scale words: in column group b's scale word (see scaleAddress), lane p holds the
 * mantissas of the row in that lane, m in bits [0,16) and μ in [16,32) (two's complement).
 */
function writeTileScales(geo: EngineGeometry, scales: FixedScales, tile: Tile, image: Uint32Array): void {
  const { P, c } = geo.cfg;
  const Q = geo.slotsPerBeat;
  for (let b = 0; b < scales.groups; b++) {
    for (let g = 0; g < tile.groups; g++) {
      const address = scaleAddress(tile, b) * tile.groups + g;
      for (let p = 0; p < P; p++) {
        const local = g * P + p;
        if (local >= tile.rows) continue; // padding rows: zero scales
        const e = tile.firstRow + local; // a core row; with two planes, row e >> 1 of plane e & 1
        const row = scales.pair ? e >> 1 : e;
        const m = scales.m[scales.pair ? e & 1 : 0]![row * scales.groups + b]!;
        const mu = scales.mu ? scales.mu[row * scales.groups + b]! : 0;
        const word = (address * P + p) * c; // bits 0..31 sit in the bank word's first column
        putBits(image, tile.addr * 8 + Math.floor(word / Q) * geo.cfg.memBits + (word % Q) * 72, 32, ((mu & 0xffff) << 16) | (m & 0xffff));
      }
    }
  }
}

/** The memory image of a plan: every tile of every matmul at its address. */
export function planImage(geo: EngineGeometry, packed: readonly PackedIndices[], plan: TilePlan): Uint32Array {
  const image = new Uint32Array(wordsForBits(plan.imageBytes * 8));
  for (const tile of plan.tiles) {
    writeTileImage(geo, packed[tile.matmul]!, tile, image);
    const scales = plan.matmuls[tile.matmul]!.scales;
    if (scales) writeTileScales(geo, scales, tile, image);
  }
  return image;
}
