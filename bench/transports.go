package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/hashicorp/yamux"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/xtaci/smux"
)

// A session is what the scenarios need of a multiplexed session: open a
// channel, accept one, and end it all. Close closes every channel of the
// session and the connection under it.
type session interface {
	Open() (net.Conn, error)
	Accept() (net.Conn, error)
	Close() error
}

// pairOptions tune a session pair for a scenario.
type pairOptions struct {
	// maxChannels is the number of channels the scenario keeps open at
	// once; muxes with a lower default limit raise it.
	maxChannels int
	// earlyOpen sets mux/quic's Config.EarlyOpen.
	earlyOpen bool
}

// A transport makes a connected pair of sessions over loopback: a client
// that opens channels and a server that accepts them. Adding a transport
// is adding an entry to transports.
type transport struct {
	name     string
	kind     implKind
	overQUIC bool // compared with bare quic-go, not with the muxes over TCP
	pair     func(o pairOptions) (client, server session, err error)
}

// The transports: raw TCP first, the reference the muxes over TCP are
// compared with; then bare quic-go streams, the reference of mux/quic
// (quic.go).
var transports = []transport{
	{name: "tcp", kind: refImpl, pair: tcpPair},
	{name: "qmux", kind: qtalkImpl, pair: qmuxSessionPair},
	{name: "yamux", pair: yamuxPair},
	{name: "smux", pair: smuxPair},
	{name: quicRef, kind: refImpl, overQUIC: true, pair: rawQUICPair},
	{name: "mux/quic", kind: qtalkImpl, overQUIC: true, pair: muxQUICPair},
}

// transportsNamed returns the transports called names, in that order.
func transportsNamed(names ...string) []transport {
	var ts []transport
	for _, n := range names {
		for _, t := range transports {
			if t.name == n {
				ts = append(ts, t)
			}
		}
	}
	return ts
}

// tcpConnPair returns both ends of a loopback TCP connection.
func tcpConnPair() (client, server net.Conn, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ac := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ac <- accepted{c, err}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		ln.Close()
		<-ac
		return nil, nil, err
	}
	a := <-ac
	if a.err != nil {
		client.Close()
		return nil, nil, a.err
	}
	return client, a.c, nil
}

// tcpPair makes raw TCP look like a session: every channel is a loopback
// TCP connection of its own.
func tcpPair(pairOptions) (session, session, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	conns := &connSet{}
	return &tcpClient{addr: ln.Addr().String(), conns: conns}, &tcpServer{ln: ln, conns: conns}, nil
}

// connSet tracks the connections of a raw TCP pair, to close them all.
type connSet struct {
	mu     sync.Mutex // guards the fields below
	conns  []net.Conn
	closed bool
}

func (s *connSet) add(c net.Conn) (net.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	s.conns = append(s.conns, c)
	return c, nil
}

func (s *connSet) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

type tcpClient struct {
	addr  string
	conns *connSet
}

func (c *tcpClient) Open() (net.Conn, error) {
	conn, err := net.Dial("tcp", c.addr)
	if err != nil {
		return nil, err
	}
	return c.conns.add(conn)
}

func (c *tcpClient) Accept() (net.Conn, error) { return nil, errors.New("tcp client: no accept") }
func (c *tcpClient) Close() error              { c.conns.close(); return nil }

type tcpServer struct {
	ln    net.Listener
	conns *connSet
}

func (s *tcpServer) Open() (net.Conn, error) { return nil, errors.New("tcp server: no open") }

func (s *tcpServer) Accept() (net.Conn, error) {
	conn, err := s.ln.Accept()
	if err != nil {
		return nil, err
	}
	return s.conns.add(conn)
}

func (s *tcpServer) Close() error {
	err := s.ln.Close()
	s.conns.close()
	return err
}

