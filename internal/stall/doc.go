// Package stall is a TCP relay (Relay) and a UDP relay (UDPRelay) for
// tests and benchmarks that can stop forwarding without closing anything:
// to its two ends, the other looks like a peer that was stopped or cut
// off, the case keepalives must find.
package stall
