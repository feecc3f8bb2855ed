//go:build browser

package jsinterop

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The qmux message types of spec/qmux.md §2.
const (
	msgOpen         = 100
	msgOpenConfirm  = 101
	msgOpenFailure  = 102
	msgWindowAdjust = 103
	msgData         = 104
	msgEOF          = 105
	msgClose        = 106
)

// fieldCounts are the numbers of uint32 fields after each type byte; a
// DATA message's payload follows its two fields.
var fieldCounts = map[byte]int{
	msgOpen: 3, msgOpenConfirm: 4, msgOpenFailure: 1, msgWindowAdjust: 2,
	msgData: 2, msgEOF: 1, msgClose: 1,
}

// message returns a message of type typ with fields, big-endian. A DATA
// message's payload is not included.
func message(typ byte, fields ...uint32) []byte {
	b := []byte{typ}
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, f)
	}
	return b
}

// data returns a DATA message for recipient carrying payload.
func data(recipient uint32, payload []byte) []byte {
	return append(message(msgData, recipient, uint32(len(payload))), payload...)
}

// A rawConn is a tcp connection to the TypeScript qmux peer on which the
// test plays the other side of a session by hand.
type rawConn struct {
	t    *testing.T
	conn *net.TCPConn
	r    *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", tcpHost(t, addr), guard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(guard))
	return &rawConn{t: t, conn: conn.(*net.TCPConn), r: bufio.NewReader(conn)}
}

// tcpHost returns the host and port of a tcp:// address.
func tcpHost(t *testing.T, addr string) string {
	t.Helper()
	host, ok := strings.CutPrefix(addr, "tcp://")
	if !ok {
		t.Fatalf("%s is not a tcp:// address", addr)
	}
	return host
}

// write writes messages, failing the test if it cannot.
func (c *rawConn) write(msgs ...[]byte) {
	c.t.Helper()
	if _, err := c.conn.Write(concat(msgs)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func concat(msgs [][]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = append(b, m...)
	}
	return b
}

// next reads the next message the peer wrote: its type, its fields and,
// for DATA, its payload.
func (c *rawConn) next() (byte, []uint32, []byte) {
	c.t.Helper()
	typ, err := c.r.ReadByte()
	if err != nil {
		c.t.Fatalf("reading the peer's next message: %v", err)
	}
	n, ok := fieldCounts[typ]
	if !ok {
		c.t.Fatalf("the peer wrote a message of unknown type %d", typ)
	}
	raw := make([]byte, 4*n)
	if _, err := io.ReadFull(c.r, raw); err != nil {
		c.t.Fatalf("reading a message of type %d: %v", typ, err)
	}
	fields := make([]uint32, n)
	for i := range fields {
		fields[i] = binary.BigEndian.Uint32(raw[4*i:])
	}
	var payload []byte
	if typ == msgData {
		payload = make([]byte, fields[1])
		if _, err := io.ReadFull(c.r, payload); err != nil {
			c.t.Fatalf("reading a DATA payload of %d bytes: %v", fields[1], err)
		}
	}
	return typ, fields, payload
}

// expect reads the next message, which must be typ with fields.
func (c *rawConn) expect(typ byte, fields ...uint32) []byte {
	c.t.Helper()
	gotType, got, payload := c.next()
	if gotType != typ || fmt.Sprint(got) != fmt.Sprint(fields) {
		c.t.Fatalf("the peer wrote message %d %v, want %d %v", gotType, got, typ, fields)
	}
	return payload
}

// An opened channel is one the test opened, with the peer's number for it
// and what the peer announced.
type opened struct{ sid, window, maxPacket uint32 }

// open opens a channel under the test's number id, announcing window and
// maxPacket, and returns what the peer's confirmation said.
func (c *rawConn) open(id, window, maxPacket uint32) opened {
	c.t.Helper()
	c.write(message(msgOpen, id, window, maxPacket))
	typ, f, _ := c.next()
	if typ != msgOpenConfirm || f[0] != id || f[3] == 0 {
		c.t.Fatalf("the peer answered OPEN %d with message %d %v, want a confirmation", id, typ, f)
	}
	return opened{sid: f[1], window: f[2], maxPacket: f[3]}
}

// closeWrite half-closes the connection: the peer reads the end of the
// stream.
func (c *rawConn) closeWrite() {
	c.t.Helper()
	if err := c.conn.CloseWrite(); err != nil {
		c.t.Fatal(err)
	}
}

// expectClosed reads what the peer writes until it closes the connection.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	_, err := io.Copy(io.Discard, c.r)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		c.t.Fatalf("the peer did not close the connection: %v", err)
	}
}

