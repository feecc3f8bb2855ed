package service_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/service"
)

// A dnsServer answers SRV and A queries from records a test changes,
// over UDP and TCP.
type dnsServer struct {
	addr    string // of the UDP server
	tcpAddr string // of the TCP server
	mu      sync.Mutex
	srv     map[string][]*net.SRV // guarded by mu; by name
	a       map[string][]net.IP   // guarded by mu; by name
	ttl     uint32                // guarded by mu; of every record
}

func startDNS(t *testing.T) *dnsServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &dnsServer{addr: pc.LocalAddr().String(), tcpAddr: ln.Addr().String(), srv: map[string][]*net.SRV{}, a: map[string][]net.IP{}, ttl: 1}
	for _, server := range []*dns.Server{{PacketConn: pc, Handler: d}, {Listener: ln, Handler: d}} {
		started := make(chan struct{})
		server.NotifyStartedFunc = func() { close(started) }
		go server.ActivateAndServe()
		<-started
		t.Cleanup(func() { server.Shutdown() })
	}
	return d
}

func (d *dnsServer) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	d.mu.Lock()
	for _, q := range req.Question {
		hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Rrtype: q.Qtype, Ttl: d.ttl}
		switch q.Qtype {
		case dns.TypeSRV:
			for _, s := range d.srv[q.Name] {
				m.Answer = append(m.Answer, &dns.SRV{Hdr: hdr, Target: s.Target, Port: s.Port, Priority: s.Priority, Weight: s.Weight})
			}
		case dns.TypeA:
			for _, ip := range d.a[q.Name] {
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: ip})
			}
		}
	}
	d.mu.Unlock()
	w.WriteMsg(m)
}

func (d *dnsServer) setSRV(name string, srvs ...*net.SRV) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.srv[name] = srvs
}

func (d *dnsServer) setA(name string, ips ...net.IP) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.a[name] = ips
}

// resolver resolves every name at d, over UDP.
func (d *dnsServer) resolver() *net.Resolver { return d.resolverOver("udp") }

// resolverOver resolves every name at d, over network: "udp" or "tcp".
func (d *dnsServer) resolverOver(network string) *net.Resolver {
	addr := d.addr
	if network == "tcp" {
		addr = d.tcpAddr
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, network, addr)
	}}
}

