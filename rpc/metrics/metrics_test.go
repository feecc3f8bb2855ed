package metrics_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/rpc/metrics"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

func TestMetrics(t *testing.T) {
	m := &metrics.Metrics{}
	block, started := make(chan struct{}), make(chan struct{})
	h := rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		switch c.FullSelector {
		case "kv:get":
			r.Error(rpc.Errorf(rpc.CodeNotFound, "no such key"))
		case "chat:wait":
			close(started)
			<-block
		default:
			r.Return("ok")
		}
	})
	a, b := pipe.New()
	cs, err := qmux.New(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := qmux.New(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	// recorded hears of each call once the metrics' interceptor, inside
	// it, has returned and so counted the call: the client has its reply
	// before that, as the handler writes it before it returns.
	recorded := make(chan string, 4)
	after := rpc.ServerInterceptorFunc(func(next rpc.Handler) rpc.Handler {
		return rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
			next.RespondRPC(r, c)
			recorded <- c.FullSelector
		})
	})
	srv := &rpc.Server{Handler: rpc.Intercept(h, after, m.Interceptor())}
	m.SessionOpened(ss)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeSession(ss)
		// As talk/service does: Close has returned, so the session has
		// written all it will.
		ss.Close()
		m.SessionClosed(ss)
	}()
	client := rpc.NewClient(cs)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 2 {
		if _, err := client.Call(ctx, "chat:send", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.Call(ctx, "kv:get", nil, nil); rpc.CodeOf(err) != rpc.CodeNotFound {
		t.Fatalf("kv:get: %v", err)
	}
	for range 3 {
		<-recorded
	}
	waited := make(chan error, 1)
	go func() {
		_, err := client.Call(ctx, "chat:wait", nil, nil)
		waited <- err
	}()
	<-started

	scrape := func() string {
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
			t.Errorf("Content-Type %q", ct)
		}
		return rec.Body.String()
	}
	text := scrape()
	// The session's bytes so far: the three calls and the fourth's start.
	if sent, recvd := counter(t, text, "qtalk_sent_bytes_total"), counter(t, text, "qtalk_received_bytes_total"); sent < 3*len("ok") || recvd < 4*len("chat:send") {
		t.Errorf("sent %d and received %d bytes while calls were served, fewer than their data", sent, recvd)
	}
	for _, want := range []string{
		`qtalk_calls_total{service="chat",code="ok"} 2`,
		`qtalk_calls_total{service="kv",code="not_found"} 1`,
		`qtalk_calls_in_flight 1`,
		`qtalk_call_duration_seconds_count{service="chat"} 2`,
		`qtalk_call_duration_seconds_bucket{service="kv",le="+Inf"} 1`,
		`qtalk_sessions_total 1`,
		`qtalk_sessions_open 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no line %q in\n%s", want, text)
		}
	}
	close(block)
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	<-recorded
	cs.Close()
	ss.Close()
	<-done
	srv.Shutdown(context.Background())
	text = scrape()
	sent, recvd := ss.BytesTransferred()
	for _, want := range []string{
		`qtalk_calls_total{service="chat",code="ok"} 3`, `qtalk_calls_in_flight 0`, `qtalk_sessions_open 0`,
		fmt.Sprintf("qtalk_sent_bytes_total %d", sent), fmt.Sprintf("qtalk_received_bytes_total %d", recvd),
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no line %q in\n%s", want, text)
		}
	}
}

// counter returns the value of the series name in text.
func counter(t *testing.T, text, name string) int {
	t.Helper()
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return n
		}
	}
	t.Fatalf("no %s in\n%s", name, text)
	return 0
}
