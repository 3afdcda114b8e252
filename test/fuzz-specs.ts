/**
 * Seeded structural fuzzing of the text inputs a user writes: budgets (JSON), engine configs (JSON
 * and `--set k=v`), sweep specs and verify specs (YAML or JSON). A valid document gets wrong types,
 * missing and extra fields, hostile numbers and strings, deep nesting or truncation, and goes
 * through the library's own loaders; each case must end in a valid result or trilut's own
 * UserError with a one-line message, never another exception, within a time bound.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify as yamlText } from "yaml";
import { presetBudget, resolveBudget } from "../src/budget/budget.js";
import { planEngine } from "../src/plan/plan.js";
import { loadSweepSpec } from "../src/sweep/spec.js";
import { loadVerifySpec } from "../src/verify/spec.js";
import { planChecks } from "../src/verify/run.js";
import { UserError } from "../src/util/errors.js";
import { Rng } from "../src/util/random.js";
import { FIXTURES } from "./helpers.js";
import { FuzzTally, scratchRoot, type FuzzOutcome } from "./fuzz-harness.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Numbers that break naive code: huge, negative, fractional, non-finite (written as raw text). */
const HOSTILE_NUMBERS = ["0", "-1", "-0", "0.5", "1e308", "-1e308", "1e999", "-1e999", "NaN", "Infinity", "1e-320", "9007199254740993", "4294967296", "1e9", "2.5e6"];

/** Strings aimed at generated code, terminals, object prototypes and path handling. */
const HOSTILE_STRINGS = [
  "",
  "a\nb",
  "x\r\n[exec id]",
  "exec touch pwned ;# [exec id]",
  "*/ int pwned; /*",
  "\u0000\u0007\u001b[31m",
  "__proto__",
  "constructor",
  "loader",
  "../../etc/passwd",
  "/proc/self/mem",
  "kv260\n",
  "x".repeat(5000),
  "\u2028\u2029",
  "${HOME}`id`$(id)",
  "<script>alert(1)</script>",
  "\ud800",
];

/** Field names a mutation adds: hostile ones and the real fields of the other kinds. */
const EXTRA_KEYS = ["__proto__", "constructor", "prototype", "loader", "toString", "hasOwnProperty", "a\nb", "", "T", "device", "extends", "checks"];

/** Raw text spliced in after serializing: what JSON.stringify cannot write (NaN, 1e999, deep nesting). */
const RAW_MARK = "\u0001RAW";
interface Raw {
  text: string;
}

function randomOf<T>(rng: Rng, list: readonly T[]): T {
  return list[rng.int(0, list.length - 1)]!;
}

function deepNesting(rng: Rng): string {
  const depth = randomOf(rng, [100, 1000, 10000, 100000]);
  return rng.float() < 0.5 ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

/** Every container and leaf of `doc`, by the path of keys reaching it. */
function paths(doc: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(doc)) doc.forEach((v, i) => paths(v, [...at, i], out));
  else if (doc !== null && typeof doc === "object") for (const [k, v] of Object.entries(doc)) paths(v, [...at, k], out);
  return out;
}

/**
 * One structural mutation of `doc` in place (the root is wrapped so it can be replaced too);
 * raw values go into `raws` and a marker string into the document.
 */
function mutateTree(rng: Rng, box: { root: Json }, raws: Raw[]): string {
  const all = paths(box.root);
  const path = randomOf(rng, all);
  let parent: Json = box as unknown as Json;
  let key: string | number = "root";
  for (const k of path) {
    parent = (parent as Record<string | number, Json>)[key]!;
    key = k;
  }
  const holder = parent as Record<string | number, Json>;
  const current = holder[key];
  const set = (v: Json): void => {
    holder[key] = v;
  };
  const raw = (text: string): string => {
    raws.push({ text });
    return `${RAW_MARK}${raws.length - 1}`;
  };
  const where = path.join("/") || "(root)";
  switch (rng.int(0, 7)) {
    case 0: {
      const v = randomOf<Json>(rng, [null, true, 7, "text", [], {}, [1, "a"], { x: 1 }]);
      set(v);
      return `${where} := ${JSON.stringify(v)}`;
    }
    case 1:
      if (Array.isArray(holder)) holder.splice(key as number, 1);
      else delete holder[key];
      return `delete ${where}`;
    case 2: {
      if (current === null || typeof current !== "object") return mutateTree(rng, box, raws);
      const extra = randomOf(rng, EXTRA_KEYS);
      const value = randomOf<Json>(rng, [1, "x", null, { polluted: true }]);
      if (Array.isArray(current)) current.push(value);
      // defineProperty: a plain assignment of "__proto__" would set the prototype, not a field
      else Object.defineProperty(current, extra, { value, enumerable: true, writable: true, configurable: true });
      return `${where} + ${JSON.stringify(extra)}: ${JSON.stringify(value)}`;
    }
    case 3: {
      const n = randomOf(rng, HOSTILE_NUMBERS);
      set(raw(n));
      return `${where} := ${n}`;
    }
    case 4: {
      const s = randomOf(rng, HOSTILE_STRINGS);
      set(s);
      return `${where} := ${JSON.stringify(s.slice(0, 40))}`;
    }
    case 5: {
      const nest = deepNesting(rng);
      set(raw(nest));
      return `${where} := nesting of ${nest.length} chars`;
    }
    case 6: {
      // a number nudged off by one or scaled, where a number was: edges of every range
      const v = typeof current === "number" ? randomOf(rng, [current + 1, current - 1, current * 1000, -current, current + 0.5]) : rng.int(-5, 300);
      set(v);
      return `${where} := ${v}`;
    }
    default: {
      // a string field gets a hostile tail, keeping its start (a path, a preset, a figure name)
      const s = typeof current === "string" ? current + randomOf(rng, HOSTILE_STRINGS) : randomOf(rng, HOSTILE_STRINGS);
      set(s);
      return `${where} := ${JSON.stringify(s.slice(0, 40))}`;
    }
  }
}

