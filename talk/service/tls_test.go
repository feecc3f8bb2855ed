package service_test

import (
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/internal/testcert"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk/service"
)

// TestUpstreamMutualTLS runs an upstream that requires client
// certificates on a tls listener of its config, and gateways that forward
// to it with and without the client certificate of theirs.
func TestUpstreamMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t)
	file := func(name string) string { return filepath.Join(dir, name) }
	ca.WriteCA(t, file("ca.pem"))
	testcert.WriteFiles(t, ca.Valid(t), file("server.pem"), file("server-key.pem"))
	testcert.WriteFiles(t, ca.Client(t, "gateway"), file("client.pem"), file("client-key.pem"))

	up, _ := startServer(t, fmt.Sprintf(`
listen = [{ addr = "tls://127.0.0.1:0", cert = %q, key = %q, ca = %q }]
[services]
chat = { provider = "local", module = %q }
`, file("server.pem"), file("server-key.pem"), file("ca.pem"), chatModule))
	upAddr := "tls://" + up.Addrs()[0].String()

	gw, _ := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[services]
chat = { provider = %q, cert = %q, key = %q, ca = %q }
`, upAddr, file("client.pem"), file("client-key.pem"), file("ca.pem")))
	if got, want := mustCall(t, dial(t, addrOf(gw)), "chat:whoami", nil), "chat p= "; got != want {
		t.Errorf("whoami through the gateway = %q, want %q", got, want)
	}

	// Without a client certificate the upstream refuses the gateway.
	anon, _ := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[services]
chat = { provider = %q, ca = %q }
`, upAddr, file("ca.pem")))
	_, err := call(t, dial(t, addrOf(anon)), "chat:whoami", nil)
	checkCode(t, "call through a gateway without a client certificate", err, rpc.CodeUnavailable)
}

// A DNS provider with scheme = "tls" dials its endpoints over TLS and
// checks each upstream's certificate for the name its record gives (the
// SRV target), against the service's CAs: an upstream whose certificate
// is for another name is never used, and the calls go to the other.
func TestDNSProviderTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t)
	file := func(name string) string { return filepath.Join(dir, name) }
	ca.WriteCA(t, file("ca.pem"))
	d := startDNS(t)
	var srvs []*net.SRV
	var addrs []string
	for i, host := range []string{"up0.guild.test", "other.example"} {
		cert, key := file(fmt.Sprintf("up%d.pem", i)), file(fmt.Sprintf("up%d-key.pem", i))
		testcert.WriteFiles(t, ca.Issue(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), host), cert, key)
		up, _ := startServer(t, fmt.Sprintf(`
listen = [{ addr = "tls://127.0.0.1:0", cert = %q, key = %q }]
[services]
guild-service = { provider = "local", module = "example.net/chat", options = { greeting = "up%d" } }
`, cert, key, i))
		a := up.Addrs()[0].(*net.TCPAddr)
		target := fmt.Sprintf("up%d.guild.test.", i)
		d.setA(target, a.IP)
		srvs = append(srvs, &net.SRV{Target: target, Port: uint16(a.Port), Priority: 10, Weight: 1})
		addrs = append(addrs, "tls://"+a.String())
	}
	d.setSRV("_qtalk._tcp.guild.test.", srvs...)
	gw, _ := startServer(t, fmt.Sprintf(`
listen = "tcp://127.0.0.1:0"
[services]
guild = { provider = "dns+srv://_qtalk._tcp.guild.test.", service = "guild-service", scheme = "tls", ca = %q }
`, file("ca.pem")), service.WithResolver(d.resolver()))
	p := dial(t, addrOf(gw))
	for i := range 10 {
		if got := whoami(t, p, "guild:whoami"); got != "up0" {
			t.Fatalf("call %d answered by %s, want up0", i, got)
		}
	}
	es := endpointStates(t, p, "guild")
	if len(es) != 2 || es[addrs[0]].State != "connected" || es[addrs[1]].State == "connected" {
		t.Errorf("endpoints %+v: want %s connected, %s not", es, addrs[0], addrs[1])
	}
}
