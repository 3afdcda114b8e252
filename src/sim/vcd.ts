import { closeSync, openSync, readSync } from "node:fs";

/**
 * A small streaming reader of Value Change Dump files (IEEE 1364 §18), enough for what Verilator
 * writes: a header of scopes and variables, then timestamps and value changes. It reads a file in
 * chunks and hands each change of the variables a caller asks for to a callback, so a window of a
 * large design never has to sit in memory whole.
 */

/** One variable of the header. Several variables may share an id (the same net seen in two scopes). */
export interface VcdVariable {
  /** Scope path and name, joined with dots: "TOP.trilut_engine.core.busy". */
  readonly path: string;
  readonly scopes: readonly string[];
  /** The reference as written, without a bit range: "busy", "g_col[3]". */
  readonly name: string;
  readonly width: number;
  /** The identifier code its value changes use. */
  readonly id: string;
  readonly type: string;
}

export interface VcdHeader {
  /** As written, for example "1ps" (undefined when the file has no $timescale). */
  readonly timescale: string | undefined;
  readonly variables: readonly VcdVariable[];
}

/**
 * A value: "0", "1", "x" or "z" for a scalar; the binary digits of a vector as written (the
 * most significant first, leading zeros possibly dropped); for a real, its decimal text.
 */
export type VcdValue = string;

export interface VcdVisitor {
  /** Called once after $enddefinitions; returns the ids whose changes to report (all when undefined). */
  header(header: VcdHeader): ReadonlySet<string> | undefined;
  /** A new timestamp begins; return false to stop reading. */
  time?(time: number): boolean | void;
  /** A reported variable changed at the current time. */
  change?(id: string, value: VcdValue): void;
}

export class VcdError extends Error {
  override readonly name = "VcdError";
}

const KEYWORDS_WITHOUT_BODY = new Set(["$dumpvars", "$dumpall", "$dumpon", "$dumpoff", "$end"]);

/**
 * Splits text that arrives in chunks into whitespace-separated tokens; a token cut by a chunk
 * boundary is held back until the next chunk completes it.
 */
class Tokenizer {
  private carry = "";

  *feed(chunk: string, last: boolean): Generator<string> {
    const text = this.carry + chunk;
    let end = text.length;
    if (!last) {
      // hold back an unfinished token at the end of the chunk
      while (end > 0 && !isSpace(text.charCodeAt(end - 1))) end--;
      this.carry = text.slice(end);
    } else {
      this.carry = "";
    }
    let i = 0;
    while (i < end) {
      while (i < end && isSpace(text.charCodeAt(i))) i++;
      const start = i;
      while (i < end && !isSpace(text.charCodeAt(i))) i++;
      if (i > start) yield text.slice(start, i);
    }
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
}

/** The parser's state between tokens: the header's scopes and variables, then the body's changes. */
class VcdParser {
  private readonly scopes: string[] = [];
  private readonly variables: VcdVariable[] = [];
  private timescale: string | undefined;
  private inHeader = true;
  /** Tokens of the header command being read ($var ... $end), from its keyword on. */
  private command: string[] | undefined;
  private skipping = false;
  /** A vector or real value waiting for its identifier. */
  private pendingValue: string | undefined;
  private wanted: ReadonlySet<string> | undefined;
  stopped = false;

  constructor(private readonly visitor: VcdVisitor) {}

  token(tok: string): void {
    if (this.inHeader) this.headerToken(tok);
    else this.bodyToken(tok);
  }

  finish(): void {
    if (this.inHeader) throw new VcdError("the file ends before $enddefinitions");
  }

  private headerToken(tok: string): void {
    if (this.command) {
      if (tok !== "$end") {
        this.command.push(tok);
        return;
      }
      const cmd = this.command;
      this.command = undefined;
      this.headerCommand(cmd);
      return;
    }
    if (!tok.startsWith("$")) throw new VcdError(`unexpected "${tok}" in the header`);
    this.command = [tok];
  }

