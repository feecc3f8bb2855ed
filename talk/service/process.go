package service

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/qtalkkit/qtalk/internal/backoff"
	"github.com/qtalkkit/qtalk/internal/childpipe"
	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/transport"
)

// maxStderrLine bounds a line of a child's stderr as logged: the rest of
// a longer line is dropped. stderrDrain is how long the pipes of a child
// that has exited are still read: what it wrote is there at once, and
// only a grandchild that holds them could keep them open.
const (
	maxStderrLine = 4 << 10
	stderrDrain   = time.Second
)

// A process supervises the child program of a process service (an exec:
// provider, or a service built from source): the pool of the provider
// "dials" it by starting a child, whose stdin and stdout carry the
// session. When the child exits, the next start waits, with exponential
// backoff and jitter (internal/backoff, from reconnect_min to
// reconnect_max), unless the child ran at least reconnect_max, which
// starts the backoff over: a child that exits at once is not started
// again in a loop. Meanwhile the pool fails calls with
// rpc.CodeUnavailable. A child that does not answer qtalk:ping within the
// ping timeout is hung: it is stopped and started again. Stopping a child
// sends SIGTERM, then SIGKILL after the stop timeout.
type process struct {
	srv      *Server
	ctx      context.Context // the pool's: ends when the pool is closed
	name     string          // the service it was made for: the id of its log records
	log      *slog.Logger
	settings config.Process
	stable   time.Duration                               // a run this long starts the backoff over
	command  func(ctx context.Context) ([]string, error) // the program and its arguments (building it first, for a src)

	mu       sync.Mutex
	child    *child           // guarded by mu; the running child, or nil
	backoff  *backoff.Backoff // guarded by mu
	startAt  time.Time        // guarded by mu; no child starts before
	starts   int              // guarded by mu; children started
	exit     string           // guarded by mu; why the last child ended, "" if none did
	stopped  bool             // guarded by mu; no child starts any more
	listed   bool             // guarded by mu; in the server's list of processes
	building sync.Mutex       // held while the command is made (a src build)
}

// A ProcessInfo describes the child program of a process service, for
// LabelServices.
type ProcessInfo struct {
	PID      int    `cbor:"pid,omitempty" json:"pid,omitempty"`   // of the running child; 0 when none runs
	Restarts int    `cbor:"restarts" json:"restarts"`             // children started after the first
	Exit     string `cbor:"exit,omitempty" json:"exit,omitempty"` // why the last child ended ("exit status 3", "signal: killed", "hung: ..."), "" if none did
}

// errRestartWait is the error of a start that comes before the backoff
// allows: the pool waits until then.
type errRestartWait struct {
	wait time.Duration
	exit string
}

func (e *errRestartWait) Error() string {
	return fmt.Sprintf("process restarts in %s (last exit: %s)", e.wait.Round(time.Millisecond), e.exit)
}

// restartDelay returns how long the process of err asks the pool to wait.
func restartDelay(err error) (time.Duration, bool) {
	var rw *errRestartWait
	if errors.As(err, &rw) {
		return rw.wait, true
	}
	return 0, false
}

// errProcessStopped is the error of a start after the process stopped.
var errProcessStopped = errors.New("process stopped")

// newProcess returns the process of the service sc, whose pool's context
// is ctx, under the limits of its config.
func newProcess(srv *Server, ctx context.Context, sc *config.Service, limits config.Limits) *process {
	p := &process{
		srv:      srv,
		ctx:      ctx,
		name:     sc.Name,
		log:      srv.logger.With("type", "service", "id", sc.Name),
		settings: sc.Process,
		stable:   limits.ReconnectMax,
		backoff:  backoff.Policy{Min: limits.ReconnectMin, Max: limits.ReconnectMax}.New(),
	}
	if sc.Src != "" {
		src := sc.Src
		p.command = func(ctx context.Context) ([]string, error) {
			bin, err := srv.buildSrc(ctx, p.log, p.name, src)
			if err != nil {
				return nil, err
			}
			return []string{bin}, nil
		}
	} else {
		addr := sc.Provider
		p.command = func(context.Context) ([]string, error) {
			a, err := transport.ParseAddress(addr)
			if err != nil {
				return nil, err
			}
			return a.Args()
		}
	}
	return p
}

