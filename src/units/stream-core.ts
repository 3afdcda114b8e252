import { type EngineGeometry } from "../engine/config.js";
import { descriptorWidths } from "../engine/descriptor.js";
import { type PathStep } from "../fabric/delays.js";
import { PathList } from "../fabric/paths.js";
import { familyCarry, lutramLuts, res, type Family, type ModuleResources } from "../fabric/resources.js";
import { hw, type HardwareUnit } from "./unit.js";

/**
 * The stream core (trilut_stream_core): takes one descriptor per tile, queues it for the loader
 * and for the compute side (two-deep trilut_fifo queues), and runs a tile's passes, one per token,
 * once its half of the buffer is loaded; the loader fills the other half meanwhile.
 */

/** Entries of each descriptor queue (trilut_fifo in trilut_stream_core): the compute side holds two tiles. */
export const QUEUE_DEPTH = 2;

/** Widths of the two descriptor queues of trilut_stream_core (loader, compute). */
export function descriptorQueueWidths(geo: EngineGeometry): [number, number] {
  const d = descriptorWidths(geo);
  return [d.addr + d.beats + d.words, d.steps + d.gsteps + d.groups + d.tokens + d.mode];
}

/**
 * trilut_fifo (two-deep descriptor queues): storage structural — yosys maps the two entries to
 * distributed RAM, RAM32M16 (14 bits in 8 LUTs); pointers and count fitted: 8 LUTs, 5 FFs.
 */
export function fifo(width: number, family: Family): ModuleResources {
  return res({ lutram: lutramLuts(width, 2, family), lut: 8, ff: 5 });
}

/** trilut_stream_core: the pass sequencer (half flags, token counter). Fitted constants per family. */
export function streamCore(family: Family): ModuleResources {
  return res({ lut: family === "7series" ? 21 : 38, ff: 20, carry: familyCarry(2, family) });
}

/**
 * The control paths around the descriptor queue (its head is a distributed RAM read, then the
 * pass-start handshake fans out): fitted constants per family, independent of the engine's size.
 */
const QUEUE_HEAD: Record<"ultrascale+" | "7series", PathStep[]> = {
  "ultrascale+": ["lutram", "lut", "muxf"],
  "7series": ["lutram", "lut", "muxf", "muxf", "muxf", "muxf"],
};
const QUEUE_TAIL: Record<"ultrascale+" | "7series", Record<"compute" | "fifo" | "core", PathStep[]>> = {
  "ultrascale+": { compute: ["lut", "lut", "lut", "lut"], fifo: ["lut", "lut", "lut"], core: ["lut", "muxf", "muxf", "muxf", "lut"] },
  "7series": { compute: ["lut", "lut", "muxf-select"], fifo: ["lut", "lut"], core: ["lut"] },
};

export const streamCoreUnit: HardwareUnit = {
  name: "stream core",
  summary: "One descriptor per tile, queued for the loader and the compute side; a tile's passes (one per token) run once its buffer half is loaded.",
  has: () => true,
  rtl: () => hw("trilut_fifo.v", "trilut_stream_core.v"),
  resources: (geo, family) => {
    const [lw, rw] = descriptorQueueWidths(geo);
    return [
      { module: "trilut_stream_core", instances: 1, resources: streamCore(family) },
      // two queues of one width are one module with two instances (yosys derives it once)
      ...(lw === rw
        ? [{ module: "trilut_fifo", instances: 2, resources: fifo(lw, family) }]
        : [
            { module: "trilut_fifo", instances: 1, resources: fifo(lw, family) },
            { module: "trilut_fifo#2", instances: 1, resources: fifo(rw, family) },
          ]),
    ];
  },
  paths: (_geo, m) => {
    const p = new PathList();
    const head = QUEUE_HEAD[m.family];
    const tail = QUEUE_TAIL[m.family];
    p.add("trilut_compute", "pass start from the descriptor queue", "ff", [...head, ...tail.compute], "ff");
    p.add("trilut_fifo", "descriptor queue pointers", "ff", [...head, ...tail.fifo], "ff");
    p.add("trilut_stream_core", "tile sequencing", "ff", [...head, ...tail.core], "ff");
    return p.paths;
  },
  cycles:
    `the tile recurrence (src/estimate/cycles: ${QUEUE_DEPTH}-deep queues, one tile loading while the previous computes; ` +
    "a tile's passes back to back)",
  cycleFigures: () => ({ queueDepth: QUEUE_DEPTH }),
  hls: {
    summary: "split_descriptors(), precompute()'s step loop (activation beats and their sum) and lookup()'s ping-pong tile loop",
    parts: [
      { partial: "stream-core-split", slot: "descriptors" },
      { partial: "stream-core-precompute", slot: "activations" },
      { partial: "stream-core-tiles", slot: "tiles" },
    ],
  },
};
