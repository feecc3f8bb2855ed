package qmux

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// failAfter bounds how long a test waits for something that must happen.
// It is a guard against hangs, never a delay that makes a test pass.
const failAfter = 10 * time.Second

// A rawPeer is a test playing the peer of a real Session by hand: it writes
// raw frames to the session and reads the frames the session writes.
type rawPeer struct {
	t      testing.TB
	s      *Session
	conn   net.Conn      // the test's end of the pipe
	r      *bufio.Reader // what the session writes
	syncID uint32        // the next sender number for sync, counting down
}

// hostileConfig is small, so that limits are reached with little traffic.
// hostileConfig keeps every window fixed (MaxWindowSize), so that the
// tests can tell each WINDOW_ADJUST in advance.
var hostileConfig = Config{WindowSize: 4096, MaxWindowSize: 4096, MaxPacketSize: 1024, AcceptBacklog: 4, MaxChannels: 16}

func newRawPeer(t testing.TB, cfg *Config) *rawPeer {
	return newRawPeerSize(t, cfg, pipe.DefaultSize)
}

// newRawPeerSize is newRawPeer with a pipe buffering size bytes each way.
func newRawPeerSize(t testing.TB, cfg *Config, size int) *rawPeer {
	t.Helper()
	a, b := pipe.NewSize(size)
	p := &rawPeer{t: t, s: newSession(t, a, cfg), conn: b, r: bufio.NewReader(b), syncID: 0xFFFFFFFF}
	t.Cleanup(func() {
		p.conn.Close()
		p.s.Close()
		p.s.Wait()
	})
	return p
}

// write writes raw bytes to the session.
func (p *rawPeer) write(b []byte) {
	p.t.Helper()
	if _, err := p.conn.Write(b); err != nil {
		p.t.Fatalf("raw write: %v", err)
	}
}

// send writes frames; DATA frames get f.length bytes of payload 'x'.
func (p *rawPeer) send(frames ...frame) {
	p.t.Helper()
	var b []byte
	for _, f := range frames {
		b = appendFrame(b, f)
		if f.typ == msgChannelData {
			b = append(b, bytes.Repeat([]byte{'x'}, int(f.length))...)
		}
	}
	p.write(b)
}

// sendData writes one DATA frame carrying payload.
func (p *rawPeer) sendData(recipient uint32, payload []byte) {
	p.t.Helper()
	p.write(append(appendFrame(nil, frame{typ: msgChannelData, recipient: recipient, length: uint32(len(payload))}), payload...))
}

// readFrame reads the next frame the session wrote, with its DATA payload.
func readFrame(r *bufio.Reader) (frame, []byte, error) {
	var hdr [maxHeaderLen]byte
	typ, err := r.ReadByte()
	if err != nil {
		return frame{}, nil, err
	}
	n := headerLen(typ)
	if n == 0 {
		return frame{}, nil, fmt.Errorf("session wrote unknown message type %d", typ)
	}
	hdr[0] = typ
	if _, err := io.ReadFull(r, hdr[1:n]); err != nil {
		return frame{}, nil, err
	}
	f := parseFrame(hdr[:n])
	var payload []byte
	if f.typ == msgChannelData {
		payload = make([]byte, f.length)
		if _, err := io.ReadFull(r, payload); err != nil {
			return frame{}, nil, err
		}
	}
	return f, payload, nil
}

// next reads the next frame the session wrote.
func (p *rawPeer) next() (frame, []byte) {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(failAfter))
	f, payload, err := readFrame(p.r)
	if err != nil {
		select {
		case <-p.s.done:
			p.t.Fatalf("reading the session's output: %v; the session ended: %v", err, p.s.Wait())
		default:
			p.t.Fatalf("reading the session's output: %v", err)
		}
	}
	return f, payload
}

// expect reads the next frame and checks it is want (payload aside).
func (p *rawPeer) expect(want frame) []byte {
	p.t.Helper()
	f, payload := p.next()
	if f != want {
		p.t.Fatalf("session wrote %+v, want %+v", f, want)
	}
	return payload
}

// sync returns once the session has processed everything sent so far, with
// the frames it wrote meanwhile, including all it had queued. It sends an
// OPEN with max packet 0, which the session refuses, and reads up to the
// refusal: the session handles messages in order and queues control
// messages in order. It does so twice: a batch holds control messages before
// window grants, so grants queued before the first refusal may follow it in
// its batch, but not the second refusal, queued once that batch is written.
func (p *rawPeer) sync() []frame {
	p.t.Helper()
	var before []frame
	for range 2 {
		id := p.syncID
		p.syncID--
		p.send(frame{typ: msgChannelOpen, sender: id, window: 4096, maxPacket: 0})
		for {
			f, _ := p.next()
			if f == (frame{typ: msgChannelOpenFailure, recipient: id}) {
				break
			}
			before = append(before, f)
		}
	}
	return before
}

// syncQuiet is sync for when the session must have written nothing else.
func (p *rawPeer) syncQuiet() {
	p.t.Helper()
	if extra := p.sync(); len(extra) > 0 {
		p.t.Fatalf("session wrote %+v, want nothing", extra)
	}
}

// openFromPeer opens a channel from the raw peer under the peer's number
// id, with window and max packet, and returns the session's number.
func (p *rawPeer) openFromPeer(id, window, maxPacket uint32) uint32 {
	p.t.Helper()
	p.send(frame{typ: msgChannelOpen, sender: id, window: window, maxPacket: maxPacket})
	f, _ := p.next()
	cfg := p.s.cfg
	if f.typ != msgChannelOpenConfirm || f.recipient != id || f.window != cfg.WindowSize || f.maxPacket != cfg.MaxPacketSize {
		p.t.Fatalf("session answered OPEN with %+v, want a confirmation of %d announcing window %d and max packet %d", f, id, cfg.WindowSize, cfg.MaxPacketSize)
	}
	return f.sender
}

