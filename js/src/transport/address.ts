// Addresses, parsed and printed by the rules of Go's transport.ParseAddress
// and Address.String (transport/parse.go, transport/address.go): the same
// inputs give the same fields, canonical forms and error reasons.

import { TransportError } from "./errors.js";

/**
 * Where to dial or listen. Which fields are set depends on the scheme:
 *
 *     tcp://host:port             host
 *     unix:///abs.sock, unix:rel  path (the socket file, taken literally)
 *     ws://host[:port][/p][?q]    host, path and rawQuery (also wss and the
 *                                 schemes of third-party connectors)
 *     stdio:                      nothing
 *     exec:command args           opaque (the command line; see addressArgs)
 *
 * subport, from an optional "!label" suffix, is for the layers above (they
 * pick a service with it); connectors ignore it.
 */
export interface Address {
  /** The scheme's name in lower case; an alias ("websocket") is replaced by its name ("ws"). */
  scheme: string;
  /** "host:port", or "host" where the port may be left out (ws, wss); IPv6 in brackets, port without leading zeros. */
  host: string;
  /** The unix socket path; for URL-like schemes the URL path as written (escaped), empty or starting with "/". */
  path: string;
  /** The URL query as written, without the "?". */
  rawQuery: string;
  /** Everything after "scheme:" for schemes that are not URL-like: the command line of exec. */
  opaque: string;
  /** The label after a final "!", or empty: letters, digits, '.', '_' and '-'. */
  subport: string;
}

/** An address that does not parse; kind is "unknown_scheme" when no connector has its scheme. */
export class AddressError extends TransportError {
  declare readonly kind: "bad_address" | "unknown_scheme";
  /** The address as given. */
  readonly address: string;
  /** What is wrong with it, naming the bad part (the same text as Go's). */
  readonly reason: string;
  constructor(address: string, reason: string, kind: "bad_address" | "unknown_scheme" = "bad_address") {
    super(kind, `transport: bad address ${goQuote(address)}: ${reason}`);
    this.name = "AddressError";
    this.address = address;
    this.reason = reason;
  }
}

/** The shape of what follows the scheme, as in Go's parse.go. */
export type AddressSyntax =
  | "url" // scheme://host[:port][/path][?query] or scheme:opaque: third-party connectors check the fields
  | "hostport" // tcp: host and port, nothing else
  | "web" // ws, wss: host, optional port, path and query
  | "path" // unix: a file path
  | "none" // stdio: nothing
  | "command"; // exec: a command line

interface SchemeEntry {
  name: string;
  syntax: AddressSyntax;
}

/**
 * The schemes addresses may name, by name and alias. The built-in ones are
 * known everywhere, so an address parses the same in a browser, where only
 * ws and wss can be dialed; registerConnector adds others.
 */
const schemes = new Map<string, SchemeEntry>();
for (const [name, syntax, aliases] of [
  ["tcp", "hostport", []],
  ["unix", "path", []],
  ["tls", "url", []],
  ["ws", "web", ["websocket"]],
  ["wss", "web", []],
  ["stdio", "none", []],
  ["exec", "command", []],
] as const) {
  const entry = { name, syntax };
  schemes.set(name, entry);
  for (const alias of aliases) schemes.set(alias, entry);
}

/**
 * @internal Makes name and its aliases known to parseAddress with the
 * generic URL syntax, for registerConnector. Names already known keep
 * their entry. Throws if a name is not a valid scheme.
 */
export function declareScheme(name: string, aliases: readonly string[]): void {
  for (const n of [name, ...aliases]) {
    if (!validScheme(n)) throw new TypeError(`transport: invalid scheme ${goQuote(n)}`);
  }
  const entry = schemes.get(name) ?? { name, syntax: "url" as const };
  for (const n of [name, ...aliases]) {
    const known = schemes.get(n);
    if (known !== undefined && known !== entry) {
      throw new TypeError(`transport: scheme ${goQuote(n)} already stands for ${goQuote(known.name)}`);
    }
    schemes.set(n, entry);
  }
}

/** The host shorthands of the compact form. */
const shorthands: ReadonlyArray<readonly [string, string]> = [
  ["$4", "127.0.0.1"],
  ["$6", "[::1]"],
  ["$n", "localhost"],
  ["*4", "0.0.0.0"],
  ["*6", "[::]"],
];

