package transport

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/qtalkkit/qtalk/internal/backoff"
	"github.com/qtalkkit/qtalk/mux/qmux"
)

// Defaults of the listeners' budgets (see Options); spec/limits.md lists
// every budget of qtalk.
const (
	// DefaultMaxConns bounds the connections one listener holds at once.
	DefaultMaxConns = 4096

	// DefaultMaxConnsPerIP bounds the connections one listener holds at
	// once from one remote IP address.
	DefaultMaxConnsPerIP = 256

	// DefaultHandshakeTimeout bounds a TLS handshake and a WebSocket
	// upgrade on the server side.
	DefaultHandshakeTimeout = 10 * time.Second

	// DefaultServerIdleTimeout ends a session a listener accepted that
	// has had no channel open and received no data for that long, the
	// first message included.
	DefaultServerIdleTimeout = 5 * time.Minute

	// AcceptErrorLogInterval is the least time between two log records of
	// a listener about accept failures, and about connections refused over
	// a limit: an attack logs a line per interval, not one per connection.
	AcceptErrorLogInterval = 10 * time.Second
)

// acceptBackoff paces the retries of an accept that failed for want of a
// resource (file descriptors, buffers), as net/http's server does.
var acceptBackoff = backoff.Policy{Min: 5 * time.Millisecond, Max: time.Second}

// maxConns, maxConnsPerIP and handshakeTimeout return the options' budgets
// with the defaults applied; a negative limit means none (0 here).
func (o *Options) maxConns() int      { return limitOrDefault(o.MaxConns, DefaultMaxConns) }
func (o *Options) maxConnsPerIP() int { return limitOrDefault(o.MaxConnsPerIP, DefaultMaxConnsPerIP) }
func (o *Options) handshakeTimeout() time.Duration {
	if o.HandshakeTimeout > 0 {
		return o.HandshakeTimeout
	}
	return DefaultHandshakeTimeout
}

// serverSessionConfig returns the session config of the sessions a
// listener accepts: SessionConfig with the listener's idle timeout.
func (o *Options) serverSessionConfig() *qmux.Config {
	var c qmux.Config
	if o.SessionConfig != nil {
		c = *o.SessionConfig
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = o.ServerIdleTimeout()
	}
	return &c
}

// ServerIdleTimeout returns the idle timeout of the sessions a listener
// accepts (see Options.IdleTimeout), with the default applied: 0 for
// none. A session config's own idle timeout takes precedence; connectors
// of other packages (transport/quic) apply it to their sessions as the
// byte-stream listeners do to qmux's.
func (o *Options) ServerIdleTimeout() time.Duration {
	switch {
	case o.IdleTimeout < 0:
		return 0
	case o.IdleTimeout == 0:
		return DefaultServerIdleTimeout
	}
	return o.IdleTimeout
}

func limitOrDefault(n, def int) int {
	switch {
	case n < 0:
		return 0
	case n == 0:
		return def
	}
	return n
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// A guardedListener is a net.Listener that holds at most a number of
// connections at once, in total and per remote IP, closing the ones past
// a limit as soon as they are accepted, and whose Accept rides out a lack
// of file descriptors or buffers by waiting and trying again instead of
// failing: a listener ends only when it is closed.
type guardedListener struct {
	net.Listener
	max, maxPerIP int
	log           *slog.Logger
	closed        chan struct{} // closed by Close: ends a wait between accepts
	closeOnce     sync.Once

	mu      sync.Mutex     // guards the fields below
	total   int            // connections accepted and not closed
	perIP   map[string]int // of total, by remote IP; entries of 0 are deleted
	refused rateLog        // connections refused over a limit
	failed  rateLog        // accept failures

}

func newGuardedListener(ln net.Listener, o *Options) *guardedListener {
	return &guardedListener{
		Listener: ln,
		max:      o.maxConns(),
		maxPerIP: o.maxConnsPerIP(),
		log:      o.logger().With("listener", ln.Addr().String()),
		closed:   make(chan struct{}),
		perIP:    map[string]int{},
	}
}

// Accept returns the next connection within the limits. It fails only
// when the listener is closed or fails for good.
func (l *guardedListener) Accept() (net.Conn, error) {
	var b *backoff.Backoff
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !retryableAccept(err) {
				return nil, err
			}
			if b == nil {
				b = acceptBackoff.New()
			}
			wait := b.Next()
			l.note(&l.failed, "accept failed: retrying", "err", err, "retry_in", wait)
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-l.closed:
				t.Stop()
				return nil, ErrListenerClosed
			}
			continue
		}
		b = nil
		if gc := l.admit(c); gc != nil {
			return gc, nil
		}
	}
}

// retryableAccept reports whether an accept failed for want of a
// resource that may come back, or for a connection that died in the
// backlog, rather than because the listener is closed or broken.
func retryableAccept(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// admit counts c in and returns it wrapped so that closing it counts it
// out, or closes it and returns nil if a limit is reached.
func (l *guardedListener) admit(c net.Conn) net.Conn {
	ip := remoteIP(c)
	l.mu.Lock()
	over := ""
	switch {
	case l.max > 0 && l.total >= l.max:
		over = "max_conns"
	case l.maxPerIP > 0 && ip != "" && l.perIP[ip] >= l.maxPerIP:
		over = "max_conns_per_ip"
	default:
		l.total++
		if ip != "" {
			l.perIP[ip]++
		}
	}
	l.mu.Unlock()
	if over != "" {
		c.Close()
		l.note(&l.refused, "connection refused: limit reached", "limit", over, "remote", c.RemoteAddr().String())
		return nil
	}
	return &guardedConn{Conn: c, release: func() { l.release(ip) }}
}

func (l *guardedListener) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if ip != "" {
		if l.perIP[ip]--; l.perIP[ip] == 0 {
			delete(l.perIP, ip)
		}
	}
}

// conns returns the number of connections held; for tests.
func (l *guardedListener) conns() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// note logs msg at most once per AcceptErrorLogInterval for r, with the
// number of events since the last record.
func (l *guardedListener) note(r *rateLog, msg string, args ...any) {
	l.mu.Lock()
	n, ok := r.add(time.Now())
	l.mu.Unlock()
	if ok {
		l.log.Warn(msg, append(args, "events", n)...)
	}
}

// Close closes the listener and ends a wait between accepts. The
// connections accepted stay open.
func (l *guardedListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// remoteIP returns the IP address of c's peer, or "" if it has none (a
// Unix socket).
func remoteIP(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return ""
}

// A rateLog counts events and says when one should be logged: the first,
// then the first after each AcceptErrorLogInterval.
type rateLog struct {
	last  time.Time
	count int // events since the last record
}

// add counts an event at now and reports whether to log it, with the
// number of events the record stands for.
func (r *rateLog) add(now time.Time) (int, bool) {
	r.count++
	if !r.last.IsZero() && now.Sub(r.last) < AcceptErrorLogInterval {
		return 0, false
	}
	n := r.count
	r.last, r.count = now, 0
	return n, true
}

// A guardedConn is a connection of a guardedListener, counted until it is
// closed. Socket gives qmux sessions the socket underneath, for their
// vectored reads and writes.
type guardedConn struct {
	net.Conn
	release func()
	once    sync.Once
}

func (c *guardedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// Socket returns the connection underneath.
func (c *guardedConn) Socket() net.Conn { return c.Conn }
