// Package jsinterop holds the tests that prove the TypeScript package in
// js/ against the Go implementation, in both directions, in Node and in a
// real browser (issue 12):
//
//   - the interop check (spec/check.md): qtalk's Checker against the
//     TypeScript server over stdio and ws, and the TypeScript checker
//     against the Go demo server over ws and tcp;
//   - qmux both ways: many concurrent channels with SHA-256 checked
//     echoes, bulk transfers, half-closes, a slow reader that stalls only
//     its own channel, and a peer that closes the session mid-transfer;
//   - a Node client calling through a Go gateway (talk/service) to a
//     Node upstream, streams, cancellation and deadlines included;
//   - the hostile inputs of mux/qmux's tests, sent as raw bytes to the
//     TypeScript qmux peer;
//   - headless chromium: the web page of qtalk serve, the TypeScript
//     suite's browser part against Go ws endpoints, and WebSockets from
//     pages of other origins, allowed and refused.
//
// The tests build only with the tag browser, so that go test ./... stays
// quick and needs neither Node nor chromium:
//
//	go test -tags browser ./internal/jsinterop/
//
// They need Node.js 20 or later, the npm packages of js/ (npm ci in js/)
// and Debian's chromium, which scripts/test installs when missing; without
// them the tests fail, saying how to install what is missing. TestMain
// builds js/ once (npm run build). The Node programs they run are the
// fixtures of js/src/bin, js/src/interop and js/src/browser, whose command
// lines, outputs and log lines each test describes where it relies on
// them.
package jsinterop
