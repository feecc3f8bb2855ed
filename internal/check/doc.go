// Package check is qtalk's interop check: a small protocol that every
// implementation serves, and a Checker that calls it and reports which
// cases pass. "qtalk serve" serves the protocol beside its demo modules,
// and "qtalk check" runs the Checker against a server it dials or a
// program it starts over stdio.
//
// spec/check.md specifies the protocol and the cases for implementations
// in other languages: argument encodings, error codes, the sample value
// and the byte pattern, with example bytes that spec_test.go checks
// against Handler. What follows is a summary.
//
// # Protocol
//
// The server handles these selectors, each taking one value as its
// arguments (not an array):
//
//	check:echo      any value v          replies v
//	check:metadata  anything             replies the call's metadata, a map of strings
//	check:fail      {"code":c,"message":m}  fails with rpc code c (1..16) and message m
//	check:stream    n (0..10000)         continues with null, sends 0, 1, ... n-1, ends
//	check:sum       anything             continues with null, receives integers until
//	                                     the client ends its stream, sends their sum, ends
//	check:bytes     anything             continues with null, then echoes the raw bytes
//	                                     of the channel until the client half-closes it,
//	                                     and half-closes in turn
//	check:callback  any value v          calls check:echo on the caller with v (the
//	                                     client serves it) and replies what it returned
//
// A selector the server does not know fails with not_found, and arguments
// of the wrong type with invalid_argument. The Checker serves check:echo
// itself, for the callback case, and uses both the CBOR and the JSON codec.
//
// # Cases
//
// Checker.Run calls each case in turn, each bounded by Checker.Timeout:
// unary calls in both codecs, metadata, errors with their codes and
// messages, an unknown selector, bad arguments, server and client streams,
// concurrent calls, raw byte streams of 1 B, 1 KiB and 1 MiB, and a
// callback from the server to the client.
package check
