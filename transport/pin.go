package transport

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/qtalkkit/qtalk/internal/tlsconf"
)

// This file holds the certificate logic shared by the TLS-based connectors
// (tls and wss here, quic in package transport/quic): pinning a certificate by
// its SHA-256 fingerprint, the ephemeral self-signed certificate of a
// listener without one, and the explicit insecure mode.

var (
	// ErrPinMismatch is matched by the error of a dial whose server
	// presented a certificate other than the pinned one.
	ErrPinMismatch = errors.New("transport: certificate does not match the pinned fingerprint")

	// ErrBadPin is matched by the error for a pin that is not of the form
	// "sha256:" followed by 64 hexadecimal digits (colons between the
	// bytes are allowed).
	ErrBadPin = errors.New("transport: bad certificate pin")
)

// fingerprintPrefix starts every fingerprint and pin.
const fingerprintPrefix = tlsconf.FingerprintPrefix

// A Fingerprinter is a Listener that serves TLS and knows the fingerprint
// of its certificate: the listeners of the tls and quic schemes. A program
// shows the fingerprint to whoever dials it, who pins it:
//
//	ln, err := transport.Listen(ctx, "quic/*4:4433")
//	if fp, ok := ln.(transport.Fingerprinter); ok {
//		fmt.Fprintf(os.Stderr, "dial with ?pin=%s\n", fp.Fingerprint())
//	}
type Fingerprinter interface {
	// Fingerprint returns the fingerprint of the listener's certificate
	// (see Fingerprint), or "" if it is not known in advance (a TLS
	// config that chooses its certificate with GetCertificate).
	Fingerprint() string
}

// Fingerprint returns the SHA-256 fingerprint of the certificate's DER
// encoding as "sha256:" and 64 lower-case hexadecimal digits, the form a
// pin takes.
func Fingerprint(cert *x509.Certificate) string { return tlsconf.Fingerprint(cert.Raw) }

// parsePin parses a pin in the form Fingerprint returns. The digits may be
// in upper case and the bytes separated by colons, as openssl prints them.
// The error matches ErrBadPin.
func parsePin(s string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	digits, ok := strings.CutPrefix(strings.ToLower(s), fingerprintPrefix)
	b, err := hex.DecodeString(strings.ReplaceAll(digits, ":", ""))
	if !ok || err != nil || len(b) != len(sum) {
		return sum, fmt.Errorf("%w %q (want %s followed by 64 hexadecimal digits)", ErrBadPin, s, fingerprintPrefix)
	}
	copy(sum[:], b)
	return sum, nil
}

type (
	pinKey      struct{} // Options value: the pin given by WithPin
	insecureKey struct{} // Options value: true after WithInsecureSkipVerify
)

// WithPin makes dials of the TLS-based schemes (tls, wss, quic) accept
// only a server certificate with the given fingerprint (see Fingerprint),
// as does "?pin=sha256:..." in the address. A pin replaces the
// verification of the certificate chain and host name; the certificate
// must still be within its validity period. A malformed pin makes Dial
// fail with an error matching ErrBadPin.
func WithPin(fingerprint string) Option { return WithValue(pinKey{}, fingerprint) }

// WithInsecureSkipVerify makes dials of the TLS-based schemes accept any
// server certificate, as does "?insecure=1" in the address. The traffic is
// encrypted but the server is not authenticated, so anyone in the path can
// read and change it; each such dial logs a warning with slog's default
// logger. A pin, if given too, takes precedence.
func WithInsecureSkipVerify() Option { return WithValue(insecureKey{}, true) }

// tlsParams are the TLS parameters of a dial address or options.
type tlsParams struct {
	pin      *[sha256.Size]byte // nil: no pin
	insecure bool
	query    string // the rest of the query, the TLS parameters removed
}

// parseTLSParams takes the pin and insecure parameters from the query of a
// and from o. Other query parameters are left in tlsParams.query if keep is
// set, and are an error otherwise.
func parseTLSParams(a Address, o *Options, keep bool) (tlsParams, error) {
	var p tlsParams
	bad := func(reason string, err error) (tlsParams, error) {
		return tlsParams{}, &AddressError{Addr: a.String(), Reason: reason, Err: err}
	}
	var rest []string
	for kv := range strings.SplitSeq(a.RawQuery, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if u, err := url.QueryUnescape(v); err == nil {
			v = u
		}
		switch k {
		case "pin":
			sum, err := parsePin(v)
			if err != nil {
				return bad(fmt.Sprintf("bad pin %q (want %s followed by 64 hexadecimal digits)", v, fingerprintPrefix), ErrBadPin)
			}
			p.pin = &sum
		case "insecure":
			switch v {
			case "1", "true":
				p.insecure = true
			case "0", "false":
			default:
				return bad(fmt.Sprintf("bad value %q of insecure (want 1 or 0)", v), nil)
			}
		default:
			if !keep {
				return bad(fmt.Sprintf("unknown parameter %q (want pin or insecure)", k), nil)
			}
			rest = append(rest, kv)
		}
	}
	p.query = strings.Join(rest, "&")
	if v, ok := o.Value(pinKey{}).(string); ok && p.pin == nil {
		sum, err := parsePin(v)
		if err != nil {
			return tlsParams{}, err
		}
		p.pin = &sum
	}
	if v, _ := o.Value(insecureKey{}).(bool); v {
		p.insecure = true
	}
	return p, nil
}

