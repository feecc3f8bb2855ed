package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/qtalkkit/qtalk/rpc"
	qtransport "github.com/qtalkkit/qtalk/transport"
)

// The TypeScript client in Node against a Go qtalk server, beside the Go
// client against the same server in the same run. Both clients run in a
// process of their own, as a Node client must, with the same command line:
// js/dist/bench/client.js (js/src/bench/client.ts), and this program with
// -client (clientMain). Each measures over the window it is given and
// prints its figures as JSON.

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
				"the js/ package (qmux and rpc in TypeScript) in a node process; the Go client is package rpc in a "+
				"process of its own too (this program run with -client), so that both pay the same cross-process "+
				"costs. The last row, for reference, is the Go client in the server's process, as in the unary "+
				"scenarios above.", conc),
			cols: callCols(),
		}
		for _, tr := range nodeTransports {
			sc.impls = append(sc.impls,
				impl{name: nodeImplName("Go", tr.name), kind: refImpl, run: func(rec recorder) error {
					return runClientProcess(cfg, goClient, tr.listen, "unary", conc, rec)
				}},
				impl{name: nodeImplName("Node", tr.name), kind: qtalkImpl, run: func(rec recorder) error {
					return runClientProcess(cfg, nodeClient, tr.listen, "unary", conc, rec)
				}})
		}
		sc.impls = append(sc.impls, impl{name: goInProcess, kind: refImpl, run: func(rec recorder) error {
			return runGoInProcess(cfg, "unary", conc, rec)
		}})
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
				return runClientProcess(cfg, goClient, tr.listen, "bulk", 1, rec)
			}},
			impl{name: nodeImplName("Node", tr.name), kind: qtalkImpl, run: func(rec recorder) error {
				return runClientProcess(cfg, nodeClient, tr.listen, "bulk", 1, rec)
			}})
	}
	bulk.impls = append(bulk.impls, impl{name: goInProcess, kind: refImpl, run: func(rec recorder) error {
		return runGoInProcess(cfg, "bulk", 1, rec)
	}})
	return append(scs, bulk)
}

// goInProcess names the reference row of the Go client in the server's
// process, over TCP.
const goInProcess = "Go client in the server's process, tcp"

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

// runGoInProcess runs the Go client in this process against a server on
// TCP.
func runGoInProcess(cfg *config, mode string, conc int, rec recorder) error {
	s, err := startBenchServer(nodeTransports[0].listen)
	if err != nil {
		return err
	}
	defer s.close()
	return runGoClient(cfg, s.addr(nodeTransports[0].listen), mode, "echo", conc, rec)
}

// runGoClient runs the Go client against the server at addr, calling
// label in unary mode; in ping mode, the server is a TCP echo server.
func runGoClient(cfg *config, addr, mode, label string, conc int, rec recorder) error {
	if mode == "ping" {
		return tcpPing(cfg, addr, conc, rec)
	}
	sess, err := qtransport.Dial(context.Background(), addr)
	if err != nil {
		return err
	}
	defer sess.Close()
	cl := rpc.NewClient(sess)
	switch mode {
	case "unary":
		return goUnary(cfg, cl, label, conc, rec)
	case "bulk":
		return goBulk(cfg, cl, rec)
	}
	return fmt.Errorf("unknown mode %q (unary, bulk or ping)", mode)
}

// clientMain is this program run with -client: the Go client against the
// server at addr, with the Node client's command line, printing the same
// JSON figures.
func clientMain(addr, mode, label string, conc int, warmup, window time.Duration) error {
	cfg := &config{warmup: warmup, window: window}
	var f clientFigures
	rec := func(metric string, v float64) {
		switch metric {
		case mCallsPerSec:
			f.CallsPerSec = v
		case mP50Us:
			f.P50Us = v
		case mP99Us:
			f.P99Us = v
		case mMBps:
			f.MBPerSec = v
		}
	}
	if err := runGoClient(cfg, addr, mode, label, conc, rec); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(f)
}

func goUnary(cfg *config, cl *rpc.Client, label string, conc int, rec recorder) error {
	payload := make([]byte, unarySize)
	replies := make([][]byte, conc)
	_, err := timeCalls(cfg, conc, func(i int) error {
		if _, err := cl.Call(context.Background(), label, payload, &replies[i]); err != nil {
			return err
		}
		return checkEcho(payload, replies[i])
	}, nil, rec)
	return err
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

// clientFigures are what a client process prints.
type clientFigures struct {
	CallsPerSec float64 `json:"calls_per_sec"`
	P50Us       float64 `json:"p50_us"`
	P99Us       float64 `json:"p99_us"`
	MBPerSec    float64 `json:"mb_per_sec"`
}

// A clientCommand returns the command line of a client process, or why it
// cannot be run.
type clientCommand func() ([]string, error)

// goClient is this program with -client.
func goClient() ([]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return []string{self, "-client"}, nil
}

// nodeClient is the Node bench client of js/.
func nodeClient() ([]string, error) {
	script, err := filepath.Abs(nodeClientScript)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("the Node bench client is not built (%w): run npm ci && npm run build in js/ (../scripts/test does)", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node not found (%w): install Node.js 20 or later (apt-get install nodejs npm)", err)
	}
	return []string{node, script}, nil
}

// runClientProcess runs a client process against a server on listen and
// records the figures it prints.
func runClientProcess(cfg *config, client clientCommand, listen, mode string, conc int, rec recorder) error {
	argv, err := client()
	if err != nil {
		return err
	}
	s, err := startBenchServer(listen)
	if err != nil {
		return err
	}
	defer s.close()
	return runClient(cfg, argv, s.addr(listen), mode, conc, rec)
}

// runClient runs the client process argv against the server at addr and
// records the figures it prints.
func runClient(cfg *config, argv []string, addr, mode string, conc int, rec recorder) error {
	argv = append(argv, "--addr", addr, "--mode", mode, "--concurrency", fmt.Sprint(conc),
		"--warmup", fmt.Sprint(cfg.warmup.Milliseconds()), "--window", fmt.Sprint(cfg.window.Milliseconds()))
	// A client that hangs is killed rather than hanging the run (and CI).
	limit := cfg.warmup + cfg.window + time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (killed after %v)", err, limit)
		}
		return fmt.Errorf("%s: %w: %s", filepath.Base(argv[0]), err, bytes.TrimSpace(stderr.Bytes()))
	}
	var f clientFigures
	if err := json.NewDecoder(io.LimitReader(&stdout, 1<<16)).Decode(&f); err != nil {
		return fmt.Errorf("%s printed %q: %w", filepath.Base(argv[0]), stdout.String(), err)
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
