package qmux

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
)

// heldConn is a TCP connection whose Write, once the bytes written reach
// holdAfter, waits for release after writing them: the writer's batch is
// then out while the writer is still in its write. A session writing in
// place through it makes one Write per buffer (net.Buffers finds no
// writev method on it).
type heldConn struct {
	tcp       *net.TCPConn
	holdAfter int
	release   chan struct{}

	mu      sync.Mutex // guards written
	written int
}

func (c *heldConn) Write(p []byte) (int, error) {
	n, err := c.tcp.Write(p)
	c.mu.Lock()
	c.written += n
	hold := c.holdAfter > 0 && c.written >= c.holdAfter
	c.mu.Unlock()
	if hold {
		<-c.release
	}
	return n, err
}

func (c *heldConn) Read(p []byte) (int, error) { return c.tcp.Read(p) }
func (c *heldConn) Close() error               { return c.tcp.Close() }

// holdFrom counts the bytes written from now on, holding the Write that
// reaches holdAfter until release is closed.
func (c *heldConn) holdFrom(holdAfter int, release chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written, c.holdAfter, c.release = 0, holdAfter, release
}

// TestWriteDeliveredBeforePeerClose checks that a Write whose bytes all
// went out succeeds even when the peer's CLOSE arrives before the writer
// is back from writing them in place: the peer read them all and closed
// (muxtest's CloseHandshake failed so under load, a 100 KiB Write
// reporting mux.ErrChannelClosed after its peer had read every byte).
func TestWriteDeliveredBeforePeerClose(t *testing.T) {
	c1, c2 := tcpConnPair(t)
	held := &heldConn{tcp: c1.(*net.TCPConn)}
	a, b := newSession(t, held, nil), newSession(t, c2, nil)
	t.Cleanup(func() {
		a.Close()
		b.Close()
		a.Wait()
		b.Wait()
	})
	a.mu.Lock()
	a.writer.vectored = true // in place, as on a socket, which heldConn hides
	a.mu.Unlock()
	ach, bch := openPair(t, a, b)

	const size = 100 << 10
	data := bytes.Repeat([]byte("delivered"), size/9+1)[:size]
	release := make(chan struct{})
	held.holdFrom(size, release) // the headers make the last payload cross it
	type result struct {
		n   int
		err error
	}
	wrote := make(chan result, 1)
	go func() {
		n, err := ach.Write(data)
		wrote <- result{n, err}
	}()
	got := make([]byte, size)
	if _, err := io.ReadFull(bch, got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the peer read %v; want the %d bytes written", err, size)
	}
	bch.Close()
	<-ach.(*channel).WriteDone() // the peer's CLOSE arrived; the writer is still in its write
	close(release)
	if r := <-wrote; r.n != size || r.err != nil {
		t.Errorf("Write of %d bytes the peer read: %d, %v; want %d, nil", size, r.n, r.err, size)
	}
}
