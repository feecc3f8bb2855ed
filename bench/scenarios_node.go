package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
	qtransport "github.com/qtalkkit/qtalk/transport"
)

// The TypeScript client in Node against a Go qtalk server, beside the Go
// client against the same server in the same run. The Node side is
// js/dist/bench/client.js (js/src/bench/client.ts), which measures over
// the window it is given and prints its figures as JSON.

// nodeClientScript is the Node bench client, relative to this module.
const nodeClientScript = "../js/dist/bench/client.js"

// nodeTransports are the addresses the Go server listens on for the Node
// scenarios: raw TCP and WebSocket, a browser's only way in.
var nodeTransports = []struct{ name, listen string }{
	{"tcp", "tcp://127.0.0.1:0"},
	{"ws", "ws://127.0.0.1:0/qtalk"},
}

// nodeImplName names a client over a transport, e.g. "Node client, ws".
func nodeImplName(client, tr string) string { return client + " client, " + tr }

// nodeScenarios measure unary calls at concurrency 1 and 32 and bulk
// bytes on one raw channel, for the Go and the Node client.
func nodeScenarios(cfg *config) []*scenario {
	var scs []*scenario
	for _, conc := range []int{1, 32} {
		sc := &scenario{
			id:    fmt.Sprintf("node-unary-c%d", conc),
			title: fmt.Sprintf("TypeScript client in Node: RPC unary, 64 B, concurrency %d", conc),
			about: fmt.Sprintf("%d caller(s) call echo with 64 bytes (a CBOR byte string) in a loop, over one session, "+
				"against a Go qtalk rpc server in this process listening on TCP and on WebSocket. The Node client is "+
				"the js/ package (qmux and rpc in TypeScript) in a node process of its own; the Go client runs in this "+
				"process against the same kind of server.", conc),
			cols: []metric{
				{name: mCallsPerSec, format: "%.0f"},
				{name: mP50Us, lowerBetter: true, format: "%.1f"},
				{name: mP99Us, lowerBetter: true, format: "%.1f"},
			},
		}
		for _, tr := range nodeTransports {
			sc.impls = append(sc.impls,
				impl{name: nodeImplName("Go", tr.name), kind: refImpl, run: func(rec recorder) error {
					return runGoNodePeer(cfg, tr.listen, conc, rec)
				}},
				impl{name: nodeImplName("Node", tr.name), kind: qtalkImpl, run: func(rec recorder) error {
					return runNodeClient(cfg, tr.listen, "unary", conc, rec)
				}})
		}
		scs = append(scs, sc)
	}
	bulk := &scenario{
		id:    "node-bulk",
		title: "TypeScript client in Node: bulk, one channel",
		about: "The Go server writes 64 KiB chunks on one raw rpc channel (a call that continues as raw bytes) as fast as " +
			"the client reads them; the client counts the bytes. Node and Go clients as above.",
		cols: []metric{{name: mMBps, format: "%.0f"}},
	}
	for _, tr := range nodeTransports {
		bulk.impls = append(bulk.impls,
			impl{name: nodeImplName("Go", tr.name), kind: refImpl, run: func(rec recorder) error {
				return runGoNodePeer(cfg, tr.listen, 0, rec)
			}},
			impl{name: nodeImplName("Node", tr.name), kind: qtalkImpl, run: func(rec recorder) error {
				return runNodeClient(cfg, tr.listen, "bulk", 1, rec)
			}})
	}
	return append(scs, bulk)
}

// nodeTargets are the targets of the TypeScript client: at least half the
// Go client's figures, on each transport.
func nodeTargets() []target {
	var ts []target
	for _, tr := range nodeTransports {
		for _, c := range []struct{ id, what, metric string }{
			{"node-unary-c1", "unary 64 B, concurrency 1", mCallsPerSec},
			{"node-unary-c32", "unary 64 B, concurrency 32", mCallsPerSec},
			{"node-bulk", "bulk, one channel", mMBps},
		} {
			ts = append(ts, ratioTarget(
				fmt.Sprintf("TypeScript client in Node vs the Go client, %s, over %s", c.what, tr.name),
				">= 0.5x the Go client", fmt.Sprintf("node %s %s: node / go", c.id[len("node-"):], tr.name),
				figure{c.id, nodeImplName("Node", tr.name), c.metric},
				figure{c.id, nodeImplName("Go", tr.name), c.metric}, 0.5, false))
		}
	}
	return ts
}

// nodeBenchHandler answers echo (64 B unary calls) and source (a raw
// channel the server fills until the client closes it).
func nodeBenchHandler() rpc.Handler {
	m := rpc.NewRespondMux()
	m.HandleFunc("echo", echoBytes)
	chunk := make([]byte, bulkChunk)
	m.HandleFunc("source", func(r rpc.Responder, c *rpc.Call) {
		if err := c.Receive(nil); err != nil {
			r.Error(err)
			return
		}
		if err := r.Continue(nil); err != nil {
			return
		}
		conn := r.Conn()
		for {
			if _, err := conn.Write(chunk); err != nil {
				return // the client closed the call
			}
		}
	})
	return m
}