/**
 * Parses an address in URL form ("tcp://127.0.0.1:4000", "unix:///run/x.sock",
 * "ws://host:8080/path", "stdio:", "exec:cmd args") or compact form
 * ("tcp/$4:4000", "unix/run/x.sock": the scheme, a slash and what follows the
 * "//" of the URL form), with an optional "!subport" suffix on either. In the
 * host, $4, $6 and $n stand for 127.0.0.1, [::1] and localhost, and *4 and *6
 * for 0.0.0.0 and [::]. Throws an AddressError if it does not parse.
 */
export function parseAddress(s: string): Address {
  const bad = (reason: string) => new AddressError(s, reason);
  const i = s.search(/[:/]/);
  if (i < 0) throw bad("missing scheme (want scheme://... or scheme/...)");
  const scheme = s.slice(0, i).toLowerCase();
  if (!validScheme(scheme)) throw bad(`bad scheme ${goQuote(s.slice(0, i))}`);
  const entry = schemes.get(scheme);
  if (entry === undefined) throw new AddressError(s, `unknown scheme ${goQuote(scheme)}`, "unknown_scheme");
  const a: Address = { scheme: entry.name, host: "", path: "", rawQuery: "", opaque: "", subport: "" };
  const compact = s[i] === "/";
  let rest = s.slice(i + 1);

  const j = rest.lastIndexOf("!");
  if (j >= 0) {
    const label = rest.slice(j + 1);
    if (validSubport(label)) {
      a.subport = label;
      rest = rest.slice(0, j);
    } else if (entry.syntax === "hostport" || entry.syntax === "none") {
      throw bad(`bad subport ${goQuote(label)}`);
    }
  }

  switch (entry.syntax) {
    case "none":
      if (compact) throw bad(`${scheme} has no compact form`);
      if (rest !== "") throw bad(`unexpected ${goQuote(rest)} after ${scheme}:`);
      break;
    case "command": {
      if (compact) throw bad(`${scheme} has no compact form`);
      const split = splitCommand(rest);
      if (typeof split === "string") throw bad(split);
      a.opaque = rest;
      break;
    }
    case "path":
      if (!compact && rest.startsWith("//")) {
        rest = rest.slice(2);
        if (rest !== "" && rest[0] !== "/") {
          throw bad(`unexpected host in ${scheme} address (want ${scheme}:///abs/path or ${scheme}:rel/path)`);
        }
      }
      if (rest === "") throw bad("empty path");
      if (rest.includes("\0")) throw bad("NUL in path");
      a.path = rest;
      break;
    default:
      if (!compact) {
        if (rest.startsWith("//")) {
          rest = rest.slice(2);
        } else if (entry.syntax === "url") {
          a.opaque = rest;
          return a;
        } else {
          throw bad(`missing // after ${scheme}:`);
        }
      }
      {
        const reason = parseHostPart(a, rest, entry.syntax);
        if (reason !== "") throw bad(reason);
      }
  }
  return a;
}

/**
 * Returns the canonical URL form of a, with "!subport" appended if set:
 * parseAddress(formatAddress(a)) gives a again for any a that parsed.
 */
export function formatAddress(a: Address): string {
  let s = a.scheme + ":";
  if (a.opaque !== "") {
    s += a.opaque;
  } else if (a.host === "" && a.path !== "" && !a.path.startsWith("/")) {
    s += a.path; // a relative unix path
  } else if (a.host !== "" || a.path !== "" || a.rawQuery !== "") {
    s += "//" + a.host + a.path;
    if (a.rawQuery !== "") s += "?" + a.rawQuery;
  }
  if (a.subport !== "") s += "!" + a.subport;
  return s;
}

/**
 * Splits a.opaque into a command and its arguments: words are separated by
 * spaces or tabs, and a word may contain text in single or double quotes,
 * taken literally (without the quotes). Throws an AddressError on an
 * unterminated quote or an empty command line.
 */
export function addressArgs(a: Address): string[] {
  const split = splitCommand(a.opaque);
  if (typeof split === "string") throw new AddressError(formatAddress(a), split);
  return split;
}

