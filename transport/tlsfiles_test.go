package transport_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/internal/testcert"
	"github.com/qtalkkit/qtalk/transport"
)

// tlsFiles writes cert as PEM files in dir, named after name, and the CA's
// certificate as name-ca.pem, and returns TLSFiles naming them.
func tlsFiles(t *testing.T, dir, name string, ca *testcert.CA, cert tls.Certificate) transport.TLSFiles {
	t.Helper()
	f := transport.TLSFiles{
		Cert: filepath.Join(dir, name+".pem"),
		Key:  filepath.Join(dir, name+"-key.pem"),
		CA:   filepath.Join(dir, name+"-ca.pem"),
	}
	testcert.WriteFiles(t, cert, f.Cert, f.Key)
	ca.WriteCA(t, f.CA)
	return f
}

func loadTLSFiles(t *testing.T, f transport.TLSFiles) *transport.CertFiles {
	t.Helper()
	c, err := transport.LoadTLSFiles(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// echoOnce dials addr, echoes a few bytes over a channel and closes the
// session. With TLS 1.3 a client certificate is checked after the
// client's handshake is done, so a refusal shows on the first exchange.
func echoOnce(addr string, opts ...transport.Option) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := transport.Dial(ctx, addr, opts...)
	if err != nil {
		return err
	}
	defer s.Close()
	ch, err := s.Open(ctx)
	if err != nil {
		return err
	}
	defer ch.Close()
	ch.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := ch.Write([]byte("ping")); err != nil {
		return err
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(ch, buf); err != nil {
		return err
	}
	if string(buf) != "ping" {
		return errors.New("echo differs: " + string(buf))
	}
	return nil
}

func TestTLSFilesMutual(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t)
	other := testcert.NewCA(t)
	server := loadTLSFiles(t, tlsFiles(t, dir, "server", ca, ca.Valid(t)))
	client := loadTLSFiles(t, tlsFiles(t, dir, "client", ca, ca.Client(t, "app")))
	stranger := loadTLSFiles(t, tlsFiles(t, dir, "stranger", ca, other.Client(t, "stranger")))
	anonymous := loadTLSFiles(t, transport.TLSFiles{CA: client.Files().CA})
	for _, scheme := range []string{"tls", "wss"} {
		t.Run(scheme, func(t *testing.T) {
			ln := tlsServer(t, scheme+"/$4:0", transport.WithTLSConfig(server.ServerConfig()))
			addr := scheme + "://" + ln.Addr().String()
			if err := echoOnce(addr, transport.WithTLSConfig(client.ClientConfig())); err != nil {
				t.Fatalf("client with a certificate of the CA: %v", err)
			}
			if err := echoOnce(addr, transport.WithTLSConfig(stranger.ClientConfig())); err == nil {
				t.Error("a client certificate of another CA was accepted")
			}
			if err := echoOnce(addr, transport.WithTLSConfig(anonymous.ClientConfig())); err == nil {
				t.Error("a client without a certificate was accepted")
			}
		})
	}
}

func TestTLSFilesServerVerified(t *testing.T) {
	dir := t.TempDir()
	ca, other := testcert.NewCA(t), testcert.NewCA(t)
	server := loadTLSFiles(t, transport.TLSFiles{Cert: tlsFiles(t, dir, "server", ca, ca.Valid(t)).Cert, Key: filepath.Join(dir, "server-key.pem")})
	ln := tlsServer(t, "tls/$4:0", transport.WithTLSConfig(server.ServerConfig()))
	addr := "tls://" + ln.Addr().String()
	trusting := loadTLSFiles(t, transport.TLSFiles{CA: filepath.Join(dir, "server-ca.pem")})
	if err := echoOnce(addr, transport.WithTLSConfig(trusting.ClientConfig())); err != nil {
		t.Fatalf("a client trusting the server's CA: %v", err)
	}
	other.WriteCA(t, filepath.Join(dir, "other-ca.pem"))
	distrusting := loadTLSFiles(t, transport.TLSFiles{CA: filepath.Join(dir, "other-ca.pem")})
	if err := echoOnce(addr, transport.WithTLSConfig(distrusting.ClientConfig())); !isUnknownAuthority(err) {
		t.Errorf("a client trusting another CA: %v, want an unknown authority", err)
	}
	// The server's fingerprint is that of the certificate file.
	if got, want := fingerprintOf(t, ln), server.Fingerprint(); got != want {
		t.Errorf("listener's fingerprint %s, the files' %s", got, want)
	}
}

func TestTLSFilesReload(t *testing.T) {
	dir := t.TempDir()
	ca1, ca2 := testcert.NewCA(t), testcert.NewCA(t)
	files := tlsFiles(t, dir, "server", ca1, ca1.Valid(t))
	files.CA = ""
	server := loadTLSFiles(t, files)
	ln := tlsServer(t, "tls/$4:0", transport.WithTLSConfig(server.ServerConfig()))
	addr := "tls://" + ln.Addr().String()
	ca2.WriteCA(t, filepath.Join(dir, "ca2.pem"))
	client := loadTLSFiles(t, transport.TLSFiles{CA: filepath.Join(dir, "ca2.pem")})
	if err := echoOnce(addr, transport.WithTLSConfig(client.ClientConfig())); !isUnknownAuthority(err) {
		t.Fatalf("before the files change: %v, want an unknown authority", err)
	}

	// New files: the next handshake presents the new certificate.
	testcert.WriteFiles(t, ca2.Valid(t), files.Cert, files.Key)
	touch(t, files.Cert, files.Key)
	if err := echoOnce(addr, transport.WithTLSConfig(client.ClientConfig())); err != nil {
		t.Fatalf("after the files changed: %v", err)
	}

	// A broken key keeps the certificate in effect, and Err says why.
	if err := os.WriteFile(files.Key, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	touch(t, files.Key)
	if err := echoOnce(addr, transport.WithTLSConfig(client.ClientConfig())); err != nil {
		t.Fatalf("after a bad key was written: %v", err)
	}
	if err := server.Err(); !errors.Is(err, transport.ErrBadTLSFiles) {
		t.Errorf("Err() = %v, want ErrBadTLSFiles", err)
	}
	if err := server.Reload(); !errors.Is(err, transport.ErrBadTLSFiles) {
		t.Errorf("Reload() = %v, want ErrBadTLSFiles", err)
	}
}

// touch moves the modification times of files a minute ahead, so that a
// change is seen even on a file system with coarse times.
func touch(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		mt := fi.ModTime().Add(time.Minute)
		if err := os.Chtimes(f, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadTLSFilesErrors(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t)
	f := tlsFiles(t, dir, "x", ca, ca.Valid(t))
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("no PEM here"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]transport.TLSFiles{
		"cert without key": {Cert: f.Cert},
		"key without cert": {Key: f.Key},
		"missing file":     {Cert: filepath.Join(dir, "none.pem"), Key: f.Key},
		"key of the CA":    {Cert: f.Cert, Key: f.CA},
		"CA without PEM":   {CA: garbage},
		"missing CA":       {CA: filepath.Join(dir, "none.pem")},
	} {
		if _, err := transport.LoadTLSFiles(bad); !errors.Is(err, transport.ErrBadTLSFiles) {
			t.Errorf("%s: %v, want ErrBadTLSFiles", name, err)
		}
	}
}
