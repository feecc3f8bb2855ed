package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	netrpc "net/rpc"
	"sync"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/rpc"
)

const (
	unarySize  = 64       // bytes of a unary call's argument and reply
	streamSize = 64 << 10 // bytes of each streamed message
)

// An rpcClient is a client of one rpc system connected to its server over
// loopback.
type rpcClient interface {
	// unary calls the echo method with payload and decodes the reply
	// into *reply. Each caller passes a variable of its own, which it
	// keeps from call to call, as a loop of calls would: a codec may
	// reuse its capacity.
	unary(payload []byte, reply *[]byte) error
	// stream calls the server-streaming method, passing the size of each
	// message received to got until got returns false.
	stream(got func(n int) bool) error
	// close ends the client, the server and their connections.
	close() error
}

// An rpcSystem starts a server and a client connected to it.
type rpcSystem struct {
	name     string
	kind     implKind
	overQUIC bool // runs over mux/quic rather than TCP
	start    func() (rpcClient, error)
}

var rpcSystems = []rpcSystem{
	{name: "qtalk rpc", kind: qtalkImpl, start: func() (rpcClient, error) { return startQtalkRPC(rpc.CBOR, qmuxRPCPair) }},
	{name: "grpc", start: startGRPC},
	{name: "net/rpc", start: startNetRPC},
	{name: "drpc", start: startDRPC},
	// For reference: qtalk rpc with a pass-through codec like gRPC's here,
	// to tell the cost of CBOR from the rest.
	{name: "qtalk rpc, raw codec", kind: refImpl, start: func() (rpcClient, error) { return startQtalkRPC(rawBytes{}, qmuxRPCPair) }},
	{name: "qtalk rpc over mux/quic", kind: qtalkImpl, overQUIC: true, start: func() (rpcClient, error) {
		return startQtalkRPC(rpc.CBOR, quicRPCPair)
	}},
}

// tcpRoundTrip is the reference of the unary scenario at concurrency 1:
// 64 bytes written on a loopback TCP connection and echoed back, the
// least a call can take. It carries one call at a time.
var tcpRoundTrip = rpcSystem{name: "tcp round trip", kind: refImpl, start: startTCPEcho}

// rpcSystemsNamed returns the rpc systems called names, in that order.
func rpcSystemsNamed(names ...string) []rpcSystem {
	var ss []rpcSystem
	for _, n := range names {
		for _, s := range rpcSystems {
			if s.name == n {
				ss = append(ss, s)
			}
		}
	}
	return ss
}

// rawBytes is a qtalk rpc codec that carries []byte values as they are.
type rawBytes struct{}

func init() { rpc.RegisterCodec(rawBytes{}) }

func (rawBytes) Name() string { return "bench-raw" }

func (rawBytes) Append(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return b, nil
	case []byte:
		return append(b, v...), nil
	}
	return b, fmt.Errorf("raw codec: cannot encode %T", v)
}

// Unmarshal copies data: it is the frame reader's buffer.
func (rawBytes) Unmarshal(data []byte, v any) error {
	switch v := v.(type) {
	case nil:
		return nil
	case *[]byte:
		*v = append((*v)[:0], data...)
		return nil
	}
	return fmt.Errorf("raw codec: cannot decode into %T", v)
}

var errNoStreams = errors.New("no streaming calls")

// qtalkClient calls a qtalk rpc server over a session pair.
type qtalkClient struct {
	cl     *rpc.Client
	cs, ss mux.Session
	after  func() // releases what the sessions ran over, once they ended
	srv    *rpc.Server
	served chan struct{}
}

// An rpcPair makes the sessions qtalk rpc runs over, and what to release
// after them.
type rpcPair func() (client, server mux.Session, after func(), err error)

// qmuxRPCPair runs qtalk rpc over qmux on loopback TCP.
func qmuxRPCPair() (mux.Session, mux.Session, func(), error) {
	cs, ss, err := qmuxPair(pairOptions{})
	return cs, ss, func() {}, err
}

// quicRPCPair runs qtalk rpc over mux/quic on loopback UDP.
func quicRPCPair() (mux.Session, mux.Session, func(), error) {
	cs, ss, ln, err := muxQUICSessions(pairOptions{})
	if err != nil {
		return nil, nil, nil, err
	}
	return cs, ss, func() { ln.Close() }, nil
}

// qtalkHandler answers "echo" with its argument, and "stream" with an
// endless stream of 64 KiB values, until the client closes the call.
func qtalkHandler() rpc.Handler {
	m := rpc.NewRespondMux()
	m.HandleFunc("echo", echoBytes)
	msg := make([]byte, streamSize)
	m.HandleFunc("stream", func(r rpc.Responder, c *rpc.Call) {
		if err := r.Continue(nil); err != nil {
			return
		}
		for r.Send(msg) == nil {
		}
	})
	return m
}

