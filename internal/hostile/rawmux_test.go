package hostile_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Message types of qmux (spec/qmux.md section 2).
const (
	qmuxOpen    = 100
	qmuxConfirm = 101
	qmuxFailure = 102
	qmuxAdjust  = 103
	qmuxData    = 104
	qmuxEOF     = 105
	qmuxClose   = 106
)

// rawMaxPacket is the largest DATA payload a rawMux sends, and the one it
// announces.
const rawMaxPacket = 32 << 10

// A rawMux is an attacker speaking qmux by hand over TCP: it opens
// channels, learns the windows the server gives them and sends exactly
// what they allow, without the goroutine per blocked channel that a
// Session's Writes would take. It reads all that the server sends,
// discarding data, answering CLOSEs and refusing the server's opens
// (keepalive probes).
type rawMux struct {
	t    *testing.T
	conn net.Conn
	wmu  sync.Mutex // guards writes to conn; taken before mu, never while mu is held

	mu    sync.Mutex
	cond  sync.Cond     // L is &mu; broadcast when a channel or the connection changes
	chans []*rawChan    // by this side's channel number; guarded by mu
	err   error         // why the read loop ended; guarded by mu
	done  chan struct{} // closed when the read loop ends
	once  sync.Once     // closes conn
}

// A rawChan is a channel of a rawMux, guarded by its mu.
type rawChan struct {
	remote    uint32 // the server's number
	window    uint64 // bytes the server lets this side send
	confirmed bool
	closed    bool // refused, or closed by the server
	heard     bool // the server sent DATA on it
	sent      int  // bytes sent
}

// dialRaw connects a rawMux to the server at addr (a transport address).
func dialRaw(t *testing.T, addr string) *rawMux {
	t.Helper()
	conn, err := net.Dial("tcp", hostPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	m := &rawMux{t: t, conn: conn, done: make(chan struct{})}
	m.cond.L = &m.mu
	go m.readLoop()
	t.Cleanup(m.close)
	return m
}

// close closes the connection and waits for the read loop.
func (m *rawMux) close() {
	m.once.Do(func() { m.conn.Close() })
	<-m.done
}

func (m *rawMux) write(b []byte) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	m.writeLocked(b)
}

// writeLocked writes b, wmu held.
func (m *rawMux) writeLocked(b []byte) {
	m.conn.Write(b) // an error ends the read loop too
}

