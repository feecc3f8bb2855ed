package fn_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/qtalkkit/qtalk/fn"
	"github.com/qtalkkit/qtalk/rpc"
)

// Funcs whose parameters and results are proto messages are served and
// called with the protobuf codec, by handlers and stubs alike.
func TestProtobufFuncs(t *testing.T) {
	m := rpc.NewRespondMux()
	m.Handle("upper", fn.MustHandlerFrom(func(ctx context.Context, s *wrapperspb.StringValue, n *wrapperspb.Int64Value) (*wrapperspb.StringValue, error) {
		return wrapperspb.String(strings.Repeat(strings.ToUpper(s.Value), int(n.Value))), nil
	}))
	c := serve(t, m, rpc.WithCodec(rpc.Protobuf))
	ctx := context.Background()
	got, err := fn.Call[*wrapperspb.StringValue](ctx, c, "upper", wrapperspb.String("ab"), wrapperspb.Int64(2))
	if err != nil || got.GetValue() != "ABAB" {
		t.Errorf("fn.Call = %q, %v; want ABAB", got.GetValue(), err)
	}
	var stub struct {
		Upper func(s *wrapperspb.StringValue, n *wrapperspb.Int64Value) (*wrapperspb.StringValue, error)
	}
	if err := fn.Stub(c, &stub, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := stub.Upper(wrapperspb.String("x"), wrapperspb.Int64(3)); err != nil || got.GetValue() != "XXX" {
		t.Errorf("stub = %q, %v; want XXX", got.GetValue(), err)
	}
	if _, err := fn.Call[*wrapperspb.StringValue](ctx, c, "upper", "ab", 2); rpc.CodeOf(err) == rpc.CodeOK {
		t.Error("a call with arguments that are not messages succeeded")
	}
}
