import { type EngineGeometry } from "./config.js";

/**
 * The streaming engine's tile descriptor, defined once (Gemmini's habit: one config, hardware and
 * software). Everything that reads or writes a descriptor comes from the two lists below: the RTL
 * top's desc_* ports and its named mode wires (codegen/rtl.ts), the C++ header of the Verilator
 * host and the HLS engine (codegen/descriptor-header.ts), and the TypeScript packer here.
 *
 * In the descriptor stream (the host's memory, the simulators' inputs, the HLS testbench's file)
 * every field takes one little-endian 32-bit word, in the order of DESCRIPTOR_FIELDS; on the RTL
 * ports each field has its width for the engine's geometry.
 */

/** AXI address bits: byte addresses of a model's weight image. */
export const MEM_ADDRESS_BITS = 32;
/** Bits of a descriptor's token count. */
export const TOKEN_BITS = 16;

function bitsFor(max: number): number {
  return Math.max(1, Math.ceil(Math.log2(max + 1)));
}

/** The largest tile: every column word of one buffer half. */
const maxTileWords = (geo: EngineGeometry): number => geo.halfDepth * geo.columns;
/** Step counts reach the buffer depth (the RTL's step counters share the width). */
const stepBits = (geo: EngineGeometry): number => bitsFor(geo.cfg.bufferDepth);

/** The fields of the mode word, least significant first; a 1-bit field is a flag. */
export const MODE_FIELDS = [
  { name: "dequant", bits: 1, doc: "run the dequantization stage (0: integer results)" },
  { name: "pair", bits: 1, doc: "two trit-planes: lanes 2j and 2j+1 hold the planes of one row" },
  { name: "asym", bits: 1, doc: "asymmetric scales: add the activation sum times mu" },
  { name: "shift", bits: 6, doc: "right shift of the dequantized sum, rounding half up" },
] as const;

export type ModeFieldName = (typeof MODE_FIELDS)[number]["name"];
/** The mode word unpacked: flags as booleans, wider fields as numbers. */
export type DescriptorMode = { readonly [F in (typeof MODE_FIELDS)[number] as F["name"]]: F["bits"] extends 1 ? boolean : number };

/** Bits of the mode word. */
export const MODE_BITS = MODE_FIELDS.reduce((n, f) => n + f.bits, 0);

/** Where each mode field sits in the mode word. */
export function modeLayout(): { name: ModeFieldName; lsb: number; bits: number; doc: string }[] {
  let lsb = 0;
  return MODE_FIELDS.map((f) => {
    const at = { name: f.name, lsb, bits: f.bits, doc: f.doc };
    lsb += f.bits;
    return at;
  });
}

const MODE_LAYOUT = modeLayout();

/** The descriptor's fields in stream order, each with its port width for a geometry. */
export const DESCRIPTOR_FIELDS = [
  { name: "addr", width: (): number => MEM_ADDRESS_BITS, doc: "byte address of the tile's weights (4 KB aligned)" },
  { name: "beats", width: (geo: EngineGeometry): number => bitsFor(Math.ceil(maxTileWords(geo) / geo.slotsPerBeat)), doc: "memory beats of the tile's weights" },
  { name: "words", width: (geo: EngineGeometry): number => bitsFor(maxTileWords(geo)), doc: "72-bit column words of the tile" },
  { name: "steps", width: stepBits, doc: "steps of a pass (activation beats per token)" },
  { name: "groups", width: (geo: EngineGeometry): number => bitsFor(geo.maxGroups), doc: "row groups of P rows (result beats per token)" },
  { name: "tokens", width: (): number => TOKEN_BITS, doc: "tokens, a pass each over the loaded tile" },
  { name: "mode", width: (): number => MODE_BITS, doc: "the mode word (MODE_FIELDS)" },
  { name: "gsteps", width: stepBits, doc: "steps per column group of scales (0: one group)" },
] as const;

export type DescriptorFieldName = (typeof DESCRIPTOR_FIELDS)[number]["name"];
export type Descriptor = { readonly [K in DescriptorFieldName]: number };

/** The RTL signal of a descriptor field or a mode field: the desc_* ports, and the top's mode wires. */
export function descriptorPort(field: DescriptorFieldName | ModeFieldName): string {
  return `desc_${field}`;
}

/** Words per descriptor in the descriptor stream. */
export const DESCRIPTOR_WORDS = DESCRIPTOR_FIELDS.length;

/** Port widths of the descriptor's fields for a geometry. */
export function descriptorWidths(geo: EngineGeometry): Record<DescriptorFieldName, number> {
  const widths = {} as Record<DescriptorFieldName, number>;
  for (const f of DESCRIPTOR_FIELDS) {
    const w = f.width(geo);
    // the stream gives every field one 32-bit word
    if (w > 32) throw new Error(`descriptor field ${f.name} needs ${w} bits, more than its 32-bit stream word`);
    widths[f.name] = w;
  }
  return widths;
}

function checkFits(what: string, value: number, bits: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new Error(`descriptor ${what} = ${value} does not fit its ${bits} bits`);
  }
}

export function packMode(mode: DescriptorMode): number {
  let word = 0;
  for (const f of MODE_LAYOUT) {
    const v = mode[f.name];
    const n = typeof v === "boolean" ? (v ? 1 : 0) : v;
    checkFits(`mode.${f.name}`, n, f.bits);
    word += n * 2 ** f.lsb;
  }
  return word;
}

/** One field of a mode word (a flag reads 0 or 1); cheap enough for the cycle models' loops. */
export function modeField(word: number, name: ModeFieldName): number {
  const f = MODE_LAYOUT.find((m) => m.name === name)!;
  return Math.floor(word / 2 ** f.lsb) % 2 ** f.bits;
}

/** The largest value a mode field holds. */
export function modeFieldMax(name: ModeFieldName): number {
  return 2 ** MODE_LAYOUT.find((m) => m.name === name)!.bits - 1;
}

export function unpackMode(word: number): DescriptorMode {
  const out: Record<string, number | boolean> = {};
  for (const f of MODE_LAYOUT) {
    const v = Math.floor(word / 2 ** f.lsb) % 2 ** f.bits;
    out[f.name] = f.bits === 1 ? v === 1 : v;
  }
  return out as DescriptorMode;
}

/** The mode of an integer pass: no dequantization. */
export const INTEGER_MODE: DescriptorMode = unpackMode(0);

/** Writes a descriptor into `out` at word `at`, refusing a value its port cannot hold. */
export function packDescriptor(geo: EngineGeometry, d: Descriptor, out: Uint32Array, at: number): void {
  const widths = descriptorWidths(geo);
  DESCRIPTOR_FIELDS.forEach((f, i) => {
    checkFits(f.name, d[f.name], widths[f.name]);
    out[at + i] = d[f.name];
  });
}

/** Reads the descriptor at word `at` of a descriptor stream. */
export function unpackDescriptor(words: Uint32Array, at: number): Descriptor {
  const d: Record<string, number> = {};
  DESCRIPTOR_FIELDS.forEach((f, i) => (d[f.name] = words[at + i]!));
  return d as Descriptor;
}
