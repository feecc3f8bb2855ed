package service_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/qtalkkit/qtalk/internal/testcert"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/rpc/auth"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/transport"
)

// TestAllow restricts a service to a token's holder and a certificate
// identity, and checks who gets through, before and after a reload.
func TestAllow(t *testing.T) {
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }
	if err := os.WriteFile(file("tokens"), []byte("ci tok-ci\nops tok-ops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := testcert.NewCA(t)
	ca.WriteCA(t, file("ca.pem"))
	testcert.WriteFiles(t, ca.Valid(t), file("server.pem"), file("server-key.pem"))
	testcert.WriteFiles(t, ca.Client(t, "app", "spiffe://example.org/app"), file("app.pem"), file("app-key.pem"))
	testcert.WriteFiles(t, ca.Client(t, "worker"), file("worker.pem"), file("worker-key.pem"))
	text := func(allow string) string {
		return fmt.Sprintf(`
listen = ["tcp://127.0.0.1:0", { addr = "tls://127.0.0.1:0", cert = %q, key = %q, ca = %q }]
tokens = %q
[services]
chat = { provider = "local", module = %q, allow = %s }
open = { provider = "local", module = %q }
`, file("server.pem"), file("server-key.pem"), file("ca.pem"), file("tokens"), chatModule, allow, chatModule)
	}
	srv, _ := startServer(t, text(`["token:ci", "spiffe://example.org/app"]`))
	tcpAddr := addrOf(srv)
	tlsAddr := "tls://" + srv.Addrs()[1].String()

	withToken := func(token string) *talk.Peer {
		p, err := talk.Dial(testCtx(t), tcpAddr, talk.WithClientOptions(rpc.WithInterceptors(auth.BearerToken(token))))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	withCert := func(name string) *talk.Peer {
		certs, err := transport.LoadTLSFiles(transport.TLSFiles{Cert: file(name + ".pem"), Key: file(name + "-key.pem"), CA: file("ca.pem")})
		if err != nil {
			t.Fatal(err)
		}
		p, err := talk.Dial(testCtx(t), tlsAddr, talk.WithTransportOptions(transport.WithTLSConfig(certs.ClientConfig())))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	anonymous, ci, ops, bad := dial(t, tcpAddr), withToken("tok-ci"), withToken("tok-ops"), withToken("nope")
	app, worker := withCert("app"), withCert("worker")
	for _, tc := range []struct {
		name string
		p    *talk.Peer
		sel  string
		want rpc.Code
	}{
		{"anonymous", anonymous, "chat:whoami", rpc.CodePermissionDenied},
		{"anonymous, open service", anonymous, "open:whoami", rpc.CodeOK},
		{"allowed token", ci, "chat:whoami", rpc.CodeOK},
		{"other token", ops, "chat:whoami", rpc.CodePermissionDenied},
		{"bad token", bad, "open:whoami", rpc.CodeUnauthenticated},
		{"allowed identity", app, "chat:whoami", rpc.CodeOK},
		{"other identity", worker, "chat:whoami", rpc.CodePermissionDenied},
		{"other identity, open service", worker, "open:whoami", rpc.CodeOK},
	} {
		_, err := call(t, tc.p, tc.sel, nil)
		checkCode(t, tc.name, err, tc.want)
	}

	cfg, err := config.Parse([]byte(text(`["token:ops"]`)), t.Name()+".toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	_, err = call(t, ops, "chat:whoami", nil)
	checkCode(t, "the token allowed after the reload", err, rpc.CodeOK)
	_, err = call(t, ci, "chat:whoami", nil)
	checkCode(t, "the token no longer allowed", err, rpc.CodePermissionDenied)
}