// openFromSession opens a channel from the session, confirmed by the raw
// peer under number peerID, and returns it with the session's number.
func (p *rawPeer) openFromSession(peerID uint32) (mux.Channel, uint32) {
	p.t.Helper()
	type result struct {
		ch  mux.Channel
		err error
	}
	done := make(chan result, 1)
	go func() {
		ch, err := p.s.Open(context.Background())
		done <- result{ch, err}
	}()
	f, _ := p.next()
	if f.typ != msgChannelOpen {
		p.t.Fatalf("session wrote %+v, want an OPEN", f)
	}
	p.send(frame{typ: msgChannelOpenConfirm, recipient: f.sender, sender: peerID, window: 1 << 20, maxPacket: 1 << 10})
	r := <-done
	if r.err != nil {
		p.t.Fatalf("Open: %v", r.err)
	}
	return r.ch, f.sender
}

// accept accepts a channel the peer opened.
func (p *rawPeer) accept() mux.Channel {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	ch, err := p.s.Accept(ctx)
	if err != nil {
		p.t.Fatalf("Accept: %v", err)
	}
	return ch
}

// checkUsable proves the session still works: the peer opens a channel
// under number id, the application echoes a message on it, and the session
// opens a channel of its own on which the peer echoes back.
func (p *rawPeer) checkUsable(id uint32) {
	p.t.Helper()
	sid := p.openFromPeer(id, 1<<16, 1<<10)
	// Channels opened earlier may be waiting for Accept: take them too
	// but leave them open, so that the session writes nothing for them.
	ch := p.accept()
	for ch.ID() != uint64(sid) {
		ch = p.accept()
	}
	defer ch.Close()
	echoed := make(chan error, 1)
	go func() {
		buf := make([]byte, 4)
		_, err := io.ReadFull(ch, buf)
		if err == nil {
			_, err = ch.Write(buf)
		}
		echoed <- err
	}()
	p.sendData(sid, []byte("ping"))
	if got := p.expect(frame{typ: msgChannelData, recipient: id, length: 4}); string(got) != "ping" {
		p.t.Fatalf("echo: got %q, want %q", got, "ping")
	}
	if err := <-echoed; err != nil {
		p.t.Fatalf("echo on the session side: %v", err)
	}

	och, osid := p.openFromSession(id + 1)
	defer och.Close()
	if _, err := och.Write([]byte("pong")); err != nil {
		p.t.Fatalf("Write: %v", err)
	}
	got := p.expect(frame{typ: msgChannelData, recipient: id + 1, length: 4})
	p.sendData(osid, got)
	buf := make([]byte, 4)
	och.SetReadDeadline(time.Now().Add(failAfter))
	if _, err := io.ReadFull(och, buf); err != nil || string(buf) != "pong" {
		p.t.Fatalf("read back %q, %v; want %q", buf, err, "pong")
	}
}

// expectChannels checks that the session holds n channel numbers; when
// says at what point.
func (p *rawPeer) expectChannels(n int, when string) {
	p.t.Helper()
	if got := p.s.numChannels(); got != n {
		p.t.Fatalf("numChannels() = %d %s, want %d", got, when, n)
	}
}

// waitEnd waits for the session to end and returns Wait's error.
func waitEnd(t testing.TB, s *Session) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(failAfter):
		t.Fatal("the session did not end")
		return nil
	}
}

// expectProtocolError checks that the session ends with a protocol error,
// closes its connection, and fails later operations with that cause.
func (p *rawPeer) expectProtocolError() error {
	p.t.Helper()
	err := waitEnd(p.t, p.s)
	if !errors.Is(err, mux.ErrProtocol) {
		p.t.Fatalf("Wait() = %v, want an error matching mux.ErrProtocol", err)
	}
	if _, oerr := p.s.Open(context.Background()); !errors.Is(oerr, mux.ErrSessionClosed) || !errors.Is(oerr, mux.ErrProtocol) {
		p.t.Fatalf("Open after the protocol error: %v, want mux.ErrSessionClosed wrapping mux.ErrProtocol", oerr)
	}
	// The session closed its end: once its last output is read, the peer
	// reads EOF and cannot write.
	p.conn.SetReadDeadline(time.Now().Add(failAfter))
	if _, rerr := io.Copy(io.Discard, p.r); rerr != nil {
		p.t.Fatalf("reading the session's output after its end: %v, want EOF", rerr)
	}
	if _, werr := p.conn.Write([]byte{msgChannelClose}); werr == nil {
		p.t.Fatal("writing to the session after its end succeeded")
	}
	return err
}

// allocated runs f and returns how many bytes the process allocated
// meanwhile.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestHostileOversizedData(t *testing.T) {
	for _, length := range []uint32{hostileConfig.MaxPacketSize + 1, 1 << 20, 0xFFFFFFF0, 0xFFFFFFFF} {
		t.Run(fmt.Sprint(length), func(t *testing.T) {
			p := newRawPeer(t, &hostileConfig)
			sid := p.openFromPeer(7, 4096, 1024)
			var err error
			n := allocated(func() {
				// Only the header: the session must fail without waiting
				// for the payload, and the connection stays open.
				p.write(appendFrame(nil, frame{typ: msgChannelData, recipient: sid, length: length}))
				err = p.expectProtocolError()
			})
			t.Logf("%v; %d bytes allocated", err, n)
			if n > 4<<20 {
				t.Fatalf("%d bytes allocated while refusing DATA of %d bytes", n, length)
			}
		})
	}
}

// TestHostileEmptyData checks that DATA with an empty payload is allowed
// at any point, including as the first DATA of a channel.
func TestHostileEmptyData(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	sid := p.openFromPeer(7, 4096, 1024)
	p.send(frame{typ: msgChannelData, recipient: sid, length: 0})
	p.syncQuiet()
	ch := p.accept()
	p.send(
		frame{typ: msgChannelData, recipient: sid, length: 0},
		frame{typ: msgChannelData, recipient: sid, length: 3},
		frame{typ: msgChannelData, recipient: sid, length: 0},
		frame{typ: msgChannelEOF, recipient: sid},
	)
	ch.SetReadDeadline(time.Now().Add(failAfter))
	if got, err := io.ReadAll(ch); err != nil || string(got) != "xxx" {
		t.Fatalf("read %q, %v; want %q", got, err, "xxx")
	}
	p.checkUsable(100)
}

