package fn_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/rpc"
)

// TestSignatureOf describes funcs, methods behind nested muxes, streams
// and handlers fn did not make.
func TestSignatureOf(t *testing.T) {
	inner, err := fn.HandlerFrom(&Calc{})
	if err != nil {
		t.Fatal(err)
	}
	outer := rpc.NewRespondMux()
	outer.Handle("calc.", inner)
	outer.Handle("ticks", fn.MustHandlerFrom(func(ctx context.Context, n int) (<-chan map[string]any, error) { return nil, nil }))
	outer.Handle("nothing", fn.MustHandlerFrom(func() {}))
	outer.HandleFunc("plain", func(r rpc.Responder, c *rpc.Call) {})

	for _, tc := range []struct {
		selector string
		want     fn.Signature
		str      string
	}{
		{"calc.add", fn.Signature{Args: []string{"int", "int"}, Results: []string{"int"}}, "(int, int) int"},
		{"calc.div", fn.Signature{Args: []string{"int", "int"}, Results: []string{"int", "int"}, Error: true}, "(int, int) (int, int, error)"},
		{"ticks", fn.Signature{Args: []string{"int"}, Results: []string{"map[string]any"}, Stream: true, Error: true}, "(int) (stream map[string]any, error)"},
		{"nothing", fn.Signature{Args: []string{}, Results: []string{}}, "()"},
	} {
		got, ok := fn.SignatureOf(outer, tc.selector)
		if !ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SignatureOf(%q) = %#v, %v; want %#v", tc.selector, got, ok, tc.want)
		}
		if s := got.String(); s != tc.str {
			t.Errorf("SignatureOf(%q).String() = %q, want %q", tc.selector, s, tc.str)
		}
	}
	for _, sel := range []string{"plain", "calc.nope", "nope"} {
		if got, ok := fn.SignatureOf(outer, sel); ok {
			t.Errorf("SignatureOf(%q) = %v, true; want false", sel, got)
		}
	}
}
