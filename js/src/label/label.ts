// Labels: [host/]module:name[?params] (spec/labels.md), parsed and printed
// as Go's package label does. Offsets count bytes of the UTF-8 encoding.

/** The longest label, in bytes. */
export const maxLabelLength = 16 << 10;

/** The parts of a label, as LabelSyntaxError.part names them. */
export type LabelPart = "label" | "host" | "module" | "name" | "params";

/** A string that is not a label: which part is wrong, at which byte offset, and why. */
export class LabelSyntaxError extends Error {
  readonly kind = "invalid_label";
  constructor(
    readonly label: string,
    readonly part: LabelPart,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`label: bad ${part} in ${JSON.stringify(label)} at offset ${offset}: ${reason}`);
    this.name = "LabelSyntaxError";
  }
}

/** One parameter: the key is not empty; the value may be. Both are the decoded bytes, as a string (UTF-8) or, if not valid UTF-8, with U+FFFD. */
export interface Param {
  key: string;
  value: string;
}

/** A parsed label. */
export interface Label {
  /** The host, lower-cased, or "" for none. */
  host: string;
  module: string;
  name: string;
  /** Parameters in the order written; keys may repeat. */
  params: Param[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

const isAlnum = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
const isWordChar = (c: number) => isAlnum(c) || c === 0x2d || c === 0x5f || c === 0x2e;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHexDigit = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
const rawParamChars = new Set([..."-._~!$'()*+,;:@/?="].map((c) => c.charCodeAt(0)));
/** The bytes a parameter may hold unescaped when parsing: pchar, '?', and '=' (literal in values). */
const rawParamChar = (c: number) => isAlnum(c) || rawParamChars.has(c);
/** The bytes printing leaves unescaped: those of parsing but '='. */
const keepInParam = (c: number) => c !== 0x3d && rawParamChar(c);

function quoteByte(c: number): string {
  if (c < 0x20 || c >= 0x7f) return `byte 0x${c.toString(16).padStart(2, "0")}`;
  return `'${String.fromCharCode(c)}'`;
}

function indexOf(b: Uint8Array, c: number, from = 0, to = b.length): number {
  for (let i = from; i < to; i++) if (b[i] === c) return i;
  return -1;
}

function lastIndexOf(b: Uint8Array, c: number, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (b[i] === c) return i;
  return -1;
}

class Parser {
  readonly b: Uint8Array;
  constructor(readonly s: string) {
    this.b = enc.encode(s);
  }

  fail(part: LabelPart, offset: number, reason: string): never {
    throw new LabelSyntaxError(this.s, part, offset, reason);
  }

  text(from: number, to: number): string {
    return dec.decode(this.b.subarray(from, to));
  }

  /** Checks a module or name at [from, to). */
  word(part: LabelPart, from: number, to: number, alnumFirst: boolean): void {
    if (from === to) this.fail(part, from, `empty ${part}`);
    if (alnumFirst && !isAlnum(this.b[from]!)) {
      this.fail(part, from, `must start with a letter or digit, not ${quoteByte(this.b[from]!)}`);
    }
    for (let i = from; i < to; i++) {
      if (!isWordChar(this.b[i]!)) {
        this.fail(part, i, `${quoteByte(this.b[i]!)} is not allowed (letters, digits, '-', '_' and '.' are)`);
      }
    }
  }

  /** Checks the host at [0, end) and returns it in lower case. */
  host(end: number): string {
    const b = this.b;
    if (end === 0) this.fail("host", 0, "empty host before '/'");
    let nameEnd = end;
    if (b[0] === 0x5b) {
      const close = indexOf(b, 0x5d, 0, end);
      if (close < 0) this.fail("host", 0, "missing ']' after an IPv6 address");
      nameEnd = close + 1;
      if (close === 1) this.fail("host", 1, "empty IPv6 address");
      for (let i = 1; i < close; i++) {
        const c = b[i]!;
        if (!(isHexDigit(c) || c === 0x3a || c === 0x2e)) this.fail("host", i, `${quoteByte(c)} in an IPv6 address`);
      }
      if (nameEnd < end && b[nameEnd] !== 0x3a) this.fail("host", nameEnd, "want ':port' after ']'");
    } else {
      const colon = lastIndexOf(b, 0x3a, 0, end);
      if (colon >= 0) nameEnd = colon;
      if (nameEnd === 0) this.fail("host", 0, "empty host name");
      if (!isAlnum(b[0]!)) this.fail("host", 0, `must start with a letter or digit, not ${quoteByte(b[0]!)}`);
      for (let i = 0; i < nameEnd; i++) {
        if (!isWordChar(b[i]!)) this.fail("host", i, `${quoteByte(b[i]!)} is not allowed in a host name`);
      }
    }
    if (nameEnd < end) {
      const off = nameEnd + 1;
      const digits = end - off;
      if (digits === 0 || digits > 5) this.fail("host", off, "want a port of 1 to 5 digits after ':'");
      for (let i = off; i < end; i++) {
        if (!isDigit(b[i]!)) this.fail("host", i, `${quoteByte(b[i]!)} in the port`);
      }
      const port = this.text(off, end);
      if (Number(port) > 65535) this.fail("host", off, `port ${port} out of range`);
    }
    return this.text(0, end).toLowerCase();
  }

  /** Percent-decodes [from, to). */
  unescape(from: number, to: number): string {
    const out = new Uint8Array(to - from);
    let n = 0;
    for (let i = from; i < to; i++) {
      const c = this.b[i]!;
      if (c === 0x25) {
        if (i + 2 >= to || !isHexDigit(this.b[i + 1]!) || !isHexDigit(this.b[i + 2]!)) {
          this.fail("params", i, "'%' not followed by two hex digits");
        }
        out[n++] = parseInt(String.fromCharCode(this.b[i + 1]!, this.b[i + 2]!), 16);
        i += 2;
      } else if (rawParamChar(c)) {
        out[n++] = c;
      } else {
        this.fail("params", i, `${quoteByte(c)} must be percent-encoded`);
      }
    }
    return dec.decode(out.subarray(0, n));
  }

  /** Parses the parameters at [from, end of label). */
  params(from: number): Param[] {
    const b = this.b;
    if (from === b.length) this.fail("params", from, "empty parameters after '?'");
    const ps: Param[] = [];
    for (let off = from; ; ) {
      let end = indexOf(b, 0x26, off);
      const more = end >= 0;
      if (!more) end = b.length;
      if (end === off) this.fail("params", off, "empty parameter");
      let eq = indexOf(b, 0x3d, off, end);
      if (eq === off) this.fail("params", off, "empty parameter key");
      const keyEnd = eq < 0 ? end : eq;
      if (eq < 0) eq = end;
      const key = this.unescape(off, keyEnd);
      const value = eq < end ? this.unescape(eq + 1, end) : "";
      ps.push({ key, value });
      if (!more) return ps;
      off = end + 1;
    }
  }
}

/**
 * Parses s, a label of the form [host/]module:name[?params]. Hosts come
 * back in lower case and parameters percent-decoded. A string that is not
 * a label throws a LabelSyntaxError naming the part and the byte offset.
 */
export function parseLabel(s: string): Label {
  const p = new Parser(s);
  const b = p.b;
  if (b.length === 0) p.fail("label", 0, "empty label");
  if (b.length > maxLabelLength) p.fail("label", maxLabelLength, `longer than ${maxLabelLength} bytes`);
  const q = indexOf(b, 0x3f);
  const headEnd = q < 0 ? b.length : q;
  let off = 0;
  let host = "";
  const slash = indexOf(b, 0x2f, 0, headEnd);
  if (slash >= 0) {
    const colon = lastIndexOf(b, 0x3a, 0, slash);
    if (colon >= 0 && colon + 1 < slash && !allDigits(b, colon + 1, slash) && b[slash - 1] !== 0x5d) {
      p.fail("name", slash, "'/' is not allowed (a host comes first: host/module:name)");
    }
    host = p.host(slash);
    off = slash + 1;
  }
  const colon = indexOf(b, 0x3a, off, headEnd);
  if (colon < 0) {
    const i = indexOf(b, 0x2f, off, headEnd);
    if (i >= 0) p.fail("module", i, "'/' in module (only one host is allowed)");
    p.fail("label", headEnd, "missing ':' between module and name");
  }
  p.word("module", off, colon, true);
  p.word("name", colon + 1, headEnd, false);
  const label: Label = { host, module: p.text(off, colon), name: p.text(colon + 1, headEnd), params: [] };
  if (q >= 0) label.params = p.params(q + 1);
  return label;
}

function allDigits(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isDigit(b[i]!)) return false;
  return to > from;
}

const upperHex = "0123456789ABCDEF";

function escape(s: string): string {
  const b = enc.encode(s);
  let out = "";
  for (const c of b) {
    out += keepInParam(c) ? String.fromCharCode(c) : "%" + upperHex[c >> 4] + upperHex[c & 15];
  }
  return out;
}

/** Prints params in canonical form, without the '?'. */
export function formatParams(params: readonly Param[]): string {
  return params.map((p) => (p.value === "" ? escape(p.key) : `${escape(p.key)}=${escape(p.value)}`)).join("&");
}

/** Prints l in canonical form: [host/]module:name[?params]; also the rpc selector of the label. */
export function formatLabel(l: Label): string {
  const head = `${l.host === "" ? "" : l.host + "/"}${l.module}:${l.name}`;
  return l.params.length === 0 ? head : `${head}?${formatParams(l.params)}`;
}

/** Whether l and m are the same label, parameters (in order) included. */
export function labelsEqual(l: Label, m: Label): boolean {
  return (
    l.host === m.host &&
    l.module === m.module &&
    l.name === m.name &&
    l.params.length === m.params.length &&
    l.params.every((p, i) => p.key === m.params[i]!.key && p.value === m.params[i]!.value)
  );
}

/** The value of the first parameter with key, if any. */
export function paramValue(l: Label, key: string): string | undefined {
  return l.params.find((p) => p.key === key)?.value;
}

/** The values of every parameter with key, in order. */
export function paramValues(l: Label, key: string): string[] {
  return l.params.filter((p) => p.key === key).map((p) => p.value);
}

/** "module:name": what routing looks at. */
export function labelRoute(l: Label): string {
  return `${l.module}:${l.name}`;
}

/** l in module, without a host: how a proxy renames a label for its upstream. */
export function withModule(l: Label, module: string): Label {
  return { ...l, host: "", module };
}
