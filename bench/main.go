// Command bench measures qtalk against raw TCP and its peers (yamux, smux,
// gRPC-Go, net/rpc, storj.io/drpc, bare quic-go) side by side in one
// process over loopback, and the qtalk command itself across processes
// (qtalk bench against qtalk serve, directly and through a gateway), and
// writes a markdown report of the medians, their ratios and
// qtalk's targets, with an optional PNG chart of the ratios.
//
//	go run . [-short] [-reps n] [-run id] [-out RESULTS.md] [-png ratios.png]
//
// It exits with status 1 when a run failed or left goroutines or file
// descriptors behind; missed targets are only reported.
//
// Every scenario runs each implementation once per repetition, in an order
// that rotates from one repetition to the next, so drifts of a shared
// machine fall on all of them alike. -short runs one repetition with tiny
// sizes, as a smoke test for CI.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// config holds the sizes of a run.
type config struct {
	short        bool
	reps         int
	warmup       time.Duration // traffic before measuring starts
	window       time.Duration // how long a measurement lasts
	manyChannels int           // the "1024 channels" scenario
	idleChannels int
	soakOpens    int // opens of the churn soak, run once
}

func newConfig(short bool) config {
	if short {
		return config{
			short:        true,
			reps:         1,
			warmup:       10 * time.Millisecond,
			window:       40 * time.Millisecond,
			manyChannels: 256,
			idleChannels: 1000,
			soakOpens:    10_000,
		}
	}
	return config{
		reps:         5,
		warmup:       200 * time.Millisecond,
		window:       time.Second,
		manyChannels: 1024,
		idleChannels: 10_000,
		soakOpens:    1_000_000,
	}
}

func main() {
	short := flag.Bool("short", false, "one repetition with tiny sizes (a smoke test)")
	reps := flag.Int("reps", 0, "repetitions (default 5, or 1 with -short)")
	out := flag.String("out", "", "write the markdown report to this file instead of stdout")
	pngOut := flag.String("png", "", "write a bar chart of the ratios to this PNG file")
	only := flag.String("run", "", "run only the scenarios whose id matches this regular expression (as go test -run: unanchored, so a plain id matches as a substring)")
	client := flag.Bool("client", false, "run as the Go client of the Node and cross-process scenarios (with --addr, --mode, --concurrency, --warmup, --window: the Node client's flags)")
	echoServer := flag.Bool("echo-server", false, "run as the TCP echo server of the cross-process scenarios, until SIGTERM")
	relay := flag.String("relay", "", "run as a TCP relay to this address (the relay scenarios), until SIGTERM")
	addr := flag.String("addr", "", "with -client: the server's address")
	mode := flag.String("mode", "unary", "with -client: unary, bulk, or ping (TCP round trips with -echo-server)")
	label := flag.String("label", "echo", "with -client --mode unary: the label called")
	conc := flag.Int("concurrency", 1, "with -client: concurrent callers")
	warmupMs := flag.Int("warmup", 200, "with -client: milliseconds of traffic before measuring")
	windowMs := flag.Int("window", 1000, "with -client: milliseconds measured")
	flag.Parse()
	if *client {
		if err := clientMain(*addr, *mode, *label, *conc, time.Duration(*warmupMs)*time.Millisecond, time.Duration(*windowMs)*time.Millisecond); err != nil {
			fatal(err)
		}
		return
	}
	if *echoServer {
		if err := echoServerMain(); err != nil {
			fatal(err)
		}
		return
	}
	if *relay != "" {
		if err := relayMain(*relay); err != nil {
			fatal(err)
		}
		return
	}

	cfg := newConfig(*short)
	if *reps > 0 {
		cfg.reps = *reps
	}
	start, loadBefore, treeState := time.Now(), loadAverage(), qtalkTree()
	res := newResults()
	scs := allScenarios(&cfg)
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: -run: %v\n", err)
			os.Exit(2)
		}
		var keep []*scenario
		for _, sc := range scs {
			if re.MatchString(sc.id) {
				keep = append(keep, sc)
			}
		}
		scs = keep
	}
	runAll(&cfg, scs, res)
	removeBuilt()

	rep := report{
		cfg:      &cfg,
		res:      res,
		scs:      scs,
		started:  start,
		elapsed:  time.Since(start),
		cmdline:  commandLine(flag.CommandLine),
		cpuModel: cpuModel(),
		load:     [2]string{loadBefore, loadAverage()},
		tree:     treeState,
	}
	md := rep.markdown()
	if *out == "" {
		fmt.Print(md)
	} else if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
		fatal(err)
	}
	if *pngOut != "" {
		if err := writeChart(*pngOut, rep.chartBars()); err != nil {
			fatal(err)
		}
	}
	if n := len(res.problems); n > 0 {
		fmt.Fprintf(os.Stderr, "bench: %d problem(s), see the report's notes\n", n)
		os.Exit(1)
	}
}

