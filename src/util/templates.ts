import Handlebars from "handlebars";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { commentText, cString, tclWord } from "./quote.js";

/** The package root: templates/, hw/ and sim/ ship beside dist/. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/**
 * Templates render in their own Handlebars environment with quoting helpers, one per language:
 * `{{tcl x}}` a Tcl word, `{{comment x}}` (also `vcomment`) text inside a comment of any of our
 * languages, `{{cstr x}}` a C++ string literal. Strings from inputs must go through one of them.
 */
const hbs = Handlebars.create();
hbs.registerHelper("tcl", (v: unknown) => tclWord(String(v)));
hbs.registerHelper("comment", (v: unknown) => commentText(String(v)));
hbs.registerHelper("vcomment", (v: unknown) => commentText(String(v)));
hbs.registerHelper("cstr", (v: unknown) => cString(String(v)));

/**
 * What a plain `{{x}}` may print: numbers, booleans and strings of characters that are not syntax
 * in the template's language (no quotes, backslashes, newlines or comment delimiters; in Tcl not
 * even brackets, braces or `$`). Anything else is a bug in trilut, refused rather than written:
 * a plain mustache cannot carry an input's text into generated code.
 */
const PLAIN_SAFE = { tcl: /^[A-Za-z0-9_.]*$/, code: /^[A-Za-z0-9_ .,:+\-[\]]*$/ } as const;
hbs.registerHelper("plain", function (this: unknown, v: unknown, options: Handlebars.HelperOptions) {
  const language = (options.data as { root?: { __language?: keyof typeof PLAIN_SAFE } }).root?.__language ?? "code";
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (typeof v === "string" && PLAIN_SAFE[language].test(v)) return v;
  throw new Error(`template: a plain {{${String(options.hash["of"])}}} would write ${JSON.stringify(v)} unquoted; quote it with tcl, comment or cstr`);
});

/** Rewrites every plain `{{path}}` (no helper, no arguments) into `{{plain path}}`. */
function guardPlainMustaches(ast: hbs.AST.Program): hbs.AST.Program {
  const visitor = new Handlebars.Visitor();
  visitor.MustacheStatement = function (node: hbs.AST.MustacheStatement): void {
    if (node.params.length === 0 && !node.hash && node.path.type === "PathExpression") {
      const path = node.path as hbs.AST.PathExpression;
      {
        node.params = [path];
        node.hash = { type: "Hash", loc: path.loc, pairs: [{ type: "HashPair", key: "of", loc: path.loc, value: { type: "StringLiteral", value: path.original, original: path.original, loc: path.loc } as hbs.AST.StringLiteral }] };
        node.path = { type: "PathExpression", data: false, depth: 0, parts: ["plain"], original: "plain", loc: path.loc } as hbs.AST.PathExpression;
      }
    }
  };
  visitor.accept(ast);
  return ast;
}

const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** A partial given at render time: `{{> name}}` on a line of its own inserts what it returns. */
export type RuntimePartial = () => string;

/**
 * Renders templates/<name> with `context`; templates are compiled once per process. `partials`
 * fill the template's `{{> name}}` lines (a missing one is an error: templates are strict).
 */
export function renderTemplate(name: string, context: object, partials: Record<string, RuntimePartial> = {}): string {
  let template = compiled.get(name);
  if (!template) {
    const source = readFileSync(join(PACKAGE_ROOT, "templates", name), "utf8");
    template = hbs.compile(guardPlainMustaches(hbs.parse(source)), { noEscape: true, strict: true, knownHelpers: { plain: true, tcl: true, comment: true, vcomment: true, cstr: true } });
    compiled.set(name, template);
  }
  return template({ ...context, __language: name.endsWith(".tcl.hbs") ? "tcl" : "code" }, { partials });
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string };
  return pkg.version;
}