// startUpstreams starts n upstreams serving guild-service, each greeting
// with its number ("up0", ...).
func startUpstreams(t *testing.T, n int) []*service.Server {
	var ups []*service.Server
	for i := range n {
		up, _ := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[services]
guild-service = { provider = "local", module = "example.net/chat", options = { greeting = "up%d" } }
`, i))
		ups = append(ups, up)
	}
	return ups
}

// whoami calls sel and returns which upstream answered ("up0", ...).
func whoami(t *testing.T, p *talk.Peer, sel string) string {
	t.Helper()
	s := mustCall(t, p, sel, nil)
	return s[strings.LastIndexByte(s, ' ')+1:]
}

// endpointStates returns the endpoints of the service name, by address.
func endpointStates(t *testing.T, p *talk.Peer, name string) map[string]service.EndpointInfo {
	t.Helper()
	var infos []service.ServiceInfo
	if _, err := p.Call(testCtx(t), service.LabelServices, nil, &infos); err != nil {
		t.Fatal(err)
	}
	out := map[string]service.EndpointInfo{}
	for _, info := range infos {
		if info.Name == name {
			for _, e := range info.Endpoints {
				out[e.Addr] = e
			}
		}
	}
	return out
}

// waitEndpoints polls qtalk:services until ok says the endpoints of name
// are as wanted.
func waitEndpoints(t *testing.T, p *talk.Peer, name string, ok func(map[string]service.EndpointInfo) bool) {
	t.Helper()
	var es map[string]service.EndpointInfo
	for ctx := testCtx(t); ctx.Err() == nil; {
		if es = endpointStates(t, p, name); ok(es) {
			return
		}
		time.Sleep(10 * time.Millisecond) // polls: the answer is re-resolved every 50ms
	}
	t.Fatalf("endpoints of %s: %+v", name, es)
}

// A service whose provider is an SRV name: calls go round robin over the
// targets, hash keeps a key on one upstream, a killed upstream fails only
// the calls it had (the others go elsewhere), and a target that leaves
// the answer is drained: its stream goes on, new calls go elsewhere.
func TestDNSProvider(t *testing.T) {
	ups := startUpstreams(t, 3)
	d := startDNS(t)
	var srvs []*net.SRV
	addrOfUp := map[string]string{} // "up0" -> "tcp://127.0.0.1:port"
	for i, up := range ups {
		a := up.Addrs()[0].(*net.TCPAddr)
		target := fmt.Sprintf("up%d.guild.test.", i)
		d.setA(target, a.IP)
		srvs = append(srvs, &net.SRV{Target: target, Port: uint16(a.Port), Priority: 10, Weight: 1})
		addrOfUp["up"+strconv.Itoa(i)] = "tcp://" + a.String()
	}
	d.setSRV("_qtalk._tcp.guild.test.", srvs...)
	gw, _ := startServer(t, `
listen = "tcp://127.0.0.1:0"
[limits]
reconnect_min = "10ms"
reconnect_max = "50ms"
[services]
guild = { provider = "dns+srv://_qtalk._tcp.guild.test.", service = "guild-service", resolve_every = "50ms", health_every = "50ms", breaker = { failures = 2, cooldown = "100ms" } }
keyed = { provider = "dns+srv://_qtalk._tcp.guild.test.", service = "guild-service", resolve_every = "50ms", balance = "hash", hash_param = "user" }
`, service.WithResolver(d.resolver()))
	p := dial(t, addrOf(gw))

	counts := map[string]int{}
	for range 30 {
		counts[whoami(t, p, "guild:whoami")]++
	}
	if counts["up0"] != 10 || counts["up1"] != 10 || counts["up2"] != 10 {
		t.Errorf("round robin over 3: %v, want 10 each", counts)
	}
	waitEndpoints(t, p, "guild", func(es map[string]service.EndpointInfo) bool {
		for _, e := range es {
			if e.State != "connected" {
				return false
			}
		}
		return len(es) == 3
	})

	// hash: a key stays on its upstream; keys spread.
	owner := map[string]string{}
	for i := range 20 {
		user := fmt.Sprintf("user%d", i)
		owner[user] = whoami(t, p, "keyed:whoami?user="+user)
		for range 3 {
			if got := whoami(t, p, "keyed:whoami?user="+user); got != owner[user] {
				t.Fatalf("%s went to %s, then to %s", user, owner[user], got)
			}
		}
	}
	spread := map[string]bool{}
	for _, up := range owner {
		spread[up] = true
	}
	if len(spread) < 2 {
		t.Errorf("20 keys all on %v", spread)
	}

	// A stream in flight on the upstream that dies fails unavailable;
	// once the gateway saw its session end, calls all go through, to the
	// other two (a call sent on the session as it ended may fail
	// unavailable: internal/netns's TestDNSGateway counts those).
	var victimUser string
	for user, up := range owner {
		if up == "up2" {
			victimUser = user
		}
	}
	if victimUser == "" {
		t.Fatalf("no key on up2: %v", owner)
	}
	stream := openEcho(t, p, "keyed:echo?user="+victimUser)
	ups[2].Close()
	if err := stream.Receive(nil); rpc.CodeOf(err) != rpc.CodeUnavailable {
		t.Errorf("stream on the killed upstream: %v, want unavailable", err)
	}
	stream.Close()
	for _, name := range []string{"guild", "keyed"} {
		waitEndpoints(t, p, name, func(es map[string]service.EndpointInfo) bool {
			return es[addrOfUp["up2"]].State != "connected"
		})
	}
	for i := range 30 {
		if got := whoami(t, p, "guild:whoami"); got == "up2" {
			t.Fatalf("call %d answered by the killed upstream", i)
		}
	}
	if got := whoami(t, p, "keyed:whoami?user="+victimUser); got == "up2" {
		t.Fatalf("%s still on the killed upstream", victimUser)
	}

	// up1 leaves the answer while a stream of its is in flight: the
	// stream goes on (drained), new calls go to up0 only.
	var up1User string
	for user, up := range owner {
		if up == "up1" {
			up1User = user
		}
	}
	if up1User == "" {
		t.Fatalf("no key on up1: %v", owner)
	}
	stream = openEcho(t, p, "keyed:echo?user="+up1User)
	defer stream.Close()
	d.setSRV("_qtalk._tcp.guild.test.", srvs[0])
	for _, name := range []string{"guild", "keyed"} {
		waitEndpoints(t, p, name, func(es map[string]service.EndpointInfo) bool {
			_, has2 := es[addrOfUp["up2"]]
			return es[addrOfUp["up0"]].State == "connected" && !has2 &&
				(name == "guild" || es[addrOfUp["up1"]].State == "draining" && es[addrOfUp["up1"]].InFlight == 1)
		})
	}
	for i := range 10 {
		if got := whoami(t, p, "guild:whoami"); got != "up0" {
			t.Fatalf("call %d after the answer changed went to %s", i, got)
		}
	}
	if got := whoami(t, p, "keyed:whoami?user="+up1User); got != "up0" {
		t.Fatalf("%s after the answer changed went to %s", up1User, got)
	}
	for i := range 3 {
		stream.Send(i)
		var got int
		if err := stream.Receive(&got); err != nil || got != i {
			t.Fatalf("stream after the answer changed: %d, %v", got, err)
		}
	}
}

// A DNS provider resolves its name again when the records' TTL runs
// out: with resolve_every an hour and records of 1 s, a changed answer is
// followed, whether the name server is asked over UDP or over TCP (where
// the answers come with their length first).
func TestDNSProviderFollowsTTL(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			ups := startUpstreams(t, 2)
			d := startDNS(t)
			var srvs []*net.SRV
			for i, up := range ups {
				a := up.Addrs()[0].(*net.TCPAddr)
				target := fmt.Sprintf("up%d.guild.test.", i)
				d.setA(target, a.IP)
				srvs = append(srvs, &net.SRV{Target: target, Port: uint16(a.Port), Priority: 10, Weight: 1})
			}
			d.setSRV("_qtalk._tcp.guild.test.", srvs[0])
			gw, _ := startServer(t, `
listen = "tcp://127.0.0.1:0"
[services]
guild = { provider = "dns+srv://_qtalk._tcp.guild.test.", service = "guild-service", resolve_every = "1h" }
`, service.WithResolver(d.resolverOver(network)))
			p := dial(t, addrOf(gw))
			if got := whoami(t, p, "guild:whoami"); got != "up0" {
				t.Fatalf("answered by %s, want up0", got)
			}
			d.setSRV("_qtalk._tcp.guild.test.", srvs[1])
			waitEndpoints(t, p, "guild", func(es map[string]service.EndpointInfo) bool {
				_, has0 := es[addrOf(ups[0])]
				_, has1 := es[addrOf(ups[1])]
				return has1 && !has0
			})
			if got := whoami(t, p, "guild:whoami"); got != "up1" {
				t.Fatalf("after the answer changed: answered by %s, want up1", got)
			}
		})
	}
}

// openEcho opens the echo stream sel and checks it echoes.
func openEcho(t *testing.T, p *talk.Peer, sel string) *rpc.Response {
	t.Helper()
	resp, err := p.Call(testCtx(t), sel, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Send(-1)
	var got int
	if err := resp.Receive(&got); err != nil || got != -1 {
		t.Fatalf("%s: %d, %v", sel, got, err)
	}
	return resp
}

// A list provider with an address nothing listens on: every call goes
// through, to the live endpoints (least outstanding), and the dead one is
// down (waiting to dial again) or ejected by its breaker if a call tried
// it, as qtalk:services shows.
func TestListProvider(t *testing.T) {
	ups := startUpstreams(t, 2)
	dead := "tcp://" + freePort(t)
	gw, _ := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[limits]
reconnect_min = "10ms"
reconnect_max = "50ms"
[services]
guild = { provider = [%q, %q, %q], service = "guild-service", balance = "least_outstanding", breaker = { failures = 1, cooldown = "1h" } }
`, addrOf(ups[0]), dead, addrOf(ups[1])), service.WithResolver(nil))
	p := dial(t, addrOf(gw))
	counts := map[string]int{}
	for range 20 {
		counts[whoami(t, p, "guild:whoami")]++
	}
	if counts["up0"] == 0 || counts["up1"] == 0 || counts["up0"]+counts["up1"] != 20 {
		t.Errorf("least outstanding over 2 live of 3: %v", counts)
	}
	waitEndpoints(t, p, "guild", func(es map[string]service.EndpointInfo) bool {
		return len(es) == 3 && (es[dead].State == "ejected" || es[dead].State == "down") &&
			es[addrOf(ups[0])].State == "connected" && es[addrOf(ups[1])].State == "connected"
	})
}

