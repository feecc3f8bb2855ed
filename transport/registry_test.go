package transport_test

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/transport"
)

// optsConnector records what Dial and Listen pass it and fails.
type optsConnector struct{ got chan any }

var errOpts = errors.New("optstest: recorded")

func (c optsConnector) Dial(ctx context.Context, a transport.Address, o *transport.Options) (mux.Session, error) {
	c.got <- a
	c.got <- o
	return nil, errOpts
}

func (c optsConnector) Listen(ctx context.Context, a transport.Address, o *transport.Options) (transport.Listener, error) {
	c.got <- a
	c.got <- o
	return nil, errOpts
}

var optsTest = optsConnector{got: make(chan any, 2)}

type optsKey struct{}

func init() { transport.Register("optstest", optsTest, "optstest-alias") }

func TestOptionsReachConnector(t *testing.T) {
	cfg := &qmux.Config{WindowSize: 1 << 20}
	tlsCfg := &tls.Config{ServerName: "x"}
	opts := []transport.Option{
		transport.WithSessionConfig(cfg),
		transport.WithTLSConfig(tlsCfg),
		transport.WithValue(optsKey{}, "v"),
	}
	for _, call := range []func(string) error{
		func(addr string) error { _, err := transport.Dial(context.Background(), addr, opts...); return err },
		func(addr string) error { _, err := transport.Listen(context.Background(), addr, opts...); return err },
	} {
		err := call("optstest-alias/$4:9!sub")
		if !errors.Is(err, errOpts) || !strings.Contains(err.Error(), "optstest://127.0.0.1:9!sub") {
			t.Errorf("error %v does not wrap the connector's error with the address", err)
		}
		a := (<-optsTest.got).(transport.Address)
		o := (<-optsTest.got).(*transport.Options)
		if want := (transport.Address{Scheme: "optstest", Host: "127.0.0.1:9", Subport: "sub"}); a != want {
			t.Errorf("connector got %#v, want %#v", a, want)
		}
		if o.SessionConfig != cfg || o.TLSConfig != tlsCfg || o.Value(optsKey{}) != "v" || o.Value("other") != nil {
			t.Errorf("connector got options %+v", o)
		}
	}
}

func TestGenericSyntax(t *testing.T) {
	for in, want := range map[string]transport.Address{
		"optstest://h/p?q": {Scheme: "optstest", Host: "h", Path: "/p", RawQuery: "q"},
		"optstest:opaque":  {Scheme: "optstest", Opaque: "opaque"},
		"optstest:":        {Scheme: "optstest"},
	} {
		got, err := transport.ParseAddress(in)
		if err != nil || got != want {
			t.Errorf("ParseAddress(%q) = %#v, %v; want %#v", in, got, err, want)
		}
	}
}

func TestCustomConnector(t *testing.T) {
	testEcho(t, "mem://echo", func(transport.Listener) string { return "mem://echo" })
}

func TestAlias(t *testing.T) {
	a, err := transport.ParseAddress("websocket://h:1/p")
	if err != nil || a.Scheme != "ws" {
		t.Fatalf("websocket alias parsed to %#v, %v; want scheme ws", a, err)
	}
	b, _ := transport.ParseAddress("ws://h:1/p")
	if a != b {
		t.Errorf("websocket:// and ws:// differ: %#v, %#v", a, b)
	}
}

func TestUnknownScheme(t *testing.T) {
	ctx := context.Background()
	if _, err := transport.Dial(ctx, "nope://h:1"); !errors.Is(err, transport.ErrUnknownScheme) || !errors.Is(err, transport.ErrBadAddress) {
		t.Errorf("Dial: %v, want ErrUnknownScheme", err)
	}
	if _, err := transport.Listen(ctx, "nope/h:1"); !errors.Is(err, transport.ErrUnknownScheme) {
		t.Errorf("Listen: %v, want ErrUnknownScheme", err)
	}
}

func TestRegisterPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"duplicate":       func() { transport.Register("tcp", optsTest) },
		"duplicate alias": func() { transport.Register("fresh-a", optsTest, "websocket") },
		"bad name":        func() { transport.Register("Bad", optsTest) },
		"bad alias":       func() { transport.Register("fresh-b", optsTest, "x y") },
		"nil":             func() { transport.Register("fresh-c", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Register did not panic", name)
				}
			}()
			f()
		}()
	}
	// A failed Register leaves no name behind.
	for _, s := range []string{"fresh-a", "fresh-b"} {
		if _, err := transport.ParseAddress(s + ":"); !errors.Is(err, transport.ErrUnknownScheme) {
			t.Errorf("%s registered by a failed Register: %v", s, err)
		}
	}
}