// hostileCase sends the peer input that breaks the protocol, on a
// connection of its own.
type hostileCase struct {
	name string
	send func(c *rawConn)
}

// hostileCases are the cases of mux/qmux's hostile_test.go that a peer
// which only accepts channels can be given (the cases about channels the
// peer opened cannot: it opens none).
func hostileCases() []hostileCase {
	var cases []hostileCase
	add := func(name string, send func(c *rawConn)) { cases = append(cases, hostileCase{name, send}) }

	// DATA longer than the max packet: the header alone must end it.
	for _, over := range []struct {
		name   string
		length func(maxPacket uint32) uint32
	}{
		{"max packet + 1", func(maxPacket uint32) uint32 { return maxPacket + 1 }},
		{"1 MiB", func(uint32) uint32 { return 1 << 20 }},
		{"2^32-1", func(uint32) uint32 { return 0xFFFFFFFF }},
	} {
		add("oversized data "+over.name, func(c *rawConn) {
			ch := c.open(7, 4096, 1024)
			c.write(message(msgData, ch.sid, over.length(ch.maxPacket)))
		})
	}

	for _, typ := range []byte{0, 1, 90, 99, 107, 200, 255} {
		add(fmt.Sprintf("unknown type %d first", typ), func(c *rawConn) {
			c.write(append([]byte{typ}, make([]byte, 8)...))
		})
		add(fmt.Sprintf("unknown type %d after traffic", typ), func(c *rawConn) {
			c.open(7, 4096, 1024)
			c.write([]byte{typ})
		})
	}

	// Messages for channel numbers the peer does not hold: before any
	// channel, and next to the one channel open.
	add("data to a channel before any", func(c *rawConn) { c.write(data(0, []byte("x"))) })
	add("data to channel 2^32-1 before any", func(c *rawConn) { c.write(data(0xFFFFFFFF, []byte("x"))) })
	for _, bad := range []struct {
		name string
		msg  func(sid uint32) []byte
	}{
		{"data", func(sid uint32) []byte { return data(sid, []byte("x")) }},
		{"empty data", func(sid uint32) []byte { return data(sid, nil) }},
		{"window adjust", func(sid uint32) []byte { return message(msgWindowAdjust, sid, 1) }},
		{"EOF", func(sid uint32) []byte { return message(msgEOF, sid) }},
		{"CLOSE", func(sid uint32) []byte { return message(msgClose, sid) }},
		{"confirmation", func(sid uint32) []byte { return message(msgOpenConfirm, sid, 3, 4096, 1024) }},
		{"failure", func(sid uint32) []byte { return message(msgOpenFailure, sid) }},
	} {
		add(bad.name+" to an unknown channel", func(c *rawConn) {
			ch := c.open(7, 4096, 1024)
			c.write(bad.msg(ch.sid + 1))
		})
	}

	add("window adjust overflow", func(c *rawConn) {
		ch := c.open(7, 4096, 1024) // the peer's window is 4096: the test sends no data to echo
		c.write(message(msgWindowAdjust, ch.sid, 0xFFFFFFFF-4096+1))
	})
	add("window adjust overflow in steps", func(c *rawConn) {
		ch := c.open(7, 4096, 1024)
		c.write(message(msgWindowAdjust, ch.sid, 0x80000000), message(msgWindowAdjust, ch.sid, 0x80000000))
	})

	add("data past the window", func(c *rawConn) {
		// A window of one byte stalls the peer's echo after one byte,
		// and with it the peer's reading and window grants: eight of its
		// windows are more than it may take.
		ch := c.open(7, 1, 1)
		packet := data(ch.sid, pattern(7, int(ch.maxPacket)))
		for sent := uint64(0); sent < 8*uint64(ch.window); sent += uint64(ch.maxPacket) {
			if _, err := c.conn.Write(packet); err != nil {
				return // the peer closed the connection
			}
		}
	})

	// Messages well formed but not allowed in the channel's state.
	for _, bad := range []struct {
		name string
		msgs func(sid uint32) [][]byte
	}{
		{"data after EOF", func(sid uint32) [][]byte { return [][]byte{message(msgEOF, sid), data(sid, []byte("x"))} }},
		{"empty data after EOF", func(sid uint32) [][]byte { return [][]byte{message(msgEOF, sid), data(sid, nil)} }},
		{"second EOF", func(sid uint32) [][]byte { return [][]byte{message(msgEOF, sid), message(msgEOF, sid)} }},
		{"data after CLOSE", func(sid uint32) [][]byte { return [][]byte{message(msgClose, sid), data(sid, []byte("x"))} }},
		{"EOF after CLOSE", func(sid uint32) [][]byte { return [][]byte{message(msgClose, sid), message(msgEOF, sid)} }},
		{"confirmation of an accepted channel", func(sid uint32) [][]byte {
			return [][]byte{message(msgOpenConfirm, sid, 8, 4096, 1024)}
		}},
		{"failure of an accepted channel", func(sid uint32) [][]byte { return [][]byte{message(msgOpenFailure, sid)} }},
	} {
		add(bad.name, func(c *rawConn) {
			ch := c.open(7, 4096, 1024)
			c.write(bad.msgs(ch.sid)...)
		})
	}

	// The stream ends in the middle of a message, after a channel is open.
	truncatable := []func(sid uint32) []byte{
		func(uint32) []byte { return message(msgOpen, 8, 4096, 1024) },
		func(sid uint32) []byte { return message(msgOpenConfirm, sid, 1, 2, 3) },
		func(sid uint32) []byte { return message(msgOpenFailure, sid) },
		func(sid uint32) []byte { return message(msgWindowAdjust, sid, 1) },
		func(sid uint32) []byte { return message(msgEOF, sid) },
		func(sid uint32) []byte { return message(msgClose, sid) },
		func(sid uint32) []byte { return data(sid, make([]byte, 100)) },
	}
	for _, msg := range truncatable {
		whole := msg(0)
		for n := 1; n < len(whole); n++ {
			if n > 10 && n != 50 && n != len(whole)-1 {
				continue // a few cuts in the payload are enough
			}
			add(fmt.Sprintf("truncated %x", whole[:n]), func(c *rawConn) {
				ch := c.open(7, 4096, 1024)
				c.write(msg(ch.sid)[:n])
				c.closeWrite()
			})
		}
	}

	// Garbage, the stream ending after it. Fixed seeds keep the cases the
	// same from run to run; half of them start with a valid type, so the
	// peer gets further than the first byte.
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 12))
		garbage := make([]byte, 1+r.IntN(4096))
		for i := range garbage {
			garbage[i] = byte(r.Uint32())
		}
		if seed%2 == 1 {
			garbage[0] = byte(msgOpen + r.IntN(7))
		}
		add(fmt.Sprintf("garbage %d", seed), func(c *rawConn) {
			c.conn.Write(garbage) // fails if the peer gives up first
			c.closeWrite()
		})
	}
	return cases
}