// echoBytes replies with its argument, a byte string.
func echoBytes(r rpc.Responder, c *rpc.Call) {
	var b []byte
	if err := c.Receive(&b); err != nil {
		r.Error(err)
		return
	}
	r.Return(b)
}

func startQtalkRPC(codec rpc.Codec, pair rpcPair) (rpcClient, error) {
	cs, ss, after, err := pair()
	if err != nil {
		return nil, err
	}
	q := &qtalkClient{cl: rpc.NewClient(cs, rpc.WithCodec(codec)), cs: cs, ss: ss, after: after, served: make(chan struct{})}
	q.srv = &rpc.Server{Handler: qtalkHandler()}
	go func() {
		defer close(q.served)
		q.srv.ServeSession(ss)
	}()
	return q, nil
}

func (q *qtalkClient) unary(payload []byte, reply *[]byte) error {
	if _, err := q.cl.Call(context.Background(), "echo", payload, reply); err != nil {
		return err
	}
	return checkEcho(payload, *reply)
}

func (q *qtalkClient) stream(got func(n int) bool) error {
	resp, err := q.cl.Call(context.Background(), "stream", nil, nil)
	if err != nil {
		return err
	}
	defer resp.Close()
	var msg []byte // reused where the codec can (CBOR allocates anew)
	for {
		if err := resp.Receive(&msg); err != nil {
			return err
		}
		if !got(len(msg)) {
			return nil
		}
	}
}

func (q *qtalkClient) close() error {
	q.cs.Close()
	q.ss.Close()
	<-q.served
	err := q.srv.Shutdown(context.Background())
	q.cs.Wait()
	q.ss.Wait()
	q.after()
	return err
}

// EchoService is the net/rpc service.
type EchoService struct{}

// Echo replies with its argument.
func (EchoService) Echo(args []byte, reply *[]byte) error {
	*reply = args
	return nil
}

// netRPCClient calls a net/rpc server (gob encoding) over one TCP
// connection, which concurrent calls share.
type netRPCClient struct {
	cl     *netrpc.Client
	ln     net.Listener
	conns  *connSet
	served sync.WaitGroup
}

func startNetRPC() (rpcClient, error) {
	srv := netrpc.NewServer()
	if err := srv.Register(EchoService{}); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	n := &netRPCClient{ln: ln, conns: &connSet{}}
	n.served.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if c, err = n.conns.add(c); err != nil {
				return
			}
			n.served.Go(func() { srv.ServeConn(c) })
		}
	})
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		n.close()
		return nil, err
	}
	n.cl = netrpc.NewClient(c)
	return n, nil
}

func (n *netRPCClient) unary(payload []byte, reply *[]byte) error {
	if err := n.cl.Call("EchoService.Echo", payload, reply); err != nil {
		return err
	}
	return checkEcho(payload, *reply)
}

func (n *netRPCClient) stream(func(int) bool) error { return errNoStreams }

func (n *netRPCClient) close() error {
	var err error
	if n.cl != nil {
		err = n.cl.Close()
	}
	n.ln.Close()
	n.conns.close()
	n.served.Wait()
	return err
}

// tcpEchoClient writes a payload on a TCP connection whose other end
// writes it back.
type tcpEchoClient struct {
	c, s  net.Conn
	echod chan struct{}
}

func startTCPEcho() (rpcClient, error) {
	c, s, err := tcpConnPair()
	if err != nil {
		return nil, err
	}
	t := &tcpEchoClient{c: c, s: s, echod: make(chan struct{})}
	go func() {
		defer close(t.echod)
		buf := make([]byte, unarySize)
		for {
			if _, err := io.ReadFull(s, buf); err != nil {
				return
			}
			if _, err := s.Write(buf); err != nil {
				return
			}
		}
	}()
	return t, nil
}

func (t *tcpEchoClient) unary(payload []byte, reply *[]byte) error {
	if _, err := t.c.Write(payload); err != nil {
		return err
	}
	if cap(*reply) < len(payload) {
		*reply = make([]byte, len(payload))
	}
	*reply = (*reply)[:len(payload)]
	_, err := io.ReadFull(t.c, *reply)
	return err
}

func (t *tcpEchoClient) stream(func(int) bool) error { return errNoStreams }

func (t *tcpEchoClient) close() error {
	err := t.c.Close()
	t.s.Close()
	<-t.echod
	return err
}

func checkEcho(sent, got []byte) error {
	if len(got) != len(sent) {
		return fmt.Errorf("echo: got %d bytes, sent %d", len(got), len(sent))
	}
	return nil
}
