// Package qtalkotel traces qtalk calls with OpenTelemetry. It is a module
// of its own (github.com/qtalkkit/qtalk/otel), so that programs that do
// not trace keep qtalk's small dependency set. Its spans join the traces
// of package rpc/tracing, which the qtalk command uses (--trace), as both
// carry the W3C trace context in the traceparent metadata key.
//
// Interceptor returns an rpc.Interceptor for both sides: on a client it
// starts a client span per call and sends its W3C trace context in the
// call's metadata (traceparent, tracestate); on a server it continues the
// trace the metadata carries with a server span. The spans are named by
// the call's selector and carry the rpc semantic conventions:
// rpc.system "qtalk", rpc.service (the label's module), rpc.method (its
// name) and rpc.qtalk.code, with an error status when the code is not ok.
//
// A gateway (package talk/service, service.WithInterceptors) forwards a
// call's metadata to its upstream as it came, so the client's, the
// gateway's and the upstream's spans make one trace; the upstream's span
// is a child of the client's, beside the gateway's.
//
// A client span ends when Call returns, a streaming call's included; a
// server span when the handler returns.
package qtalkotel
