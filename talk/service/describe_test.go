package service_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk/service"
)

// typedModule serves handlers made by package fn: add, and the methods
// of calc under calc.*.
const typedModule = "example.net/typed"

type calc struct{}

func (calc) Mul(a, b float64) float64                             { return a * b }
func (calc) Count(ctx context.Context, n int) (<-chan int, error) { return nil, nil }

func init() {
	service.RegisterModule(typedModule, func(m *service.Module) error {
		m.Handle("add", fn.MustHandlerFrom(func(a, b int) (int, error) { return a + b, nil }))
		m.Handle("calc.*", fn.MustHandlerFrom(calc{}))
		m.HandleFunc("plain", func(r rpc.Responder, c *rpc.Call) { r.Return(nil) })
		return nil
	})
}

// TestDescribe describes the labels of fn handlers, local and through a
// gateway, and refuses the others with a code that says why.
func TestDescribe(t *testing.T) {
	up, _ := startServer(t, fmt.Sprintf("listen = \"tcp://127.0.0.1:0\"\n[services]\ntyped-service = { provider = \"local\", module = %q }\n", typedModule))
	gw, _ := startServer(t, gatewayConfig(up.Addrs()[0].String(), fmt.Sprintf("typed = { provider = %q, service = \"typed-service\" }", addrOf(up))))
	p := dial(t, addrOf(gw))
	add := fn.Signature{Args: []string{"int", "int"}, Results: []string{"int"}, Error: true}
	for _, tt := range []struct {
		client *rpc.Client
		label  string
		want   fn.Signature
	}{
		{dial(t, addrOf(up)).Client(), "typed-service:add", add},
		{dial(t, addrOf(up)).Client(), "typed-service:calc.mul?x=1", fn.Signature{Args: []string{"float64", "float64"}, Results: []string{"float64"}}},
		{p.Client(), "typed:add", add},
		{p.Client(), "typed:calc.count", fn.Signature{Args: []string{"int"}, Results: []string{"int"}, Stream: true, Error: true}},
	} {
		var got fn.Signature
		if _, err := tt.client.Call(testCtx(t), service.LabelDescribe, tt.label, &got); err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %s = %+v, %v; want %+v", service.LabelDescribe, tt.label, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		arg  any
		want rpc.Code
	}{
		{"typed:plain", rpc.CodeFailedPrecondition},           // upstream: not made by fn
		{"typed:nope", rpc.CodeNotFound},                      // upstream: no such name
		{"nope:add", rpc.CodeNotFound},                        // no such service
		{"other.example/typed:add", rpc.CodePermissionDenied}, // an unconfigured host
		{"qtalk:ping", rpc.CodeFailedPrecondition},            // built-in
		{"typed", rpc.CodeInvalidArgument},                    // not a label
		{42, rpc.CodeInvalidArgument},
	} {
		_, err := p.Call(testCtx(t), service.LabelDescribe, tt.arg, nil)
		checkCode(t, fmt.Sprintf("%s %v", service.LabelDescribe, tt.arg), err, tt.want)
	}
}
