import { type DelayModel, type PathEnd, type PathShape, type PathStep, pathDelay } from "../fabric/delays.js";

/**
 * The longest register-to-register path of a yosys netlist mapped to Xilinx primitives
 * (`synth_xilinx`, flattened, `write_json`), under the delay model of ./delays.ts.
 *
 * Why our own walk and not yosys's `ltp`: ltp knows only yosys's internal cell types, so on a
 * mapped netlist it walks through FDRE, RAMB36 and URAM288 as if they were logic, reports loops at
 * every register and takes minutes; and a generic LUT mapping (`abc -lut 6`) turns every carry
 * chain into LUT levels, which says little about a part with CARRY8. Here each primitive gets its
 * own rule: flip-flops, block RAM and UltraRAM start and end paths; a distributed RAM is read
 * combinationally from its address pins and written synchronously; a DSP48 is logic unless its
 * internal registers were packed; carry chains ride CI → CO without routing.
 */

interface NetlistCell {
  type: string;
  port_directions?: Record<string, string>;
  connections: Record<string, (number | string)[]>;
  parameters?: Record<string, string | number>;
}

interface NetlistModule {
  attributes?: Record<string, string | number>;
  ports?: Record<string, { direction: string; bits: (number | string)[] }>;
  cells?: Record<string, NetlistCell>;
}

/** A yosys `write_json` netlist: the mapped design, hierarchy kept. */
export interface YosysNetlist {
  modules?: Record<string, NetlistModule>;
}

export interface NetlistPath {
  ns: number;
  levels: number;
  luts: number;
  carries: number;
  shape: PathShape;
  /**
   * Start and end cells (instance paths, hierarchy joined by dots; a cell yosys named itself as
   * `instance/TYPE`) and their modules.
   */
  from: string;
  to: string;
  fromModule: string;
  toModule: string;
  /** The module holding most of the path's logic cells (ties: the endpoint's). */
  module: string;
}

export interface NetlistTiming {
  critical: NetlistPath | undefined;
  /** The longest path ending in each module. */
  byModule: Record<string, NetlistPath>;
  /** Cell types the walk does not know, treated as one LUT each. */
  unknown: Record<string, number>;
}

type Kind = "ff" | "bram" | "uram" | "lutram" | "dsp" | "lut" | "carry" | "muxf" | "skip" | "unknown";

function kindOf(type: string): Kind {
  if (/^(FD|LD)/.test(type)) return "ff";
  if (/^(RAMB|FIFO18|FIFO36)/.test(type)) return "bram";
  if (/^URAM/.test(type)) return "uram";
  if (/^(RAM\d|SRL)/.test(type)) return "lutram";
  if (/^DSP48/.test(type)) return "dsp";
  if (/^LUT[1-6]/.test(type) || type === "INV") return "lut";
  if (type === "CARRY4" || type === "CARRY8") return "carry";
  if (/^MUXF[789]$/.test(type)) return "muxf";
  if (type.startsWith("$scopeinfo") || type === "GND" || type === "VCC") return "skip";
  return "unknown";
}

const CLOCK_PINS = new Set(["C", "CLK", "WCLK", "CLKARDCLK", "CLKBWRCLK", "CLKA", "CLKB", "G"]);
/** Pins of a distributed RAM / SRL read combinationally (the address of the read port). */
const isReadAddress = (pin: string): boolean => /^(ADDR[A-Z]|A\d*$|DPRA)/.test(pin);
/** DSP cascade inputs: dedicated routing from the neighbouring DSP. */
const DSP_CASCADE = new Set(["PCIN", "ACIN", "BCIN", "CARRYCASCIN", "MULTSIGNIN"]);

function param(cell: NetlistCell, name: string): number {
  const v = cell.parameters?.[name];
  if (v === undefined) return 0;
  return typeof v === "number" ? v : parseInt(v, 2);
}

/** Whether a DSP48 input pin is registered inside the DSP (then it ends a path). */
function dspRegistered(cell: NetlistCell, pin: string): boolean {
  const reg: Record<string, string> = { A: "AREG", B: "BREG", C: "CREG", D: "DREG", ACIN: "AREG", BCIN: "BREG" };
  const r = reg[pin];
  return r !== undefined ? param(cell, r) > 0 : false;
}

/** `$paramod$<hash>\\trilut_table` or `trilut_engine` → trilut_table, trilut_engine. */
export function moduleBaseName(raw: string): string {
  const s = raw.replace(/^\$paramod\$[0-9a-f]+\\/, "").replace(/^\$paramod\\/, "");
  return (s.startsWith("\\") ? s.slice(1) : s).replace(/\\.*$/, "");
}

