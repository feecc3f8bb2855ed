package main

import (
	"context"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport"
	"log/slog"
)

// tlsAddressHelp tells how clients take a TLS server's certificate, for
// the help of the commands that dial.
const tlsAddressHelp = `
TLS addresses (tls://, wss://, quic://) verify the server's certificate
against the system roots, or against the CAs of --ca. A server with a
self-signed certificate (qtalk serve without --cert) logs its fingerprint
as it starts: pin it with ?pin=sha256:HEX at the end of the address, or,
for a test only, skip the verification with ?insecure=1 (the traffic is
encrypted but the server is not authenticated). --client-cert and
--client-key present a client certificate to a server that asks for one.`

// serverTLSFlags adds --cert, --key and --ca to f, for listeners.
func (f *flagSet) serverTLSFlags() *transport.TLSFiles {
	var t transport.TLSFiles
	f.StringVar(&t.Cert, "cert", "", "the TLS certificate chain `FILE` (PEM) of the tls, wss and quic listeners, reloaded when it changes or on SIGHUP (default: a self-signed certificate, whose fingerprint is logged)")
	f.StringVar(&t.Key, "key", "", "the private key `FILE` (PEM) of --cert")
	f.StringVar(&t.CA, "ca", "", "require of clients of the TLS listeners a certificate signed by a CA of `FILE` (PEM)")
	return &t
}

// clientTLSFlags adds --client-cert, --client-key and --ca to f, for
// dialers.
func (f *flagSet) clientTLSFlags() *transport.TLSFiles {
	var t transport.TLSFiles
	f.StringVar(&t.Cert, "client-cert", "", "present the client certificate chain `FILE` (PEM) to TLS servers")
	f.StringVar(&t.Key, "client-key", "", "the private key `FILE` (PEM) of --client-cert")
	f.StringVar(&t.CA, "ca", "", "verify the certificates of TLS servers against the CAs of `FILE` (PEM) instead of the system roots")
	return &t
}

// loadTLS loads the files of cmd's TLS flags; nil if they name none.
func loadTLS(cmd string, files *transport.TLSFiles) (*transport.CertFiles, error) {
	if files.IsZero() {
		return nil, nil
	}
	cf, err := transport.LoadTLSFiles(*files)
	if err != nil {
		return nil, usageErrorf("%s: %v", cmd, err)
	}
	return cf, nil
}

// connect dials addr as dial does, with the certificates of cmd's client
// TLS flags.
func connect(ctx context.Context, cmd string, log *slog.Logger, addr string, files *transport.TLSFiles, opts ...talk.Option) (*talk.Peer, error) {
	cf, err := loadTLS(cmd, files)
	if err != nil {
		return nil, err
	}
	if cf != nil {
		opts = append(opts, talk.WithTransportOptions(transport.WithTLSConfig(cf.ClientConfig())))
	}
	return dial(ctx, log, addr, opts...)
}
