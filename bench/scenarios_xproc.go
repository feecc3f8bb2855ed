package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Scenarios across processes, as users run qtalk: the qtalk binary
// (../cmd/qtalk, built once per run) serving and benchmarking, each end in
// a process of its own, beside a raw TCP round trip between two processes
// (this program run with -echo-server and with -client --mode ping).

// xprocScenario compares qtalk bench against qtalk serve with a TCP round
// trip between two processes, at concurrency 1.
func xprocScenario(cfg *config) *scenario {
	return &scenario{
		id:    "xproc-c1",
		title: "Across processes: qtalk bench against qtalk serve, 64 B, concurrency 1",
		about: "Every row runs its client and its server in two processes of their own over loopback TCP. " +
			"tcp round trip: a process writes 64 bytes and reads them back from another that echoes them " +
			"(this program with -client --mode ping and with -echo-server). qtalk bench: `qtalk bench --concurrency 1` " +
			"calling echo:echo on `qtalk serve --listen tcp://127.0.0.1:0`, for the warmup and the window together " +
			"(its latencies include the warmup's). Go client: this program with -client calling echo:echo on the same " +
			"qtalk serve, which tells the cost of the qtalk bench command from the cost of the client library.",
		cols: []metric{
			{name: mP50Us, lowerBetter: true, format: "%.1f"},
			{name: mP99Us, lowerBetter: true, format: "%.1f"},
			{name: mCallsPerSec, format: "%.0f"},
		},
		baseline: xprocTCP,
		impls: []impl{
			{name: xprocTCP, kind: refImpl, run: func(rec recorder) error { return runTCPPingProcesses(cfg, rec) }},
			{name: xprocQtalkBench, kind: qtalkImpl, run: func(rec recorder) error { return runQtalkBenchDirect(cfg, 1, rec) }},
			{name: xprocGoClient, kind: refImpl, run: func(rec recorder) error { return runGoClientOnQtalkServe(cfg, rec) }},
		},
	}
}

const (
	xprocTCP        = "tcp round trip, two processes"
	xprocQtalkBench = "qtalk bench, qtalk serve"
	xprocGoClient   = "Go client, qtalk serve"

	gatewayDirect  = "direct to the upstream"
	gatewayThrough = "through a gateway"

	relayDirect  = "tcp echo, two processes"
	relayThrough = "tcp echo through a relay, three processes"
)

// gatewayScenarios compare calls through a gateway with calls straight to
// its upstream, at concurrency 1 and 32.
func gatewayScenarios(cfg *config) []*scenario {
	var scs []*scenario
	for _, conc := range []int{1, 32} {
		scs = append(scs, &scenario{
			id:    fmt.Sprintf("gateway-c%d", conc),
			title: fmt.Sprintf("Through a gateway: three processes, 64 B, concurrency %d", conc),
			about: fmt.Sprintf("`qtalk bench --concurrency %d` calls echo:echo on an upstream `qtalk serve --listen tcp://127.0.0.1:0`, "+
				"either directly or through a gateway: `qtalk serve --config` with one service, echo, whose provider is the "+
				"upstream's address. Each is a process of its own, over loopback TCP; the bench runs for the warmup and the "+
				"window together.", conc),
			cols:     callCols(),
			baseline: gatewayDirect,
			impls: []impl{
				{name: gatewayDirect, kind: refImpl, run: func(rec recorder) error { return runQtalkBenchDirect(cfg, conc, rec) }},
				{name: gatewayThrough, kind: qtalkImpl, run: func(rec recorder) error { return runQtalkBenchGateway(cfg, conc, rec) }},
			},
		})
	}
	return scs
}