func appendU32(b []byte, vs ...uint32) []byte {
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

func (m *rawMux) readLoop() {
	err := m.read()
	m.mu.Lock()
	m.err = err
	m.cond.Broadcast()
	m.mu.Unlock()
	close(m.done)
}

func (m *rawMux) read() error {
	r := bufio.NewReaderSize(m.conn, 64<<10)
	var h [17]byte
	for {
		typ, err := r.ReadByte()
		if err != nil {
			return err
		}
		n := map[byte]int{qmuxOpen: 12, qmuxConfirm: 16, qmuxFailure: 4, qmuxAdjust: 8, qmuxData: 8, qmuxEOF: 4, qmuxClose: 4}[typ]
		if n == 0 {
			return fmt.Errorf("the server sent message type %d", typ)
		}
		if _, err := io.ReadFull(r, h[:n]); err != nil {
			return err
		}
		u := func(i int) uint32 { return binary.BigEndian.Uint32(h[4*i:]) }
		if typ == qmuxOpen { // a keepalive probe: refused, which answers it
			m.write(appendU32([]byte{qmuxFailure}, u(0)))
			continue
		}
		if typ == qmuxData {
			if _, err := r.Discard(int(u(1))); err != nil {
				return err
			}
		}
		m.mu.Lock()
		if int(u(0)) >= len(m.chans) {
			m.mu.Unlock()
			return fmt.Errorf("the server sent message type %d for unknown channel %d", typ, u(0))
		}
		c := m.chans[u(0)]
		var answer []byte
		switch typ {
		case qmuxConfirm:
			c.remote, c.window, c.confirmed = u(1), uint64(u(2)), true
		case qmuxFailure:
			c.closed = true
		case qmuxAdjust:
			c.window += uint64(u(1))
		case qmuxData:
			c.heard = true
		case qmuxClose:
			if !c.closed {
				c.closed = true
				answer = appendU32([]byte{qmuxClose}, c.remote)
			}
		}
		m.cond.Broadcast()
		m.mu.Unlock()
		if answer != nil {
			// After the DATA of a push under way (push holds wmu while
			// it looks at closed and writes), none after: the server
			// forgets the channel once it has the answer.
			m.write(answer)
		}
	}
}

// open opens n channels and waits until the server answered each; it
// returns their numbers.
func (m *rawMux) open(n int) []int {
	m.t.Helper()
	var b []byte
	m.mu.Lock()
	first := len(m.chans)
	for i := range n {
		m.chans = append(m.chans, &rawChan{})
		b = appendU32(append(b, qmuxOpen), uint32(first+i), 1<<30, rawMaxPacket)
	}
	m.mu.Unlock()
	m.write(b)
	nums := make([]int, n)
	for i := range nums {
		nums[i] = first + i
	}
	m.waitFor(func() bool {
		for _, i := range nums {
			if c := m.chans[i]; !c.confirmed && !c.closed {
				return false
			}
		}
		return true
	}, "the answers to the opens")
	return nums
}

// waitFor waits until cond, called with mu held, is true, failing the
// test if the connection ends or a generous bound passes first. cond must
// look only at what the read loop changes (it broadcasts after each
// message): nothing else wakes the wait.
func (m *rawMux) waitFor(cond func() bool, what string) {
	m.t.Helper()
	timedOut := false // guarded by mu
	timer := time.AfterFunc(30*time.Second, func() {
		m.mu.Lock()
		timedOut = true
		m.cond.Broadcast()
		m.mu.Unlock()
	})
	defer timer.Stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	for !cond() {
		switch {
		case m.err != nil:
			m.t.Fatalf("waiting for %s: the connection ended: %v", what, m.err)
		case timedOut:
			m.t.Fatalf("timed out waiting for %s", what)
		}
		m.cond.Wait()
	}
}

// push sends on channel i what its window allows of the stream of size
// bytes that starts with prefix and goes on with zeros, from where the
// last push stopped; it reports whether the stream was all sent or the
// channel closed.
func (m *rawMux) push(i int, prefix []byte, size int) bool {
	var zeros [rawMaxPacket]byte
	m.wmu.Lock() // no CLOSE answered for the channel between the look at it and its DATA
	defer m.wmu.Unlock()
	m.mu.Lock()
	c := m.chans[i]
	if closed := c.closed; closed || !c.confirmed {
		m.mu.Unlock()
		return closed
	}
	start, k := c.sent, min(uint64(size-c.sent), c.window)
	c.sent += int(k)
	c.window -= k
	remote := c.remote
	m.mu.Unlock()
	var b []byte
	for off := start; off < start+int(k); {
		n := min(rawMaxPacket, start+int(k)-off)
		b = appendU32(append(b[:0], qmuxData), remote, uint32(n))
		if off < len(prefix) {
			p := prefix[off:min(len(prefix), off+n)]
			b = append(b, p...)
			b = append(b, zeros[:n-len(p)]...)
		} else {
			b = append(b, zeros[:n]...)
		}
		m.writeLocked(b)
		off += n
	}
	return start+int(k) == size
}

// pushAll pushes the stream of each channel of nums until it is all sent
// or the channel closed, waiting for the windows the server gives back.
func (m *rawMux) pushAll(nums []int, prefix []byte, size int) {
	m.t.Helper()
	left := nums
	for len(left) > 0 {
		var next []int
		for _, i := range left {
			if !m.push(i, prefix, size) {
				next = append(next, i)
			}
		}
		left = next
		m.waitFor(func() bool {
			for _, i := range left {
				if c := m.chans[i]; c.closed || c.window > 0 {
					return true
				}
			}
			return len(left) == 0
		}, "the server to read the frames")
	}
}

// heardOrClosedLocked reports whether the server sent DATA on, refused or
// closed every channel of nums.
func (m *rawMux) heardOrClosedLocked(nums []int) bool {
	for _, i := range nums {
		if c := m.chans[i]; !c.heard && !c.closed {
			return false
		}
	}
	return true
}

// closed counts the channels of nums the server refused or closed.
func (m *rawMux) closed(nums []int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, i := range nums {
		if m.chans[i].closed {
			n++
		}
	}
	return n
}
