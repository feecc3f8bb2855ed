package transport_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/qtalkkit/qtalk/transport"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// TestConnTCP dials and accepts a raw TCP connection, which can be
// half-closed, and moves bytes both ways without a session.
func TestConnTCP(t *testing.T) {
	ctx := context.Background()
	ln, err := transport.ListenConns(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan io.ReadWriteCloser, 1)
	go func() {
		c, err := ln.AcceptConn(ctx)
		if err != nil {
			t.Error(err)
			c = nil
		}
		accepted <- c
	}()
	c, err := transport.DialConn(ctx, "tcp://"+ln.Addr().String()+"!ignored")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-accepted
	if s == nil {
		return
	}
	defer s.Close()
	c.Write([]byte("ping"))
	c.(interface{ CloseWrite() error }).CloseWrite()
	got, err := io.ReadAll(s)
	if string(got) != "ping" || err != nil {
		t.Fatalf("server read %q, %v; want ping and the end", got, err)
	}
	s.Write([]byte("pong")) // the client's read side is still open
	s.Close()
	if got, err := io.ReadAll(c); string(got) != "pong" || err != nil {
		t.Fatalf("client read %q, %v; want pong", got, err)
	}
}

// TestConnStdio takes stdin and stdout as the one raw connection of
// stdio:, whose CloseWrite closes stdout.
func TestConnStdio(t *testing.T) {
	stdin, _ := pipe.New()
	stdout, remote := pipe.New()
	defer transport.SetStdioStreams(stdin, stdout)()
	ctx := context.Background()
	ln, err := transport.ListenConns(ctx, "stdio:")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := ln.AcceptConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	go func() { c.Write([]byte("out")); c.(interface{ CloseWrite() error }).CloseWrite() }()
	if got, _ := io.ReadAll(remote); string(got) != "out" {
		t.Fatalf("read %q from stdout, want out", got)
	}
}

// TestConnUnsupported refuses raw connections where there are none.
func TestConnUnsupported(t *testing.T) {
	ctx := context.Background()
	if _, err := transport.ListenConns(ctx, "exec:cat"); !errors.Is(err, transport.ErrUnsupported) {
		t.Errorf("ListenConns(exec:cat) = %v, want ErrUnsupported", err)
	}
	if _, err := transport.DialConn(ctx, "optstest://h:1"); !errors.Is(err, transport.ErrUnsupported) {
		t.Errorf("DialConn of another package's scheme = %v, want ErrUnsupported", err)
	}
}