// TestHostileMaxPacketData checks the boundary of the oversized check: a
// payload of exactly the max packet is accepted.
func TestHostileMaxPacketData(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	sid := p.openFromPeer(7, 4096, 1024)
	ch := p.accept()
	payload := bytes.Repeat([]byte("q"), int(hostileConfig.MaxPacketSize))
	p.sendData(sid, payload)
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(ch, got); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	p.checkUsable(100)
}

func TestHostileUnknownType(t *testing.T) {
	for _, typ := range []byte{0, 1, 90, 94, 99, 107, 200, 255} {
		t.Run(fmt.Sprint(typ), func(t *testing.T) {
			t.Run("first", func(t *testing.T) {
				p := newRawPeer(t, &hostileConfig)
				sent := []byte{typ, 0, 0, 0, 0, 0, 0, 0, 0}
				p.write(sent)
				err := p.expectProtocolError()
				// An unknown type as the session's first byte is a foreign
				// peer, reported with what it sent.
				var fe *ForeignError
				switch foreign := errors.As(err, &fe); {
				case headerLen(typ) == 0 && (!foreign || len(fe.Prefix) == 0 || !bytes.HasPrefix(sent, fe.Prefix)):
					t.Fatalf("Wait() = %v, want a *ForeignError with a prefix of % x", err, sent)
				case headerLen(typ) != 0 && foreign:
					t.Fatalf("Wait() = %v for a known type, want no *ForeignError", err)
				}
			})
			t.Run("after traffic", func(t *testing.T) {
				p := newRawPeer(t, &hostileConfig)
				p.openFromPeer(7, 4096, 1024)
				p.write([]byte{typ})
				var fe *ForeignError
				if err := p.expectProtocolError(); errors.As(err, &fe) {
					t.Fatalf("Wait() = %v after a valid message, want no *ForeignError", err)
				}
			})
		})
	}
}

// A peer that speaks another protocol is told from its first bytes, up to
// 64 of them.
func TestHostileForeignPeer(t *testing.T) {
	for _, greeting := range []string{
		"SSH-2.0-OpenSSH_9.6\r\n",
		"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
		"\x15\x03\x01\x00\x02\x02\x46",
		strings.Repeat("x", 100),
	} {
		p := newRawPeer(t, &hostileConfig)
		p.write([]byte(greeting))
		err := p.expectProtocolError()
		var fe *ForeignError
		if !errors.As(err, &fe) || len(fe.Prefix) == 0 || len(fe.Prefix) > 64 || !strings.HasPrefix(greeting, string(fe.Prefix)) {
			t.Errorf("Wait() = %v after %q, want a *ForeignError with at most 64 bytes of it", err, greeting)
		}
	}
}

func TestHostileUnknownChannel(t *testing.T) {
	for _, f := range []frame{
		{typ: msgChannelData, recipient: 0, length: 1},
		{typ: msgChannelData, recipient: 1, length: 0},
		{typ: msgChannelData, recipient: 0xFFFFFFFF, length: 1},
		{typ: msgChannelWindowAdjust, recipient: 1, window: 1},
		{typ: msgChannelEOF, recipient: 1},
		{typ: msgChannelClose, recipient: 1},
		{typ: msgChannelOpenConfirm, recipient: 1, sender: 3, window: 4096, maxPacket: 1024},
		{typ: msgChannelOpenFailure, recipient: 1},
		{typ: msgChannelClose, recipient: 0x7FFFFFFF},
	} {
		t.Run(fmt.Sprintf("%d-%d", f.typ, f.recipient), func(t *testing.T) {
			p := newRawPeer(t, &hostileConfig)
			if f.recipient == 1 {
				// Channel 0 exists, so that channel 1 is just past the
				// numbers in use.
				if sid := p.openFromPeer(7, 4096, 1024); sid != 0 {
					t.Fatalf("first channel got number %d, want 0", sid)
				}
			}
			p.send(f)
			p.expectProtocolError()
		})
	}
}

func TestHostileWindowAdjustOverflow(t *testing.T) {
	const window = 4096
	t.Run("overflow", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		sid := p.openFromPeer(7, window, 1024)
		p.send(frame{typ: msgChannelWindowAdjust, recipient: sid, window: 0xFFFFFFFF - window + 1})
		p.expectProtocolError()
	})
	t.Run("in steps", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		sid := p.openFromPeer(7, window, 1024)
		p.send(frame{typ: msgChannelWindowAdjust, recipient: sid, window: 0x80000000})
		p.syncQuiet()
		p.send(frame{typ: msgChannelWindowAdjust, recipient: sid, window: 0x80000000})
		p.expectProtocolError()
	})
	t.Run("max allowed", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		sid := p.openFromPeer(7, window, 1024)
		// Up to 2^32-1 exactly is allowed, and so is an adjust of 0.
		p.send(
			frame{typ: msgChannelWindowAdjust, recipient: sid, window: 0xFFFFFFFF - window},
			frame{typ: msgChannelWindowAdjust, recipient: sid, window: 0},
		)
		p.syncQuiet()
		p.checkUsable(100)
	})
}

func TestHostileDataPastWindow(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	// openFromPeer checks the confirmation announces Config.WindowSize.
	sid := p.openFromPeer(7, 4096, 1024)
	ch := p.accept() // accepted but never read
	defer ch.Close()
	for range hostileConfig.WindowSize / hostileConfig.MaxPacketSize {
		p.send(frame{typ: msgChannelData, recipient: sid, length: hostileConfig.MaxPacketSize})
	}
	// The window is exactly used up, and an empty DATA is still allowed.
	p.send(frame{typ: msgChannelData, recipient: sid, length: 0})
	p.syncQuiet()
	p.send(frame{typ: msgChannelData, recipient: sid, length: 1})
	p.expectProtocolError()
}

