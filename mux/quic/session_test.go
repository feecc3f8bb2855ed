package quic_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"github.com/qtalkkit/qtalk/internal/tlsconf"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/quic"
)

// testContext returns a context that bounds one step of a test.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rawPeer connects a quic.Session (the listener's side) with a bare
// quic-go connection (the dialer's side), to play a peer that breaks the
// conventions. stop closes both and the listener.
func rawPeer(t *testing.T, cfg *quic.Config) (s *quic.Session, raw *quicgo.Conn) {
	t.Helper()
	ctx := testContext(t)
	ln, err := quic.Listen(ctx, "127.0.0.1:0", nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tlsConf := pinned(ln.Fingerprint())
	tlsConf.NextProtos = []string{quic.ALPN}
	raw, err = quicgo.DialAddr(ctx, ln.Addr().String(), tlsConf, &quicgo.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := ln.Accept(ctx)
	if err != nil {
		raw.CloseWithError(0, "")
		t.Fatal(err)
	}
	s = sess.(*quic.Session)
	t.Cleanup(func() {
		raw.CloseWithError(0, "")
		s.Close()
	})
	return s, raw
}

// rawOpen opens a stream on raw and writes b as its first bytes.
func rawOpen(t *testing.T, raw *quicgo.Conn, b ...byte) *quicgo.Stream {
	t.Helper()
	str, err := raw.OpenStreamSync(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := str.Write(b); err != nil {
		t.Fatal(err)
	}
	return str
}

// readAnswer reads the one-byte answer to an open, or the error instead.
func readAnswer(str *quicgo.Stream) (byte, error) {
	var b [1]byte
	str.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.ReadFull(str, b[:])
	return b[0], err
}

func TestAcceptBacklog(t *testing.T) {
	const backlog = 2
	s, raw := rawPeer(t, &quic.Config{AcceptBacklog: backlog})
	ctx := testContext(t)

	// The first opens are confirmed while Accept has room.
	var confirmed []*quicgo.Stream
	for range backlog {
		str := rawOpen(t, raw, 0x01)
		if b, err := readAnswer(str); err != nil || b != 0x01 {
			t.Fatalf("open within the backlog: answer %#x, %v; want 0x01", b, err)
		}
		confirmed = append(confirmed, str)
	}
	// Of the next backlog+1 opens, backlog are held unconfirmed and one
	// is refused.
	type answer struct {
		b   byte
		err error
	}
	answers := make(chan answer, backlog+1)
	for range backlog + 1 {
		str := rawOpen(t, raw, 0x01)
		go func() {
			b, err := readAnswer(str)
			answers <- answer{b, err}
		}()
	}
	a := <-answers // only the refusal can come before an Accept
	var se *quicgo.StreamError
	if !errors.As(a.err, &se) || !se.Remote || se.ErrorCode != 1 {
		t.Fatalf("first answer beyond the backlog: %#x, %v; want a reset with code 1 (rejected)", a.b, a.err)
	}

	// Each Accept confirms a held open.
	for i := range backlog {
		c, err := s.Accept(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.ID() != uint64(confirmed[i].StreamID()) {
			t.Errorf("Accept %d: channel ID %d, want the stream ID %d", i, c.ID(), confirmed[i].StreamID())
		}
		c.Close()
		if a := <-answers; a.err != nil || a.b != 0x01 {
			t.Fatalf("held open after an Accept: answer %#x, %v; want 0x01", a.b, a.err)
		}
	}
}

func TestOpenRejected(t *testing.T) {
	a, b, stop := sessionPair(t, &quic.Config{AcceptBacklog: 1})
	defer stop()
	ctx := testContext(t)
	// One open fills the backlog; of two more, one is held unconfirmed and
	// the other refused.
	first, err := a.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	opens := make(chan error, 2)
	for range 2 {
		go func() {
			c, err := a.Open(ctx)
			if err == nil {
				c.Close()
			}
			opens <- err
		}()
	}
	if err := <-opens; !errors.Is(err, mux.ErrOpenRejected) {
		t.Fatalf("open beyond the backlog: %v, want ErrOpenRejected", err)
	}
	c, err := b.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID() != first.ID() {
		t.Errorf("accepted channel %d, want %d", c.ID(), first.ID())
	}
	c.Close()
	if err := <-opens; err != nil {
		t.Errorf("the held open after Accept made room: %v", err)
	}
}

func TestBadOpenHeader(t *testing.T) {
	for _, h := range []byte{0x00, 0x03, 0x7f} {
		t.Run(fmt.Sprintf("%#02x", h), func(t *testing.T) { testBadOpenHeader(t, h) })
	}
}

func testBadOpenHeader(t *testing.T, h byte) {
	s, raw := rawPeer(t, nil)
	rawOpen(t, raw, h)
	if err := s.Wait(); !errors.Is(err, mux.ErrProtocol) {
		t.Errorf("Wait after a bad open header: %v, want ErrProtocol", err)
	}
	<-raw.Context().Done()
	var app *quicgo.ApplicationError
	if err := context.Cause(raw.Context()); !errors.As(err, &app) || app.ErrorCode != 1 {
		t.Errorf("the peer's connection ended with %v, want application error 1", err)
	}
	if _, err := s.Accept(testContext(t)); !errors.Is(err, mux.ErrSessionClosed) || !errors.Is(err, mux.ErrProtocol) {
		t.Errorf("Accept after a protocol error: %v, want ErrSessionClosed and ErrProtocol", err)
	}
}

// TestSlowOpenHeader checks that a stream whose open header is late holds
// up only itself: the acceptor admits the streams after it, and then it,
// once its header comes.
func TestSlowOpenHeader(t *testing.T) {
	s, raw := rawPeer(t, nil)
	ctx := testContext(t)
	// Data on a stream makes the peer open the lower ones too (QUIC
	// opens streams in order), so slow reaches the acceptor first, empty.
	slow, err := raw.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.OpenStreamSync(ctx); err != nil { // its header never comes
		t.Fatal(err)
	}
	fast := rawOpen(t, raw, 0x02, 'b')
	accept := func(want *quicgo.Stream, data string) {
		t.Helper()
		c, err := s.Accept(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if c.ID() != uint64(want.StreamID()) {
			t.Fatalf("accepted channel %d, want %d", c.ID(), want.StreamID())
		}
		buf := make([]byte, len(data))
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != data {
			t.Errorf("channel %d read %q, %v; want %q", c.ID(), buf, err, data)
		}
	}
	accept(fast, "b")
	if _, err := slow.Write([]byte{0x01, 'a'}); err != nil {
		t.Fatal(err)
	}
	if b, err := readAnswer(slow); err != nil || b != 0x01 {
		t.Fatalf("the late open: answer %#x, %v; want 0x01", b, err)
	}
	accept(slow, "a")
	// The session's Close ends the goroutine still waiting for a header
	// (goleak checks).
}

// serverRaw connects a bare quic-go connection (the listener's side) with
// a quic.Session (the dialer's side) configured by cfg. The listener's
// quic-go Transport is closed explicitly at the end of the test: one that
// quic-go closes by itself lingers for a while after its last connection.
func serverRaw(t *testing.T, cfg *quic.Config) (s *quic.Session, raw *quicgo.Conn) {
	t.Helper()
	ctx := testContext(t)
	cert, err := tlsconf.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	tr := &quicgo.Transport{Conn: udp}
	t.Cleanup(func() {
		tr.Close()
		udp.Close()
	})
	ln, err := tr.Listen(&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{quic.ALPN}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err = quic.Dial(ctx, udp.LocalAddr().String(), &tls.Config{InsecureSkipVerify: true}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err = ln.Accept(ctx)
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		raw.CloseWithError(0, "")
	})
	return s, raw
}

func TestOpenContextCancelsStream(t *testing.T) {
	s, raw := serverRaw(t, nil)
	ctx, cancel := context.WithCancel(testContext(t))
	opened := make(chan error, 1)
	go func() {
		c, err := s.Open(ctx)
		if err == nil {
			c.Close()
		}
		opened <- err
	}()
	// The peer sees the stream and its header, and never answers.
	str, err := raw.AcceptStream(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := readAnswer(str); err != nil || b != 0x01 {
		t.Fatalf("open header %#x, %v; want 0x01", b, err)
	}
	cancel()
	if err := <-opened; !errors.Is(err, context.Canceled) {
		t.Fatalf("Open: %v, want context.Canceled", err)
	}
	// The stream is cancelled in both directions.
	_, err = readAnswer(str)
	var se *quicgo.StreamError
	if !errors.As(err, &se) || !se.Remote || se.ErrorCode != 2 {
		t.Errorf("reading the cancelled stream: %v, want a reset with code 2 (cancelled)", err)
	}
}

func TestBadConfirmation(t *testing.T) {
	s, raw := serverRaw(t, nil)
	go func() {
		str, err := raw.AcceptStream(context.Background())
		if err == nil {
			str.Write([]byte{0x55})
		}
	}()
	if _, err := s.Open(testContext(t)); !errors.Is(err, mux.ErrProtocol) {
		t.Errorf("Open answered with a bad byte: %v, want ErrProtocol", err)
	}
	if err := s.Wait(); !errors.Is(err, mux.ErrProtocol) {
		t.Errorf("Wait: %v, want ErrProtocol", err)
	}
}

func TestStreamIDs(t *testing.T) {
	a, b, stop := sessionPair(t, nil)
	defer stop()
	// The dialer opens client-initiated bidirectional streams (0, 4, ...),
	// the listener server-initiated ones (1, 5, ...).
	for i, want := range []struct {
		opener, acceptor mux.Session
		id               uint64
	}{{a, b, 0}, {b, a, 1}, {a, b, 4}, {b, a, 5}} {
		oc, ac := openPair(t, want.opener, want.acceptor)
		if oc.ID() != want.id || ac.ID() != want.id {
			t.Errorf("channel %d: IDs %d (opener) and %d (acceptor), want %d", i, oc.ID(), ac.ID(), want.id)
		}
		oc.Close()
		ac.Close()
	}
}

// openPair opens a channel on opener and accepts it on acceptor.
func openPair(t *testing.T, opener, acceptor mux.Session) (oc, ac mux.Channel) {
	t.Helper()
	ctx := testContext(t)
	oc, err := opener.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ac, err = acceptor.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return oc, ac
}

func TestPeerCloseWait(t *testing.T) {
	a, b, stop := sessionPair(t, nil)
	defer stop()
	a.Close()
	if err := a.Wait(); err != nil {
		t.Errorf("Wait after Close: %v", err)
	}
	err := b.Wait()
	var app *quicgo.ApplicationError
	if !errors.As(err, &app) || !app.Remote || app.ErrorCode != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("the peer's Wait: %v, want io.EOF and a remote *quic.ApplicationError with code 0", err)
	}
	if _, err := b.Open(testContext(t)); !errors.Is(err, mux.ErrSessionClosed) {
		t.Errorf("Open after the peer closed: %v, want ErrSessionClosed", err)
	}
}

// TestKeepAliveTimeout: keep-alives hold an idle session up past its idle
// timeout (KeepAlivePeriod plus KeepAliveTimeout), and without them an
// idle session ends with ErrKeepAliveTimeout.
//
// The two are run side by side, and the idle time is measured by quic-go's
// own timer rather than the test's clock: the second pair, without
// keep-alives, has twice the first's idle timeout and is set up after the
// first, so when it ends the first has been idle for twice its idle timeout
// too, however late the loaded machine ran either. What no test can
// measure around is the machine not running the process at all: the
// acknowledgement of a keep-alive must arrive within the idle timeout of
// the PING (and the listener must accept the pair without keep-alives
// before it ends), or the session rightly ends. The idle timeout is that
// bound, generous: 300 ms was not (under -race with two full runs of this
// package beside, the two cores loaded 15 to 29 times over, 3 runs in 320
// ended, and the process was seen not running goroutines for 435 ms).
func TestKeepAliveTimeout(t *testing.T) {
	const period, timeout = 100 * time.Millisecond, 1900 * time.Millisecond
	a, b, stop := sessionPair(t, &quic.Config{KeepAlivePeriod: period, KeepAliveTimeout: timeout})
	defer stop()
	ended := make(chan error, 2)
	for _, s := range []*quic.Session{a, b} {
		go func() { ended <- s.Wait() }()
	}
	silent, _, stopSilent := sessionPair(t, &quic.Config{KeepAlivePeriod: -1, KeepAliveTimeout: 2 * (period + timeout)})
	defer stopSilent()
	silentEnded := make(chan error, 1)
	go func() { silentEnded <- silent.Wait() }()

	// Without keep-alives the session ends...
	select {
	case err := <-ended:
		t.Fatalf("the session ended while idle with keep-alives on: %v", err)
	case err := <-silentEnded:
		var idle *quicgo.IdleTimeoutError
		if !errors.As(err, &idle) || !errors.Is(err, quic.ErrKeepAliveTimeout) {
			t.Errorf("Wait of an idle session without keep-alives: %v, want ErrKeepAliveTimeout and *quic.IdleTimeoutError", err)
		}
	}
	if _, err := silent.Accept(testContext(t)); !errors.Is(err, mux.ErrSessionClosed) {
		t.Errorf("Accept after the idle timeout: %v, want ErrSessionClosed", err)
	}

	// ... while keep-alives held the first up, and it still works.
	select {
	case err := <-ended:
		t.Fatalf("the session ended while idle with keep-alives on: %v", err)
	default:
	}
	oc, ac := openPair(t, a, b)
	oc.Close()
	ac.Close()
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []*quic.Config{
		{KeepAliveTimeout: -1},
		{MaxIncomingStreams: -1},
		{AcceptBacklog: -1},
		{IdleTimeout: -1},
	} {
		if err := c.Validate(); !errors.Is(err, quic.ErrInvalidConfig) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidConfig", c, err)
		}
		if _, err := quic.New(nil, c); !errors.Is(err, quic.ErrInvalidConfig) {
			t.Errorf("New with %+v: %v, want ErrInvalidConfig", c, err)
		}
		if _, err := quic.Dial(context.Background(), "127.0.0.1:1", nil, c); !errors.Is(err, quic.ErrInvalidConfig) {
			t.Errorf("Dial with %+v: %v, want ErrInvalidConfig", c, err)
		}
		if _, err := quic.Listen(context.Background(), "127.0.0.1:0", nil, c); !errors.Is(err, quic.ErrInvalidConfig) {
			t.Errorf("Listen with %+v: %v, want ErrInvalidConfig", c, err)
		}
	}
	for _, c := range []*quic.Config{nil, {}, {KeepAlivePeriod: -1}} {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", c, err)
		}
	}
}

func TestListenerCloseKeepsSessions(t *testing.T) {
	ctx := testContext(t)
	ln, err := quic.Listen(ctx, "127.0.0.1:0", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan mux.Session, 1)
	go func() {
		s, err := ln.Accept(ctx)
		if err != nil {
			t.Error(err)
		}
		accepted <- s
	}()
	a, err := quic.Dial(ctx, ln.Addr().String(), pinned(ln.Fingerprint()), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := <-accepted
	if b == nil {
		return
	}
	defer b.Close()

	pending := make(chan error, 1)
	go func() {
		_, err := ln.Accept(ctx)
		pending <- err
	}()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-pending; !errors.Is(err, quic.ErrListenerClosed) || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want ErrListenerClosed", err)
	}
	// The accepted session still works, both ways.
	for _, p := range [][2]mux.Session{{a, b}, {b, a}} {
		oc, ac := openPair(t, p[0], p[1])
		if _, err := oc.Write([]byte("x")); err != nil {
			t.Error(err)
		}
		buf := make([]byte, 1)
		if _, err := io.ReadFull(ac, buf); err != nil {
			t.Error(err)
		}
		oc.Close()
		ac.Close()
	}
}

func TestALPN(t *testing.T) {
	a, b, stop := sessionPair(t, nil)
	defer stop()
	for _, s := range []*quic.Session{a, b} {
		if got := s.ConnectionState().TLS.NegotiatedProtocol; got != quic.ALPN {
			t.Errorf("negotiated protocol %q, want %q", got, quic.ALPN)
		}
	}
}

var _ mux.Session = (*quic.Session)(nil)

// Accept reports the end of a session only once its connection is closed:
// what the application does on learning of the end (rpc answering the
// calls the end cancels, on channels it accepted) must fail rather than
// reach the peer as the session's last words.
func TestAcceptEndAfterConnClose(t *testing.T) {
	_, b, stop := sessionPair(t, nil)
	defer stop()
	var got error
	quic.SetBeforeConnClose(b, func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // Accept returns at once, with what it knows
		_, got = b.Accept(ctx)
	})
	b.Close()
	if !errors.Is(got, context.Canceled) {
		t.Errorf("Accept while the session closes, before its connection is closed: %v, want ctx's error", got)
	}
	if _, err := b.Accept(testContext(t)); !errors.Is(err, mux.ErrSessionClosed) {
		t.Errorf("Accept after Close: %v, want ErrSessionClosed", err)
	}
}

// TestBytesTransferred: a session reports its connection's datagrams,
// which carry at least its channels' data.
func TestBytesTransferred(t *testing.T) {
	a, b, stop := sessionPair(t, nil)
	defer stop()
	oc, ac := openPair(t, a, b)
	const n = 100 << 10
	go oc.Write(make([]byte, n))
	if _, err := io.ReadFull(ac, make([]byte, n)); err != nil {
		t.Fatalf("read: %v", err)
	}
	var _ mux.ByteCounter = a
	aSent, aReceived := a.BytesTransferred()
	bSent, bReceived := b.BytesTransferred()
	if aSent < n || bReceived < n {
		t.Errorf("a sent %d, b received %d bytes; want each at least the %d of data", aSent, bReceived, n)
	}
	if aReceived == 0 || bSent == 0 {
		t.Errorf("a received %d, b sent %d bytes; want the handshake and acknowledgements at least", aReceived, bSent)
	}
}