/** Serializes, then splices in the raw values (YAML gets them unquoted too, as plain scalars or flow collections). */
function serialize(doc: Json, raws: readonly Raw[], yaml: boolean): string {
  if (doc === undefined) return ""; // the root was deleted
  let text = yaml ? yamlText(doc, { lineWidth: 0 }) : JSON.stringify(doc, null, 1);
  return text.replace(/"?\u0001RAW(\d+)"?/g, (_, i: string) => raws[Number(i)]!.text);
}

/** A text-level mutation after serializing: truncation, a control character or random bytes. */
function mutateText(rng: Rng, text: string): { text: string; what: string } {
  switch (rng.int(0, 2)) {
    case 0: {
      const at = rng.int(0, text.length);
      return { text: text.slice(0, at), what: `truncated to ${at}` };
    }
    case 1: {
      const at = rng.int(0, text.length);
      const ch = String.fromCharCode(randomOf(rng, [0, 7, 9, 10, 13, 27, 0x7f, 0x85, 0xfeff, 0x2028]));
      return { text: text.slice(0, at) + ch + text.slice(at), what: `U+${ch.charCodeAt(0).toString(16)} at ${at}` };
    }
    default: {
      const at = rng.int(0, text.length);
      const run = Array.from({ length: rng.int(1, 8) }, () => String.fromCharCode(rng.int(0, 255))).join("");
      return { text: text.slice(0, at) + run + text.slice(at + run.length), what: `${run.length} random chars at ${at}` };
    }
  }
}

export interface SpecTarget {
  readonly name: string;
  /** A valid document of this kind; files it names are written beside it (`files`). */
  readonly seed: Json;
  /** Whether the document may be written as YAML (sweep and verify specs) or only JSON. */
  readonly yaml: boolean;
  readonly fileName: string;
  /**
   * Runs the library's entry points on the written file in `dir` (and, for engines, on `--set`
   * pairs built from the document): returns normally when accepted, throws when refused.
   */
  readonly exercise: (dir: string, file: string, doc: Json, rng: Rng) => void;
}

const MODEL = "tiny-llama-tq2_0.gguf";

/** Files the specs name, written once per run into the case directory. */
function writeSideFiles(dir: string): void {
  copyFileSync(join(FIXTURES, MODEL), join(dir, "model.gguf"));
  writeFileSync(join(dir, "budget.json"), JSON.stringify({ device: "mine", lut: 200000, ff: 400000, bram36: 300, uram: 80, dsp: 1000, clockMHz: 250, memoryGBps: 19.2 }));
  writeFileSync(join(dir, "engine.json"), JSON.stringify({ T: 8, P: 4 }));
  writeFileSync(join(dir, "parent.yaml"), yamlText({ budgets: ["kv260"], objectives: ["tokensPerSecond"], axes: { P: [4, 8] }, engine: { G: 3 } }));
}

/** `--set` pairs made from an engine document's entries, as a user would type them. */
function setPairs(doc: Json, rng: Rng): string[] {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return [];
  return Object.entries(doc)
    .filter(() => rng.float() < 0.5)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
}

