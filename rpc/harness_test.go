package rpc_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/transport"
	"github.com/qtalkkit/qtalk/transport/pipe"
	_ "github.com/qtalkkit/qtalk/transport/quic" // registers quic://
)

// A transportCase makes a connected pair of sessions: the client's and the
// server's. The pair is closed when the test ends.
type transportCase struct {
	name string
	pair func(t testing.TB) (client, server mux.Session)
}

// transports are the session pairs every end-to-end test runs over: an
// in-memory pipe and real loopback TCP through the transport package.
var transports = []transportCase{
	{"pipe", pipePair},
	{"tcp", tcpPair},
	{"quic", quicPair},
}

// forEachTransport runs f as a subtest over each transport.
func forEachTransport(t *testing.T, f func(t *testing.T, tc transportCase)) {
	t.Helper()
	for _, tc := range transports {
		t.Run(tc.name, func(t *testing.T) { f(t, tc) })
	}
}

func closeOnCleanup(t testing.TB, sessions ...mux.Session) {
	t.Cleanup(func() {
		for _, s := range sessions {
			s.Close()
		}
		for _, s := range sessions {
			s.Wait()
		}
	})
}

func pipePair(t testing.TB) (mux.Session, mux.Session) {
	t.Helper()
	c1, c2 := pipe.New()
	cs, err := qmux.New(c1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := qmux.New(c2, nil)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, cs, ss)
	return cs, ss
}

func tcpPair(t testing.TB) (mux.Session, mux.Session) {
	t.Helper()
	return addressPair(t, "tcp", "127.0.0.1:0")
}

// quicPair runs mux/quic over loopback UDP, the client pinning the
// listener's ephemeral certificate.
func quicPair(t testing.TB) (mux.Session, mux.Session) {
	t.Helper()
	return addressPair(t, "quic", "127.0.0.1:0")
}

// addressPair connects two sessions through the transport package: a
// listener on scheme://hostport and a client dialing it.
func addressPair(t testing.TB, scheme, hostport string) (mux.Session, mux.Session) {
	t.Helper()
	return addressPairWith(t, scheme, hostport, nil, nil)
}

// addressPairWith is addressPair with options for the listener and the
// dialer.
func addressPairWith(t testing.TB, scheme, hostport string, listenOpts, dialOpts []transport.Option) (mux.Session, mux.Session) {
	t.Helper()
	ctx := context.Background()
	ln, err := transport.Listen(ctx, scheme+"://"+hostport, listenOpts...)
	if err != nil {
		t.Fatal(err)
	}
	dial := scheme + "://" + ln.Addr().String()
	if fp, ok := ln.(transport.Fingerprinter); ok && fp.Fingerprint() != "" {
		dial += "?pin=" + fp.Fingerprint()
	}
	defer ln.Close()
	type accepted struct {
		s   mux.Session
		err error
	}
	acc := make(chan accepted, 1)
	go func() {
		s, err := ln.Accept(ctx)
		acc <- accepted{s, err}
	}()
	cs, err := transport.Dial(ctx, dial, dialOpts...)
	if err != nil {
		ln.Close()
		if a := <-acc; a.s != nil {
			a.s.Close()
		}
		t.Fatal(err)
	}
	a := <-acc
	if a.err != nil {
		cs.Close()
		t.Fatal(a.err)
	}
	closeOnCleanup(t, cs, a.s)
	return cs, a.s
}

// listenTCP returns a loopback TCP listener closed when the test ends.
func listenTCP(t testing.TB) transport.Listener {
	t.Helper()
	ln, err := transport.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// dialTCP dials ln and closes the session when the test ends.
func dialTCP(t testing.TB, ln transport.Listener) mux.Session {
	t.Helper()
	s, err := transport.Dial(context.Background(), "tcp://"+ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, s)
	return s
}

// A harness is a server serving one session and a client on its peer.
type harness struct {
	client *rpc.Client
	cs, ss mux.Session // the client's and the server's sessions
	srv    *rpc.Server
	served chan error // ServeSession's result
}

// start serves srv on the server end of a new pair made by tc and returns
// the harness. Everything is torn down when the test ends.
func start(t testing.TB, tc transportCase, srv *rpc.Server, opts ...rpc.ClientOption) *harness {
	t.Helper()
	cs, ss := tc.pair(t)
	h := &harness{client: rpc.NewClient(cs, opts...), cs: cs, ss: ss, srv: srv, served: make(chan error, 1)}
	go func() { h.served <- srv.ServeSession(ss) }()
	t.Cleanup(func() {
		cs.Close()
		ss.Close()
		<-h.served
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown at the end of the test: %v (a handler is stuck)", err)
		}
	})
	return h
}