interface FlatCell {
  cell: NetlistCell;
  /** Instance path of the cell, and the hw/ module it belongs to. */
  name: string;
  module: string;
  /** For reports: the cell's name, or its instance and type when yosys named it ($auto$…). */
  label: string;
  connections: Record<string, (number | string)[]>;
}

/**
 * Flattens the hierarchy below `top` in memory: each submodule instance gets fresh net numbers for
 * its inner nets and its ports' nets from the instantiating cell. (Flattening inside yosys would
 * make it write every instance of a module: ten times the JSON for the default engine, and yosys's
 * JSON writer, in WebAssembly, takes most of a minute per ten megabytes.)
 */
function flatten(netlist: YosysNetlist, top: string): { cells: FlatCell[]; outputs: (number | string)[] } {
  const modules = netlist.modules ?? {};
  const cells: FlatCell[] = [];
  const constant = new Set<number>();
  let next = 0;
  const fresh = (): number => --next; // negative numbers never clash with yosys's
  const visit = (modName: string, path: string, outer: Map<number, number | string>, depth: number): void => {
    if (depth > 64) throw new Error("netlist timing: hierarchy deeper than 64 (a loop?)");
    const mod = modules[modName]!;
    const local = new Map(outer);
    const map = (b: number | string): number | string => {
      if (typeof b === "string") return b;
      let g = local.get(b);
      if (g === undefined) {
        g = fresh();
        local.set(b, g);
      }
      return g;
    };
    const hdl = moduleBaseName(modName);
    for (const [name, c] of Object.entries(mod.cells ?? {})) {
      const connections: Record<string, (number | string)[]> = {};
      for (const [pin, bits] of Object.entries(c.connections)) connections[pin] = bits.map(map);
      const sub = modules[c.type];
      const inst = path ? `${path}.${name}` : name;
      if (sub && !sub.attributes?.["blackbox"]) {
        const inner = new Map<number, number | string>();
        for (const [pin, port] of Object.entries(sub.ports ?? {})) {
          port.bits.forEach((b, i) => {
            const outerBit = connections[pin]?.[i];
            if (typeof b === "number" && outerBit !== undefined) inner.set(b, outerBit);
            // an output the submodule ties to a constant (yosys found it never changes)
            else if (typeof b === "string" && typeof outerBit === "number") constant.add(outerBit);
          });
        }
        visit(c.type, inst, inner, depth + 1);
      } else {
        const label = name.startsWith("$") ? `${path || "(top)"}/${c.type}` : inst;
        cells.push({ cell: c, name: inst, module: hdl, label, connections });
      }
    }
  };
  const topMod = modules[top];
  if (!topMod) throw new Error(`netlist has no module ${top}`);
  // the top's port bits keep their own numbers
  const ports = new Map<number, number | string>();
  const outputs: (number | string)[] = [];
  for (const p of Object.values(topMod.ports ?? {})) {
    for (const b of p.bits) if (typeof b === "number") ports.set(b, b);
    if (p.direction === "output") outputs.push(...p.bits);
  }
  visit(top, "", ports, 0);
  for (const c of cells) {
    for (const bits of Object.values(c.connections)) {
      bits.forEach((b, i) => {
        if (typeof b === "number" && constant.has(b)) bits[i] = "x";
      });
    }
  }
  return { cells, outputs };
}

/**
 * Walks the netlist below `top` once in topological order and returns its longest path, and the
 * longest ending in each module.
 */
