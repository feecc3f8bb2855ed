package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/qtalkkit/qtalk/internal/tlsconf"
)

// ErrBadTLSFiles is matched by the errors of LoadTLSFiles and
// CertFiles.Reload: a file that cannot be read, a certificate and key
// that do not parse or do not match, a CA bundle without a certificate,
// a certificate without its key.
var ErrBadTLSFiles = errors.New("transport: bad TLS files")

// TLSFiles names the PEM files of one side's TLS settings, as the qtalk
// command's --cert, --key and --ca flags and qtalk.toml's cert, key and
// ca keys do. The zero value names none.
type TLSFiles struct {
	// Cert and Key are the certificate chain and private key this side
	// presents: a listener's server certificate, a dialer's client
	// certificate. Both or neither.
	Cert, Key string

	// CA is a bundle of CA certificates. A listener requires a client
	// certificate signed by one of them (mutual TLS) and refuses the
	// handshake of a client without one. A dialer verifies the server's
	// certificate against them instead of the system roots.
	CA string
}

// IsZero reports whether f names no file.
func (f TLSFiles) IsZero() bool { return f == TLSFiles{} }

// A fileStamp tells whether a file changed since it was read.
type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) fileStamp {
	if path == "" {
		return fileStamp{}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{} // differs from any file's stamp: the next load reports the error
	}
	return fileStamp{fi.ModTime(), fi.Size()}
}

// CertFiles holds the certificates of TLSFiles, loaded again when a file
// changes (each handshake checks the files' modification times and sizes)
// or on Reload (a server calls it on SIGHUP). A reload that fails keeps
// the certificates loaded before, so that a certificate and key replaced
// one after the other never break a handshake; the error is returned by
// Reload and Err. Its configs (ServerConfig, ClientConfig) read the
// certificates in effect at each handshake. It is safe for concurrent
// use.
type CertFiles struct {
	files TLSFiles

	mu     sync.Mutex // guards the fields below
	stamps [3]fileStamp
	cert   *tls.Certificate // nil without Cert
	pool   *x509.CertPool   // nil without CA
	err    error            // of the last load, nil if it succeeded
}

// LoadTLSFiles loads the files f names. The error matches ErrBadTLSFiles.
func LoadTLSFiles(f TLSFiles) (*CertFiles, error) {
	c := &CertFiles{files: f}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Files returns the names of the files.
func (c *CertFiles) Files() TLSFiles { return c.files }

func (c *CertFiles) currentStamps() [3]fileStamp {
	return [3]fileStamp{stampOf(c.files.Cert), stampOf(c.files.Key), stampOf(c.files.CA)}
}

// Reload loads the files again. On failure the certificates loaded before
// stay in effect, and the error matches ErrBadTLSFiles.
func (c *CertFiles) Reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loadLocked(c.currentStamps())
}

// Err returns the error of the last load, which left the certificates
// loaded before in effect, or nil if it succeeded.
func (c *CertFiles) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *CertFiles) loadLocked(stamps [3]fileStamp) error {
	c.stamps = stamps
	cert, pool, err := readTLSFiles(c.files)
	c.err = err
	if err != nil {
		return err
	}
	c.cert, c.pool = cert, pool
	return nil
}

func readTLSFiles(f TLSFiles) (*tls.Certificate, *x509.CertPool, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadTLSFiles, fmt.Sprintf(format, args...))
	}
	var cert *tls.Certificate
	switch {
	case f.Cert == "" && f.Key == "":
	case f.Cert == "":
		return nil, nil, bad("key %s without its certificate", f.Key)
	case f.Key == "":
		return nil, nil, bad("certificate %s without its key", f.Cert)
	default:
		c, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, nil, bad("certificate %s and key %s: %v", f.Cert, f.Key, err)
		}
		cert = &c
	}
	var pool *x509.CertPool
	if f.CA != "" {
		pem, err := os.ReadFile(f.CA)
		if err != nil {
			return nil, nil, bad("CA bundle: %v", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, bad("CA bundle %s holds no PEM certificate", f.CA)
		}
	}
	return cert, pool, nil
}

// current reloads the files if they changed, and returns the certificates
// in effect.
func (c *CertFiles) current() (*tls.Certificate, *x509.CertPool) {
	stamps := c.currentStamps()
	c.mu.Lock()
	defer c.mu.Unlock()
	if stamps != c.stamps {
		c.loadLocked(stamps) // on failure the old ones stay; Err tells
	}
	return c.cert, c.pool
}

// Fingerprint returns the fingerprint of the certificate in effect (see
// Fingerprint), or "" without one.
func (c *CertFiles) Fingerprint() string {
	cert, _ := c.current()
	if cert == nil || len(cert.Certificate) == 0 {
		return ""
	}
	return tlsconf.Fingerprint(cert.Certificate[0])
}

// ServerConfig returns a TLS config for listeners (WithTLSConfig) that
// presents the certificate in effect at each handshake and, with a CA
// bundle, requires and verifies a client certificate signed by one of its
// CAs. Without a certificate, the listener's own default applies (a tls,
// wss or quic listener's self-signed certificate) and the CA bundle, if
// any, is the one loaded when ServerConfig is called.
func (c *CertFiles) ServerConfig() *tls.Config {
	cert, pool := c.current()
	if c.files.Cert == "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		setClientCAs(cfg, pool)
		return cfg
	}
	cfg := serverConfigWith(cert, pool)
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return serverConfigWith(c.current()), nil
	}
	return cfg
}

func serverConfigWith(cert *tls.Certificate, pool *x509.CertPool) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cert}}
	setClientCAs(cfg, pool)
	return cfg
}

func setClientCAs(cfg *tls.Config, pool *x509.CertPool) {
	if pool != nil {
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
}

// verifyChain verifies the chain certs (leaf first) against roots and the
// host name.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, host string) error {
	if len(certs) == 0 {
		return errors.New("transport: the server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, DNSName: host, Intermediates: x509.NewCertPool()}
	for _, ic := range certs[1:] {
		opts.Intermediates.AddCert(ic)
	}
	_, err := certs[0].Verify(opts)
	return err
}

// ClientConfig returns a TLS config for dialers (WithTLSConfig) that
// presents the client certificate in effect at each handshake, if the
// files name one, and with a CA bundle verifies the server's certificate
// and host name against its CAs instead of the system roots. With a pin
// too (WithPin, "?pin="), the certificate must pass both checks.
func (c *CertFiles) ClientConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.files.Cert != "" {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			cert, _ := c.current()
			return cert, nil
		}
	}
	if c.files.CA != "" {
		// The roots are read at each handshake, so the chain is verified
		// here rather than by the config's RootCAs.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			_, pool := c.current()
			return verifyChain(cs.PeerCertificates, pool, cs.ServerName)
		}
	}
	return cfg
}
