// Routing of calls by selector, exactly as Go's rpc.RespondMux.

import { Code, QtalkError } from "./errors.js";
import { type Call, type Handler, type HandlerObject, type Responder, callHandler } from "./server.js";

/** Whether pattern is a prefix pattern: it ends in '/', '.' or ':'. */
export function isPrefixPattern(pattern: string): boolean {
  return pattern.endsWith("/") || pattern.endsWith(".") || pattern.endsWith(":");
}

/**
 * Routes calls to handlers by selector. A pattern ending in "/", "." or
 * ":" is a prefix pattern: it matches every selector that starts with it,
 * and its handler sees the rest of the selector in call.selector (so muxes
 * nest). Other patterns match exactly. Exact beats prefix; among prefixes
 * the longest wins. A call nothing matches gets not_found.
 */
export class RespondMux implements HandlerObject {
  private readonly exact = new Map<string, Handler>();
  /** Longest first. */
  private prefixes: { prefix: string; handler: Handler }[] = [];

  /** Registers handler for pattern; throws a TypeError if pattern is empty or taken (a programming error). */
  handle(pattern: string, handler: Handler): this {
    if (pattern === "") throw new TypeError("rpc: RespondMux.handle with an empty pattern");
    if (this.exact.has(pattern) || this.prefixes.some((e) => e.prefix === pattern)) {
      throw new TypeError(`rpc: RespondMux: pattern ${JSON.stringify(pattern)} registered twice`);
    }
    if (!isPrefixPattern(pattern)) {
      this.exact.set(pattern, handler);
      return this;
    }
    this.prefixes.push({ prefix: pattern, handler });
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length); // stable: ties keep their order
    return this;
  }

  /** Unregisters pattern, reporting whether it was registered. */
  remove(pattern: string): boolean {
    if (this.exact.delete(pattern)) return true;
    const i = this.prefixes.findIndex((e) => e.prefix === pattern);
    if (i < 0) return false;
    this.prefixes.splice(i, 1);
    return true;
  }

  /** The handler for selector and the pattern it matched, if any. */
  match(selector: string): { handler: Handler; pattern: string } | undefined {
    const h = this.exact.get(selector);
    if (h !== undefined) return { handler: h, pattern: selector };
    for (const e of this.prefixes) {
      if (selector.startsWith(e.prefix)) return { handler: e.handler, pattern: e.prefix };
    }
    return undefined;
  }

  /** The registered patterns, sorted. */
  patterns(): string[] {
    return [...this.exact.keys(), ...this.prefixes.map((e) => e.prefix)].sort();
  }

  respondRPC(r: Responder, call: Call): unknown {
    const m = this.match(call.selector);
    if (m === undefined) {
      throw new QtalkError(Code.NotFound, `no handler for ${JSON.stringify(call.fullSelector)}`);
    }
    if (isPrefixPattern(m.pattern)) call.selector = call.selector.slice(m.pattern.length);
    return callHandler(m.handler, r, call);
  }
}
