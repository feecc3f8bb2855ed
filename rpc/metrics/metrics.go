package metrics

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
)

// Buckets are the upper bounds, in seconds, of the duration histogram.
var Buckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// maxServices bounds the services counted by name: the calls of others
// count under service "other", so hostile labels cannot grow the series.
const maxServices = 256

// Metrics are the counters of one server. The zero value is ready to
// use; its methods are safe for concurrent use.
type Metrics struct {
	mu           sync.Mutex // guards the fields below
	calls        map[callKey]uint64
	durations    map[string]*histogram // by service
	inFlight     int64
	sessions     uint64
	sessionsOpen int64
	// The sessions open that count their bytes, and the bytes of those
	// that ended.
	counting              map[mux.ByteCounter]struct{}
	sentEnded, recvdEnded uint64
}

type callKey struct {
	service string
	code    rpc.Code
}

type histogram struct {
	counts []uint64 // per bucket of Buckets, not cumulative
	sum    float64
	count  uint64
}

// Interceptor returns a server interceptor that records the calls it
// wraps.
func (m *Metrics) Interceptor() rpc.Interceptor {
	return rpc.ServerInterceptorFunc(func(next rpc.Handler) rpc.Handler {
		return rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
			service := "other"
			if l, err := label.Parse(c.FullSelector); err == nil {
				service = l.Module
			}
			m.add(func() { m.inFlight++ })
			start := time.Now()
			rec := &rpc.CodeRecorder{Responder: r}
			defer func() { m.ended(service, rec.Code, time.Since(start)) }()
			next.RespondRPC(rec, c)
		})
	})
}

func (m *Metrics) add(f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f()
}

func (m *Metrics) ended(service string, code rpc.Code, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inFlight--
	if m.calls == nil {
		m.calls, m.durations = map[callKey]uint64{}, map[string]*histogram{}
	}
	if _, ok := m.durations[service]; !ok && len(m.durations) >= maxServices {
		service = "other"
	}
	m.calls[callKey{service, code}]++
	h := m.durations[service]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(Buckets))}
		m.durations[service] = h
	}
	s := d.Seconds()
	if i, _ := slices.BinarySearch(Buckets, s); i < len(Buckets) {
		h.counts[i]++
	}
	h.sum += s
	h.count++
}

// SessionOpened counts a client session accepted. If sess counts the bytes
// of its connection (mux.ByteCounter, as qmux's and mux/quic's sessions
// do), they count in the bytes sent and received from now on.
func (m *Metrics) SessionOpened(sess mux.Session) {
	m.add(func() {
		m.sessions++
		m.sessionsOpen++
		if bc, ok := sess.(mux.ByteCounter); ok {
			if m.counting == nil {
				m.counting = make(map[mux.ByteCounter]struct{})
			}
			m.counting[bc] = struct{}{}
		}
	})
}

// SessionClosed counts the end of a session that SessionOpened counted.
// Call it once the session's Close has returned: a session may still send
// what it had queued until then, and its bytes count as they are now.
func (m *Metrics) SessionClosed(sess mux.Session) {
	m.add(func() {
		m.sessionsOpen--
		if bc, ok := sess.(mux.ByteCounter); ok {
			if _, ok := m.counting[bc]; ok {
				sent, recvd := bc.BytesTransferred()
				m.sentEnded += sent
				m.recvdEnded += recvd
				delete(m.counting, bc)
			}
		}
	})
}

// WriteTo writes the metrics in the Prometheus text format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	m.mu.Lock()
	b.WriteString("# HELP qtalk_calls_total Calls ended, by service and code.\n# TYPE qtalk_calls_total counter\n")
	keys := make([]callKey, 0, len(m.calls))
	for k := range m.calls {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b callKey) int {
		if c := strings.Compare(a.service, b.service); c != 0 {
			return c
		}
		return int(a.code) - int(b.code)
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "qtalk_calls_total{service=%s,code=%q} %d\n", quote(k.service), k.code.String(), m.calls[k])
	}
	fmt.Fprintf(&b, "# HELP qtalk_calls_in_flight Calls being served.\n# TYPE qtalk_calls_in_flight gauge\nqtalk_calls_in_flight %d\n", m.inFlight)
	b.WriteString("# HELP qtalk_call_duration_seconds How long calls took, by service.\n# TYPE qtalk_call_duration_seconds histogram\n")
	services := make([]string, 0, len(m.durations))
	for s := range m.durations {
		services = append(services, s)
	}
	slices.Sort(services)
	for _, s := range services {
		h := m.durations[s]
		var cum uint64
		for i, le := range Buckets {
			cum += h.counts[i]
			fmt.Fprintf(&b, "qtalk_call_duration_seconds_bucket{service=%s,le=%q} %d\n", quote(s), strconv.FormatFloat(le, 'g', -1, 64), cum)
		}
		fmt.Fprintf(&b, "qtalk_call_duration_seconds_bucket{service=%s,le=\"+Inf\"} %d\n", quote(s), h.count)
		fmt.Fprintf(&b, "qtalk_call_duration_seconds_sum{service=%s} %g\n", quote(s), h.sum)
		fmt.Fprintf(&b, "qtalk_call_duration_seconds_count{service=%s} %d\n", quote(s), h.count)
	}
	fmt.Fprintf(&b, "# HELP qtalk_sessions_total Client sessions accepted.\n# TYPE qtalk_sessions_total counter\nqtalk_sessions_total %d\n", m.sessions)
	fmt.Fprintf(&b, "# HELP qtalk_sessions_open Client sessions open.\n# TYPE qtalk_sessions_open gauge\nqtalk_sessions_open %d\n", m.sessionsOpen)
	sent, recvd := m.sentEnded, m.recvdEnded
	for bc := range m.counting {
		s, r := bc.BytesTransferred()
		sent += s
		recvd += r
	}
	fmt.Fprintf(&b, "# HELP qtalk_sent_bytes_total Bytes sent on client sessions' connections.\n# TYPE qtalk_sent_bytes_total counter\nqtalk_sent_bytes_total %d\n", sent)
	fmt.Fprintf(&b, "# HELP qtalk_received_bytes_total Bytes received on client sessions' connections.\n# TYPE qtalk_received_bytes_total counter\nqtalk_received_bytes_total %d\n", recvd)
	m.mu.Unlock()
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// quote quotes a label value as the text format wants: backslash, double
// quote and newline escaped.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// ServeHTTP answers a scrape with the metrics.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.WriteTo(w)
}