// relayScenarios measure what a bare relay costs on this machine: TCP
// round trips through a process that copies bytes both ways, against
// the same round trips straight to the echoing process, the floor of what
// a gateway can keep of the direct calls.
func relayScenarios(cfg *config) []*scenario {
	var scs []*scenario
	for _, conc := range []int{1, 32} {
		scs = append(scs, &scenario{
			id:    fmt.Sprintf("tcp-relay-c%d", conc),
			title: fmt.Sprintf("Through a TCP relay: three processes, 64 B, concurrency %d", conc),
			about: fmt.Sprintf("The reference of the gateway rows: 64 bytes written %s and read back from a process "+
				"that echoes them (this program with -client --mode ping and with -echo-server), either directly or "+
				"through a third process, this program with -relay, which for each connection dials the echoing process "+
				"and copies bytes both ways with plain reads and writes. No framing, no routing: what a relay costs on "+
				"this machine before any work of its own.", callers(conc)),
			cols:     callCols(),
			baseline: relayDirect,
			impls: []impl{
				{name: relayDirect, kind: refImpl, run: func(rec recorder) error {
					return runTCPPing(cfg, []func([]string) ([]string, error){echoServer}, conc, rec)
				}},
				{name: relayThrough, kind: refImpl, run: func(rec recorder) error {
					return runTCPPing(cfg, []func([]string) ([]string, error){echoServer, tcpRelay}, conc, rec)
				}},
			},
		})
	}
	return scs
}

// callers says who makes the round trips of a relay scenario.
func callers(conc int) string {
	if conc == 1 {
		return "by one goroutine on a TCP connection"
	}
	return fmt.Sprintf("by %d goroutines, each on a TCP connection of its own,", conc)
}

// qtalkBinary builds the qtalk command once per run, in a directory that
// removeBuilt removes.
var qtalkBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "qtalk-bench-")
	if err != nil {
		return "", err
	}
	builtDir = dir
	bin := filepath.Join(dir, "qtalk")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/qtalk")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building ../cmd/qtalk: %w: %s", err, bytes.TrimSpace(out))
	}
	return bin, nil
})

// builtDir is the directory qtalkBinary built into, "" before.
var builtDir string

// removeBuilt removes what qtalkBinary built.
func removeBuilt() {
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
}

// A process is a server the scenario started, running until stop.
type process struct {
	name string
	cmd  *exec.Cmd
	tail *tailBuffer // the end of its stderr, for errors
	done chan error  // its exit, once stderr is drained
}

// listeningLine matches the log line of a qtalk server or of
// -echo-server that gives the address it listens on.
var listeningLine = regexp.MustCompile(`listening.* addr=(\S+)`)

// startServerProcess runs argv and waits for it to log the address it
// listens on (a tcp one: without a scheme, tcp:// is added).
func startServerProcess(argv []string) (*process, string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, "", err
	}
	p := &process{name: filepath.Base(argv[0]) + " " + argv[1], cmd: cmd, tail: &tailBuffer{}, done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		found := false
		for sc.Scan() {
			line := sc.Text()
			p.tail.add(line)
			if m := listeningLine.FindStringSubmatch(line); m != nil && !found {
				found = true
				addrc <- m[1]
			}
		}
		io.Copy(io.Discard, stderr) // a line longer than the scanner takes
		p.done <- cmd.Wait()
	}()
	const startLimit = 30 * time.Second
	select {
	case addr := <-addrc:
		if !strings.Contains(addr, "://") {
			addr = "tcp://" + addr
		}
		return p, addr, nil
	case err := <-p.done:
		return nil, "", fmt.Errorf("%s exited before listening (%v): %s", p.name, err, p.tail)
	case <-time.After(startLimit):
		p.cmd.Process.Kill()
		<-p.done
		return nil, "", fmt.Errorf("%s did not log its address within %v: %s", p.name, startLimit, p.tail)
	}
}

// stop ends the process with SIGTERM, or kills it if it does not exit
// within 10 s, and reports a failed exit.
func (p *process) stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("%s: %w: %s", p.name, err, p.tail)
		}
		return nil
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not exit within 10s of SIGTERM: %s", p.name, p.tail)
	}
}

// A tailBuffer keeps the last lines written to it.
type tailBuffer struct {
	mu    sync.Mutex // guards lines
	lines []string
}

const tailLines = 10