// The TypeScript qmux peer, sent the hostile inputs of mux/qmux's tests one
// connection each, ends each session with a protocol error and closes its
// connection, and still serves a well-behaved session after them all.
func TestHostileToTypeScript(t *testing.T) {
	peer, addr := startQmuxPeer(t)
	for _, tc := range hostileCases() {
		ok := t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, addr)
			tc.send(c)
			c.expectClosed()
			if m := peer.await(t, sessionEnded); !strings.HasPrefix(m[1], "mux: protocol error") {
				t.Fatalf("the peer logged %q, want a protocol error", m[0])
			}
		})
		if !ok {
			// The peer's next log lines may be this case's: the cases
			// that follow could not tell theirs.
			t.Fatal("stopping after the first failed case")
		}
	}

	t.Run("well-behaved after them", func(t *testing.T) {
		c := dialRaw(t, addr)
		// An OPEN with a max packet of 0 is refused, and the session
		// goes on.
		c.write(message(msgOpen, 42, 4096, 0))
		c.expect(msgOpenFailure, 42)
		ch := c.open(1, 4096, 1024)
		c.write(data(ch.sid, []byte("ping")))
		var echo []byte
		for len(echo) < 4 {
			switch typ, f, payload := c.next(); {
			case typ == msgData && f[0] == 1:
				echo = append(echo, payload...)
			case typ != msgWindowAdjust:
				t.Fatalf("the peer wrote message %d %v while echoing, want DATA", typ, f)
			}
		}
		if string(echo) != "ping" {
			t.Fatalf("the peer echoed %q, want %q", echo, "ping")
		}
		c.write(message(msgEOF, ch.sid))
		c.expect(msgEOF, 1)
		c.write(message(msgClose, ch.sid))
		c.expect(msgClose, 1)
	})
}
