package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A traced span as qtalk writes it with --trace stderr.
type spanLine struct {
	TraceID    string            `json:"trace_id"`
	SpanID     string            `json:"span_id"`
	ParentID   string            `json:"parent_id"`
	Name       string            `json:"name"`
	Kind       string            `json:"kind"`
	Attributes map[string]string `json:"attributes"`
	Duration   string            `json:"duration"`
}

// spansIn returns the spans among the lines of a log.
func spansIn(log string) []spanLine {
	var spans []spanLine
	for _, l := range strings.Split(log, "\n") {
		var s spanLine
		if strings.HasPrefix(l, `{"trace_id"`) && json.Unmarshal([]byte(l), &s) == nil {
			spans = append(spans, s)
		}
	}
	return spans
}

// otlpSpan is a span as an OTLP/HTTP JSON request carries it.
type otlpSpan struct {
	TraceID, SpanID, ParentSpanID, Name string
	Kind                                int
}

// TestTraceThroughGateway calls an upstream through a gateway, each of
// the three a process run with --trace: the client's span (on its
// stderr), the gateway's (sent to an OTLP collector) and the upstream's
// (on its stderr) are one trace, the two servers' children of the
// client's.
func TestTraceThroughGateway(t *testing.T) {
	t.Parallel()
	collected := make(chan otlpSpan, 16)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ResourceSpans []struct {
				ScopeSpans []struct{ Spans []otlpSpan }
			}
		}
		if r.URL.Path != "/v1/traces" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					select {
					case collected <- s:
					default: // more than the test reads
					}
				}
			}
		}
	}))
	defer collector.Close()

	up := serve(t, "--trace", "stderr")
	gw := serveArgs(t, "serve", "--trace", collector.URL, "--config", writeConfig(t, fmt.Sprintf(`
listen = ["tcp://127.0.0.1:0", "ws://127.0.0.1:0/qtalk"]
[services]
kv = { provider = %q }
`, up.tcp)))
	r := qtalk(t, "", "call", "--trace", "stderr", gw.tcp, "kv:set", `["traced", 1]`)
	r.want(t, 0, "call through the gateway")
	client := spansIn(r.stderr)
	if len(client) != 1 {
		t.Fatalf("the client wrote %d spans, want 1\n%s", len(client), r)
	}
	c := client[0]
	if c.Kind != "client" || c.Name != "kv:set" || len(c.TraceID) != 32 || c.ParentID != "" || c.Duration == "" ||
		c.Attributes["rpc.system"] != "qtalk" || c.Attributes["rpc.service"] != "kv" || c.Attributes["rpc.method"] != "set" || c.Attributes["rpc.qtalk.code"] != "ok" {
		t.Errorf("client span %+v", c)
	}

	// The upstream's span is written when its handler returns, which may
	// be after the client has its reply.
	var u spanLine
	for _, s := range spansIn(up.waitLog(t, `^\{"trace_id":"`+c.TraceID+`"`)) {
		u = s
	}
	if u.Kind != "server" || u.Name != "kv:set" || u.ParentID != c.SpanID || u.Attributes["rpc.qtalk.code"] != "ok" {
		t.Errorf("upstream span %+v, want a server span of kv:set, child of the client's %s", u, c.SpanID)
	}

	// The gateway's span, among any others it sends (of qtalk:ping, say).
	timeout := time.After(testTimeout)
	for {
		select {
		case g := <-collected:
			if g.Name != "kv:set" {
				continue
			}
			if g.TraceID != c.TraceID || g.ParentSpanID != c.SpanID || g.Kind != 2 || g.SpanID == u.SpanID || g.SpanID == c.SpanID {
				t.Errorf("gateway span %+v, want a server span of kv:set in trace %s, child of %s", g, c.TraceID, c.SpanID)
			}
			return
		case <-timeout:
			t.Fatalf("the gateway sent no span of kv:set to the collector within %s\n%s", testTimeout, gw.log())
		}
	}
}

// TestTraceFlagErrors refuses a --trace it cannot use, in one line.
func TestTraceFlagErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"serve", "--trace", "jaeger", "--listen", "tcp://127.0.0.1:0"},
		{"serve", "--trace", "stdout", "--listen", "stdio:"},
		{"call", "--trace", "http://", "tcp://127.0.0.1:1", "echo:echo"},
	} {
		r := qtalk(t, "", args...)
		r.want(t, 2, strings.Join(args, " "))
		if !strings.HasPrefix(r.stderr, "qtalk: "+args[0]+": --trace") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%q: want one line about --trace\n%s", args, r)
		}
	}
}
