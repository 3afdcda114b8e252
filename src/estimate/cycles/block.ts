import { type EngineGeometry } from "../../engine/config.js";
import { type MemoryTiming } from "../../budget/memory.js";
import { type BlockInstruction } from "../../codegen/block-program.js";
import { type BlockShape } from "../../model/block-shape.js";
import { attentionJobCycles } from "../../units/decoder/attention.js";
import { gateCycles } from "../../units/decoder/gate.js";
import { normQuantCycles, normQuantInstances } from "../../units/decoder/norm-quant.js";
import { residualCycles } from "../../units/decoder/residual.js";
import { scaleOutCycles } from "../../units/decoder/scale-out.js";
import { kvReaderCycles, kvUnitLayout, kvWriterCycles } from "../../units/decoder/kv-cache.js";
import { ropeCycles } from "../../units/decoder/rope.js";
import { streamCycles } from "./event.js";

/**
 * The block accelerator's cycles (templates/rtl/block/trilut_block.v.hbs), equal to Verilator's:
 * the sequencer runs one instruction at a time, so a program's cycles are the sum of its
 * instructions'. Instruction i's item is taken in cycle f_i (the sequencer is idle, the item
 * waiting); it runs from f_i + 1 and the sequencer is idle again D_i cycles later, so
 * f_{i+1} = f_i + 1 + D_i:
 *
 * - load of tokens × k int8 values: one a cycle, D = tokens · k;
 * - matmul: the engine sees its first descriptor in cycle f_i + 1, as the engine's host offers
 *   it in its cycle 0; the feeder keeps an x beat waiting and the collector takes every result
 *   beat, so the engine runs as under its host (streamCycles, itself equal to Verilator), and the
 *   sequencer leaves the cycle after the host's end condition holds: D = streamCycles + 1;
 * - store of tokens × n results: the first read issues in f_i + 1, results leave one a cycle from
 *   f_i + 3, the last in f_i + 2 + E (E = tokens · n), the reader is empty one cycle later: D = E + 3.
 *
 * The run ends (the harness's count) the cycle after the last store's last result: f + E + 3.
 *
 * The memory's bandwidth credit (sim/trilut_memory.h) is full whenever a matmul starts in the
 * block, while the engine's model starts it empty; the two agree when the credit of the memory's
 * latency alone fills the two-beat cap before the first beat can leave, which is checked.
 */
export interface InstructionCycles {
  readonly op: BlockInstruction["op"];
  /** The cycle its item was taken, and the cycles until the sequencer is idle again (D). */
  readonly start: number;
  readonly cycles: number;
}

export interface BlockCycles {
  readonly total: number;
  readonly instructions: InstructionCycles[];
  /** Cycles by the unit that keeps the sequencer busy (instruction issue counted as `sequencer`). */
  readonly units: Record<string, number>;
}

/** The unit an instruction's cycles are booked to. */
const UNIT_OF: Record<BlockInstruction["op"], string> = { loadX: "load", matmul: "engine", storeY: "store", loadA: "load", storeA: "store", rope: "rope", kvWrite: "kvWriter", attention: "attention",
  setScale: "sequencer", scaleOut: "scaleOut", residual: "residual", loadH: "load", storeH: "store", gate: "gate", normQuant: "normQuant" };

export function blockProgramCycles(
  geo: EngineGeometry,
  shape: BlockShape,
  program: readonly BlockInstruction[],
  memory: MemoryTiming,
  kvMemory: MemoryTiming = memory,
): BlockCycles {
  if (memory.latency * memory.bwNum < 2 * geo.beatBytes * memory.bwDen) {
    throw new Error(`block cycle model: a memory latency of ${memory.latency} cycles does not fill the two-beat bandwidth credit; the model needs it to`);
  }
  const last = program[program.length - 1];
  if (!last || (last.op !== "storeY" && last.op !== "storeA" && last.op !== "storeH")) throw new Error("a block program ends with a store: its results are what the run waits for");
  const instructions: InstructionCycles[] = [];
  const units: Record<string, number> = { sequencer: 0 };
  let f = 0;
  let total = 0;
  program.forEach((ins, i) => {
    let d: number;
    switch (ins.op) {
      case "loadX":
        d = ins.tokens * ins.k;
        break;
      case "matmul":
        d = streamCycles(geo, { tokens: ins.tokens, matmuls: [], tiles: [...ins.tiles], imageBytes: 0 }, memory).total + 1;
        break;
      case "setScale":
        // the sequencer writes the register as it decodes: idle again the next cycle
        d = 0;
        break;
      case "scaleOut":
        // the store's reader feeds the unit from two cycles in, as RoPE's
        d = 2 + scaleOutCycles(ins.split ? 2 * ins.n : ins.n, ins.tokens);
        break;
      case "normQuant":
        // the source's reader feeds the unit from two cycles in; the weights wait on `nw`
        d = 2 + normQuantCycles(ins.d, normQuantInstances(shape)[ins.instance]!.norm, ins.tokens);
        break;
      case "gate":
        // g and u readers start together, as the residual add's
        d = 2 + gateCycles(shape.activation, ins.n, ins.tokens);
        break;
      case "residual":
        // both readers start together: h and o arrive in lockstep two cycles in
        d = 2 + residualCycles(ins.n, ins.tokens);
        break;
      case "loadH":
        d = ins.tokens * ins.n;
        break;
      case "storeY":
      case "storeA":
      case "storeH":
        d = ins.tokens * ins.n + 3;
        break;
      case "loadA":
        d = ins.tokens * ins.n;
        break;
      case "rope":
        // the unit's cycle 0 is the reader's first element, two cycles in; the sequencer leaves
        // with the last result's write
        d = 2 + ropeCycles(shape, ins.n / shape.headDim, ins.tokens);
        break;
      case "attention": {
        // per token and kv head: the reader from its command (the phase's first cycle) to its
        // last V row, then per query head of the group a job starting two cycles after its
        // phase (the prefetchers' first reads), the next phase the cycle after its last output
        const l = kvUnitLayout(shape);
        const group = shape.heads / shape.kvHeads;
        d = 0;
        for (let t = 0; t < ins.tokens; t++) {
          const L = ins.pos + t + 1;
          for (let kvh = 0; kvh < shape.kvHeads; kvh++) {
            d += kvReaderCycles(l, kvMemory, L, ins.addr + 2 * kvh * l.regionBytes);
            d += group * (attentionJobCycles(shape, L) + 2);
          }
        }
        break;
      }
      case "kvWrite":
        // the writer's cycle 0 is the one its first command is offered in, one cycle in; the
        // sequencer leaves the cycle after the last `done`
        d = 1 + kvWriterCycles(kvUnitLayout(shape), kvMemory, ins.tokens);
        break;
    }
    const isLast = i === program.length - 1;
    // the last store ends the run one cycle before its reader empties
    const counted = isLast ? d - 1 : d;
    instructions.push({ op: ins.op, start: f, cycles: counted });
    units["sequencer"]! += 1;
    units[UNIT_OF[ins.op]] = (units[UNIT_OF[ins.op]] ?? 0) + counted;
    total = f + 1 + counted;
    f += 1 + d;
  });
  return { total, instructions, units };
}

