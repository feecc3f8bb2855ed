package transport_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/transport"
)

func TestTCP(t *testing.T) {
	for _, addr := range []string{"tcp/$4:0", "tcp://127.0.0.1:0", "tcp/$4:0!chat"} {
		t.Run(addr, func(t *testing.T) {
			testEcho(t, addr, func(ln transport.Listener) string {
				return "tcp://" + ln.Addr().String()
			})
		})
	}
}

func TestTCPSessionConfig(t *testing.T) {
	cfg := &qmux.Config{WindowSize: 64 << 10, MaxPacketSize: 16 << 10}
	testEcho(t, "tcp/$4:0", func(ln transport.Listener) string {
		return "tcp://" + ln.Addr().String()
	}, transport.WithSessionConfig(cfg))
}

func TestInvalidSessionConfig(t *testing.T) {
	bad := transport.WithSessionConfig(&qmux.Config{WindowSize: 1, MaxPacketSize: 2})
	if _, err := transport.Dial(context.Background(), "tcp/$4:1", bad); !errors.Is(err, qmux.ErrInvalidConfig) {
		t.Errorf("Dial: %v, want qmux.ErrInvalidConfig", err)
	}
	if _, err := transport.Listen(context.Background(), "tcp/$4:0", bad); !errors.Is(err, qmux.ErrInvalidConfig) {
		t.Errorf("Listen: %v, want qmux.ErrInvalidConfig", err)
	}
}

func TestUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.sock")
	testEcho(t, "unix://"+path, func(transport.Listener) string { return "unix/" + path })
	// testEcho closed the listener, which removes the socket file.
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file after Close: %v, want it removed", err)
	}
}

func TestListenerClose(t *testing.T) {
	ctx := context.Background()
	ln, err := transport.Listen(ctx, "tcp/$4:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := ln.Accept(ctx)
		errc <- err
	}()
	ln.Close()
	if err := <-errc; !errors.Is(err, transport.ErrListenerClosed) || !errors.Is(err, net.ErrClosed) {
		t.Errorf("pending Accept after Close: %v", err)
	}
	if _, err := ln.Accept(ctx); !errors.Is(err, transport.ErrListenerClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
	if err := ln.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestAcceptContext(t *testing.T) {
	ln, err := transport.Listen(context.Background(), "tcp/$4:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ln.Accept(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Accept with a cancelled ctx: %v", err)
	}
}

func TestDialError(t *testing.T) {
	ln, err := transport.Listen(context.Background(), "tcp/$4:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "tcp://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = transport.Dial(context.Background(), addr)
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("Dial to a closed port: %v, want a *net.OpError", err)
	}
}
