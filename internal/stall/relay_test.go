package stall_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/internal/stall"
)

// A paused relay delivers nothing and closes nothing; resumed, it
// delivers what it held.
func TestPauseHoldsBytes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r, err := stall.New(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	r.Pause(true)
	if _, err := c.Write([]byte("held")); err != nil {
		t.Fatal(err)
	}
	s.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := s.Read(make([]byte, 4)); n != 0 || !isTimeout(err) {
		t.Fatalf("read through a paused relay: %d bytes, %v; want a timeout", n, err)
	}
	r.Pause(false)
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "held" {
		t.Fatalf("after resuming: %q, %v", buf, err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