func (t *tailBuffer) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > tailLines {
		t.lines = t.lines[len(t.lines)-tailLines:]
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// withServers starts the server processes in order, each argv built from
// the addresses of those before it, runs f with the last one's address,
// and stops them all in reverse order.
func withServers(argvs []func(addrs []string) ([]string, error), f func(addr string) error) (err error) {
	var addrs []string
	for _, mk := range argvs {
		argv, err := mk(addrs)
		if err != nil {
			return err
		}
		p, addr, err := startServerProcess(argv)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, p.stop()) }()
		addrs = append(addrs, addr)
	}
	return f(addrs[len(addrs)-1])
}

// qtalkServe is an upstream: qtalk serve with its built-in services.
func qtalkServe([]string) ([]string, error) {
	bin, err := qtalkBinary()
	if err != nil {
		return nil, err
	}
	return []string{bin, "serve", "--listen", "tcp://127.0.0.1:0"}, nil
}

// qtalkGateway is qtalk serve --config forwarding echo to the upstream
// started before it, with a config file in the build directory.
func qtalkGateway(addrs []string) ([]string, error) {
	bin, err := qtalkBinary()
	if err != nil {
		return nil, err
	}
	conf := fmt.Sprintf("listen = [\"tcp://127.0.0.1:0\"]\nwatch_interval = \"0s\"\n\n[services]\necho = { provider = %q }\n", addrs[0])
	f, err := os.CreateTemp(builtDir, "gateway-*.toml")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(conf); err != nil {
		return nil, err
	}
	return []string{bin, "serve", "--config", f.Name()}, nil
}

func runQtalkBenchDirect(cfg *config, conc int, rec recorder) error {
	return withServers([]func([]string) ([]string, error){qtalkServe}, func(addr string) error {
		return runQtalkBench(cfg, addr, conc, rec)
	})
}

func runQtalkBenchGateway(cfg *config, conc int, rec recorder) error {
	return withServers([]func([]string) ([]string, error){qtalkServe, qtalkGateway}, func(addr string) error {
		return runQtalkBench(cfg, addr, conc, rec)
	})
}

func runGoClientOnQtalkServe(cfg *config, rec recorder) error {
	return withServers([]func([]string) ([]string, error){qtalkServe}, func(addr string) error {
		argv, err := goClient()
		if err != nil {
			return err
		}
		return runClient(cfg, append(argv, "--label", "echo:echo"), addr, "unary", 1, rec)
	})
}

// runTCPPingProcesses measures a TCP round trip between two processes
// other than this one.
func runTCPPingProcesses(cfg *config, rec recorder) error {
	return runTCPPing(cfg, []func([]string) ([]string, error){echoServer}, 1, rec)
}

// runTCPPing runs the ping client at concurrency conc against the last
// of servers.
func runTCPPing(cfg *config, servers []func([]string) ([]string, error), conc int, rec recorder) error {
	return withServers(servers, func(addr string) error {
		argv, err := goClient()
		if err != nil {
			return err
		}
		return runClient(cfg, argv, addr, "ping", conc, rec)
	})
}

// echoServer is this program with -echo-server.
func echoServer([]string) ([]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return []string{self, "-echo-server"}, nil
}

// tcpRelay is this program with -relay to the server started before it.
func tcpRelay(addrs []string) ([]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return []string{self, "-relay", addrs[0]}, nil
}

// runQtalkBench runs qtalk bench against addr for the warmup and the
// window, and records the figures of its summary.
func runQtalkBench(cfg *config, addr string, conc int, rec recorder) error {
	bin, err := qtalkBinary()
	if err != nil {
		return err
	}
	d := cfg.warmup + cfg.window
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "bench", "--label", "echo:echo", "--size", fmt.Sprint(unarySize),
		"--concurrency", fmt.Sprint(conc), "--duration", d.String(), addr)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("qtalk bench: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	calls, p50, p99, err := parseBenchSummary(stdout.String())
	if err != nil {
		return fmt.Errorf("qtalk bench printed %q: %w", stdout.String(), err)
	}
	rec(mCallsPerSec, calls)
	rec(mP50Us, micros(p50))
	rec(mP99Us, micros(p99))
	return nil
}

