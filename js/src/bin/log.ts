// Logging of the Node programs (qtalk-js and the interop fixtures): one
// line per record on stderr, in the manner of Go's qtalk, since stdout may
// carry a session or results.

/** Writes "[time INFO component] message" to stderr. */
export function log(component: string, message: string): void {
  const now = new Date();
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const date = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  const time = `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}.${pad(now.getMilliseconds(), 3)}`;
  process.stderr.write(`[${date} ${time} INFO ${component}] ${message}\n`);
}

/** Writes "program: message" to stderr, for an error that ends the program. */
export function fail(program: string, message: string): void {
  process.stderr.write(`${program}: ${message}\n`);
}
