package main

import (
	"context"
	"fmt"
	"net"
	"sync"

	"storj.io/drpc"
	"storj.io/drpc/drpcconn"
	"storj.io/drpc/drpcmux"
	"storj.io/drpc/drpcserver"
)

// storj.io/drpc, described by hand (no generated code) with a
// pass-through encoding, as the gRPC peer is. A drpc connection carries
// one call at a time, so concurrent callers each take a connection of
// their own from a pool that dials when it has none idle, as drpcpool
// does: at concurrency 32 it runs over 32 TCP connections.

// drpcBytes is the encoding: []byte messages as they are.
type drpcBytes struct{}

func (drpcBytes) Marshal(msg drpc.Message) ([]byte, error) {
	if p, ok := msg.(*[]byte); ok {
		return *p, nil
	}
	return nil, fmt.Errorf("drpc raw encoding: cannot marshal %T", msg)
}

// Unmarshal copies buf: drpc reuses it once Unmarshal returns.
func (drpcBytes) Unmarshal(buf []byte, msg drpc.Message) error {
	p, ok := msg.(*[]byte)
	if !ok {
		return fmt.Errorf("drpc raw encoding: cannot unmarshal into %T", msg)
	}
	*p = append((*p)[:0], buf...)
	return nil
}

// drpcService answers Echo with its argument and Stream with endless
// 64 KiB messages, until the client cancels.
type drpcService struct{ msg []byte }

func (*drpcService) Echo(_ context.Context, in *[]byte) (*[]byte, error) { return in, nil }

func (s *drpcService) Stream(_ *[]byte, st drpc.Stream) error {
	for {
		if err := st.MsgSend(&s.msg, drpcBytes{}); err != nil {
			return err
		}
	}
}

const (
	drpcEcho   = "/bench.Bench/Echo"
	drpcStream = "/bench.Bench/Stream"
)

// drpcDescription is what protoc-gen-go-drpc would generate for the
// service.
type drpcDescription struct{}

func (drpcDescription) NumMethods() int { return 2 }

func (drpcDescription) Method(n int) (string, drpc.Encoding, drpc.Receiver, any, bool) {
	switch n {
	case 0:
		return drpcEcho, drpcBytes{}, func(srv any, ctx context.Context, in1, _ any) (drpc.Message, error) {
			return srv.(*drpcService).Echo(ctx, in1.(*[]byte))
		}, (*drpcService).Echo, true
	case 1:
		return drpcStream, drpcBytes{}, func(srv any, _ context.Context, in1, in2 any) (drpc.Message, error) {
			return nil, srv.(*drpcService).Stream(in1.(*[]byte), in2.(drpc.Stream))
		}, (*drpcService).Stream, true
	}
	return "", nil, nil, nil, false
}

// drpcClient calls a drpc server over loopback TCP.
type drpcClient struct {
	addr   string
	idle   chan *drpcconn.Conn // connections between calls; more are dialled when empty
	cancel context.CancelFunc  // stops the server
	served chan error
	mu     sync.Mutex // guards all
	all    []*drpcconn.Conn
}

// drpcMaxIdle bounds the idle connections kept: more than any scenario's
// concurrency; a connection returned to a full pool is closed.
const drpcMaxIdle = 64

func startDRPC() (rpcClient, error) {
	m := drpcmux.New()
	if err := m.Register(&drpcService{msg: make([]byte, streamSize)}, drpcDescription{}); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &drpcClient{addr: ln.Addr().String(), idle: make(chan *drpcconn.Conn, drpcMaxIdle), cancel: cancel, served: make(chan error, 1)}
	srv := drpcserver.New(m)
	go func() { d.served <- srv.Serve(ctx, ln) }()
	return d, nil
}

// get returns an idle connection, or a new one.
func (d *drpcClient) get() (*drpcconn.Conn, error) {
	select {
	case c := <-d.idle:
		return c, nil
	default:
	}
	nc, err := net.Dial("tcp", d.addr)
	if err != nil {
		return nil, err
	}
	c := drpcconn.New(nc)
	d.mu.Lock()
	d.all = append(d.all, c)
	d.mu.Unlock()
	return c, nil
}

func (d *drpcClient) put(c *drpcconn.Conn) {
	select {
	case d.idle <- c:
	default:
		c.Close()
	}
}

func (d *drpcClient) unary(payload []byte, reply *[]byte) error {
	c, err := d.get()
	if err != nil {
		return err
	}
	if err := c.Invoke(context.Background(), drpcEcho, drpcBytes{}, &payload, reply); err != nil {
		c.Close()
		return err
	}
	d.put(c)
	return checkEcho(payload, *reply)
}

func (d *drpcClient) stream(got func(n int) bool) error {
	c, err := d.get()
	if err != nil {
		return err
	}
	defer c.Close() // the cancelled stream leaves it unusable for a while
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := c.NewStream(ctx, drpcStream, drpcBytes{})
	if err != nil {
		return err
	}
	var in []byte
	if err := st.MsgSend(&in, drpcBytes{}); err != nil {
		return err
	}
	if err := st.CloseSend(); err != nil {
		return err
	}
	var msg []byte
	for {
		if err := st.MsgRecv(&msg, drpcBytes{}); err != nil {
			return err
		}
		if !got(len(msg)) {
			return nil
		}
	}
}

func (d *drpcClient) close() error {
	d.mu.Lock()
	for _, c := range d.all {
		c.Close()
	}
	d.mu.Unlock()
	d.cancel()
	return <-d.served
}