// TestHostileDataPastWindowUnaccepted is TestHostileDataPastWindow for a
// channel still in the accept backlog.
func TestHostileDataPastWindowUnaccepted(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	sid := p.openFromPeer(7, 4096, 1024)
	p.send(frame{typ: msgChannelData, recipient: sid, length: 1000})
	p.send(frame{typ: msgChannelData, recipient: sid, length: 1000})
	p.send(frame{typ: msgChannelData, recipient: sid, length: 1000})
	p.send(frame{typ: msgChannelData, recipient: sid, length: 1000})
	p.syncQuiet()
	p.send(frame{typ: msgChannelData, recipient: sid, length: 97})
	p.expectProtocolError()
}

// TestHostileBadSequence covers messages that are well formed but not
// allowed in the channel's state (spec section 9, items 4 and 6 to 9).
func TestHostileBadSequence(t *testing.T) {
	const peer = 7
	// fromPeer: a channel the raw peer opened (session number sid).
	// fromSession: a channel the session opened (session number sid) and
	// the peer confirmed.
	type setup func(p *rawPeer) (sid uint32)
	fromPeer := func(p *rawPeer) uint32 { return p.openFromPeer(peer, 4096, 1024) }
	fromSession := func(p *rawPeer) uint32 {
		_, sid := p.openFromSession(peer)
		return sid
	}
	for _, tc := range []struct {
		name  string
		setup setup
		bad   func(sid uint32) []frame
	}{
		{"data after EOF", fromPeer, func(sid uint32) []frame {
			return []frame{{typ: msgChannelEOF, recipient: sid}, {typ: msgChannelData, recipient: sid, length: 1}}
		}},
		{"empty data after EOF", fromPeer, func(sid uint32) []frame {
			return []frame{{typ: msgChannelEOF, recipient: sid}, {typ: msgChannelData, recipient: sid, length: 0}}
		}},
		{"second EOF", fromPeer, func(sid uint32) []frame {
			return []frame{{typ: msgChannelEOF, recipient: sid}, {typ: msgChannelEOF, recipient: sid}}
		}},
		{"second EOF on an opened channel", fromSession, func(sid uint32) []frame {
			return []frame{{typ: msgChannelEOF, recipient: sid}, {typ: msgChannelEOF, recipient: sid}}
		}},
		{"confirmation of an accepted channel", fromPeer, func(sid uint32) []frame {
			return []frame{{typ: msgChannelOpenConfirm, recipient: sid, sender: 8, window: 4096, maxPacket: 1024}}
		}},
		{"second confirmation", fromSession, func(sid uint32) []frame {
			return []frame{{typ: msgChannelOpenConfirm, recipient: sid, sender: 8, window: 4096, maxPacket: 1024}}
		}},
		{"failure of an accepted channel", fromPeer, func(sid uint32) []frame {
			return []frame{{typ: msgChannelOpenFailure, recipient: sid}}
		}},
		{"failure of a confirmed channel", fromSession, func(sid uint32) []frame {
			return []frame{{typ: msgChannelOpenFailure, recipient: sid}}
		}},
		{"data after CLOSE", fromPeer, func(sid uint32) []frame {
			return []frame{{typ: msgChannelClose, recipient: sid}, {typ: msgChannelData, recipient: sid, length: 1}}
		}},
		{"EOF after CLOSE", fromPeer, func(sid uint32) []frame {
			return []frame{{typ: msgChannelClose, recipient: sid}, {typ: msgChannelEOF, recipient: sid}}
		}},
		{"adjust after CLOSE", fromSession, func(sid uint32) []frame {
			return []frame{{typ: msgChannelClose, recipient: sid}, {typ: msgChannelWindowAdjust, recipient: sid, window: 1}}
		}},
		{"second CLOSE", fromSession, func(sid uint32) []frame {
			return []frame{{typ: msgChannelClose, recipient: sid}, {typ: msgChannelClose, recipient: sid}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newRawPeer(t, &hostileConfig)
			sid := tc.setup(p)
			p.send(tc.bad(sid)...)
			p.expectProtocolError()
		})
	}
}

// TestHostileBeforeAnswer covers messages for a channel the session opened
// and the peer has not answered yet (spec section 9, items 8 and 9); the
// tolerated ones are in early_peer_test.go.
func TestHostileBeforeAnswer(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  func(sid uint32) frame
	}{
		{"adjust", func(sid uint32) frame { return frame{typ: msgChannelWindowAdjust, recipient: sid, window: 1} }},
		{"confirmation with max packet 0", func(sid uint32) frame {
			return frame{typ: msgChannelOpenConfirm, recipient: sid, sender: 1, window: 4096, maxPacket: 0}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newRawPeer(t, &hostileConfig)
			opened := make(chan error, 1)
			go func() {
				_, err := p.s.Open(context.Background())
				opened <- err
			}()
			f, _ := p.next()
			if f.typ != msgChannelOpen {
				t.Fatalf("session wrote %+v, want an OPEN", f)
			}
			p.send(tc.bad(f.sender))
			p.expectProtocolError()
			if err := <-opened; !errors.Is(err, mux.ErrSessionClosed) || !errors.Is(err, mux.ErrProtocol) {
				t.Fatalf("Open = %v, want mux.ErrSessionClosed wrapping mux.ErrProtocol", err)
			}
		})
	}
}

func TestHostileTruncated(t *testing.T) {
	open := appendFrame(nil, frame{typ: msgChannelOpen, sender: 7, window: 4096, maxPacket: 1024})
	// Every proper prefix of every message type, after a complete OPEN
	// that the session confirms as channel 0.
	var cases [][]byte
	for _, f := range []frame{
		{typ: msgChannelOpen, sender: 8, window: 4096, maxPacket: 1024},
		{typ: msgChannelOpenConfirm, recipient: 0, sender: 1, window: 2, maxPacket: 3},
		{typ: msgChannelOpenFailure, recipient: 0},
		{typ: msgChannelWindowAdjust, recipient: 0, window: 1},
		{typ: msgChannelEOF, recipient: 0},
		{typ: msgChannelClose, recipient: 0},
		{typ: msgChannelData, recipient: 0, length: 100},
	} {
		b := appendFrame(nil, f)
		if f.typ == msgChannelData {
			b = append(b, make([]byte, f.length)...)
		}
		for n := 1; n < len(b); n++ {
			cases = append(cases, b[:n])
		}
	}
	for _, tail := range cases {
		t.Run(fmt.Sprintf("%x", tail), func(t *testing.T) {
			p := newRawPeer(t, &hostileConfig)
			p.write(append(append([]byte(nil), open...), tail...))
			p.conn.(interface{ CloseWrite() error }).CloseWrite()
			err := waitEnd(t, p.s)
			if !errors.Is(err, mux.ErrProtocol) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("Wait() = %v, want mux.ErrProtocol wrapping io.ErrUnexpectedEOF", err)
			}
		})
	}
}