  private headerCommand(cmd: string[]): void {
    const [keyword, ...args] = cmd;
    switch (keyword) {
      case "$scope":
        this.scopes.push(args[1] ?? args[0] ?? "");
        break;
      case "$upscope":
        if (this.scopes.pop() === undefined) throw new VcdError("$upscope without a matching $scope");
        break;
      case "$var": {
        const [type, size, id, ref] = args;
        const width = Number(size);
        if (type === undefined || id === undefined || ref === undefined || !Number.isSafeInteger(width) || width < 1) {
          throw new VcdError(`malformed $var: ${cmd.join(" ")} $end`);
        }
        // Verilator writes a vector's bit range as a separate token, which is dropped; brackets
        // attached to the reference are array indices and stay part of the name ("slot_word[3]")
        const name = ref;
        this.variables.push({ path: [...this.scopes, name].join("."), scopes: [...this.scopes], name, width, id, type });
        break;
      }
      case "$timescale":
        this.timescale = args.join("");
        break;
      case "$enddefinitions":
        this.inHeader = false;
        this.wanted = this.visitor.header({ timescale: this.timescale, variables: this.variables });
        break;
      default:
        // $date, $version, $comment and vendor commands carry nothing a waveform needs
        break;
    }
  }

  private bodyToken(tok: string): void {
    if (this.skipping) {
      if (tok === "$end") this.skipping = false;
      return;
    }
    if (this.pendingValue !== undefined) {
      const value = this.pendingValue;
      this.pendingValue = undefined;
      this.report(tok, value);
      return;
    }
    const c = tok.charCodeAt(0);
    switch (c) {
      case 35: {
        // '#': a timestamp
        const time = Number(tok.slice(1));
        if (!Number.isFinite(time)) throw new VcdError(`malformed timestamp "${tok}"`);
        if (this.visitor.time?.(time) === false) this.stopped = true;
        return;
      }
      case 48: // '0'
      case 49: // '1'
      case 120: // 'x'
      case 88: // 'X'
      case 122: // 'z'
      case 90: // 'Z'
        this.report(tok.slice(1), tok[0]!.toLowerCase());
        return;
      case 98: // 'b'
      case 66: // 'B'
      case 114: // 'r'
      case 82: // 'R'
        this.pendingValue = tok.slice(1).toLowerCase();
        return;
      case 36: // '$'
        if (!KEYWORDS_WITHOUT_BODY.has(tok)) this.skipping = true;
        return;
      default:
        throw new VcdError(`unexpected "${tok}" in the value changes`);
    }
  }

  private report(id: string, value: string): void {
    if (id === "") throw new VcdError("a value change without an identifier");
    if (this.wanted === undefined || this.wanted.has(id)) this.visitor.change?.(id, value);
  }
}

/** Parses VCD text given as chunks (strings), calling the visitor as it goes. */
export function parseVcd(chunks: Iterable<string>, visitor: VcdVisitor): void {
  const tokenizer = new Tokenizer();
  const parser = new VcdParser(visitor);
  const feed = (chunk: string, last: boolean): boolean => {
    for (const tok of tokenizer.feed(chunk, last)) {
      parser.token(tok);
      if (parser.stopped) return false;
    }
    return true;
  };
  for (const chunk of chunks) if (!feed(chunk, false)) return;
  if (feed("", true)) parser.finish();
}

/** Reads a VCD file in chunks of chunkBytes, calling the visitor as it goes. */
export function readVcdFile(path: string, visitor: VcdVisitor, chunkBytes = 1 << 20): void {
  const fd = openSync(path, "r");
  try {
    const tokenizer = new Tokenizer();
    const parser = new VcdParser(visitor);
    const buffer = Buffer.alloc(chunkBytes);
    for (;;) {
      const n = readSync(fd, buffer, 0, chunkBytes, null);
      const last = n === 0;
      for (const tok of tokenizer.feed(last ? "" : buffer.toString("latin1", 0, n), last)) {
        parser.token(tok);
        if (parser.stopped) return;
      }
      if (last) break;
    }
    parser.finish();
  } finally {
    closeSync(fd);
  }
}
