/**
 * Analytic resource estimate benchmark: microseconds per configuration of the per-module model
 * (the hardware units of src/units/), over the calibration spread and the default engine, for UltraScale+
 * and 7-series. Run with `npm run bench:resources`.
 */
import { DEFAULT_ENGINE, engineGeometry, resolveEngine } from "../src/engine/config.js";
import { estimateModules } from "../src/estimate/resources.js";
import { type Family } from "../src/fabric/resources.js";
import { CALIBRATION_CONFIGS } from "../scripts/calibration-configs.js";

const configs: [string, object][] = [
  [`default (G=${DEFAULT_ENGINE.G} T=${DEFAULT_ENGINE.T} P=${DEFAULT_ENGINE.P} c=${DEFAULT_ENGINE.c})`, {}],
  ...CALIBRATION_CONFIGS.map((c): [string, object] => [c.name, c.engine]),
];
const rounds = 20000;
for (const family of ["ultrascale+", "7series"] as Family[]) {
  let worst = 0;
  let sum = 0;
  for (const [name, partial] of configs) {
    const geo = engineGeometry(resolveEngine(partial, "bench"));
    for (let i = 0; i < 1000; i++) estimateModules(geo, family); // warm up
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) estimateModules(geo, family);
    const us = ((performance.now() - t0) * 1000) / rounds;
    sum += us;
    worst = Math.max(worst, us);
    if (name.startsWith("default")) console.log(`${family} ${name}: ${us.toFixed(2)} µs per estimate`);
  }
  console.log(`${family}: ${configs.length} configurations, mean ${(sum / configs.length).toFixed(2)} µs, worst ${worst.toFixed(2)} µs per estimate`);
}