// TestHostileCleanEOF checks that a stream ending between messages is not a
// protocol error.
func TestHostileCleanEOF(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	sid := p.openFromPeer(7, 4096, 1024)
	p.send(frame{typ: msgChannelData, recipient: sid, length: 10})
	p.syncQuiet()
	p.conn.(interface{ CloseWrite() error }).CloseWrite()
	err := waitEnd(t, p.s)
	if err == nil || errors.Is(err, mux.ErrProtocol) || !errors.Is(err, io.EOF) {
		t.Fatalf("Wait() = %v, want an error matching io.EOF and not mux.ErrProtocol", err)
	}
}

func TestHostileOpenMaxPacketZero(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	p.send(frame{typ: msgChannelOpen, sender: 42, window: 4096, maxPacket: 0})
	p.expect(frame{typ: msgChannelOpenFailure, recipient: 42})
	p.expectChannels(0, "after a refused open")
	p.checkUsable(100)
}

// TestHostileOpenFlood floods the session with opens nobody accepts: it
// confirms AcceptBacklog of them, leaves AcceptBacklog more unanswered and
// refuses the rest, holding at most AcceptBacklog channels.
func TestHostileOpenFlood(t *testing.T) {
	const opens = 10000
	cfg := hostileConfig
	cfg.MaxChannels = 64
	backlog := cfg.AcceptBacklog
	p := newRawPeer(t, &cfg)

	// Read the replies while writing, so that the peer is a reading one.
	type tally struct {
		confirmed, refused []uint32 // peer numbers
		err                error
	}
	wantRefused := opens - 2*backlog
	replies := make(chan tally, 1)
	go func() {
		var tl tally
		for len(tl.refused) < wantRefused {
			f, _, err := readFrame(p.r)
			switch {
			case err != nil:
				tl.err = err
			case f.typ == msgChannelOpenConfirm:
				tl.confirmed = append(tl.confirmed, f.recipient)
				continue
			case f.typ == msgChannelOpenFailure:
				tl.refused = append(tl.refused, f.recipient)
				continue
			default:
				tl.err = fmt.Errorf("session wrote %+v", f)
			}
			break
		}
		replies <- tl
	}()
	p.conn.SetReadDeadline(time.Now().Add(failAfter))
	var b []byte
	for i := range opens {
		b = appendFrame(b, frame{typ: msgChannelOpen, sender: uint32(i), window: 4096, maxPacket: 1024})
	}
	p.write(b)
	tl := <-replies
	if tl.err != nil {
		t.Fatalf("reading replies: %v", tl.err)
	}
	// The replies are in order: the first backlog opens are confirmed, the
	// next backlog wait, and every later one is refused.
	if len(tl.confirmed) != backlog {
		t.Fatalf("%d opens confirmed, want %d", len(tl.confirmed), backlog)
	}
	for i, id := range tl.confirmed {
		if id != uint32(i) {
			t.Fatalf("confirmation %d is for %d, want %d", i, id, i)
		}
	}
	for i, id := range tl.refused {
		if want := uint32(2*backlog + i); id != want {
			t.Fatalf("refusal %d is for %d, want %d", i, id, want)
		}
	}
	if n := p.s.numChannels(); n > backlog {
		t.Fatalf("numChannels() = %d, want at most the accept backlog %d", n, backlog)
	}

	// Accepting makes room: each Accept confirms one waiting open, oldest
	// first.
	for i := range 2 * backlog {
		ch := p.accept()
		defer ch.Close()
		if i < backlog {
			f, _ := p.next()
			if want := uint32(backlog + i); f.typ != msgChannelOpenConfirm || f.recipient != want {
				t.Fatalf("after Accept %d the session wrote %+v, want a confirmation of %d", i, f, want)
			}
		}
	}
	if n := p.s.numChannels(); n != 2*backlog {
		t.Fatalf("numChannels() = %d, want %d", n, 2*backlog)
	}
	p.syncQuiet()
	p.checkUsable(1 << 20)
}

// TestHostileOpenFloodNotReading floods the session with opens while never
// reading its replies: the session must end with ErrPeerNotReading rather
// than hang or queue replies without bound.
func TestHostileOpenFloodNotReading(t *testing.T) {
	cfg := Config{MaxControlBacklog: 1024, AcceptBacklog: 8}
	p := newRawPeerSize(t, &cfg, 256)
	var batch []byte
	for i := range 100 {
		batch = appendFrame(batch, frame{typ: msgChannelOpen, sender: uint32(i), window: 4096, maxPacket: 1024})
	}
	wrote := 0
	for ; wrote < 1_000_000; wrote += 100 {
		if _, err := p.conn.Write(batch); err != nil {
			break
		}
	}
	if wrote == 1_000_000 {
		t.Fatal("the session read a million opens without ending")
	}
	err := waitEnd(t, p.s)
	if !errors.Is(err, ErrPeerNotReading) {
		t.Fatalf("Wait() = %v, want ErrPeerNotReading", err)
	}
	t.Logf("ended after %d opens: %v", wrote, err)
}

