package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"

	quicgo "github.com/quic-go/quic-go"

	"github.com/qtalkkit/qtalk/mux/quic"
	qtransport "github.com/qtalkkit/qtalk/transport"
)

// quicRef names bare quic-go streams, the reference mux/quic is compared
// with. Both run over loopback UDP with TLS 1.3, as QUIC requires, and with
// the same QUIC settings: mux/quic's defaults, with the stream limit raised
// where a scenario keeps more channels open.
const quicRef = "quic-go"

// quicStreams returns the limit of concurrent streams for o: mux/quic's
// default, or more if the scenario needs them. An open beyond the peer's
// limit would wait for a stream to close, forever in a scenario that keeps
// them all open.
func quicStreams(o pairOptions) int64 {
	return max(quic.DefaultMaxIncomingStreams, int64(o.maxChannels))
}

// muxQUICSessions returns two mux/quic sessions and the listener the
// server's came from, for the caller to close after the sessions. The
// client skips verifying the listener's ephemeral certificate: this is
// loopback.
func muxQUICSessions(o pairOptions) (client, server *quic.Session, ln *quic.Listener, err error) {
	ctx := context.Background()
	cfg := &quic.Config{MaxIncomingStreams: quicStreams(o), EarlyOpen: o.earlyOpen}
	ln, err = quic.Listen(ctx, "127.0.0.1:0", nil, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	type accepted struct {
		s   *quic.Session
		err error
	}
	ac := make(chan accepted, 1)
	go func() {
		s, err := ln.Accept(ctx)
		if err != nil {
			ac <- accepted{nil, err}
			return
		}
		ac <- accepted{s.(*quic.Session), nil}
	}()
	cs, err := quic.Dial(ctx, ln.Addr().String(), &tls.Config{InsecureSkipVerify: true}, cfg)
	if err != nil {
		ln.Close()
		<-ac
		return nil, nil, nil, err
	}
	a := <-ac
	if a.err != nil {
		cs.Close()
		ln.Close()
		return nil, nil, nil, a.err
	}
	return cs, a.s, ln, nil
}

// muxQUICEarly is mux/quic with Config.EarlyOpen: its Open returns without
// waiting for the peer's answer, as a bare quic-go stream's does.
var muxQUICEarly = transport{name: "mux/quic, early open", kind: qtalkImpl, overQUIC: true,
	pair: func(o pairOptions) (session, session, error) {
		o.earlyOpen = true
		return muxQUICPair(o)
	}}

func muxQUICPair(o pairOptions) (session, session, error) {
	cs, ss, ln, err := muxQUICSessions(o)
	if err != nil {
		return nil, nil, err
	}
	return qmuxSession{cs}, quicServerSession{qmuxSession{ss}, ln}, nil
}

// quicServerSession also closes the listener of its session.
type quicServerSession struct {
	qmuxSession
	ln *quic.Listener
}

func (s quicServerSession) Close() error {
	err := s.qmuxSession.Close()
	s.ln.Close()
	return err
}

// rawQUICConfig is the quic-go configuration mux/quic uses by default,
// with the stream limit for o.
func rawQUICConfig(o pairOptions) *quicgo.Config {
	return &quicgo.Config{
		KeepAlivePeriod:       quic.DefaultKeepAlivePeriod,
		MaxIdleTimeout:        quic.DefaultKeepAlivePeriod + quic.DefaultKeepAliveTimeout,
		MaxIncomingStreams:    quicStreams(o),
		MaxIncomingUniStreams: -1,
	}
}

// rawQUICPair returns two bare quic-go connections, each on a Transport
// over a UDP socket of its own, as mux/quic sets itself up.
func rawQUICPair(o pairOptions) (session, session, error) {
	ctx := context.Background()
	cert, err := qtransport.SelfSignedCertificate()
	if err != nil {
		return nil, nil, err
	}
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	var trs [2]*quicgo.Transport
	for i := range trs {
		udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		trs[i] = &quicgo.Transport{Conn: udp}
		closers = append(closers, func() { udp.Close() }, func() { trs[i].Close() })
	}
	ln, err := trs[0].Listen(&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{quic.ALPN}}, rawQUICConfig(o))
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, func() { ln.Close() })
	cc, err := trs[1].Dial(ctx, trs[0].Conn.LocalAddr(),
		&tls.Config{InsecureSkipVerify: true, NextProtos: []string{quic.ALPN}}, rawQUICConfig(o))
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, func() { cc.CloseWithError(0, "") })
	sc, err := ln.Accept(ctx)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, func() { sc.CloseWithError(0, "") })
	// The server's Close ends both connections and the sockets.
	return rawQUICSession{c: cc}, rawQUICSession{c: sc, close: closeAll}, nil
}

// rawQUICSession adapts a quic-go connection. A quic-go stream reaches the
// peer only with its first byte, so Open writes a one-byte marker (no
// round trip) that Accept reads: the scenarios can then accept a channel
// before any data flows, as with the muxes.
type rawQUICSession struct {
	c     *quicgo.Conn
	close func() // nil on the client
}

var marker = []byte{1}

func (s rawQUICSession) Open() (net.Conn, error) {
	str, err := s.c.OpenStreamSync(context.Background())
	if err != nil {
		return nil, err
	}
	if _, err := str.Write(marker); err != nil {
		str.CancelRead(0)
		str.CancelWrite(0)
		return nil, err
	}
	return rawQUICStream{str, s.c}, nil
}

func (s rawQUICSession) Accept() (net.Conn, error) {
	str, err := s.c.AcceptStream(context.Background())
	if err != nil {
		return nil, err
	}
	var b [1]byte
	if _, err := io.ReadFull(str, b[:]); err != nil {
		return nil, fmt.Errorf("read the open marker: %w", err)
	}
	return rawQUICStream{str, s.c}, nil
}

func (s rawQUICSession) Close() error {
	if s.close != nil {
		s.close()
		return nil
	}
	return s.c.CloseWithError(0, "")
}

// rawQUICStream is a quic-go stream as a net.Conn. Close is what
// mux/quic's Close does: FIN and STOP_SENDING.
type rawQUICStream struct {
	*quicgo.Stream
	c *quicgo.Conn
}

func (s rawQUICStream) LocalAddr() net.Addr  { return s.c.LocalAddr() }
func (s rawQUICStream) RemoteAddr() net.Addr { return s.c.RemoteAddr() }

// CloseWrite sends FIN.
func (s rawQUICStream) CloseWrite() error { return s.Stream.Close() }

func (s rawQUICStream) Close() error {
	s.CancelRead(0)
	return s.Stream.Close()
}
