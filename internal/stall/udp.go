package stall

import (
	"net"
	"sync"
	"sync/atomic"
)

// A UDPRelay forwards the datagrams of the clients that send to it to a
// target and the target's answers back, one upstream socket per client,
// and while paused drops them all: a QUIC peer behind it goes silent.
type UDPRelay struct {
	pc     net.PacketConn
	target *net.UDPAddr
	paused atomic.Bool
	wg     sync.WaitGroup // the receive goroutines

	mu      sync.Mutex // guards clients
	clients map[string]*net.UDPConn
}

// NewUDP listens on a free loopback UDP port and relays to target
// (host:port).
func NewUDP(target string) (*UDPRelay, error) {
	addr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &UDPRelay{pc: pc, target: addr, clients: map[string]*net.UDPConn{}}
	r.wg.Go(r.receive)
	return r, nil
}

// Addr returns the address the relay listens on (host:port).
func (r *UDPRelay) Addr() string { return r.pc.LocalAddr().String() }

// Pause stops forwarding (true) or resumes it (false). Datagrams that
// come meanwhile are dropped.
func (r *UDPRelay) Pause(p bool) { r.paused.Store(p) }

// receive forwards the clients' datagrams until the relay is closed.
func (r *UDPRelay) receive() {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := r.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if r.paused.Load() {
			continue
		}
		if up := r.upstream(from); up != nil {
			up.Write(buf[:n]) // a lost datagram is a datagram lost
		}
	}
}

// upstream returns the socket that relays the datagrams of client, or nil
// once the relay is closed (or if it cannot open one).
func (r *UDPRelay) upstream(client net.Addr) *net.UDPConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.clients == nil {
		return nil
	}
	if up := r.clients[client.String()]; up != nil {
		return up
	}
	up, err := net.DialUDP("udp", nil, r.target)
	if err != nil {
		return nil
	}
	r.clients[client.String()] = up
	r.wg.Go(func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := up.Read(buf)
			if err != nil {
				return
			}
			if !r.paused.Load() {
				r.pc.WriteTo(buf[:n], client)
			}
		}
	})
	return up
}

// Close stops relaying, closes every socket and waits for the relay's
// goroutines.
func (r *UDPRelay) Close() error {
	err := r.pc.Close()
	r.mu.Lock()
	for _, up := range r.clients {
		up.Close()
	}
	r.clients = nil
	r.mu.Unlock()
	r.wg.Wait()
	return err
}