// TestHostileCloseFloodNotReading provokes CLOSE replies, which the session
// owes the peer, while never reading them.
func TestHostileCloseFloodNotReading(t *testing.T) {
	const opens = 1000 // their replies are well over the limit and the pipe
	cfg := Config{MaxControlBacklog: 1024, AcceptBacklog: opens, MaxChannels: opens}
	p := newRawPeerSize(t, &cfg, 256)
	// Open the channels, reading the confirmations to learn their numbers.
	// A few at a time: a burst would exceed the limit even for a peer that
	// reads.
	const burst = 20
	sids := make([]uint32, opens)
	for i := 0; i < opens; i += burst {
		var b []byte
		for j := i; j < i+burst; j++ {
			b = appendFrame(b, frame{typ: msgChannelOpen, sender: uint32(j), window: 4096, maxPacket: 1024})
		}
		p.write(b)
		for j := i; j < i+burst; j++ {
			f, _ := p.next()
			if f.typ != msgChannelOpenConfirm || f.recipient != uint32(j) {
				t.Fatalf("session wrote %+v, want a confirmation of %d", f, j)
			}
			sids[j] = f.sender
		}
	}
	// Close them all without reading the replies.
	var b []byte
	for _, sid := range sids {
		b = appendFrame(b, frame{typ: msgChannelClose, recipient: sid})
	}
	if _, err := p.conn.Write(b); err == nil {
		t.Fatalf("the session read %d CLOSEs without ending", opens)
	}
	if err := waitEnd(t, p.s); !errors.Is(err, ErrPeerNotReading) {
		t.Fatalf("Wait() = %v, want ErrPeerNotReading", err)
	}
}

func TestHostileGarbage(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	for i := range 50 {
		garbage := make([]byte, 1+r.IntN(4096))
		for j := range garbage {
			garbage[j] = byte(r.Uint32())
		}
		if i%2 == 1 {
			// Bias the first byte towards the valid types, so that the
			// session gets further than the first byte.
			garbage[0] = byte(100 + r.IntN(7))
		}
		p := newRawPeer(t, &hostileConfig)
		go io.Copy(io.Discard, p.conn) // the session's replies, if any
		// The write fails if the session gives up on the garbage before
		// all of it is buffered.
		p.conn.Write(garbage)
		p.conn.(interface{ CloseWrite() error }).CloseWrite()
		if err := waitEnd(t, p.s); err == nil {
			t.Fatalf("garbage %x: Wait() = nil, want an error", garbage)
		}
		p.conn.Close()
	}
}

// TestHostileDataAfterLocalClose sends messages for a channel the session
// closed before the peer's CLOSE arrives: they are discarded, without
// window or EOF checks.
func TestHostileDataAfterLocalClose(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	sid := p.openFromPeer(7, 4096, 1024)
	ch := p.accept()
	ch.Close()
	p.expect(frame{typ: msgChannelClose, recipient: 7})
	p.expectChannels(1, "with a CLOSE unanswered")
	// Twice the window, and DATA after EOF, second EOF and adjusts: all in
	// flight from the peer's point of view.
	for range 2 * hostileConfig.WindowSize / hostileConfig.MaxPacketSize {
		p.send(frame{typ: msgChannelData, recipient: sid, length: hostileConfig.MaxPacketSize})
	}
	p.send(
		frame{typ: msgChannelWindowAdjust, recipient: sid, window: 1000},
		frame{typ: msgChannelEOF, recipient: sid},
		frame{typ: msgChannelData, recipient: sid, length: 5},
		frame{typ: msgChannelEOF, recipient: sid},
	)
	p.syncQuiet()
	p.send(frame{typ: msgChannelClose, recipient: sid})
	p.syncQuiet()
	p.expectChannels(0, "after the CLOSE handshake")
	p.checkUsable(100)
}

// TestHostileOversizedDataAfterLocalClose checks that the max packet check
// still applies to a channel being closed.
func TestHostileOversizedDataAfterLocalClose(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	sid := p.openFromPeer(7, 4096, 1024)
	p.accept().Close()
	p.expect(frame{typ: msgChannelClose, recipient: 7})
	p.write(appendFrame(nil, frame{typ: msgChannelData, recipient: sid, length: hostileConfig.MaxPacketSize + 1}))
	p.expectProtocolError()
}

// TestHostileAdjustOverflowAfterLocalClose: spec section 9 says only the
// max packet check applies to a channel this side has closed, so an
// adjust that would overflow its window is discarded like the rest.
func TestHostileAdjustOverflowAfterLocalClose(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	sid := p.openFromPeer(7, 4096, 1024)
	p.accept().Close()
	p.expect(frame{typ: msgChannelClose, recipient: 7})
	p.send(frame{typ: msgChannelWindowAdjust, recipient: sid, window: 0xFFFFFFFF})
	p.syncQuiet()
	p.send(frame{typ: msgChannelClose, recipient: sid})
	p.syncQuiet()
	p.checkUsable(100)
}

func TestHostileCancelledOpen(t *testing.T) {
	// cancelledOpen starts an Open, reads its OPEN and cancels it before
	// answering. It returns the session's number for the channel.
	cancelledOpen := func(t *testing.T, p *rawPeer) uint32 {
		ctx, cancel := context.WithCancel(context.Background())
		opened := make(chan error, 1)
		go func() {
			ch, err := p.s.Open(ctx)
			if err == nil {
				ch.Close()
			}
			opened <- err
		}()
		f, _ := p.next()
		if f.typ != msgChannelOpen {
			t.Fatalf("session wrote %+v, want an OPEN", f)
		}
		cancel()
		if err := <-opened; !errors.Is(err, context.Canceled) {
			t.Fatalf("Open = %v, want context.Canceled", err)
		}
		// The number stays reserved until the answer comes.
		p.expectChannels(1, "after a cancelled open")
		return f.sender
	}

	t.Run("late confirmation", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		sid := cancelledOpen(t, p)
		p.send(frame{typ: msgChannelOpenConfirm, recipient: sid, sender: 77, window: 4096, maxPacket: 1024})
		p.expect(frame{typ: msgChannelClose, recipient: 77})
		// The peer had sent data before seeing the CLOSE: discarded.
		p.send(frame{typ: msgChannelData, recipient: sid, length: 1024})
		p.send(frame{typ: msgChannelEOF, recipient: sid})
		p.syncQuiet()
		p.expectChannels(1, "before the peer's CLOSE")
		p.send(frame{typ: msgChannelClose, recipient: sid})
		p.syncQuiet()
		p.expectChannels(0, "after the CLOSE handshake")
		p.checkUsable(100)
	})
	t.Run("late failure", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		sid := cancelledOpen(t, p)
		p.send(frame{typ: msgChannelOpenFailure, recipient: sid})
		p.syncQuiet()
		p.expectChannels(0, "after the late failure")
		p.checkUsable(100)
	})
	t.Run("rejected", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		ch, _ := p.openFromSession(50) // one channel in use beforehand
		defer ch.Close()
		opened := make(chan error, 1)
		go func() {
			_, err := p.s.Open(context.Background())
			opened <- err
		}()
		f, _ := p.next()
		if f.typ != msgChannelOpen {
			t.Fatalf("session wrote %+v, want an OPEN", f)
		}
		p.send(frame{typ: msgChannelOpenFailure, recipient: f.sender})
		if err := <-opened; !errors.Is(err, mux.ErrOpenRejected) {
			t.Fatalf("Open = %v, want mux.ErrOpenRejected", err)
		}
		p.expectChannels(1, "after a rejected open")
		p.checkUsable(100)
	})
}

