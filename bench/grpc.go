package main

import (
	"context"
	"fmt"
	"net"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
)

// rawCodec carries []byte messages as they are, so gRPC needs no generated
// code and pays nothing for encoding, like a proto with one bytes field
// minus the proto.
type rawCodec struct{}

const rawCodecName = "benchraw"

func init() { encoding.RegisterCodec(rawCodec{}) }

func (rawCodec) Name() string { return rawCodecName }

func (rawCodec) Marshal(v any) ([]byte, error) {
	switch v := v.(type) {
	case []byte:
		return v, nil
	case *[]byte:
		return *v, nil
	}
	return nil, fmt.Errorf("raw codec: cannot marshal %T", v)
}

// Unmarshal copies data: gRPC reuses its buffer once Unmarshal returns.
func (rawCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: cannot unmarshal into %T", v)
	}
	*p = append((*p)[:0], data...)
	return nil
}

// benchService is the service, registered by hand: a unary echo and a
// server stream of 64 KiB messages that ends when the client cancels.
var benchService = grpc.ServiceDesc{
	ServiceName: "bench.Bench",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			var in []byte
			if err := dec(&in); err != nil {
				return nil, err
			}
			return in, nil
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Stream",
		ServerStreams: true,
		Handler: func(_ any, st grpc.ServerStream) error {
			var in []byte
			if err := st.RecvMsg(&in); err != nil {
				return err
			}
			msg := make([]byte, streamSize)
			for {
				if err := st.SendMsg(msg); err != nil {
					return err
				}
			}
		},
	}},
}

var streamDesc = grpc.StreamDesc{StreamName: "Stream", ServerStreams: true}

// grpcClient calls a gRPC-Go server over loopback TCP (HTTP/2, no TLS),
// with gRPC's defaults otherwise.
type grpcClient struct {
	cc     *grpc.ClientConn
	srv    *grpc.Server
	served sync.WaitGroup
}

func startGRPC() (rpcClient, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g := &grpcClient{srv: grpc.NewServer()}
	g.srv.RegisterService(&benchService, struct{}{})
	g.served.Go(func() { g.srv.Serve(ln) })
	g.cc, err = grpc.NewClient("passthrough:///"+ln.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.CallContentSubtype(rawCodecName)))
	if err != nil {
		g.close()
		return nil, err
	}
	return g, nil
}

func (g *grpcClient) unary(payload []byte, reply *[]byte) error {
	if err := g.cc.Invoke(context.Background(), "/bench.Bench/Echo", payload, reply); err != nil {
		return err
	}
	return checkEcho(payload, *reply)
}

func (g *grpcClient) stream(got func(n int) bool) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := g.cc.NewStream(ctx, &streamDesc, "/bench.Bench/Stream")
	if err != nil {
		return err
	}
	if err := st.SendMsg([]byte{}); err != nil {
		return err
	}
	if err := st.CloseSend(); err != nil {
		return err
	}
	for {
		var msg []byte
		if err := st.RecvMsg(&msg); err != nil {
			return err
		}
		if !got(len(msg)) {
			return nil
		}
	}
}

func (g *grpcClient) close() error {
	var err error
	if g.cc != nil {
		err = g.cc.Close()
	}
	g.srv.Stop()
	g.served.Wait()
	return err
}