/** Splits a command line as addressArgs documents, or returns why it cannot. */
function splitCommand(s: string): string[] | string {
  const args: string[] = [];
  let word = "";
  let inWord = false;
  let quote = "";
  for (const c of s) {
    if (quote !== "") {
      if (c === quote) quote = "";
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === " " || c === "\t") {
      if (inWord) {
        args.push(word);
        word = "";
        inWord = false;
      }
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== "") return `unterminated ${quote} quote in command`;
  if (inWord) args.push(word);
  if (args.length === 0) return "empty command";
  return args;
}

/** Parses host[:port][/path][?query] into a, returning what is wrong, or "". */
function parseHostPart(a: Address, s: string, syntax: AddressSyntax): string {
  if (s.includes("#")) return "fragment (#) not supported";
  let authority = s;
  let tail = "";
  const k = s.search(/[/?]/);
  if (k >= 0) {
    authority = s.slice(0, k);
    tail = s.slice(k);
  }
  if (authority.includes("@")) return "user info (@) not supported";
  for (const [short, long] of shorthands) {
    if (authority === short || authority.startsWith(short + ":")) {
      authority = long + authority.slice(short.length);
      break;
    }
  }

  let host = authority;
  let port = "";
  let hasPort = false;
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    if (end < 0) return `missing ] in host ${goQuote(authority)}`;
    host = authority.slice(0, end + 1);
    const after = authority.slice(end + 1);
    if (after !== "") {
      if (after[0] !== ":") return `bad host ${goQuote(authority)}`;
      port = after.slice(1);
      hasPort = true;
    }
    if (!isIPv6(host.slice(1, -1))) return `bad IPv6 host ${goQuote(host)}`;
  } else {
    const colons = authority.split(":").length - 1;
    if (colons > 1) return `bad host ${goQuote(authority)} (an IPv6 host must be in brackets)`;
    if (colons === 1) {
      const c = authority.indexOf(":");
      host = authority.slice(0, c);
      port = authority.slice(c + 1);
      hasPort = true;
    }
    if (!/^[A-Za-z0-9._-]*$/.test(host)) return `bad host ${goQuote(host)}`;
  }

  if (hasPort && port === "") return `missing port after ${goQuote(host + ":")}`;
  if (hasPort) {
    const p = /^[0-9]{1,5}$/.test(port) ? Number(port) : NaN;
    if (!(p <= 65535)) return `bad port ${goQuote(port)}`;
    port = String(p);
  } else if (syntax === "hostport") {
    return host === "" ? "missing host and port" : `missing port in ${goQuote(host)}`;
  }
  if (host === "" && syntax === "web") return "missing host";

  let path = tail;
  let query = "";
  const q = tail.indexOf("?");
  if (q >= 0) {
    path = tail.slice(0, q);
    query = tail.slice(q + 1);
  }
  if (syntax === "hostport" && tail !== "") return `unexpected ${goQuote(tail)} after the port`;
  if (!validURLChars(path, false)) return `bad path ${goQuote(path)}`;
  if (!validURLChars(query, true)) return `bad query ${goQuote(query)}`;

  a.host = hasPort ? `${host}:${port}` : host;
  a.path = path;
  a.rawQuery = query;
  return "";
}

/** Reports whether s is a URL scheme in lower case. */
export function validScheme(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*$/.test(s);
}

function validSubport(s: string): boolean {
  return /^[A-Za-z0-9._-]+$/.test(s);
}

/**
 * Reports whether s holds only characters allowed unescaped in a URL path
 * (RFC 3986 pchar and "/"), plus "/" and "?" in a query, and well-formed %XX
 * escapes.
 */
function validURLChars(s: string, query: boolean): boolean {
  return (query ? /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/ : /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/).test(s);
}

/**
 * Reports whether s is an IPv6 address (with an optional non-empty %zone)
 * as Go's netip.ParseAddr takes it, including a trailing dotted IPv4 part.
 */
function isIPv6(s: string): boolean {
  const pct = s.indexOf("%");
  if (pct >= 0) {
    if (pct === s.length - 1) return false;
    s = s.slice(0, pct);
  }
  const halves = s.split("::");
  if (halves.length > 2) return false;
  const groups = (half: string, last: boolean): number => {
    if (half === "") return 0;
    const parts = half.split(":");
    let n = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (i === parts.length - 1 && part.includes(".")) {
        if (!last || !isIPv4(part)) return -1;
        n += 2;
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(part)) {
        n++;
      } else {
        return -1;
      }
    }
    return n;
  };
  const counts = halves.map((half, i) => groups(half, i === halves.length - 1));
  if (counts.some((n) => n < 0)) return false;
  const total = counts.reduce((x, y) => x + y, 0);
  return halves.length === 2 ? total < 8 : total === 8;
}

/** Reports whether s is a dotted-quad IPv4 address without leading zeros. */
function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^(?:0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** Quotes s as Go's %q does for the text of errors. */
export function goQuote(s: string): string {
  let out = '"';
  for (const c of s) {
    const code = c.codePointAt(0)!;
    if (c === '"' || c === "\\") out += "\\" + c;
    else if (c === "\n") out += "\\n";
    else if (c === "\t") out += "\\t";
    else if (c === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += c;
  }
  return out + '"';
}