// ClientTLSConfig returns the TLS configuration to dial a with, for the
// connectors of TLS-based schemes in other packages (transport/quic). It starts
// from a clone of o.TLSConfig, or an empty config, and sets ServerName to
// the host of a if it is empty. Then:
//
//   - with a pin ("?pin=" in a, or WithPin), only a certificate with that
//     fingerprint and within its validity period is accepted, and a
//     mismatch fails the handshake with an error matching ErrPinMismatch;
//   - otherwise, with "?insecure=1" or WithInsecureSkipVerify, any
//     certificate is accepted and a warning is logged with slog's default
//     logger;
//   - otherwise the certificate is verified as the config says: by
//     default against the system roots, which a self-signed certificate
//     fails.
//
// The query of a may hold only pin and insecure; anything else is an error
// matching ErrBadAddress, as is a malformed pin (which matches ErrBadPin
// too).
func ClientTLSConfig(a Address, o *Options) (*tls.Config, error) {
	cfg, _, err := clientTLSConfig(a, o, false)
	return cfg, err
}

// clientTLSConfig is ClientTLSConfig that, if keepQuery is set, accepts
// other query parameters and returns them.
func clientTLSConfig(a Address, o *Options, keepQuery bool) (*tls.Config, string, error) {
	p, err := parseTLSParams(a, o, keepQuery)
	if err != nil {
		return nil, "", err
	}
	var cfg *tls.Config
	if o.TLSConfig != nil {
		cfg = o.TLSConfig.Clone()
	} else {
		cfg = new(tls.Config)
	}
	if cfg.ServerName == "" {
		cfg.ServerName = hostOnly(a.Host)
	}
	switch {
	case p.pin != nil:
		pin := *p.pin
		next := cfg.VerifyConnection
		cfg.InsecureSkipVerify = true // replaced by the pin check below
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if err := checkPin(cs, pin); err != nil {
				return err
			}
			if next != nil {
				return next(cs)
			}
			return nil
		}
	case p.insecure:
		cfg.InsecureSkipVerify = true
		slog.Default().Warn("transport: TLS certificate verification disabled: the server is not authenticated",
			"address", a.String())
	}
	return cfg, p.query, nil
}

// checkPin checks that the peer's certificate has the fingerprint pin and
// is within its validity period.
func checkPin(cs tls.ConnectionState, pin [sha256.Size]byte) error {
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("%w: the server sent no certificate", ErrPinMismatch)
	}
	leaf := cs.PeerCertificates[0]
	sum := sha256.Sum256(leaf.Raw)
	if subtle.ConstantTimeCompare(sum[:], pin[:]) != 1 {
		return fmt.Errorf("%w: the server's certificate is %s, the pin %s%x",
			ErrPinMismatch, tlsconf.Fingerprint(leaf.Raw), fingerprintPrefix, pin[:])
	}
	if now := time.Now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return x509.CertificateInvalidError{Cert: leaf, Reason: x509.Expired,
			Detail: fmt.Sprintf("current time %s is outside of %s - %s", now.UTC().Format(time.RFC3339),
				leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))}
	}
	return nil
}

// ServerTLSConfig returns the TLS configuration to listen on a with and
// the fingerprint of its certificate, for the connectors of TLS-based
// schemes in other packages (transport/quic). If o.TLSConfig has a certificate
// (Certificates, GetCertificate or GetConfigForClient), it is a clone of
// that config and the fingerprint is that of its first certificate in
// Certificates ("" if it has none). Otherwise it holds a self-signed
// certificate generated for the host of a (see SelfSignedCertificate),
// which clients pin by the fingerprint. Either way ALPN is among the
// protocols it offers, including in the configs GetConfigForClient
// returns. The query of a may hold only the client's parameters pin and
// insecure, which are ignored.
func ServerTLSConfig(a Address, o *Options) (cfg *tls.Config, fingerprint string, err error) {
	cfg, fingerprint, err = serverTLSConfig(a, o)
	if err != nil {
		return nil, "", err
	}
	return tlsconf.AddALPN(cfg), fingerprint, nil
}

// serverTLSConfig is ServerTLSConfig without ALPN, for wss.
func serverTLSConfig(a Address, o *Options) (cfg *tls.Config, fingerprint string, err error) {
	if _, err := parseTLSParams(a, &Options{}, false); err != nil {
		return nil, "", err
	}
	return tlsconf.Server(o.TLSConfig, hostOnly(a.Host))
}

// SelfSignedCertificate generates a self-signed certificate with an ECDSA
// P-256 key, valid for a year from now, for the given host names and IP
// addresses, plus localhost and the loopback addresses. Wildcard hosts
// ("", "0.0.0.0", "::") are skipped. Clients cannot verify it against any
// roots; they pin its fingerprint instead.
func SelfSignedCertificate(hosts ...string) (tls.Certificate, error) {
	cert, err := tlsconf.SelfSigned(hosts...)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("transport: %w", err)
	}
	return cert, nil
}

// hostOnly returns the host of "host[:port]" without the port and, for
// IPv6, without the brackets.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}
