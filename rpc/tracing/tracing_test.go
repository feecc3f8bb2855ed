package tracing_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/rpc/tracing"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// chanExporter hands the spans to the test.
type chanExporter chan tracing.Span

func (c chanExporter) Export(s tracing.Span) { c <- s }

// next returns the next span exported, failing the test after a while.
func (c chanExporter) next(t *testing.T) tracing.Span {
	t.Helper()
	select {
	case s := <-c:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no span exported within 10s")
		return tracing.Span{}
	}
}

// serve returns a client of a server of h over a qmux pipe, both traced
// into spans.
func serve(t *testing.T, spans chanExporter, h rpc.Handler) *rpc.Client {
	t.Helper()
	a, b := pipe.New()
	cs, err := qmux.New(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := qmux.New(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &rpc.Server{Handler: rpc.Intercept(h, tracing.Interceptor(spans))}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeSession(ss)
	}()
	t.Cleanup(func() {
		cs.Close()
		<-done
	})
	return rpc.NewClient(cs, rpc.WithInterceptors(tracing.Interceptor(spans)))
}

// TestInterceptor traces a call on both sides: the server's span is a
// child of the client's, in its trace, and both carry the attributes and
// the code.
func TestInterceptor(t *testing.T) {
	spans := make(chanExporter, 8)
	client := serve(t, spans, rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		if c.Selector == "kv:get?k=1" {
			r.Error(rpc.Errorf(rpc.CodeNotFound, "no key"))
			return
		}
		r.Return(c.Metadata[tracing.MetadataTraceparent])
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var sent string
	if _, err := client.Call(ctx, "chat:send", nil, &sent, rpc.WithMetadata(rpc.Metadata{"a": "b"})); err != nil {
		t.Fatal(err)
	}
	got := map[string]tracing.Span{}
	for range 2 {
		s := spans.next(t)
		got[s.Kind] = s
	}
	cl, sv := got[tracing.KindClient], got[tracing.KindServer]
	if len(cl.TraceID) != 32 || len(cl.SpanID) != 16 || cl.ParentID != "" {
		t.Errorf("client span %+v: want a new trace", cl)
	}
	if sent != "00-"+cl.TraceID+"-"+cl.SpanID+"-01" {
		t.Errorf("the server got traceparent %q, want the client span's %s/%s", sent, cl.TraceID, cl.SpanID)
	}
	if sv.TraceID != cl.TraceID || sv.ParentID != cl.SpanID || sv.SpanID == cl.SpanID {
		t.Errorf("server span %+v is not a child of the client's %+v", sv, cl)
	}
	for _, s := range []tracing.Span{cl, sv} {
		want := map[string]string{"rpc.system": "qtalk", "rpc.service": "chat", "rpc.method": "send", "rpc.qtalk.code": "ok"}
		if s.Name != "chat:send" || len(s.Attributes) != len(want) || s.Error != "" || s.End.Before(s.Start) {
			t.Errorf("%s span %+v", s.Kind, s)
		}
		for k, v := range want {
			if s.Attributes[k] != v {
				t.Errorf("%s span: %s = %q, want %q", s.Kind, k, s.Attributes[k], v)
			}
		}
	}

	if _, err := client.Call(ctx, "kv:get?k=1", nil, nil); rpc.CodeOf(err) != rpc.CodeNotFound {
		t.Fatalf("kv:get: %v", err)
	}
	for range 2 {
		s := spans.next(t)
		if s.Code != rpc.CodeNotFound || s.Attributes["rpc.qtalk.code"] != "not_found" || s.Error == "" || s.Attributes["rpc.method"] != "get" {
			t.Errorf("%s span of a failed call: %+v", s.Kind, s)
		}
	}
}

// TestTraceparent continues the trace of a valid traceparent only.
func TestTraceparent(t *testing.T) {
	const (
		trace = "0af7651916cd43dd8448eb211c80319c"
		span  = "b7ad6b7169203331"
	)
	spans := make(chanExporter, 1)
	a, b := pipe.New()
	cs, _ := qmux.New(a, nil)
	ss, _ := qmux.New(b, nil)
	srv := &rpc.Server{Handler: rpc.Intercept(rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) { r.Return(nil) }), tracing.Interceptor(spans))}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeSession(ss)
	}()
	defer func() {
		cs.Close()
		<-done
	}()
	client := rpc.NewClient(cs) // not traced: the test writes the header
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tt := range []struct {
		value string
		child bool
	}{
		{"00-" + trace + "-" + span + "-01", true},
		{"00-" + trace + "-" + span + "-00", true},
		{"01-" + trace + "-" + span + "-01-later", true}, // a later version: its first fields
		{"00-" + trace + "-" + span + "-01-x", false},    // version 00 is 55 bytes
		{"ff-" + trace + "-" + span + "-01", false},
		{"00-" + "00000000000000000000000000000000" + "-" + span + "-01", false},
		{"00-" + trace + "-" + "0000000000000000" + "-01", false},
		{"00-" + "0AF7651916CD43DD8448EB211C80319C" + "-" + span + "-01", false}, // upper case
		{"00-" + trace + "_" + span + "-01", false},
		{"", false},
		{"garbage", false},
	} {
		if _, err := client.Call(ctx, "m:n", nil, nil, rpc.WithMetadata(rpc.Metadata{tracing.MetadataTraceparent: tt.value})); err != nil {
			t.Fatal(err)
		}
		s := spans.next(t)
		if child := s.TraceID == trace && s.ParentID == span; child != tt.child || !tt.child && (s.ParentID != "" || len(s.TraceID) != 32) {
			t.Errorf("traceparent %q: span in trace %s, parent %q; want a child: %v", tt.value, s.TraceID, s.ParentID, tt.child)
		}
	}
}

// TestWriter writes a span as a line of JSON with its duration.
func TestWriter(t *testing.T) {
	var b strings.Builder
	w := tracing.NewWriter(&b)
	start := time.Unix(1700000000, 0).UTC()
	w.Export(tracing.Span{TraceID: "t", SpanID: "s", Name: "a:b", Kind: tracing.KindServer, Start: start, End: start.Add(1500 * time.Microsecond), Attributes: map[string]string{"rpc.system": "qtalk"}})
	want := `{"trace_id":"t","span_id":"s","name":"a:b","kind":"server","start":"2023-11-14T22:13:20Z","end":"2023-11-14T22:13:20.0015Z","attributes":{"rpc.system":"qtalk"},"duration":"1.5ms"}` + "\n"
	if b.String() != want {
		t.Errorf("Writer wrote\n%s\nwant\n%s", b.String(), want)
	}
}
