import { parseDocument } from "yaml";
import { UserError } from "./errors.js";

/**
 * Parses a spec file's text (YAML 1.2, so JSON too). Errors and warnings alike (an unresolved tag,
 * an old directive) refuse the file in one line: the yaml package would otherwise print warnings
 * through process.emitWarning, a second line on stderr, and go on with a guess.
 */
export function parseSpecText(text: string, path: string): unknown {
  const doc = parseDocument(text, { prettyErrors: false, logLevel: "silent" });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw new UserError(`${path}: not valid YAML or JSON (${problem.message.split("\n")[0]})`);
  return doc.toJS({ maxAliasCount: 1000 });
}
