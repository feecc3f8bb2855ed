package service_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/talk/service"
	"github.com/qtalkkit/qtalk/transport"
)

// gatedListen is the transport of slowlisten:// addresses, whose Listen
// waits for the test to let it go, then binds loopback TCP.
var gatedListen = gatedConnector{entered: make(chan struct{}, 1), release: make(chan struct{})}

func init() { transport.Register("slowlisten", gatedListen) }

type gatedConnector struct {
	entered chan struct{} // a Listen is waiting
	release chan struct{} // receives let one go
}

func (gatedConnector) Dial(context.Context, transport.Address, *transport.Options) (mux.Session, error) {
	return nil, errors.New("slowlisten: only for listening")
}

func (g gatedConnector) Listen(ctx context.Context, _ transport.Address, o *transport.Options) (transport.Listener, error) {
	g.entered <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return transport.Listen(ctx, "tcp://127.0.0.1:0")
}

// Neither Start nor Reload holds the server's lock while a listener binds:
// the server answers (Addrs here) while a Listen is slow.
func TestListenHoldsNoLock(t *testing.T) {
	cfg, err := config.Parse([]byte(`listen = ["slowlisten://first"]`), "slow.toml")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := service.New(cfg, service.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	addrsWhileListening := func(what string, change func() error, want int) {
		t.Helper()
		changed := make(chan error, 1)
		go func() { changed <- change() }()
		waitFor(t, gatedListen.entered, what+" to call Listen")
		addrs := make(chan int, 1)
		go func() { addrs <- len(srv.Addrs()) }()
		if n := waitFor(t, addrs, "Addrs while "+what+" listens"); n != want-1 {
			t.Errorf("Addrs while %s listens: %d addresses, want %d", what, n, want-1)
		}
		gatedListen.release <- struct{}{}
		if err := waitFor(t, changed, what); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n := len(srv.Addrs()); n != want {
			t.Errorf("after %s: %d addresses, want %d", what, n, want)
		}
	}
	addrsWhileListening("Start", func() error { return srv.Start(testCtx(t)) }, 1)

	next, err := config.Parse([]byte(`listen = ["slowlisten://first", "slowlisten://second"]`), "slow.toml")
	if err != nil {
		t.Fatal(err)
	}
	addrsWhileListening("Reload", func() error { return srv.Reload(next) }, 2)
}

// waitFor receives from c, failing the test after testTimeout.
func waitFor[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("%s: nothing after %v", what, testTimeout)
		panic("unreachable")
	}
}
