/**
 * Quoting for the languages trilut generates (Tcl, Verilog and C++ comments, C++ string literals).
 * Any text that comes from an input (a budget's device or part, a tensor's name, a path) goes through
 * one of these before it reaches a generated file, so it stays text and never becomes code.
 */

const hex = (code: number, width: number): string => code.toString(16).padStart(width, "0");

/**
 * One Tcl word that evaluates to exactly `text` wherever a word may stand: bare, inside "..." or
 * inside [...]. Every character that Tcl could read as syntax is backslash-escaped; control
 * characters become \uXXXX, so no newline (a command separator) ever reaches the script.
 */
export function tclWord(text: string): string {
  if (text === "") return "[]"; // an empty command substitution: "" in every context, also inside quotes
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (/^[A-Za-z0-9_.,:/+=@%-]$/.test(ch)) out += ch;
    else if (code > 0xffff) out += `\\U${hex(code, 8)}`;
    else if (code < 0x20 || code >= 0x7f) out += `\\u${hex(code, 4)}`;
    else out += `\\${ch}`;
  }
  return out;
}

/**
 * Text that stays inside a line comment (`//` in Verilog and C++, `#` in Tcl) or a block comment:
 * control characters, backslashes (C++ and Tcl continue a comment after a trailing backslash), `*` `/`
 * pairs that open or close block comments, and `??` (a C++ trigraph) are written as visible escapes.
 */
export function commentText(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f || code === 0x85 || code === 0x2028 || code === 0x2029) out += code > 0xff ? `\\u${hex(code, 4)}` : `\\x${hex(code, 2)}`;
    else if (ch === "\\") out += "\\x5c";
    else out += ch;
  }
  return out.replace(/\*\//g, "*\\x2f").replace(/\/\*/g, "\\x2f*").replace(/\?\?/g, "?\\x3f");
}

/**
 * A C++ string literal (with its quotes) holding the UTF-8 bytes of `text`. Everything outside
 * printable ASCII, and `"`, `\` and `?` (trigraphs), are three-digit octal escapes, which unlike
 * \x cannot swallow the characters after them.
 */
export function cString(text: string): string {
  let out = '"';
  for (const byte of new TextEncoder().encode(text)) {
    const ch = String.fromCharCode(byte);
    out += byte >= 0x20 && byte < 0x7f && ch !== '"' && ch !== "\\" && ch !== "?" ? ch : `\\${byte.toString(8).padStart(3, "0")}`;
  }
  return `${out}"`;
}

/** Text as HTML element content or a quoted attribute value. */
export function htmlText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Control characters of a name (a tensor's, a file's) as visible escapes, for a terminal line:
 * a name read from a model file never moves the cursor, clears the screen or starts a second line.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (c.charCodeAt(0) > 0xff ? `\\u${hex(c.charCodeAt(0), 4)}` : `\\x${hex(c.charCodeAt(0), 2)}`));
}

/**
 * Text as literal Markdown (a table cell, a heading, a paragraph): control characters made visible,
 * so a name cannot end a table row or a line, and every ASCII punctuation mark Markdown or its inline
 * HTML could read as syntax (emphasis, code, links, tags, entities, cell bars) backslash-escaped.
 */
export function markdownText(text: string): string {
  // "_" between two letters or digits cannot start or end emphasis: left as is, blk.0.attn_q.weight reads as itself
  return printable(text).replace(/[\\`*_{}[\]()<>#+!|~&$]/g, (c, at: number, all: string) =>
    c === "_" && /[\p{L}\p{N}]/u.test(all[at - 1] ?? "") && /[\p{L}\p{N}]/u.test(all[at + 1] ?? "") ? c : `\\${c}`,
  );
}
