package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"time"
)

// ALPN is the application protocol that qtalk's TLS-based schemes (tls and
// quic) negotiate.
const ALPN = "qtalk"

// FingerprintPrefix starts every fingerprint and pin.
const FingerprintPrefix = "sha256:"

// selfSignedValidity is how long a generated certificate is valid.
const selfSignedValidity = 365 * 24 * time.Hour

// AddALPN returns cfg with ALPN added to its NextProtos if it is not
// there, and to those of the configs its GetConfigForClient returns. cfg
// must be a config of the caller's own (a clone).
func AddALPN(cfg *tls.Config) *tls.Config {
	if !slices.Contains(cfg.NextProtos, ALPN) {
		cfg.NextProtos = append(slices.Clip(cfg.NextProtos), ALPN)
	}
	if get := cfg.GetConfigForClient; get != nil {
		cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			c, err := get(hello)
			if c == nil || err != nil || slices.Contains(c.NextProtos, ALPN) {
				return c, err
			}
			c = c.Clone() // the callback's, not ours
			c.NextProtos = append(slices.Clip(c.NextProtos), ALPN)
			return c, nil
		}
	}
	return cfg
}

// Server returns a listener's TLS configuration and the fingerprint of its
// certificate. If base has a certificate (Certificates, GetCertificate or
// GetConfigForClient), the configuration is a clone of base and the
// fingerprint that of its first certificate in Certificates ("" if it has
// none). Otherwise (base may be nil) it holds a certificate SelfSigned
// generates for host. ALPN is not added: see AddALPN.
func Server(base *tls.Config, host string) (cfg *tls.Config, fingerprint string, err error) {
	if base != nil {
		cfg = base.Clone()
	} else {
		cfg = new(tls.Config)
	}
	if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil {
		cert, err := SelfSigned(host)
		if err != nil {
			return nil, "", err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if len(cfg.Certificates) > 0 && len(cfg.Certificates[0].Certificate) > 0 {
		fingerprint = Fingerprint(cfg.Certificates[0].Certificate[0])
	}
	return cfg, fingerprint, nil
}

// Fingerprint returns the SHA-256 fingerprint of a certificate's DER
// encoding: FingerprintPrefix and 64 lower-case hexadecimal digits.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return FingerprintPrefix + hex.EncodeToString(sum[:])
}

// SelfSigned generates a self-signed certificate with an ECDSA P-256 key,
// valid for a year from now, for the given host names and IP addresses,
// plus localhost and the loopback addresses. Wildcard hosts ("",
// "0.0.0.0", "::") are skipped.
func SelfSigned(hosts ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("self-signed certificate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("self-signed certificate: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "qtalk self-signed"},
		NotBefore:             now.Add(-time.Minute), // some slack for clock skew
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip, err := netip.ParseAddr(h); err == nil {
			if !ip.IsUnspecified() && !slices.ContainsFunc(tmpl.IPAddresses, func(x net.IP) bool { return x.Equal(ip.AsSlice()) }) {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
			}
		} else if h != "" && !slices.Contains(tmpl.DNSNames, h) {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("self-signed certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("self-signed certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