// benchSummaryTail are the last columns of qtalk bench's summary.
var benchSummaryTail = []string{"calls/s", "p50", "p99", "max", "MB/s"}

// parseBenchSummary reads calls/s, p50 and p99 from qtalk bench's
// summary: a header and a row, whose last columns are benchSummaryTail.
func parseBenchSummary(out string) (callsPerSec float64, p50, p99 time.Duration, err error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		return 0, 0, 0, errors.New("want a header and a row")
	}
	head, row := strings.Fields(lines[0]), strings.Fields(lines[1])
	n := len(benchSummaryTail)
	if len(head) < n || len(row) < n || strings.Join(head[len(head)-n:], " ") != strings.Join(benchSummaryTail, " ") {
		return 0, 0, 0, fmt.Errorf("want the last columns %v", benchSummaryTail)
	}
	cols := row[len(row)-n:]
	if _, err := fmt.Sscan(cols[0], &callsPerSec); err != nil {
		return 0, 0, 0, fmt.Errorf("calls/s: %w", err)
	}
	if p50, err = time.ParseDuration(cols[1]); err != nil {
		return 0, 0, 0, fmt.Errorf("p50: %w", err)
	}
	if p99, err = time.ParseDuration(cols[2]); err != nil {
		return 0, 0, 0, fmt.Errorf("p99: %w", err)
	}
	return callsPerSec, p50, p99, nil
}

// echoServerMain is this program run with -echo-server: it echoes what
// every TCP connection sends until SIGTERM or SIGINT, logging its
// address on stderr as qtalk serve does.
func echoServerMain() error {
	return serveTCP(func(c net.Conn, conns *connSet) { pump(c, c) })
}

// relayMain is this program run with -relay upstream: for every TCP
// connection it takes it dials upstream and copies bytes both ways, as a
// bare relay between processes, until SIGTERM or SIGINT.
func relayMain(upstream string) error {
	upstream = strings.TrimPrefix(upstream, "tcp://")
	return serveTCP(func(c net.Conn, conns *connSet) {
		u, err := net.Dial("tcp", upstream)
		if err == nil {
			u, err = conns.add(u)
		}
		if err != nil {
			// The client sees its connection end; the reason is here.
			fmt.Fprintf(os.Stderr, "relay: %v\n", err)
			c.Close()
			return
		}
		var down sync.WaitGroup
		down.Go(func() {
			pump(c, u)
			c.Close()
		})
		pump(u, c)
		u.Close()
		down.Wait()
	})
}

// serveTCP listens on loopback, logs its address on stderr as qtalk
// serve does, and runs handle for every connection until SIGTERM or
// SIGINT; handle adds any connection it dials to conns, which are closed
// then.
func serveTCP(handle func(c net.Conn, conns *connSet)) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "listening addr=tcp://%s\n", ln.Addr())
	conns := &connSet{}
	var served sync.WaitGroup
	served.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if c, err = conns.add(c); err != nil {
				return
			}
			served.Go(func() { handle(c, conns) })
		}
	})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	ln.Close()
	conns.close()
	served.Wait()
	return nil
}

// pump writes to dst what it reads from src, with plain reads and writes
// (io.Copy would splice, which a qtalk server cannot), until either fails.
func pump(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

// tcpPing is the client of -client --mode ping: 64 B round trips to addr
// (tcp://host:port) from conc goroutines, each on a TCP connection of its
// own.
func tcpPing(cfg *config, addr string, conc int, rec recorder) error {
	conns := make([]net.Conn, 0, conc)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range conc {
		c, err := net.Dial("tcp", strings.TrimPrefix(addr, "tcp://"))
		if err != nil {
			return err
		}
		conns = append(conns, c)
	}
	bufs := make([][]byte, conc)
	for i := range bufs {
		bufs[i] = make([]byte, pingSize)
	}
	_, err := timeCalls(cfg, conc, func(i int) error {
		if _, err := conns[i].Write(bufs[i]); err != nil {
			return err
		}
		_, err := io.ReadFull(conns[i], bufs[i])
		return err
	}, nil, rec)
	return err
}
