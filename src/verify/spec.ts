import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parseSpecText } from "../util/yaml.js";
import { PRESETS } from "../budget/budget.js";
import { ENGINE_SCHEMA } from "../engine/config.js";
import { compileSchema } from "../util/schema.js";
import { UserError } from "../util/errors.js";

/**
 * A verify spec: checks a CI runs on every change to a design. Each check names a model, what to
 * run (one tensor, a decoder block or every matmul), a budget and an engine, and a mode; `defaults`
 * fill what a check leaves out. YAML or JSON; paths relative to the spec file.
 */
export interface Check {
  /** The test case's name (default: what it runs, on which device, in which mode). */
  readonly name: string;
  readonly model: string;
  readonly tensor?: string;
  readonly block?: number;
  readonly all?: boolean;
  readonly device?: string;
  readonly budget?: string;
  readonly engine?: string;
  readonly set: Readonly<Record<string, unknown>>;
  readonly mode: "decode" | "prefill";
  readonly tokens?: number;
  readonly context?: number;
  readonly seed: number;
  readonly backpressure: number;
  readonly backend: "rtl" | "hls";
  /** Also synthesize the engine with yosys and hold its resources to the budget. */
  readonly synth: boolean;
  /** Seconds the check may take, builds included; past them it fails as "timeout". */
  readonly timeout: number;
}

/** A check's time limit unless the spec gives one: a cold Verilator build and a long run fit. */
export const DEFAULT_CHECK_TIMEOUT_SECONDS = 1800;

const CHECK_PROPERTIES = {
  name: { type: "string", minLength: 1 },
  model: { type: "string", minLength: 1 },
  tensor: { type: "string", minLength: 1 },
  block: { type: "integer", minimum: 0 },
  all: { const: true },
  device: { enum: Object.keys(PRESETS) },
  budget: { type: "string", minLength: 1 },
  engine: { type: "string", minLength: 1 },
  // the engine's fields without its $id: the schema appears under defaults and under each check
  set: { type: "object", additionalProperties: false, properties: ENGINE_SCHEMA.properties },
  mode: { enum: ["decode", "prefill"] },
  tokens: { type: "integer", minimum: 1, maximum: 65535 },
  context: { type: "integer", minimum: 0 },
  seed: { type: "integer", minimum: 0 },
  backpressure: { type: "number", minimum: 0, exclusiveMaximum: 1 },
  backend: { enum: ["rtl", "hls"] },
  synth: { type: "boolean" },
  timeout: { type: "number", exclusiveMinimum: 0, maximum: 604800 },
};

const validate = compileSchema<{ defaults?: Record<string, unknown>; checks: Record<string, unknown>[] }>({
  $id: "https://trilut.dev/schema/verify.json",
  type: "object",
  additionalProperties: false,
  required: ["checks"],
  properties: {
    defaults: { type: "object", additionalProperties: false, properties: CHECK_PROPERTIES },
    checks: { type: "array", minItems: 1, items: { type: "object", additionalProperties: false, properties: CHECK_PROPERTIES } },
  },
});

export function loadVerifySpec(path: string): Check[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UserError((err as NodeJS.ErrnoException).code === "ENOENT" ? `${path}: no such verify spec` : `${path}: cannot read verify spec`);
  }
  const raw = parseSpecText(text, path);
  const spec = validate(raw, path);
  const dir = dirname(resolve(path));
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(dir, p));
  return spec.checks.map((given, i) => {
    const c = { ...spec.defaults, ...given } as Record<string, unknown>;
    const where = `${path}: /checks/${i}`;
    const scopes = ["tensor", "block", "all"].filter((k) => c[k] !== undefined);
    if (scopes.length !== 1) throw new UserError(`${where}: name what to run: one of tensor, block or all (has ${scopes.join(", ") || "none"})`);
    if (c["model"] === undefined) throw new UserError(`${where}: missing required field "model"`);
    if ((c["device"] === undefined) === (c["budget"] === undefined)) throw new UserError(`${where}: give one of device (a preset) or budget (a file)`);
    const mode = (c["mode"] as Check["mode"] | undefined) ?? "decode";
    if (mode === "decode" && c["tokens"] !== undefined && c["tokens"] !== 1) throw new UserError(`${where}/tokens: decode runs one token; use mode: prefill`);
    const model = at(c["model"] as string);
    if (!existsSync(model)) throw new UserError(`${where}/model: ${model}: no such model file`);
    for (const key of ["budget", "engine"] as const) {
      if (typeof c[key] === "string" && !existsSync(at(c[key] as string))) throw new UserError(`${where}/${key}: ${at(c[key] as string)}: no such file`);
    }
    const what = c["tensor"] !== undefined ? String(c["tensor"]) : c["block"] !== undefined ? `block ${String(c["block"])}` : "all matmuls";
    const set = (c["set"] ?? {}) as Record<string, unknown>;
    const setText = Object.entries(set).map(([k, v]) => `${k}=${String(v)}`).join(" ");
    return {
      name:
        (c["name"] as string | undefined) ??
        `${what} on ${String(c["device"] ?? c["budget"])}${setText ? ` (${setText})` : ""}, ${mode}${c["backend"] === "hls" ? ", HLS" : ""}`,
      model,
      ...(c["tensor"] !== undefined ? { tensor: c["tensor"] as string } : {}),
      ...(c["block"] !== undefined ? { block: c["block"] as number } : {}),
      ...(c["all"] !== undefined ? { all: true } : {}),
      ...(c["device"] !== undefined ? { device: c["device"] as string } : {}),
      ...(c["budget"] !== undefined ? { budget: at(c["budget"] as string) } : {}),
      ...(c["engine"] !== undefined ? { engine: at(c["engine"] as string) } : {}),
      set,
      mode,
      ...(c["tokens"] !== undefined ? { tokens: c["tokens"] as number } : {}),
      ...(c["context"] !== undefined ? { context: c["context"] as number } : {}),
      seed: (c["seed"] as number | undefined) ?? 1,
      backpressure: (c["backpressure"] as number | undefined) ?? 0,
      backend: (c["backend"] as Check["backend"] | undefined) ?? "rtl",
      synth: (c["synth"] as boolean | undefined) ?? false,
      timeout: (c["timeout"] as number | undefined) ?? DEFAULT_CHECK_TIMEOUT_SECONDS,
    };
  });
}