// dial starts a child and returns the peer of the session over its
// stdin and stdout, made with opts. It fails with an *errRestartWait
// before the backoff allows a start.
func (p *process) dial(ctx context.Context, opts ...talk.Option) (*talk.Peer, error) {
	p.building.Lock() // one start at a time
	defer p.building.Unlock()
	p.mu.Lock()
	if c := p.child; c != nil { // the session ended: the child is stopped, if not yet noted
		p.mu.Unlock()
		c.stop("")
		<-c.noted
		p.mu.Lock()
	}
	if p.stopped {
		p.mu.Unlock()
		return nil, errProcessStopped
	}
	if wait := time.Until(p.startAt); wait > 0 {
		err := &errRestartWait{wait: wait, exit: p.exit}
		p.mu.Unlock()
		return nil, err
	}
	p.mu.Unlock()

	args, err := p.command(p.ctx)
	if err != nil {
		p.failed(err.Error())
		return nil, err
	}
	c, err := p.start(args)
	if err != nil {
		p.failed(err.Error())
		return nil, err
	}
	sess, err := transport.NewSession(c, nil) // closes c if it fails
	if err != nil {
		p.exited(c)
		return nil, err
	}
	peer := talk.NewPeer(sess, opts...)
	if !p.srv.spawn(func() { p.watch(c, peer) }) {
		peer.Close() // stops c
		p.exited(c)
		return nil, errProcessStopped
	}
	return peer, nil
}

// failed notes a start that failed (the build or the exec) as the end of
// a child that ran for no time.
func (p *process) failed(reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.exit = reason
	wait := p.backoff.Next()
	p.startAt = time.Now().Add(wait)
	p.log.Warn("process failed to start", "err", reason, "retry", wait)
}

// start starts the child of args.
func (p *process) start(args []string) (*child, error) {
	if len(args) == 0 {
		return nil, errors.New("no command")
	}
	cmd := exec.Command(args[0], args[1:]...)
	pipes, err := childpipe.Start(cmd, true)
	if err != nil {
		return nil, err
	}
	errR := pipes.Stderr
	c := &child{cmd: cmd, stdin: pipes.Stdin, stdout: pipes.Stdout, started: time.Now(), grace: p.settings.StopTimeout,
		exited: make(chan struct{}), noted: make(chan struct{}), addr: mux.Addr{Net: "exec", Name: args[0]}}
	go func() {
		c.waitErr = cmd.Wait()
		// What the child wrote is in the pipes: read it, but let no
		// grandchild that holds them keep the session or the log going.
		errR.SetReadDeadline(time.Now().Add(stderrDrain))
		c.stdout.SetReadDeadline(time.Now().Add(stderrDrain))
		close(c.exited)
	}()
	pid := cmd.Process.Pid
	if !p.srv.spawn(func() { p.logStderr(errR, pid) }) {
		errR.Close()
	}
	p.mu.Lock()
	p.child = c
	p.starts++
	restarts, listed, stopped := p.starts-1, p.listed, p.stopped
	p.listed = true
	p.mu.Unlock()
	if !listed {
		p.srv.addProcess(p)
	}
	p.log.Info("process started", "pid", pid, "restarts", restarts)
	if stopped { // stop came while it started
		c.stop("")
	}
	return c, nil
}

// logStderr logs each line of the child's stderr until its end, and
// closes it.
func (p *process) logStderr(r io.ReadCloser, pid int) {
	defer r.Close()
	br := bufio.NewReaderSize(r, maxStderrLine)
	for {
		line, isPrefix, err := br.ReadLine()
		if len(line) > 0 || err == nil {
			p.log.Info("stderr", "pid", pid, "line", string(line))
		}
		for isPrefix && err == nil { // drop the rest of a long line
			_, isPrefix, err = br.ReadLine()
		}
		if err != nil {
			return
		}
	}
}

// watch waits for the child to exit, pinging it meanwhile if the service
// says so, and notes how it ended.
func (p *process) watch(c *child, peer *talk.Peer) {
	var tick <-chan time.Time
	if d := p.settings.PingInterval; d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		tick = t.C
	}
	for done := false; !done; {
		select {
		case <-c.exited:
			done = true
		case <-tick:
			ctx, cancel := context.WithTimeout(peer.Context(), p.settings.PingTimeout)
			_, err := peer.Ping(ctx, 0)
			hung := ctx.Err() == context.DeadlineExceeded && peer.Context().Err() == nil
			cancel()
			if hung {
				reason := fmt.Sprintf("hung: no answer to %s within %s", talk.LabelPing, p.settings.PingTimeout)
				p.log.Warn("process not answering", "pid", c.cmd.Process.Pid, "err", err)
				c.stop(reason)
				done = true
			}
		}
	}
	<-c.exited
	peer.Close() // the pool notices, and starts the next child
	p.exited(c)
}

