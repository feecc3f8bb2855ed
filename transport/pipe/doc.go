// Package pipe provides a buffered, in-memory, full-duplex connection pair
// for tests and examples.
//
// # Why not net.Pipe
//
// net.Pipe is synchronous: a Write blocks until the peer reads it, so two
// ends that write at the same time before reading (as two multiplexed
// sessions routinely do) deadlock. The pipes of this package buffer each
// direction: Write copies into a bounded buffer and blocks only while that
// buffer is full; Read blocks only while it is empty.
//
// # Semantics
//
// Both ends are net.Conns that behave like a TCP connection:
//
//   - Concurrent Writes on one end do not interleave: each Write is complete
//     (or has failed) before the next starts. Reads may be concurrent.
//   - Deadlines (SetDeadline, SetReadDeadline, SetWriteDeadline) apply to
//     pending and future calls. An expired deadline makes Read and Write
//     fail with os.ErrDeadlineExceeded itself, not wrapped, so
//     err.(net.Error).Timeout() reports true. A Write that times out part
//     way reports the bytes already buffered.
//   - Close unblocks pending calls on both ends. On the closed end every
//     later call fails with an error that matches net.ErrClosed, and so does
//     a second Close. The other end reads the data still buffered and then
//     io.EOF; its writes fail with io.ErrClosedPipe.
//   - CloseWrite half-closes an end: the peer reads io.EOF after the data
//     written so far, while this end can still read.
//   - LocalAddr and RemoteAddr are mux.Addr{Net: "pipe"}.
//
// In steady state Read and Write do not allocate.
package pipe
