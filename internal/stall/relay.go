package stall

import (
	"net"
	"sync"
)

// A Relay forwards the TCP connections it accepts to a target, and while
// paused holds every byte without closing anything.
type Relay struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup // the accept and forwarding goroutines

	mu     sync.Mutex // guards the fields below
	paused bool
	resume chan struct{} // closed when the relay resumes
	conns  []net.Conn
}

// New listens on a free loopback port and relays to target (host:port).
func New(target string) (*Relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Relay{ln: ln, target: target, resume: make(chan struct{})}
	r.wg.Go(r.accept)
	return r, nil
}

// Addr returns the address the relay listens on (host:port).
func (r *Relay) Addr() string { return r.ln.Addr().String() }

func (r *Relay) accept() {
	for {
		down, err := r.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", r.target)
		if err != nil {
			down.Close()
			continue
		}
		r.mu.Lock()
		r.conns = append(r.conns, down, up)
		r.mu.Unlock()
		r.wg.Go(func() { r.forward(up, down) })
		r.wg.Go(func() { r.forward(down, up) })
	}
}

// forward copies src to dst, holding each chunk while the relay is paused.
func (r *Relay) forward(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		r.mu.Lock()
		paused, resume := r.paused, r.resume
		r.mu.Unlock()
		if paused {
			<-resume
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF or a closed connection: dst is closed in turn
		}
	}
}

// Pause stops forwarding (true) or resumes it (false).
func (r *Relay) Pause(p bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case p && !r.paused:
		r.resume = make(chan struct{})
	case !p && r.paused:
		close(r.resume)
	}
	r.paused = p
}

// Close stops listening, closes every connection and waits for the
// relay's goroutines.
func (r *Relay) Close() error {
	err := r.ln.Close()
	r.Pause(false)
	r.mu.Lock()
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return err
}
