import { Rng } from "../util/random.js";
import { SimulationError } from "../util/errors.js";
import { type ModelHandle, type SimulatorAddon } from "./binding.js";
import { COMMAND_WORDS, type HostStreams } from "../engine/streams.js";

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
    for (const port of ["cmd_valid", "w_valid", "x_valid", "y_ready"]) this.poke(port, this.zero);
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
}

/**
 * Drives a schedule's streams from TypeScript with seeded random backpressure, exactly as the C++
 * host does: a valid, once raised, holds until its handshake; ready may change every cycle.
 */
export function driveStepped(
  engine: SteppedEngine,
  s: HostStreams,
  opts: { validProb: number; readyProb: number; seed: number; stallLimit?: number },
): SteppedRun {
  const rng = new Rng(opts.seed);
  const chance = (p: number): boolean => p >= 1 || rng.float() < p;
  const streams = [
    { port: "cmd", data: s.commands, words: COMMAND_WORDS, next: 0, valid: false },
    { port: "w", data: s.weights, words: s.weightWords, next: 0, valid: false },
    { port: "x", data: s.acts, words: s.actWords, next: 0, valid: false },
  ].map((st) => ({ ...st, beats: st.data.length / st.words }));
  const results = new Uint32Array(s.resultBeats * s.resultWords);
  let received = 0;
  let lastProgress = 0;
  const stallLimit = opts.stallLimit ?? 10_000;
  engine.reset();
  for (;;) {
    for (const st of streams) if (!st.valid && st.next < st.beats && chance(opts.validProb)) st.valid = true;
    const yReady = chance(opts.readyProb);
    for (const st of streams) {
      engine.poke(`${st.port}_valid`, st.valid);
      if (st.next >= st.beats) continue;
      const beat = st.data.subarray(st.next * st.words, (st.next + 1) * st.words);
      if (st.port === "cmd") {
        engine.poke("cmd_op", beat[0]!);
        engine.poke("cmd_count", beat[1]!);
        engine.poke("cmd_groups", beat[2]!);
        engine.poke("cmd_clear", beat[3]!);
        engine.poke("cmd_drain", beat[4]!);
      } else {
        engine.poke(`${st.port}_data`, beat);
      }
    }
    engine.poke("y_ready", yReady);
    engine.settle();
    if (streams[0]!.next === streams[0]!.beats && received === s.resultBeats && !engine.bit("busy")) break;
    const fired = streams.map((st) => st.valid && engine.bit(`${st.port}_ready`));
    if (yReady && engine.bit("y_valid")) {
      if (received >= s.resultBeats) throw new SimulationError(`engine produced an extra result beat at cycle ${engine.cycle}`);
      results.set(engine.peek("y_data").subarray(0, s.resultWords), received * s.resultWords);
      received++;
      lastProgress = engine.cycle + 1;
    }
    engine.tick();
    streams.forEach((st, i) => {
      if (fired[i]) {
        st.next++;
        st.valid = false;
        lastProgress = engine.cycle;
      }
    });
    if (engine.cycle - lastProgress > stallLimit) {
      throw new SimulationError(`simulation hung: no handshake for ${stallLimit} cycles at cycle ${engine.cycle}`);
    }
  }
  return { cycles: engine.cycle, results };
}