// A benchServer is a Go qtalk rpc server listening on one address.
type benchServer struct {
	ln   qtransport.Listener
	srv  *rpc.Server
	done chan error
}

func startBenchServer(listen string) (*benchServer, error) {
	ln, err := qtransport.Listen(context.Background(), listen)
	if err != nil {
		return nil, err
	}
	s := &benchServer{ln: ln, srv: &rpc.Server{Handler: nodeBenchHandler()}, done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// addr returns the address clients dial: the listen address with the port
// the system chose.
func (s *benchServer) addr(listen string) string {
	a, _ := qtransport.ParseAddress(listen)
	a.Host = s.ln.Addr().String()
	return a.String()
}

func (s *benchServer) close() error {
	err := s.srv.Shutdown(context.Background())
	<-s.done
	return err
}

// runGoNodePeer runs the Go client against a server on listen: unary
// calls at concurrency conc, or bulk reading when conc is 0.
func runGoNodePeer(cfg *config, listen string, conc int, rec recorder) error {
	s, err := startBenchServer(listen)
	if err != nil {
		return err
	}
	defer s.close()
	sess, err := qtransport.Dial(context.Background(), s.addr(listen))
	if err != nil {
		return err
	}
	defer sess.Close()
	cl := rpc.NewClient(sess)
	if conc == 0 {
		return goBulk(cfg, cl, rec)
	}
	return goUnary(cfg, cl, conc, rec)
}

func goUnary(cfg *config, cl *rpc.Client, conc int, rec recorder) error {
	payload := make([]byte, unarySize)
	var phase atomic.Int32
	var wg sync.WaitGroup
	lats := make([]latencies, conc)
	errs := make([]error, conc)
	for i := range conc {
		wg.Go(func() {
			var reply []byte
			for {
				p := phase.Load()
				if p == phaseStop {
					return
				}
				t0 := time.Now()
				if _, err := cl.Call(context.Background(), "echo", payload, &reply); err != nil {
					errs[i] = err
					return
				}
				if err := checkEcho(payload, reply); err != nil {
					errs[i] = err
					return
				}
				if p == phaseMeasure {
					lats[i] = append(lats[i], time.Since(t0))
				}
			}
		})
	}
	time.Sleep(cfg.warmup)
	t0 := time.Now()
	phase.Store(phaseMeasure)
	time.Sleep(cfg.window)
	phase.Store(phaseStop)
	dt := time.Since(t0)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var all latencies
	for _, l := range lats {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return errors.New("no call completed")
	}
	rec(mCallsPerSec, float64(len(all))/dt.Seconds())
	rec(mP50Us, micros(all.percentile(50)))
	rec(mP99Us, micros(all.percentile(99)))
	return nil
}

func goBulk(cfg *config, cl *rpc.Client, rec recorder) error {
	resp, err := cl.Call(context.Background(), "source", nil, nil)
	if err != nil {
		return err
	}
	conn := resp.Conn()
	counts := make([]atomic.Int64, 1)
	errc := make(chan error, 1)
	go func() {
		buf := make([]byte, bulkChunk)
		for {
			n, err := conn.Read(buf)
			counts[0].Add(int64(n))
			if err != nil {
				errc <- err
				return
			}
		}
	}()
	deltas, dt := measureCounts(cfg, counts)
	resp.Close() // ends the reader's Read
	<-errc
	rec(mMBps, float64(deltas[0])/dt.Seconds()/1e6)
	return nil
}

// nodeFigures are what the Node client prints.
type nodeFigures struct {
	CallsPerSec float64 `json:"calls_per_sec"`
	P50Us       float64 `json:"p50_us"`
	P99Us       float64 `json:"p99_us"`
	MBPerSec    float64 `json:"mb_per_sec"`
}

// runNodeClient runs the Node client against a server on listen.
func runNodeClient(cfg *config, listen, mode string, conc int, rec recorder) error {
	script, err := filepath.Abs(nodeClientScript)
	if err != nil {
		return err
	}
	if _, err := os.Stat(script); err != nil {
		return fmt.Errorf("the Node bench client is not built (%w): run npm ci && npm run build in js/ (../scripts/test does)", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("node not found (%w): install Node.js 20 or later (apt-get install nodejs npm)", err)
	}
	s, err := startBenchServer(listen)
	if err != nil {
		return err
	}
	defer s.close()
	cmd := exec.Command(node, script, "--addr", s.addr(listen), "--mode", mode,
		"--concurrency", fmt.Sprint(conc),
		"--warmup", fmt.Sprint(cfg.warmup.Milliseconds()), "--window", fmt.Sprint(cfg.window.Milliseconds()))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("node bench client: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	var f nodeFigures
	if err := json.NewDecoder(io.LimitReader(&stdout, 1<<16)).Decode(&f); err != nil {
		return fmt.Errorf("node bench client printed %q: %w", stdout.String(), err)
	}
	if mode == "bulk" {
		rec(mMBps, f.MBPerSec)
		return nil
	}
	rec(mCallsPerSec, f.CallsPerSec)
	rec(mP50Us, f.P50Us)
	rec(mP99Us, f.P99Us)
	return nil
}