// exited notes the end of c, which must have exited, and when the next
// child may start.
func (p *process) exited(c *child) {
	<-c.exited
	p.mu.Lock()
	defer p.mu.Unlock()
	defer close(c.noted)
	if p.child == c {
		p.child = nil
	}
	p.exit = c.reason()
	ran := time.Since(c.started)
	if ran >= p.stable {
		p.backoff.Reset()
	}
	if p.stopped {
		p.log.Info("process stopped", "pid", c.cmd.Process.Pid, "exit", p.exit)
		return
	}
	wait := p.backoff.Next()
	p.startAt = time.Now().Add(wait)
	p.log.Warn("process exited", "pid", c.cmd.Process.Pid, "exit", p.exit, "ran", ran.Round(time.Millisecond), "restart", wait.Round(time.Millisecond))
}

// stop stops the child, if one runs, and keeps others from starting. It
// returns once the child's end is noted ("process stopped" logged), so
// that the children Close stops one after the other are noted in that
// order too.
func (p *process) stop() {
	p.mu.Lock()
	p.stopped = true
	c := p.child
	p.mu.Unlock()
	if c != nil {
		c.stop("")
		<-c.noted
	}
}

// info describes the process.
func (p *process) info() *ProcessInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	info := &ProcessInfo{Restarts: max(p.starts-1, 0), Exit: p.exit}
	if p.child != nil {
		info.PID = p.child.cmd.Process.Pid
	}
	return info
}

// addProcess appends p to the processes Close stops, in the order they
// first started.
func (s *Server) addProcess(p *process) {
	s.procMu.Lock()
	defer s.procMu.Unlock()
	s.procs = append(s.procs, p)
}

// removeProcess drops p from the list once its pool is closed.
func (s *Server) removeProcess(p *process) {
	s.procMu.Lock()
	defer s.procMu.Unlock()
	for i, q := range s.procs {
		if q == p {
			s.procs = append(s.procs[:i], s.procs[i+1:]...)
			return
		}
	}
}

// stopProcesses stops the children of the process services, one after
// the other, in the reverse order of their first start.
func (s *Server) stopProcesses() {
	s.procMu.Lock()
	procs := append([]*process{}, s.procs...)
	s.procMu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].stop()
	}
}

// startProcesses starts the pools of the process services of order that
// start with the server.
func (s *Server) startProcesses(st *state, order []*config.Service) {
	for _, sc := range order {
		if svc := st.services[sc.Name]; svc != nil && svc.remote != nil && sc.Process.Start == config.StartStartup {
			svc.remote.prov.start()
		}
	}
}

// A child is one run of a process's program. It is the connection the
// session runs over: Read reads its stdout, Write writes its stdin, and
// Close stops it.
type child struct {
	cmd     *exec.Cmd
	stdin   *os.File // write end of the child's stdin
	stdout  *os.File // read end of the child's stdout
	started time.Time
	grace   time.Duration // from SIGTERM to SIGKILL
	addr    mux.Addr

	exited  chan struct{} // closed once the child is reaped
	waitErr error         // cmd.Wait's error; written before exited is closed
	noted   chan struct{} // closed once the process has noted the end

	mu     sync.Mutex
	why    string // guarded by mu; why it was stopped, if it was
	closed bool   // guarded by mu
}

func (c *child) Read(b []byte) (int, error)  { return c.stdout.Read(b) }
func (c *child) Write(b []byte) (int, error) { return c.stdin.Write(b) }
func (c *child) LocalAddr() net.Addr         { return c.addr }
func (c *child) RemoteAddr() net.Addr        { return c.addr }

// Close stops the child: the session over it is closed.
func (c *child) Close() error {
	c.stop("")
	c.stdin.Close()
	c.stdout.Close()
	return nil
}

// stop sends the child SIGTERM, then SIGKILL if it has not exited
// within its grace, and waits until it is reaped. A why that is not
// empty is the reason of its end.
func (c *child) stop(why string) {
	c.mu.Lock()
	if why != "" && c.why == "" {
		c.why = why
	}
	first := !c.closed
	c.closed = true
	c.mu.Unlock()
	if first {
		select {
		case <-c.exited:
		default:
			c.cmd.Process.Signal(syscall.SIGTERM)
			t := time.NewTimer(c.grace)
			select {
			case <-c.exited:
			case <-t.C:
				c.cmd.Process.Kill()
			}
			t.Stop()
		}
	}
	<-c.exited
}

// reason says why the child ended. Call it once exited is closed.
func (c *child) reason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	exit := "exit status 0"
	if c.waitErr != nil {
		exit = c.waitErr.Error()
	}
	if c.why != "" {
		return c.why + " (" + exit + ")"
	}
	return exit
}
