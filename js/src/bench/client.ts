// The Node side of the benchmark harness (bench/scenarios_node.go): the
// TypeScript client against a Go qtalk server, measured over a window and
// printed as one JSON object on stdout. Node-only.
//
//	node dist/bench/client.js --addr ws://127.0.0.1:4243/qtalk --mode unary --concurrency 32 --warmup 200 --window 1000
//
// unary: concurrent callers call "echo" with 64 bytes in a loop (the window
// lasting until at least minWindowCalls calls completed in it); prints
// {calls_per_sec, p50_us, p99_us}. bulk: one call of "source" continues as
// a raw channel the server fills; the client counts the bytes it reads;
// prints {mb_per_sec}.

import { parseArgs } from "node:util";
import { Client, dial } from "../node.js";

const unarySize = 64;

/**
 * How many calls a unary measurement counts at least: the window lasts
 * --window and, on a machine too loaded to complete that many in it (the
 * harness's -short window is 40 ms), until they did. The Go client
 * (bench/measure.go) counts the same.
 */
const minWindowCalls = 10;

interface Options {
  addr: string;
  mode: "unary" | "bulk";
  concurrency: number;
  warmupMs: number;
  windowMs: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      addr: { type: "string" },
      mode: { type: "string", default: "unary" },
      concurrency: { type: "string", default: "1" },
      warmup: { type: "string", default: "200" },
      window: { type: "string", default: "1000" },
    },
    strict: true,
  });
  const mode = values.mode;
  if (!values.addr || (mode !== "unary" && mode !== "bulk")) {
    throw new Error("usage: client.js --addr ADDR [--mode unary|bulk] [--concurrency N] [--warmup MS] [--window MS]");
  }
  return {
    addr: values.addr,
    mode,
    concurrency: Math.max(1, Number(values.concurrency)),
    warmupMs: Number(values.warmup),
    windowMs: Number(values.window),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The percentile p (0-100) of sorted durations in ms, in µs. */
function percentileUs(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]! * 1000;
}

async function unary(client: Client, o: Options): Promise<object> {
  const payload = new Uint8Array(unarySize).fill(7);
  let phase: "warmup" | "measure" | "stop" = "warmup";
  const latencies: number[] = [];
  let enough = () => {};
  const counted = new Promise<void>((resolve) => (enough = resolve));
  const worker = async () => {
    while (phase !== "stop") {
      const measuring = phase === "measure";
      const t0 = performance.now();
      const reply = await client.call<Uint8Array>("echo", payload);
      const dt = performance.now() - t0;
      if (!(reply instanceof Uint8Array) || reply.length !== payload.length) {
        throw new Error(`echo replied ${String(reply)}, want the ${payload.length} bytes sent`);
      }
      if (measuring && phase === "measure") {
        latencies.push(dt);
        if (latencies.length === minWindowCalls) enough();
      }
    }
  };
  const workers = Array.from({ length: o.concurrency }, worker);
  const failed = Promise.race(workers.map((w) => w.then(() => new Promise<never>(() => {}))));
  await Promise.race([sleep(o.warmupMs), failed]);
  phase = "measure";
  const t0 = performance.now();
  await Promise.race([Promise.all([sleep(o.windowMs), counted]), failed]);
  phase = "stop";
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(workers);
  if (latencies.length === 0) throw new Error("no call completed");
  const sorted = Float64Array.from(latencies).sort();
  return { calls_per_sec: latencies.length / seconds, p50_us: percentileUs(sorted, 50), p99_us: percentileUs(sorted, 99) };
}

async function bulk(client: Client, o: Options): Promise<object> {
  const r = await client.stream("source", null);
  const conn = r.conn();
  let bytes = 0;
  let reading = true;
  const reader = (async () => {
    while (reading) {
      const chunk = await conn.read();
      if (chunk === null) throw new Error("the server ended the stream");
      bytes += chunk.length;
    }
  })();
  const failed = reader.then(() => new Promise<never>(() => {}));
  await Promise.race([sleep(o.warmupMs), failed]);
  const start = bytes;
  const t0 = performance.now();
  await Promise.race([sleep(o.windowMs), failed]);
  const counted = bytes - start;
  const seconds = (performance.now() - t0) / 1000;
  reading = false;
  await r.close();
  await reader.catch(() => {}); // the read pending at close fails: expected
  return { mb_per_sec: counted / seconds / 1e6 };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const session = await dial(o.addr);
  const client = new Client(session);
  try {
    const figures = o.mode === "unary" ? await unary(client, o) : await bulk(client, o);
    process.stdout.write(JSON.stringify(figures) + "\n");
  } finally {
    client.close();
    await session.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench client: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