// runAll runs every scenario cfg.reps times (once-only scenarios once, at
// the end), rotating the order of the implementations, and checks that
// each run leaves no goroutine behind.
func runAll(cfg *config, scs []*scenario, res *results) {
	for rep := range cfg.reps {
		for _, sc := range scs {
			if !sc.once {
				runScenario(cfg, sc, rep, res)
			}
		}
	}
	for _, sc := range scs {
		if sc.once {
			runScenario(cfg, sc, 0, res)
		}
	}
}

func runScenario(cfg *config, sc *scenario, rep int, res *results) {
	n := len(sc.impls)
	for i := range n {
		im := sc.impls[(i+rep)%n]
		runtime.GC()
		before, fds := runtime.NumGoroutine(), openFDs()
		t0 := time.Now()
		err := im.run(func(metric string, v float64) { res.add(sc.id, im.name, metric, v) })
		fmt.Fprintf(os.Stderr, "rep %d/%d  %-12s %-12s %v\n", rep+1, cfg.reps, sc.id, im.name, time.Since(t0).Round(time.Millisecond))
		if err != nil {
			res.problem("%s / %s: %v", sc.id, im.name, err)
		}
		if g := settleGoroutines(before, 5*time.Second); g > before {
			res.problem("%s / %s left %d goroutine(s) running", sc.id, im.name, g-before)
		}
		if f := openFDs(); f > fds {
			res.problem("%s / %s left %d file descriptor(s) open", sc.id, im.name, f-fds)
		}
	}
}

// openFDs returns the number of open file descriptors (sockets included),
// or 0 where /proc is missing.
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents)
}

// cpuModel returns the CPU's model name from /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// qtalkTree describes the qtalk source measured: its commit and the files
// of the packages measured changed since (read-only git commands).
func qtalkTree() string {
	head, err := exec.Command("git", "-C", "..", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown (no git)"
	}
	out, err := exec.Command("git", "-C", "..", "status", "--porcelain", "--untracked-files=all", "--", "mux", "rpc", "go.mod").Output()
	if err != nil {
		return strings.TrimSpace(string(head))
	}
	var changed []string
	for line := range strings.Lines(string(out)) {
		if f := strings.TrimSpace(line); len(f) > 3 {
			changed = append(changed, strings.TrimSpace(f[2:]))
		}
	}
	if len(changed) == 0 {
		return strings.TrimSpace(string(head)) + ", clean"
	}
	const shown = 8
	list := strings.Join(changed[:min(len(changed), shown)], ", ")
	if len(changed) > shown {
		list += ", ..."
	}
	return fmt.Sprintf("%s plus %d changed or new file(s): %s", strings.TrimSpace(string(head)), len(changed), list)
}

// loadAverage returns the 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(2)
}

// commandLine is the command the report was made with, as it is run from
// the bench directory: go run with the flags set, files by their base name
// (the report goes into the repository, the machine's paths do not).
func commandLine(fs *flag.FlagSet) string {
	parts := []string{"go run ."}
	fs.Visit(func(f *flag.Flag) {
		v := f.Value.String()
		if f.Name == "out" || f.Name == "png" {
			v = filepath.Base(v)
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() && v == "true" {
			parts = append(parts, "-"+f.Name)
			return
		}
		parts = append(parts, "-"+f.Name+" "+v)
	})
	return strings.Join(parts, " ")
}
