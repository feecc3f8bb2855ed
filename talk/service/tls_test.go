package service_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/qtalkkit/qtalk/internal/testcert"
	"github.com/qtalkkit/qtalk/rpc"
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