// TestHostileChannelNumberReuse checks that a number is reused only after
// CLOSE was both sent and received.
func TestHostileChannelNumberReuse(t *testing.T) {
	t.Run("local close first", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		ch, first := p.openFromSession(50)
		ch.Close()
		p.expect(frame{typ: msgChannelClose, recipient: 50})
		ch2, second := p.openFromSession(51)
		defer ch2.Close()
		if second == first {
			t.Fatalf("number %d reused before the peer's CLOSE", first)
		}
		p.send(frame{typ: msgChannelClose, recipient: first})
		p.syncQuiet()
		if n := p.s.numChannels(); n != 1 {
			t.Fatalf("numChannels() = %d, want 1", n)
		}
		ch3, third := p.openFromSession(52)
		defer ch3.Close()
		if third == second {
			t.Fatalf("number %d given to two open channels", third)
		}
		t.Logf("numbers: %d, %d while it closes, %d after", first, second, third)
	})
	t.Run("peer close first", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		first := p.openFromPeer(7, 4096, 1024)
		ch := p.accept()
		p.send(frame{typ: msgChannelClose, recipient: first})
		// The session answers at once, which completes the handshake.
		p.expect(frame{typ: msgChannelClose, recipient: 7})
		if _, err := ch.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("Read after the peer's CLOSE = %v, want io.EOF", err)
		}
		// While the application holds the channel, its number (its ID)
		// is not given to another one.
		second := p.openFromPeer(8, 4096, 1024)
		if second == first {
			t.Fatalf("number %d reused while the application holds its channel", first)
		}
		// The application's late Close sends nothing more and frees the
		// number.
		ch.Close()
		p.syncQuiet()
		if _, err := ch.Read(make([]byte, 1)); !errors.Is(err, mux.ErrChannelClosed) {
			t.Fatalf("Read after Close = %v, want mux.ErrChannelClosed", err)
		}
		if n := p.s.numChannels(); n != 1 {
			t.Fatalf("numChannels() = %d, want 1", n)
		}
		p.checkUsable(100)
	})
	t.Run("accepted channel", func(t *testing.T) {
		p := newRawPeer(t, &hostileConfig)
		first := p.openFromPeer(7, 4096, 1024)
		p.accept().Close()
		p.expect(frame{typ: msgChannelClose, recipient: 7})
		second := p.openFromPeer(8, 4096, 1024)
		if second == first {
			t.Fatalf("number %d reused before the peer's CLOSE", first)
		}
		p.accept().Close()
		p.expect(frame{typ: msgChannelClose, recipient: 8})
		p.send(frame{typ: msgChannelClose, recipient: first}, frame{typ: msgChannelClose, recipient: second})
		p.syncQuiet()
		if n := p.s.numChannels(); n != 0 {
			t.Fatalf("numChannels() = %d, want 0", n)
		}
	})
}

func TestHostileMaxChannels(t *testing.T) {
	cfg := hostileConfig
	cfg.MaxChannels = 3
	p := newRawPeer(t, &cfg)
	// Two channels opened by the session, one by the peer: the limit
	// counts both directions.
	ch1, _ := p.openFromSession(50)
	defer ch1.Close()
	ch2, _ := p.openFromSession(51)
	defer ch2.Close()
	sid := p.openFromPeer(7, 4096, 1024)
	ch3 := p.accept()

	if _, err := p.s.Open(context.Background()); !errors.Is(err, mux.ErrTooManyChannels) {
		t.Fatalf("Open beyond MaxChannels = %v, want mux.ErrTooManyChannels", err)
	}
	p.send(frame{typ: msgChannelOpen, sender: 8, window: 4096, maxPacket: 1024})
	p.expect(frame{typ: msgChannelOpenFailure, recipient: 8})
	if n := p.s.numChannels(); n != 3 {
		t.Fatalf("numChannels() = %d, want 3", n)
	}

	// Closing a channel makes room again once the handshake completes.
	ch3.Close()
	p.expect(frame{typ: msgChannelClose, recipient: 7})
	p.send(frame{typ: msgChannelOpen, sender: 9, window: 4096, maxPacket: 1024})
	p.expect(frame{typ: msgChannelOpenFailure, recipient: 9})
	p.send(frame{typ: msgChannelClose, recipient: sid})
	p.syncQuiet()
	p.openFromPeer(10, 4096, 1024)
	p.accept().Close()
}

