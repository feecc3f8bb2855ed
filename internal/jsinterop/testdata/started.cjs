// Preloaded (node --require) into every node child of the jsinterop tests,
// before the program itself is loaded: its line, the child's first, says
// node has started, so a test bounds node's start apart from the work that
// follows. uptime_ms is how long node says it has run (process.uptime),
// unix_ms its clock (Date.now), to set against when the test spawned it.
process.stderr.write(`node started pid=${process.pid} uptime_ms=${Math.round(process.uptime() * 1000)} unix_ms=${Date.now()}\n`);
