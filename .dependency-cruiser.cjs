/**
 * The import rules `npm test` checks (dependency-cruiser): no import cycle between files, and the
 * folders of src/ follow the flow, each importing only from folders before it in FLOW.
 * docs/architecture.md says what each folder holds.
 */
const FLOW = [
  "util",
  "types",
  "model",
  "budget",
  "fabric",
  "engine",
  "ref",
  "units",
  "codegen",
  "estimate",
  "plan",
  "sim",
  "compile",
  "sweep",
  "verify",
  "report",
  "cli",
];

const forward = FLOW.map((folder, i) => ({
  name: `flow-${folder}`,
  comment: `src/${folder}/ comes before ${FLOW.slice(i + 1).join(", ")} in the flow and must not import them`,
  severity: "error",
  from: { path: `^src/${folder}/` },
  to: { path: `^src/(${FLOW.slice(i + 1).join("|")})/` },
})).filter((_, i) => i + 1 < FLOW.length);

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "an import cycle: modules that import each other cannot be read, tested or moved apart",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "flow-folders",
      comment: "every file of src/ lives in a folder of the flow (or is the front door src/index.ts)",
      severity: "error",
      from: { path: "^src/", pathNot: `^src/(${FLOW.join("|")})/|^src/index\\.ts$` },
      to: {},
    },
    {
      name: "front-door",
      comment: "src/index.ts is the library the CLI is built on: it must not import the CLI",
      severity: "error",
      from: { path: "^src/index\\.ts$" },
      to: { path: "^src/cli/" },
    },
    ...forward,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.src.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".js"] },
  },
};
