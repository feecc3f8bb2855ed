package fn

import (
	"reflect"
	"strings"

	"github.com/qtalkkit/qtalk/rpc"
)

// A Signature describes the calls of a handler made from a func or a
// method: the Go types of its arguments and results as the wire carries
// them (a leading context.Context and a trailing error left out), each
// as package reflect prints it, with any for interface{}: "string",
// "[]demo.Message", "map[string]any".
type Signature struct {
	Args []string `cbor:"args" json:"args"`
	// Results are the results' types; for a stream, the type of the
	// values it sends (the channel's element type).
	Results []string `cbor:"results" json:"results"`
	Stream  bool     `cbor:"stream,omitempty" json:"stream,omitempty"` // the reply continues with a stream of Results[0]
	Error   bool     `cbor:"error,omitempty" json:"error,omitempty"`   // the func returns an error: the call may fail with one
}

// String writes s as a Go func type without "func": "(string, string)
// (demo.Message, error)", "(string) stream demo.Event", "()".
func (s Signature) String() string {
	var b strings.Builder
	b.WriteString("(" + strings.Join(s.Args, ", ") + ")")
	results := s.Results
	if s.Stream {
		results = []string{"stream " + strings.Join(results, ", ")}
	}
	if s.Error {
		results = append(results[:len(results):len(results)], "error")
	}
	switch len(results) {
	case 0:
	case 1:
		b.WriteString(" " + results[0])
	default:
		b.WriteString(" (" + strings.Join(results, ", ") + ")")
	}
	return b.String()
}

// SignatureOf returns the signature of the handler that serves selector
// in h: h itself when HandlerFrom or HandlerFor made it from a func, or
// the handler an *rpc.RespondMux routes selector to (as it would route a
// call; a prefix pattern passes the rest of the selector on), such as
// those HandlerFrom makes for a struct's methods. It returns false when
// no handler serves selector or the one that does was not made by this
// package.
func SignatureOf(h rpc.Handler, selector string) (Signature, bool) {
	for {
		switch v := h.(type) {
		case *funcHandler:
			return v.signature(), true
		case *rpc.RespondMux:
			next, pattern, ok := v.Match(selector)
			if !ok {
				return Signature{}, false
			}
			if pattern != selector { // a prefix pattern
				selector = selector[len(pattern):]
			}
			h = next
		default:
			return Signature{}, false
		}
	}
}

// signature describes h's calls.
func (h *funcHandler) signature() Signature {
	t := h.fn.Type()
	s := Signature{Args: make([]string, 0, len(h.sig.params)), Results: make([]string, 0, h.sig.results), Stream: h.sig.stream, Error: h.sig.err}
	for _, p := range h.sig.params {
		s.Args = append(s.Args, typeName(p))
	}
	for i := range h.sig.results {
		r := t.Out(i)
		if h.sig.stream {
			r = r.Elem()
		}
		s.Results = append(s.Results, typeName(r))
	}
	return s
}

// typeName prints t as reflect does, with any for interface{}.
func typeName(t reflect.Type) string {
	return strings.ReplaceAll(t.String(), "interface {}", "any")
}