// qmuxPair returns two qmux sessions over loopback TCP.
func qmuxPair(o pairOptions) (client, server *qmux.Session, err error) {
	c1, c2, err := tcpConnPair()
	if err != nil {
		return nil, nil, err
	}
	cfg := &qmux.Config{}
	if o.maxChannels > qmux.DefaultMaxChannels {
		cfg.MaxChannels = o.maxChannels
	}
	if client, err = qmux.New(c1, cfg); err == nil {
		server, err = qmux.New(c2, cfg)
	}
	if err != nil {
		c1.Close()
		c2.Close()
		return nil, nil, err
	}
	return client, server, nil
}

func qmuxSessionPair(o pairOptions) (session, session, error) {
	c, s, err := qmuxPair(o)
	if err != nil {
		return nil, nil, err
	}
	return qmuxSession{c}, qmuxSession{s}, nil
}

// qmuxSession adapts a mux.Session. Close also waits for the session's
// goroutines to end.
type qmuxSession struct{ s mux.Session }

func (q qmuxSession) Open() (net.Conn, error)   { return q.s.Open(context.Background()) }
func (q qmuxSession) Accept() (net.Conn, error) { return q.s.Accept(context.Background()) }
func (q qmuxSession) Close() error {
	err := q.s.Close()
	q.s.Wait()
	return err
}

// yamuxPair returns two yamux sessions over loopback TCP, with yamux's
// defaults (256 KiB stream window) and its logging off.
func yamuxPair(pairOptions) (session, session, error) {
	c1, c2, err := tcpConnPair()
	if err != nil {
		return nil, nil, err
	}
	cfg := yamux.DefaultConfig()
	cfg.LogOutput = io.Discard
	cs, err := yamux.Client(c1, cfg)
	if err != nil {
		c1.Close()
		c2.Close()
		return nil, nil, err
	}
	ss, err := yamux.Server(c2, cfg)
	if err != nil {
		cs.Close()
		c2.Close()
		return nil, nil, err
	}
	return yamuxSession{cs}, yamuxSession{ss}, nil
}

type yamuxSession struct{ s *yamux.Session }

func (y yamuxSession) Open() (net.Conn, error)   { return y.s.Open() }
func (y yamuxSession) Accept() (net.Conn, error) { return y.s.Accept() }
func (y yamuxSession) Close() error              { return y.s.Close() }

// smuxPair returns two smux sessions over loopback TCP. It uses protocol
// version 2, which has per-stream flow control: with version 1 (smux's
// default) one slow reader stalls the whole session.
func smuxPair(pairOptions) (session, session, error) {
	c1, c2, err := tcpConnPair()
	if err != nil {
		return nil, nil, err
	}
	cfg := smux.DefaultConfig()
	cfg.Version = 2
	cs, err := smux.Client(c1, cfg)
	if err != nil {
		c1.Close()
		c2.Close()
		return nil, nil, err
	}
	ss, err := smux.Server(c2, cfg)
	if err != nil {
		cs.Close()
		c2.Close()
		return nil, nil, err
	}
	return smuxSession{cs}, smuxSession{ss}, nil
}

type smuxSession struct{ s *smux.Session }

func (m smuxSession) Open() (net.Conn, error)   { return m.s.OpenStream() }
func (m smuxSession) Accept() (net.Conn, error) { return m.s.AcceptStream() }
func (m smuxSession) Close() error              { return m.s.Close() }

// openChannels opens n channels from client and accepts them on server,
// returning them pairwise. On error, the sessions are left to the caller
// to close.
func openChannels(client, server session, n int) (opened, accepted []net.Conn, err error) {
	type result struct {
		conns []net.Conn
		err   error
	}
	rc := make(chan result, 1)
	opened = make([]net.Conn, 0, n)
	go func() {
		conns := make([]net.Conn, 0, n)
		for range n {
			c, err := server.Accept()
			if err != nil {
				rc <- result{conns, err}
				return
			}
			conns = append(conns, c)
		}
		rc <- result{conns, nil}
	}()
	for range n {
		c, err := client.Open()
		if err != nil {
			client.Close()
			server.Close()
			<-rc
			return nil, nil, fmt.Errorf("open: %w", err)
		}
		opened = append(opened, c)
	}
	r := <-rc
	if r.err != nil {
		return nil, nil, fmt.Errorf("accept: %w", r.err)
	}
	return opened, r.conns, nil
}
