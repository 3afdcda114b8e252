import { Rng } from "../util/random.js";
import { SimulationError } from "../util/errors.js";
import { type MemoryTiming } from "../budget/memory.js";
import { type ModelHandle, type SimulatorAddon } from "./binding.js";
import { DESCRIPTOR_FIELDS, DESCRIPTOR_WORDS, descriptorPort } from "../engine/descriptor.js";
import { type AxiStreams } from "../engine/streams.js";
import { MemoryModel } from "./memory.js";

/** The descriptor's ports, in the order of its stream words (src/engine/descriptor.ts). */
const DESCRIPTOR_PORTS = DESCRIPTOR_FIELDS.map((f) => descriptorPort(f.name));

/**
 * Step mode: TypeScript owns the clock and every port. Slower than run() (one N-API call per port
 * per cycle), but a test can do anything a host could, such as stall a stream at will.
 */
export class SteppedEngine {
  private readonly model: ModelHandle;
  private readonly one = new Uint32Array([1]);
  private readonly zero = new Uint32Array([0]);
  cycle = 0;

  constructor(private readonly addon: SimulatorAddon) {
    this.model = addon.open();
  }

  poke(port: string, value: Uint32Array | number | boolean): void {
    const words = typeof value === "object" ? value : new Uint32Array([Number(value) >>> 0]);
    this.addon.poke(this.model, port, words);
  }

  peek(port: string): Uint32Array {
    return this.addon.peek(this.model, port);
  }

  bit(port: string): boolean {
    return (this.peek(port)[0]! & 1) === 1;
  }

  /** Settles combinational outputs for the inputs poked so far (clock low). */
  settle(): void {
    this.addon.clock(this.model, 0);
  }

  /** One rising edge. */
  tick(): void {
    this.addon.clock(this.model, 1);
    this.cycle++;
  }

  reset(): void {
    this.poke("rst", this.one);
    for (const port of ["desc_valid", "x_valid", "y_ready", "ar_ready", "r_valid"]) this.poke(port, this.zero);
    for (let i = 0; i < 2; i++) {
      this.settle();
      this.addon.clock(this.model, 1);
    }
    this.poke("rst", this.zero);
    this.cycle = 0;
  }
}

export interface SteppedRun {
  readonly cycles: number;
  readonly results: Uint32Array;
  readonly bytesRead: number;
}

/**
 * Drives a descriptor stream from TypeScript with seeded random backpressure on the host streams,
 * and the weights from the memory model, exactly as the C++ host (sim/trilut_stream_host.h) does:
 * a valid, once raised, holds until its handshake; ready may change every cycle.
 */
export function driveStepped(
  engine: SteppedEngine,
  s: AxiStreams,
  memory: MemoryTiming & { beatBytes: number },
  opts: { validProb: number; readyProb: number; seed: number; stallLimit?: number },
): SteppedRun {
  const rng = new Rng(opts.seed);
  const chance = (p: number): boolean => p >= 1 || rng.float() < p;
  const mem = new MemoryModel(memory, s.image, memory.beatBytes);
  const desc = { data: s.descriptors, words: DESCRIPTOR_WORDS as number, next: 0, valid: false, beats: s.descriptors.length / DESCRIPTOR_WORDS };
  const acts = { data: s.acts, words: s.actWords, next: 0, valid: false, beats: s.acts.length / s.actWords };
  const beat = (st: typeof desc): Uint32Array => st.data.subarray(st.next * st.words, (st.next + 1) * st.words);
  const results = new Uint32Array(s.resultBeats * s.resultWords);
  let received = 0;
  let lastProgress = 0;
  const stallLimit = opts.stallLimit ?? 10_000;
  engine.reset();
  for (;;) {
    mem.beginCycle(engine.cycle);
    for (const st of [desc, acts]) if (!st.valid && st.next < st.beats && chance(opts.validProb)) st.valid = true;
    const yReady = chance(opts.readyProb);
    engine.poke("desc_valid", desc.valid);
    if (desc.next < desc.beats) beat(desc).forEach((word, i) => engine.poke(DESCRIPTOR_PORTS[i]!, word));
    engine.poke("x_valid", acts.valid);
    if (acts.next < acts.beats) engine.poke("x_data", beat(acts));
    engine.poke("y_ready", yReady);
    engine.poke("ar_ready", mem.arReady());
    const rValid = mem.rValid();
    engine.poke("r_valid", rValid);
    engine.poke("r_last", rValid && mem.rLast());
    if (rValid) engine.poke("r_data", mem.rData());
    engine.settle();
    if (desc.next === desc.beats && received === s.resultBeats && !engine.bit("busy")) {
      if (acts.next < acts.beats) throw new SimulationError(`the run left ${acts.beats - acts.next} activation beats unconsumed`);
      break;
    }
    const descFire = desc.valid && engine.bit("desc_ready");
    const xFire = acts.valid && engine.bit("x_ready");
    const arFire = engine.bit("ar_valid") && mem.arReady();
    const rFire = rValid && engine.bit("r_ready");
    const request = arFire ? { addr: engine.peek("ar_addr")[0]!, beats: (engine.peek("ar_len")[0]! & 0xff) + 1 } : undefined;
    const yFire = yReady && engine.bit("y_valid");
    if (yFire) {
      if (received >= s.resultBeats) throw new SimulationError(`engine produced an extra result beat at cycle ${engine.cycle}`);
      results.set(engine.peek("y_data").subarray(0, s.resultWords), received * s.resultWords);
      received++;
    }
    engine.tick();
    for (const [st, fired] of [[desc, descFire], [acts, xFire]] as const) {
      if (fired) {
        st.next++;
        st.valid = false;
      }
    }
    if (rFire) mem.fire();
    if (request) mem.accept(request.addr, request.beats);
    if (descFire || xFire || yFire || arFire || rFire) lastProgress = engine.cycle;
    if (engine.cycle - lastProgress > stallLimit) {
      throw new SimulationError(`simulation hung: no handshake for ${stallLimit} cycles at cycle ${engine.cycle}`);
    }
  }
  return { cycles: engine.cycle, results, bytesRead: mem.bytesRead };
}
