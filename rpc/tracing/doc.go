// Package tracing traces qtalk calls with no dependency beyond the
// standard library, for programs that keep qtalk's small dependency set
// (the qtalk command among them); programs that use OpenTelemetry's SDK
// take the module github.com/qtalkkit/qtalk/otel instead. Both carry the
// trace in the same W3C trace context, so their spans join one trace.
//
// Interceptor returns an rpc.Interceptor for both sides: on a client it
// makes a client span per call and sends its trace context in the call's
// metadata (the key traceparent, "00-TRACEID-SPANID-01"); on a server it
// makes a server span per call, a child of the span the metadata names
// when it names one. Spans are named by the call's selector and carry
// the rpc semantic-convention attributes: rpc.system "qtalk", rpc.service
// (the label's module), rpc.method (its name) and rpc.qtalk.code.
//
// A gateway (package talk/service) forwards a call's metadata as it came,
// so the client's, the gateway's and the upstream's spans make one trace:
// the gateway's and the upstream's spans are both children of the
// client's.
//
// A span ends when the call does: on a client when Call returns (a stream
// included), on a server when the handler returns. An Exporter takes
// each ended span: Writer writes them as JSON lines, OTLP sends them in
// batches to an OpenTelemetry collector (OTLP over HTTP, JSON encoding).
package tracing