// startFunc is start with a server running f.
func startFunc(t testing.TB, tc transportCase, f func(rpc.Responder, *rpc.Call), opts ...rpc.ClientOption) *harness {
	t.Helper()
	return start(t, tc, &rpc.Server{Handler: rpc.HandlerFunc(f)}, opts...)
}

// serveBoth also serves calls on the client's session, so the server can
// call back. It returns when the test ends.
func (h *harness) serveBoth(t testing.TB, handler rpc.Handler) {
	srv := &rpc.Server{Handler: handler}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeSession(h.cs)
	}()
	t.Cleanup(func() {
		h.cs.Close()
		<-done
		srv.Shutdown(context.Background())
	})
}

// waitFor receives from c, failing the test if nothing arrives within a
// generous bound: it turns a hang (a bug) into a failure with a message.
func waitFor[T any](t testing.TB, c <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case v := <-c:
		return v
	case <-timer.C:
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// asRPCError returns err as an *rpc.Error, failing the test if it is not one.
func asRPCError(t testing.TB, err error) *rpc.Error {
	t.Helper()
	var e *rpc.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want an *rpc.Error", err, err)
	}
	return e
}

// The wire format, written out by hand from spec/rpc.md so that raw tests
// check the implementation against the document rather than against itself.
const (
	kindCall  = 1
	kindReply = 2
	kindValue = 3
	kindError = 4
)

func appendFrame(b []byte, kind byte, payload []byte) []byte {
	b = append(b, kind)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...)
}

func appendWireString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// callPayload encodes a call header; md holds key, value, key, value...
func callPayload(selector, codec string, timeout time.Duration, md ...string) []byte {
	b := appendWireString(nil, selector)
	b = appendWireString(b, codec)
	b = binary.AppendUvarint(b, uint64(timeout))
	b = binary.AppendUvarint(b, uint64(len(md)/2))
	for _, s := range md {
		b = appendWireString(b, s)
	}
	return b
}

const maxTestFrame = 64 << 20

// readFrame reads one frame, refusing lengths over maxTestFrame.
func readFrame(r io.Reader) (kind byte, payload []byte, err error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(h[1:])
	if n > maxTestFrame {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, fmt.Errorf("frame payload: %w", err)
	}
	return h[0], payload, nil
}

// wireError is an error as encoded in a reply header or an ERROR frame.
type wireError struct {
	code    uint64
	message string
	details []byte
}

// wireReader parses the fields of a payload.
type wireReader struct {
	b   []byte
	err error
}

func (r *wireReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("bad uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *wireReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errors.New("string overruns the payload")
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *wireReader) error() wireError {
	return wireError{code: r.uvarint(), message: string(r.bytes()), details: r.bytes()}
}

func (r *wireReader) end() error {
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d bytes left over", len(r.b))
	}
	return r.err
}

// parseReplyHeader parses a REPLY payload.
func parseReplyHeader(p []byte) (cont bool, werr *wireError, err error) {
	if len(p) == 0 {
		return false, nil, errors.New("empty reply header")
	}
	flags := p[0]
	r := &wireReader{b: p[1:]}
	if flags&^3 != 0 {
		return false, nil, fmt.Errorf("unknown flags %#x", flags)
	}
	if flags&2 != 0 {
		e := r.error()
		werr = &e
	}
	return flags&1 != 0, werr, r.end()
}

// rawCall opens a channel on s and writes data to it.
func rawCall(t testing.TB, s mux.Session, data []byte) mux.Channel {
	t.Helper()
	ch, err := s.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	if len(data) > 0 {
		if _, err := ch.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	return ch
}

// A heldDeadline is a context whose deadline passes when the test calls
// expire, not at a time: a deadline of 50 ms on the clock passed under
// the race detector on a loaded machine before the call it was to cut had
// begun. Deadline reports a time far enough not to pass first, so that a
// deadline travels with the call; Value is the parent's. It expires when
// the test ends, if not before.
type heldDeadline struct {
	context.Context
	deadline time.Time
	done     chan struct{}
	once     sync.Once
}

func newHeldDeadline(t testing.TB, parent context.Context) *heldDeadline {
	c := &heldDeadline{Context: parent, deadline: time.Now().Add(time.Hour), done: make(chan struct{})}
	t.Cleanup(c.expire)
	return c
}

func (c *heldDeadline) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *heldDeadline) Done() <-chan struct{}       { return c.done }
func (c *heldDeadline) expire()                     { c.once.Do(func() { close(c.done) }) }

func (c *heldDeadline) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