// TestSimultaneousOpens opens channels from both sides of two real sessions
// at once.
func TestSimultaneousOpens(t *testing.T) {
	const (
		openers = 16
		each    = 16
	)
	a, b := newPair(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 4*openers*each)
	// serve answers every channel the peer opens: it reads a name and
	// writes it back.
	serve := func(s *Session) {
		for range openers * each {
			ch, err := s.Accept(ctx)
			if err != nil {
				errs <- fmt.Errorf("accept: %w", err)
				return
			}
			wg.Go(func() {
				defer ch.Close()
				name, err := io.ReadAll(ch)
				if err == nil {
					_, err = ch.Write(name)
				}
				if err != nil {
					errs <- fmt.Errorf("serve: %w", err)
				}
			})
		}
	}
	open := func(s *Session, side string) {
		for g := range openers {
			wg.Go(func() {
				for i := range each {
					ch, err := s.Open(ctx)
					if err != nil {
						errs <- fmt.Errorf("%s open: %w", side, err)
						return
					}
					name := fmt.Sprintf("%s-%d-%d", side, g, i)
					_, err = ch.Write([]byte(name))
					if err == nil {
						err = ch.CloseWrite()
					}
					if err != nil {
						errs <- fmt.Errorf("%s: %w", name, err)
					}
					got, err := io.ReadAll(ch)
					ch.Close()
					if err != nil || string(got) != name {
						errs <- fmt.Errorf("%s: echoed %q, %v", name, got, err)
					}
				}
			})
		}
	}
	wg.Go(func() { serve(a) })
	wg.Go(func() { serve(b) })
	open(a, "a")
	open(b, "b")
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSlowReaderIsolation checks that a channel whose reader does not read
// stalls only itself.
func TestSlowReaderIsolation(t *testing.T) {
	a, b := newPair(t, nil)
	stalledW, stalledR := openPair(t, a, b)
	bulkW, bulkR := openPair(t, a, b)

	stalled := bytes.Repeat([]byte("stalled!"), 4*DefaultWindowSize/8)
	stalledDone := make(chan error, 1)
	go func() {
		_, err := stalledW.Write(stalled)
		stalledDone <- err
	}()

	const bulkSize = 8 << 20
	bulk := make([]byte, bulkSize)
	for i := range bulk {
		bulk[i] = byte(i * 7)
	}
	bulkDone := make(chan error, 1)
	go func() {
		_, err := bulkW.Write(bulk)
		if err == nil {
			err = bulkW.(mux.Channel).CloseWrite()
		}
		bulkDone <- err
	}()
	// No read deadline: moving 8 MiB under the race detector took more
	// than 10 s on a loaded machine. A bulk channel stalled behind the
	// other one hangs here, and the test binary's timeout reports it.
	got, err := io.ReadAll(bulkR)
	if err != nil || !bytes.Equal(got, bulk) {
		t.Fatalf("bulk channel: read %d bytes, %v; want %d bytes", len(got), err, bulkSize)
	}
	if err := <-bulkDone; err != nil {
		t.Fatalf("bulk write: %v", err)
	}

	// The stalled write cannot have finished: its data is four windows.
	select {
	case err := <-stalledDone:
		t.Fatalf("write to a channel nobody reads returned early: %v", err)
	default:
	}
	// Reading unstalls it.
	buf := make([]byte, len(stalled))
	if _, err := io.ReadFull(stalledR, buf); err != nil || !bytes.Equal(buf, stalled) {
		t.Fatalf("stalled channel: %v", err)
	}
	if err := <-stalledDone; err != nil {
		t.Fatalf("stalled write: %v", err)
	}
}

// TestSessionRespectsPeerLimits checks that the session splits writes to
// the peer's max packet and stops at the peer's window.
func TestSessionRespectsPeerLimits(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	ctx := context.Background()
	opened := make(chan mux.Channel, 1)
	go func() {
		ch, err := p.s.Open(ctx)
		if err != nil {
			t.Error(err)
		}
		opened <- ch
	}()
	f, _ := p.next()
	const window, maxPacket = 100, 30
	p.send(frame{typ: msgChannelOpenConfirm, recipient: f.sender, sender: 5, window: window, maxPacket: maxPacket})
	ch := <-opened
	if ch == nil {
		t.FailNow()
	}
	defer ch.Close()
	msg := make([]byte, 250)
	for i := range msg {
		msg[i] = byte(i)
	}
	written := make(chan error, 1)
	go func() {
		_, err := ch.Write(msg)
		written <- err
	}()
	var got []byte
	readUpTo := func(n int) {
		for len(got) < n {
			f, payload := p.next()
			if f.typ != msgChannelData || f.recipient != 5 {
				t.Fatalf("session wrote %+v, want DATA for 5", f)
			}
			if f.length > maxPacket {
				t.Fatalf("DATA of %d bytes exceeds the peer's max packet %d", f.length, maxPacket)
			}
			got = append(got, payload...)
		}
		if len(got) != n {
			t.Fatalf("session sent %d bytes, want %d within the window", len(got), n)
		}
	}
	readUpTo(window)
	p.syncQuiet() // nothing past the window
	p.send(frame{typ: msgChannelWindowAdjust, recipient: f.sender, window: 150})
	readUpTo(250)
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("data corrupted")
	}
}

// TestSessionGrantsWindow checks that the session gives window back once
// the application has read half of it, so that the peer may send a whole
// window again.
func TestSessionGrantsWindow(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	sid := p.openFromPeer(7, 4096, 1024)
	ch := p.accept()
	defer ch.Close()
	half := hostileConfig.WindowSize / 2
	maxPacket := hostileConfig.MaxPacketSize
	buf := make([]byte, hostileConfig.WindowSize)
	p.send(
		frame{typ: msgChannelData, recipient: sid, length: maxPacket},
		frame{typ: msgChannelData, recipient: sid, length: half - maxPacket - 1},
	)
	if _, err := io.ReadFull(ch, buf[:half-1]); err != nil {
		t.Fatal(err)
	}
	p.syncQuiet() // below half: no adjust yet
	p.send(frame{typ: msgChannelData, recipient: sid, length: 1})
	if _, err := io.ReadFull(ch, buf[:1]); err != nil {
		t.Fatal(err)
	}
	p.expect(frame{typ: msgChannelWindowAdjust, recipient: 7, window: half})

	// The peer's window is whole again: it may send all of it.
	for range hostileConfig.WindowSize / maxPacket {
		p.send(frame{typ: msgChannelData, recipient: sid, length: maxPacket})
	}
	for range 2 {
		if _, err := io.ReadFull(ch, buf[:half]); err != nil {
			t.Fatal(err)
		}
		p.expect(frame{typ: msgChannelWindowAdjust, recipient: 7, window: half})
	}
	p.checkUsable(100)
}
