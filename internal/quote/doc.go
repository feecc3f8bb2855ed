// Package quote quotes input a peer sent for error messages and log
// lines, up to a bounded length: an error frame or a log record that
// quotes a 4 MiB selector must not be 4 MiB (or, quoted twice, 8 MiB,
// past the frame limit the peer enforces).
package quote
