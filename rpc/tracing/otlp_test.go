package tracing_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/rpc/tracing"
)

// collector records the requests of an OTLP exporter.
type collector struct {
	mu     sync.Mutex // guards bodies and status
	bodies []map[string]any
	paths  []string
	status int
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	err := json.NewDecoder(r.Body).Decode(&body)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	c.bodies, c.paths = append(c.bodies, body), append(c.paths, r.URL.Path)
	if c.status != 0 {
		w.WriteHeader(c.status)
	}
}

func span(name, kind, errMsg string) tracing.Span {
	start := time.Unix(1700000000, 5)
	return tracing.Span{TraceID: "0af7651916cd43dd8448eb211c80319c", SpanID: "b7ad6b7169203331", ParentID: "00f067aa0ba902b7",
		Name: name, Kind: kind, Start: start, End: start.Add(time.Millisecond), Error: errMsg,
		Attributes: map[string]string{"rpc.system": "qtalk", "rpc.service": "chat", "rpc.method": "send", "rpc.qtalk.code": "ok"}}
}

// TestOTLP sends spans in batches in the OTLP JSON encoding, all of them
// by Close.
func TestOTLP(t *testing.T) {
	c := &collector{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	o, err := tracing.NewOTLP(tracing.OTLPConfig{Endpoint: srv.URL, ServiceName: "gw", BatchSize: 2, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	o.Export(span("chat:send", tracing.KindServer, ""))
	o.Export(span("chat:send", tracing.KindClient, "not_found: no"))
	o.Export(span("chat:last", tracing.KindClient, ""))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bodies) != 2 || c.paths[0] != "/v1/traces" {
		t.Fatalf("%d requests to %q, want 2 batches to /v1/traces", len(c.bodies), c.paths)
	}
	type kv = map[string]any
	rs := c.bodies[0]["resourceSpans"].([]any)[0].(kv)
	if name := rs["resource"].(kv)["attributes"].([]any)[0]; name.(kv)["key"] != "service.name" || name.(kv)["value"].(kv)["stringValue"] != "gw" {
		t.Errorf("resource attribute %v, want service.name gw", name)
	}
	spans := rs["scopeSpans"].([]any)[0].(kv)["spans"].([]any)
	if len(spans) != 2 {
		t.Fatalf("first batch of %d spans, want 2", len(spans))
	}
	s0, s1 := spans[0].(kv), spans[1].(kv)
	for k, want := range map[string]any{"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "parentSpanId": "00f067aa0ba902b7",
		"name": "chat:send", "kind": 2.0, "startTimeUnixNano": "1700000000000000005", "endTimeUnixNano": "1700000000001000005"} {
		if s0[k] != want {
			t.Errorf("span %s = %v, want %v", k, s0[k], want)
		}
	}
	if attrs := s0["attributes"].([]any); len(attrs) != 4 || attrs[0].(kv)["key"] != "rpc.system" {
		t.Errorf("attributes %v", attrs)
	}
	if st := s1["status"].(kv); s1["kind"] != 3.0 || st["code"] != 2.0 || st["message"] != "not_found: no" {
		t.Errorf("second span kind %v status %v, want client with an error status", s1["kind"], st)
	}
	if _, ok := s0["status"].(kv)["code"]; ok {
		t.Errorf("ok span status %v, want unset", s0["status"])
	}
	if o.Dropped() != 0 {
		t.Errorf("%d dropped", o.Dropped())
	}
}

// TestOTLPFailures counts the spans a collector refused or an exporter
// closed could not take, and refuses bad endpoints.
func TestOTLPFailures(t *testing.T) {
	c := &collector{status: http.StatusServiceUnavailable}
	srv := httptest.NewServer(c)
	defer srv.Close()
	errs := make(chan error, 1)
	o, err := tracing.NewOTLP(tracing.OTLPConfig{Endpoint: srv.URL + "/custom", Interval: time.Hour, OnError: func(err error) { errs <- err }})
	if err != nil {
		t.Fatal(err)
	}
	o.Export(span("a:b", tracing.KindServer, ""))
	if err := o.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.Export(span("a:b", tracing.KindServer, "")) // after Close
	if o.Dropped() != 2 {
		t.Errorf("%d dropped, want 2", o.Dropped())
	}
	select {
	case err := <-errs:
		t.Log(err)
	default:
		t.Error("OnError was not called")
	}
	c.mu.Lock()
	if len(c.paths) != 1 || c.paths[0] != "/custom" {
		t.Errorf("requests to %q, want one to /custom", c.paths)
	}
	c.mu.Unlock()
	for _, e := range []string{"", "localhost:4318", "ftp://h/", "http://"} {
		if _, err := tracing.NewOTLP(tracing.OTLPConfig{Endpoint: e}); !errors.Is(err, tracing.ErrBadEndpoint) {
			t.Errorf("NewOTLP(%q): %v, want ErrBadEndpoint", e, err)
		}
	}
}