export function netlistTiming(netlist: YosysNetlist, top: string, m: DelayModel): NetlistTiming {
  const flat = flatten(netlist, top);
  const cells = flat.cells;
  const kinds = cells.map((c) => kindOf(c.cell.type));
  const unknown: Record<string, number> = {};
  kinds.forEach((k, i) => {
    if (k === "unknown") unknown[cells[i]!.cell.type] = (unknown[cells[i]!.cell.type] ?? 0) + 1;
  });
  const inputs = (i: number): [string, (number | string)[]][] =>
    Object.entries(cells[i]!.connections).filter(([pin]) => cells[i]!.cell.port_directions?.[pin] === "input");

  // the driver of every net
  const driverCell = new Map<number, number>();
  cells.forEach((c, i) => {
    if (kinds[i] === "skip") return;
    for (const [pin, bits] of Object.entries(c.connections)) {
      if (c.cell.port_directions?.[pin] !== "output") continue;
      for (const b of bits) if (typeof b === "number") driverCell.set(b, i);
    }
  });

  const pRegistered = (i: number): boolean => param(cells[i]!.cell, "PREG") > 0;
  // a cell whose outputs start paths (their arrival is the clock-to-out)
  const startOf = (i: number): PathEnd | undefined => {
    const k = kinds[i]!;
    if (k === "ff" || k === "bram" || k === "uram") return k;
    if (k === "dsp" && pRegistered(i)) return "dsp";
    return undefined;
  };
  // inputs through which a cell's outputs are computed in the same cycle
  const combInput = (i: number, pin: string): boolean => {
    const k = kinds[i]!;
    if (CLOCK_PINS.has(pin)) return false;
    if (k === "lut" || k === "carry" || k === "muxf" || k === "unknown") return true;
    if (k === "lutram") return isReadAddress(pin);
    if (k === "dsp") {
      return !pRegistered(i) && !dspRegistered(cells[i]!.cell, pin) && !/^(CE|RST|OPMODE|ALUMODE|INMODE|CARRYINSEL)/.test(pin);
    }
    return false;
  };
  const endsPath = (i: number, pin: string): boolean => {
    const k = kinds[i]!;
    if (CLOCK_PINS.has(pin)) return false;
    if (k === "ff" || k === "bram" || k === "uram" || k === "lutram") return true;
    if (k === "dsp") return pRegistered(i) || dspRegistered(cells[i]!.cell, pin);
    return false;
  };
  // no routing: the carry cascade, a LUT into its slice's carry or MUXF7, MUXF7 into MUXF8 and
  // MUXF8 into MUXF9 (the slice's fixed mux tree), the DSP cascade. Anything else crosses the
  // interconnect, a MUXF8 feeding another MUXF7 too (yosys's mux cover emits such chains).
  const MUXF_FEED: Record<string, string> = { MUXF7: "lut", MUXF8: "MUXF7", MUXF9: "MUXF8" };
  const routed = (from: number | undefined, i: number, pin: string): boolean => {
    const k = kinds[i]!;
    const fk = from === undefined ? undefined : kinds[from];
    if (k === "carry" && pin === "CI") return false;
    if (k === "carry" && (pin === "S" || pin === "DI") && fk === "lut") return false;
    if (k === "muxf" && (pin === "I0" || pin === "I1") && from !== undefined) {
      const feed = MUXF_FEED[cells[i]!.cell.type];
      if (feed === (fk === "lut" ? "lut" : cells[from]!.cell.type)) return false;
    }
    if (k === "dsp" && DSP_CASCADE.has(pin)) return false;
    return true;
  };
  const arc = (i: number, pin: string): number => {
    const k = kinds[i]!;
    if (k === "carry") {
      if (pin !== "CI") return m.carryEntry;
      // a CARRY4 is half a CARRY8 on UltraScale+ (yosys maps carries to CARRY4 for both)
      return cells[i]!.cell.type === "CARRY4" ? (m.carryPropagate * 4) / m.carryBits : m.carryPropagate;
    }
    if (k === "muxf") return m.muxf;
    if (k === "lutram") return m.lutramRead;
    if (k === "dsp") return DSP_CASCADE.has(pin) || pin === "C" ? m.dspCascade : m.dsp;
    return m.lut;
  };

  // arrival at each cell's outputs, and the input net the latest arrival came through
  const arrival = new Float64Array(cells.length);
  const via: (number | undefined)[] = new Array(cells.length);
  const viaPin: (string | undefined)[] = new Array(cells.length);
  const startArrival = (k: PathEnd): number =>
    k === "bram" ? m.bramClockToOut : k === "uram" ? m.uramClockToOut : m.ffClockToOut;
  // an undriven net is an input port, registered outside the engine
  const netArrival = (b: number): number => {
    const d = driverCell.get(b);
    return d === undefined ? m.ffClockToOut : arrival[d]!;
  };

  // topological order of the computed cells (Kahn's algorithm)
  const computed: number[] = [];
  const pending = new Int32Array(cells.length);
  const users: number[][] = cells.map(() => []);
  cells.forEach((_, i) => {
    const k = kinds[i]!;
    if (k === "skip") return;
    const s = startOf(i);
    if (s !== undefined) {
      arrival[i] = startArrival(s);
      return;
    }
    computed.push(i);
    for (const [pin, bits] of inputs(i)) {
      if (!combInput(i, pin)) continue;
      for (const b of bits) {
        const d = typeof b === "number" ? driverCell.get(b) : undefined;
        if (d !== undefined && startOf(d) === undefined) {
          pending[i]!++;
          users[d]!.push(i);
        }
      }
    }
  });
  const ready = computed.filter((i) => pending[i] === 0);
  let done = 0;
  while (ready.length > 0) {
    const i = ready.pop()!;
    done++;
    // a distributed RAM's output also changes after a write: clock to out; logic of constants
    // alone (inputs tied off across a module boundary) never switches: no arrival at all
    let best = kinds[i] === "lutram" ? m.ffClockToOut : -Infinity;
    let bestNet: number | undefined;
    let bestPin: string | undefined;
    for (const [pin, bits] of inputs(i)) {
      if (!combInput(i, pin)) continue;
      for (const b of bits) {
        if (typeof b !== "number") continue;
        const t = netArrival(b) + (routed(driverCell.get(b), i, pin) ? m.net : 0) + arc(i, pin);
        if (t > best) {
          best = t;
          bestNet = b;
          bestPin = pin;
        }
      }
    }
    arrival[i] = best;
    via[i] = bestNet;
    viaPin[i] = bestPin;
    for (const u of users[i]!) if (--pending[u] === 0) ready.push(u);
  }
  if (done < computed.length) {
    throw new Error(`netlist timing: a combinational loop among ${computed.length - done} cells of ${top}`);
  }

  const trace = (net: number, endCell: number | undefined, endKind: PathEnd, ns: number): NetlistPath => {
    const steps: PathStep[] = [];
    const logic = new Map<string, number>();
    let start: PathEnd = "port";
    let d = driverCell.get(net);
    let startCell: number | undefined;
    for (let guard = 0; d !== undefined && guard < cells.length; guard++) {
      startCell = d;
      const s = startOf(d);
      if (s !== undefined) {
        start = s;
        break;
      }
      const k = kinds[d]!;
      logic.set(cells[d]!.module, (logic.get(cells[d]!.module) ?? 0) + 1);
      const last = steps[steps.length - 1];
      if (k === "carry") {
        // consecutive CARRY4s on the path are one chain of 4 bits each
        const bits = cells[d]!.cell.type === "CARRY4" ? 4 : 8;
        if (typeof last === "object") last.carry += bits;
        else steps.push({ carry: bits });
      } else {
        const pin = viaPin[d];
        if (k === "muxf") steps.push(pin === "S" ? "muxf-select" : "muxf");
        else if (k === "dsp") steps.push(pin !== undefined && DSP_CASCADE.has(pin) ? "dsp-cascade" : "dsp");
        else steps.push(k === "lutram" ? "lutram" : "lut");
      }
      const next = via[d];
      if (next === undefined) {
        // nothing before it: a distributed RAM's clock to out, or logic of constants
        if (k === "lutram") start = "lutram";
        break;
      }
      d = driverCell.get(next);
      if (d === undefined) startCell = undefined; // an input port
    }
    steps.reverse();
    const shape: PathShape = { start, steps, end: endKind };
    const counted = pathDelay(shape, m);
    const toModule = endCell === undefined ? top : cells[endCell]!.module;
    let module = toModule;
    let most = logic.get(toModule) ?? 0;
    for (const [name, n] of logic) if (n > most) [module, most] = [name, n];
    return {
      ns,
      levels: counted.levels,
      luts: counted.luts,
      carries: counted.carries,
      shape,
      from: startCell === undefined ? "(input port)" : cells[startCell]!.label,
      to: endCell === undefined ? "(output port)" : cells[endCell]!.label,
      fromModule: startCell === undefined ? top : cells[startCell]!.module,
      toModule,
      module,
    };
  };

  // endpoints: inputs of registers and memories, and the top's output ports
  const setupOf = (k: PathEnd): number => (k === "bram" ? m.bramSetup : k === "uram" ? m.uramSetup : m.ffSetup);
  const byModule: Record<string, NetlistPath> = {};
  let critical: NetlistPath | undefined;
  const consider = (endCell: number | undefined, endKind: PathEnd, net: number, pin: string): void => {
    if (!driverCell.has(net) || arrival[driverCell.get(net)!] === -Infinity) return; // a port or a constant
    const ns = netArrival(net) + (endCell === undefined || routed(driverCell.get(net), endCell, pin) ? m.net : 0) + setupOf(endKind);
    const toModule = endCell === undefined ? top : cells[endCell]!.module;
    if ((byModule[toModule]?.ns ?? -1) >= ns) return;
    const p = trace(net, endCell, endKind, ns);
    byModule[toModule] = p;
    if (!critical || p.ns > critical.ns) critical = p;
  };
  cells.forEach((_, i) => {
    const k = kinds[i]!;
    if (k === "skip") return;
    const endKind: PathEnd = k === "bram" || k === "uram" || k === "lutram" || k === "dsp" ? k : "ff";
    for (const [pin, bits] of inputs(i)) {
      if (!endsPath(i, pin)) continue;
      for (const b of bits) if (typeof b === "number") consider(i, endKind, b, pin);
    }
  });
  for (const b of flat.outputs) if (typeof b === "number") consider(undefined, "port", b, "");
  return { critical, byModule, unknown };
}
