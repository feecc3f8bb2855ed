package tracing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/qtalkkit/qtalk/label"
	"github.com/qtalkkit/qtalk/rpc"
)

// MetadataTraceparent is the metadata key of a call's W3C trace context.
const MetadataTraceparent = "traceparent"

// Kinds of spans.
const (
	KindClient = "client"
	KindServer = "server"
)

// A Span is one side of one call.
type Span struct {
	TraceID  string    `json:"trace_id"`            // 32 lower-case hex digits
	SpanID   string    `json:"span_id"`             // 16 lower-case hex digits
	ParentID string    `json:"parent_id,omitempty"` // the span this one is a child of
	Name     string    `json:"name"`                // the call's selector
	Kind     string    `json:"kind"`                // KindClient or KindServer
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	// Attributes are rpc.system, rpc.service, rpc.method (the two last
	// when the selector is a label) and rpc.qtalk.code.
	Attributes map[string]string `json:"attributes"`
	Code       rpc.Code          `json:"-"` // how the call ended
	Error      string            `json:"error,omitempty"`
}

// An Exporter takes the spans that ended. Export is called from the
// goroutine of the call and must not block for long.
type Exporter interface {
	Export(Span)
}

// spanContext is what a context carries of the span around it.
type spanContext struct{ traceID, spanID string }

// parse reads a traceparent value: version 00 (or a later one, of which
// the first four fields are read as version 00's), a trace id and a
// span id that are not all zeros. It returns false for anything else.
func parse(v string) (spanContext, bool) {
	// 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01
	if len(v) < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' || len(v) > 55 && (v[:2] == "00" || v[55] != '-') || v[:2] == "ff" {
		return spanContext{}, false
	}
	sc := spanContext{traceID: v[3:35], spanID: v[36:52]}
	for _, f := range []string{v[:2], sc.traceID, sc.spanID, v[53:55]} {
		if !isHex(f) {
			return spanContext{}, false
		}
	}
	if strings.Trim(sc.traceID, "0") == "" || strings.Trim(sc.spanID, "0") == "" {
		return spanContext{}, false
	}
	return sc, true
}

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// traceparent formats sc as a sampled version 00 traceparent.
func (sc spanContext) traceparent() string { return "00-" + sc.traceID + "-" + sc.spanID + "-01" }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// start begins a span named selector of kind, a child of parent, or in a
// new trace for the zero parent.
func start(selector, kind string, parent spanContext) *Span {
	s := &Span{TraceID: parent.traceID, ParentID: parent.spanID, SpanID: randomHex(8), Name: selector, Kind: kind, Start: time.Now(),
		Attributes: map[string]string{"rpc.system": "qtalk"}}
	if s.TraceID == "" {
		s.TraceID = randomHex(16)
	}
	if l, err := label.Parse(selector); err == nil {
		s.Attributes["rpc.service"], s.Attributes["rpc.method"] = l.Module, l.Name
	}
	return s
}

// end ends s with code and err and exports it.
func (s *Span) end(e Exporter, code rpc.Code, err error) {
	s.End, s.Code = time.Now(), code
	s.Attributes["rpc.qtalk.code"] = code.String()
	if code != rpc.CodeOK {
		s.Error = code.String()
		if err != nil {
			s.Error = err.Error()
		}
	}
	e.Export(*s)
}

// Interceptor returns an interceptor that traces the calls of clients
// (rpc.WithInterceptors) and servers (rpc.Intercept) into e.
func Interceptor(e Exporter) rpc.Interceptor { return interceptor{e} }

type interceptor struct{ e Exporter }

func (i interceptor) WrapCall(next rpc.CallFunc) rpc.CallFunc {
	return func(ctx context.Context, call *rpc.OutgoingCall) (*rpc.Response, error) {
		s := start(call.Selector, KindClient, spanContext{})
		call.Metadata[MetadataTraceparent] = spanContext{s.TraceID, s.SpanID}.traceparent()
		resp, err := next(ctx, call)
		s.end(i.e, rpc.CodeOf(err), err)
		return resp, err
	}
}

func (i interceptor) WrapHandler(next rpc.Handler) rpc.Handler {
	return rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		parent, _ := parse(c.Metadata[MetadataTraceparent])
		s := start(c.FullSelector, KindServer, parent)
		rec := &rpc.CodeRecorder{Responder: r}
		defer func() { s.end(i.e, rec.Code, nil) }()
		next.RespondRPC(rec, c)
	})
}