// An upstream of many that dies with calls in flight fails those calls
// (unavailable), and only those: however many there were, more than the
// breaker's failures, once the gateway saw the session end the service's
// calls go on at the other upstreams.
func TestManyUpstreamDiesWithCallsInFlight(t *testing.T) {
	ups := startUpstreams(t, 3)
	gw, _ := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[services]
guild = { provider = [%q, %q, %q], service = "guild-service", balance = "hash", hash_param = "user", breaker = { failures = 2, cooldown = "1h" } }
`, addrOf(ups[0]), addrOf(ups[1]), addrOf(ups[2])))
	p := dial(t, addrOf(gw))
	var users []string
	for i := 0; len(users) < 4; i++ {
		if i == 200 {
			t.Fatal("no 4 keys of 200 on up2")
		}
		if user := fmt.Sprintf("user%d", i); whoami(t, p, "guild:whoami?user="+user) == "up2" {
			users = append(users, user)
		}
	}
	var streams []*rpc.Response
	held := make(chan error, len(users))
	for _, user := range users {
		streams = append(streams, openEcho(t, p, "guild:echo?user="+user))
		go func() {
			_, err := p.Call(testCtx(t), "guild:hold?user="+user, nil, nil)
			held <- err
		}()
	}
	for range users {
		<-holding
	}
	ups[2].Close()
	for i, s := range streams {
		if err := s.Receive(nil); rpc.CodeOf(err) != rpc.CodeUnavailable {
			t.Errorf("stream %d on the dead upstream: %v, want unavailable", i, err)
		}
		s.Close()
	}
	for range users {
		if err := <-held; rpc.CodeOf(err) != rpc.CodeUnavailable {
			t.Errorf("unary call on the dead upstream: %v, want unavailable", err)
		}
	}
	waitEndpoints(t, p, "guild", func(es map[string]service.EndpointInfo) bool {
		return es[addrOf(ups[2])].State != "connected"
	})
	for i := range 30 {
		s, err := call(t, p, fmt.Sprintf("guild:whoami?user=user%d", i), nil)
		if err != nil || strings.HasSuffix(s, " up2") {
			t.Fatalf("call %d after up2 died: %q, %v", i, s, err)
		}
	}
}
