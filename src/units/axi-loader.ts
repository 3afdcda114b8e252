import { type EngineGeometry } from "../engine/config.js";
import { ceilLog2 } from "../engine/encoding.js";
import { descriptorWidths, MEM_ADDRESS_BITS } from "../engine/descriptor.js";
import { type PathStep } from "../fabric/delays.js";
import { adderSteps, PathList } from "../fabric/paths.js";
import { familyCarry, res, type Family, type ModuleResources } from "../fabric/resources.js";
import { hw, type HardwareUnit } from "./unit.js";
import { LOADED_DELAY } from "./weight-buffer.js";

/**
 * The AXI loader (trilut_axi_loader): reads each tile's beats from off-chip memory in bursts of
 * up to maxBurst beats, at most maxOutstanding in flight, never across a 4 KB boundary, and hands
 * each beat's ⌊memBits/72⌋ column words to the stream buffer.
 */

/**
 * trilut_axi_loader: FF structural — the registered beat (Q·72 bits) plus its counters and
 * addresses (fitted: 105 bits at a 12-bit buffer address, 5 per further address bit); LUT fitted:
 * 146 at a 12-bit buffer address, 6.5 per address bit more or less, min(35, 5·Q) more when Q is
 * not a power of two (the words-left clamp); carry fitted 15.
 */
export function axiLoader(geo: EngineGeometry, family: Family): ModuleResources {
  const AW = ceilLog2(geo.cfg.bufferDepth);
  return res({
    ff: 72 * geo.slotsPerBeat + 105 + 5 * (AW - 12),
    lut: Math.round(146 + 6.5 * (AW - 12) + ((geo.slotsPerBeat & (geo.slotsPerBeat - 1)) !== 0 ? Math.min(35, 5 * geo.slotsPerBeat) : 0)),
    carry: familyCarry(15, family),
  });
}

export const axiLoaderUnit: HardwareUnit = {
  name: "AXI loader",
  summary: "Reads each tile's weight beats from off-chip memory in bursts (4 KB boundaries, bounded outstanding requests) into the buffer half being loaded.",
  has: () => true,
  rtl: () => hw("trilut_axi_loader.v"),
  resources: (geo, family) => [{ module: "trilut_axi_loader", instances: 1, resources: axiLoader(geo, family) }],
  paths: (geo) => {
    const p = new PathList();
    // its request handshake, and the next burst address (the burst length, a comparison of the
    // beats left with maxBurst, added above the beat's byte offset); past 6 + 6 bits of beats
    // yosys compares on a carry chain
    const addrBits = MEM_ADDRESS_BITS - ceilLog2(geo.beatBytes);
    const beatBits = descriptorWidths(geo).beats;
    p.add("trilut_axi_loader", "request handshake", "ff", ["lut", "lut", "lut", "lut"], "ff");
    const compare: PathStep[] = beatBits > 12 ? ["lut", "lut", { carry: 4 }, "lut"] : ["lut"];
    p.add("trilut_axi_loader", "next burst address", "ff", [...compare, ...adderSteps(addrBits), "lut"], "ff");
    return p.paths;
  },
  cycles:
    "the memory credit rule and burst window (src/estimate: credit port, tile loader), against the memory model of " +
    `sim/trilut_memory.h: a tile's last beat, and its half usable ${LOADED_DELAY} cycles later (the weight buffer's)`,
  cycleFigures: (geo) => ({ maxBurst: geo.cfg.maxBurst, maxOutstanding: geo.cfg.maxOutstanding }),
  hls: {
    summary: "fetch_weights(): each tile's beats read over m_axi, a PIPELINE II=1 loop from which HLS infers bursts",
    parts: [{ partial: "axi-loader", slot: "loader" }],
  },
};
