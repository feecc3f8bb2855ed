package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"time"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
)

const (
	mMsPerCall   = "ms/call"
	mWireKiB     = "wire KiB/call"
	compressSize = 1 << 20
)

// compressScenario echoes a compressible 1 MiB value, with and without
// zstd compression of the values (spec/rpc.md, section 13).
func compressScenario(cfg *config) *scenario {
	sc := &scenario{
		id:    "compress-1MiB",
		title: "A compressible 1 MiB value, with and without zstd",
		about: "One goroutine calls an echo method with 1 MiB of JSON log lines (numbers and words drawn at random, " +
			"about 5x compressible) over qmux on loopback TCP, one call after the other. The zstd row's client has " +
			"rpc.WithCompression (the server compresses by default): after the first call, both the arguments and " +
			"the reply go compressed, at zstd's fastest level. wire KiB/call counts the TCP bytes both ways, qmux's " +
			"headers included, per call. Loopback moves bytes almost for free, so ms/call shows what compressing costs; " +
			"a link slower than the bytes saved per millisecond lost is where it pays.",
		cols: []metric{
			{name: mMsPerCall, lowerBetter: true, format: "%.2f"},
			{name: mWireKiB, lowerBetter: true, format: "%.0f"},
		},
		baseline: "qtalk rpc",
	}
	for _, compress := range []bool{false, true} {
		name := "qtalk rpc"
		if compress {
			name += ", zstd"
		}
		sc.impls = append(sc.impls, impl{name: name, kind: qtalkImpl, run: func(rec recorder) error {
			return runCompress(cfg, compress, rec)
		}})
	}
	return sc
}

// logLines returns n bytes of JSON log lines, the same for every run.
func logLines(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"request served", "cache miss", "upstream slow", "retrying", "user signed in", "item updated"}
	levels := []string{"debug", "info", "warn", "error"}
	var b []byte
	for len(b) < n {
		b = fmt.Appendf(b, `{"ts":%d,"level":%q,"msg":%q,"path":"/api/v1/items/%d","status":%d,"ms":%d}`+"\n",
			1733380000000+r.IntN(1e9), levels[r.IntN(len(levels))], words[r.IntN(len(words))],
			r.IntN(100000), 200+100*r.IntN(4), r.IntN(2000))
	}
	return b[:n]
}

// countedConn counts the bytes a connection reads and writes.
type countedConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c countedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func runCompress(cfg *config, compress bool, rec recorder) error {
	c1, c2, err := tcpConnPair()
	if err != nil {
		return err
	}
	var wire atomic.Int64
	cs, err := qmux.New(countedConn{c1, &wire}, nil)
	if err != nil {
		c1.Close()
		c2.Close()
		return err
	}
	ss, err := qmux.New(c2, nil)
	if err != nil {
		cs.Close()
		c2.Close()
		return err
	}
	var opts []rpc.ClientOption
	if compress {
		opts = append(opts, rpc.WithCompression(0))
	}
	q := &qtalkClient{cl: rpc.NewClient(cs, opts...), cs: cs, ss: ss, after: func() {}, served: make(chan struct{})}
	q.srv = &rpc.Server{Handler: qtalkHandler()}
	go func() {
		defer close(q.served)
		q.srv.ServeSession(ss)
	}()
	defer q.close()

	payload := logLines(compressSize)
	call := func() error {
		var reply []byte
		if _, err := q.cl.Call(context.Background(), "echo", payload, &reply); err != nil {
			return err
		}
		return checkEcho(payload, reply)
	}
	// At least one call first: its reply tells a compressing client that
	// the server takes compressed arguments.
	for t0 := time.Now(); ; {
		if err := call(); err != nil {
			return err
		}
		if time.Since(t0) >= cfg.warmup {
			break
		}
	}
	calls := 0
	wire.Store(0)
	t0 := time.Now()
	for calls == 0 || time.Since(t0) < cfg.window {
		if err := call(); err != nil {
			return err
		}
		calls++
	}
	dt := time.Since(t0)
	rec(mMsPerCall, float64(dt)/float64(time.Millisecond)/float64(calls))
	rec(mWireKiB, float64(wire.Load())/1024/float64(calls))
	return nil
}