export function specTargets(): SpecTarget[] {
  return [
    {
      name: "budget JSON",
      seed: { device: "mine", family: "ultrascale+", part: "xck26-sfvc784-2LV-c", lut: 117120, ff: 234240, bram36: 144, uram: 64, dsp: 1248, clockMHz: 250, memoryGBps: 19.2, memoryLatencyNs: 150, utilizationCap: 0.9 },
      yaml: false,
      fileName: "b.json",
      exercise: (_dir, file) => {
        resolveBudget({ budget: file });
      },
    },
    {
      name: "engine JSON + --set",
      seed: { kind: "tlmm", G: 3, encoding: "full", T: 8, P: 4, c: 2, bufferDepth: 4096, maxRows: 8192, weightMemory: "uram", treeLevelsPerStage: 2, memBits: 1024, maxBurst: 4, maxOutstanding: 8, dequant: false },
      yaml: false,
      fileName: "e.json",
      exercise: (_dir, file, doc, rng) => {
        // the engine file alone, --set alone, or both: resolveEngine, engineGeometry and the budget check
        const use = rng.int(0, 2);
        planEngine(presetBudget("u55c"), { ...(use !== 1 ? { engineFile: file } : {}), ...(use !== 0 ? { set: setPairs(doc, rng) } : {}) });
      },
    },
    {
      name: "sweep spec YAML/JSON",
      seed: {
        model: { hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, vocab: 64, arch: "llama", weights: "TQ2_0", lmHead: "F16" },
        budgets: ["kv260", "budget.json"],
        engine: { G: 3, maxRows: 4096 },
        axes: { T: { from: 4, to: 28, step: 4 }, P: [4, 8, 16], clock: [200, 250], mode: ["decode", "prefill"], context: { from: 1, to: 1000, step: 100 } },
        constraints: [{ figure: "utilization", max: 0.9 }],
        objectives: ["tokensPerSecond", { figure: "lut", goal: "minimize" }],
        sampler: { kind: "random", count: 100, seed: 3 },
        chunk: 512,
      },
      yaml: true,
      fileName: "s.yaml",
      exercise: (_dir, file, doc, rng) => {
        // a spec extending another exercises the merge of axes and engine
        if (doc !== null && typeof doc === "object" && !Array.isArray(doc) && rng.float() < 0.3 && !("extends" in doc)) {
          writeFileSync(file, `extends: parent.yaml\n${yamlText(doc)}`);
        }
        loadSweepSpec(file);
      },
    },
    {
      name: "verify spec YAML",
      seed: {
        defaults: { model: "model.gguf", timeout: 600 },
        checks: [
          { name: "q", tensor: "blk.0.attn_q.weight", device: "kv260", set: { T: 4, P: 2 }, seed: 3 },
          // backpressure only where the backend has a clock to stall (Verilator)
          { block: 0, device: "zcu104", mode: "prefill", tokens: 4, backend: "rtl", backpressure: 0.25 },
          { block: 1, device: "zcu104", backend: "hls" },
          { all: true, budget: "budget.json", engine: "engine.json", set: { dequant: true }, synth: false, context: 2 },
        ],
      },
      yaml: true,
      fileName: "v.yaml",
      exercise: (_dir, file) => {
        planChecks(loadVerifySpec(file), file);
      },
    },
  ];
}

/** A line break or other control character: a message must print as one line. */
// eslint-disable-next-line no-control-regex
const NOT_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function fuzzSpecs(target: SpecTarget, cases: number, seed: number, timeLimitMs: number): FuzzOutcome {
  const dir = mkdtempSync(join(scratchRoot(), "trilut-fuzz-spec-"));
  const rng = new Rng(seed);
  const tally = new FuzzTally(timeLimitMs);
  try {
    writeSideFiles(dir);
    const file = join(dir, target.fileName);
    for (let i = 0; i < cases; i++) {
      // a few unmutated cases keep the accepted path exercised; most get 1-3 mutations
      const box = { root: structuredClone(target.seed) };
      const raws: Raw[] = [];
      const whats: string[] = [];
      const mutations = rng.float() < 0.05 ? 0 : rng.int(1, 3);
      for (let m = 0; m < mutations; m++) whats.push(mutateTree(rng, box, raws));
      const yaml = target.yaml && rng.float() < 0.7;
      let text = serialize(box.root, raws, yaml);
      if (rng.float() < 0.15) {
        const t = mutateText(rng, text);
        text = t.text;
        whats.push(t.what);
      }
      const what = `case ${i} (${yaml ? "YAML" : "JSON"}): ${whats.join("; ") || "unmutated"}`;
      writeFileSync(file, text);
      tally.record(what, () => {
        try {
          target.exercise(dir, file, box.root, rng);
          return "read";
        } catch (err) {
          if (!(err instanceof UserError)) throw err;
          if (NOT_ONE_LINE.test(err.message) || err.message === "") throw new Error(`message is not one line: ${JSON.stringify(err.message.slice(0, 200))}`);
          return "rejected";
        }
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tally.outcome(cases);
}
