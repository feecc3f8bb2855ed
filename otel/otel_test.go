package qtalkotel_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	qtalkotel "github.com/qtalkkit/qtalk/otel"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
	"github.com/qtalkkit/qtalk/transport"
)

// recorder keeps the spans of echo calls that ended and signals each
// one. (The gateway's own calls to the upstream, such as qtalk:subscribe,
// are traced too.)
type recorder struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
	ended chan struct{} // receives once per span ended
}

func (r *recorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *recorder) OnEnd(s sdktrace.ReadOnlySpan) {
	if !strings.HasPrefix(s.Name(), "echo:") {
		return
	}
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
	r.ended <- struct{}{}
}
func (r *recorder) Shutdown(context.Context) error   { return nil }
func (r *recorder) ForceFlush(context.Context) error { return nil }

// waitSpans waits until n spans ended and returns them.
func (r *recorder) waitSpans(t *testing.T, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for range n {
		select {
		case <-r.ended:
		case <-timeout:
			t.Fatalf("fewer than %d spans ended", n)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sdktrace.ReadOnlySpan{}, r.spans...)
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if kv.Key == attribute.Key(key) {
			return kv.Value.Emit()
		}
	}
	return ""
}

// TestTraceThroughGateway calls an upstream through a gateway: the
// client's, the gateway's and the upstream's spans make one trace.
func TestTraceThroughGateway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rec := &recorder{ended: make(chan struct{}, 16)}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	tracing := qtalkotel.Interceptor(&qtalkotel.Config{TracerProvider: tp})

	// The upstream: echo:hi, and echo:fail failing with not_found.
	ln, err := transport.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upstream := &rpc.Server{Handler: rpc.Intercept(rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		if c.Selector == "echo:fail" {
			r.Error(rpc.Errorf(rpc.CodeNotFound, "nothing"))
			return
		}
		r.Return("hi")
	}), tracing)}
	served := make(chan struct{})
	go func() {
		defer close(served)
		upstream.Serve(ln)
	}()
	defer func() {
		ln.Close()
		upstream.Shutdown(context.Background())
		<-served
	}()

	cfg, err := config.Parse([]byte(fmt.Sprintf("listen = \"tcp://127.0.0.1:0\"\n[services]\necho = { provider = \"tcp://%s\" }\n", ln.Addr())), "gateway.toml")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := service.New(cfg, service.WithInterceptors(tracing), service.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	if err := gw.Start(ctx); err != nil {
		t.Fatal(err)
	}
	client, err := talk.Dial(ctx, "tcp://"+gw.Addrs()[0].String(), talk.WithClientOptions(rpc.WithInterceptors(tracing)))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	var reply string
	if _, err := client.Call(ctx, "echo:hi", nil, &reply); err != nil || reply != "hi" {
		t.Fatalf("echo:hi through the gateway: %q, %v", reply, err)
	}
	spans := rec.waitSpans(t, 3)
	kinds := map[trace.SpanKind]int{}
	for _, s := range spans {
		kinds[s.SpanKind()]++
		if s.SpanContext().TraceID() != spans[0].SpanContext().TraceID() {
			t.Errorf("span %s (%s) is in trace %s, not %s", s.Name(), s.SpanKind(), s.SpanContext().TraceID(), spans[0].SpanContext().TraceID())
		}
		if s.Name() != "echo:hi" || attr(s, "rpc.system") != "qtalk" || attr(s, "rpc.service") != "echo" || attr(s, "rpc.method") != "hi" || attr(s, "rpc.qtalk.code") != "ok" {
			t.Errorf("span %q attributes %v", s.Name(), s.Attributes())
		}
		if s.SpanKind() == trace.SpanKindServer && !s.Parent().IsValid() {
			t.Errorf("server span without a parent")
		}
	}
	if kinds[trace.SpanKindClient] != 1 || kinds[trace.SpanKindServer] != 2 {
		t.Errorf("span kinds %v, want one client and two servers", kinds)
	}

	// A failed call: error status on the upstream's span.
	if _, err := client.Call(ctx, "echo:fail", nil, nil); rpc.CodeOf(err) != rpc.CodeNotFound {
		t.Fatalf("echo:fail: %v", err)
	}
	var failed int
	for _, s := range rec.waitSpans(t, 3)[3:] {
		if s.Status().Code.String() == "Error" && attr(s, "rpc.qtalk.code") == "not_found" {
			failed++
		}
	}
	if failed < 2 { // the client's and the upstream's (the gateway forwards the error frame as it came)
		t.Errorf("%d spans of the failed call have an error status, want at least 2", failed)
	}
}
