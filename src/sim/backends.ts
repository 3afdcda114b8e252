import { type BackendName, type SimBackend } from "./backend.js";
import { hlsBackend } from "./hls-simulate.js";
import { icarusBackend } from "./icarus.js";
import { verilatorBackend } from "./simulate.js";

/** The backends by name; `rtl`, the name the CLI and verify specs have always used, is Verilator. */
export function backendNamed(name: BackendName | "rtl"): SimBackend {
  return { rtl: verilatorBackend, verilator: verilatorBackend, icarus: icarusBackend, hls: hlsBackend }[name];
}
