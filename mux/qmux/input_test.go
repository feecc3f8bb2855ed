package qmux

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// The reader goroutine reads payloads straight into the buffer of a Read
// waiting for them, and over TCP with vectored reads; these tests run over
// a pipe and over TCP so that both ways are taken.

// newRawPeerTCP is newRawPeer over loopback TCP.
func newRawPeerTCP(t testing.TB, cfg *Config) *rawPeer {
	t.Helper()
	a, b := tcpConnPair(t)
	p := &rawPeer{t: t, s: newSession(t, a, cfg), conn: b, r: bufio.NewReader(b), syncID: 0xFFFFFFFF}
	t.Cleanup(func() {
		p.s.Close()
		p.s.Wait()
	})
	return p
}

// waitOffered waits until a Read on c waits with its buffer offered to the
// reader goroutine.
func waitOffered(t *testing.T, c *channel) {
	t.Helper()
	for deadline := time.Now().Add(failAfter); ; runtime.Gosched() {
		c.recv.mu.Lock()
		offered := c.recv.offer.state == offerWaiting
		c.recv.mu.Unlock()
		if offered {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no Read offered its buffer")
		}
	}
}

// TestReadDeadlineMidPayload checks that a peer stopping in the middle of
// a payload holds up no Read: the part that came is read, a Read waiting
// for the rest still ends at its deadline, and the rest is read in order
// once it comes.
func TestReadDeadlineMidPayload(t *testing.T) {
	for name, newPeer := range map[string]func(testing.TB, *Config) *rawPeer{"pipe": newRawPeer, "tcp": newRawPeerTCP} {
		t.Run(name, func(t *testing.T) {
			p := newPeer(t, &hostileConfig)
			sid := p.openFromPeer(7, 4096, 1024)
			ch := p.accept()
			payload := make([]byte, 100)
			for i := range payload {
				payload[i] = byte(i)
			}
			first := make(chan []byte, 1)
			go func() {
				buf := make([]byte, 1024)
				_, err := io.ReadFull(ch, buf[:10])
				if err != nil {
					t.Error(err)
				}
				first <- buf[:10]
			}()
			waitOffered(t, ch.(*channel))
			p.write(append(appendFrame(nil, frame{typ: msgChannelData, recipient: sid, length: 100}), payload[:10]...))
			select {
			case got := <-first:
				if string(got) != string(payload[:10]) {
					t.Fatalf("read %v, want %v", got, payload[:10])
				}
			case <-time.After(failAfter):
				t.Fatal("a Read waiting for data did not return the part of the payload that came")
			}

			ch.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			buf := make([]byte, 1024)
			if n, err := ch.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("Read while the payload is incomplete = %d, %v; want the deadline", n, err)
			}
			ch.SetReadDeadline(time.Now().Add(failAfter))
			p.write(payload[10:])
			if _, err := io.ReadFull(ch, buf[:90]); err != nil || string(buf[:90]) != string(payload[10:]) {
				t.Fatalf("read %v, %v; want %v", buf[:90], err, payload[10:])
			}
			p.checkUsable(100)
		})
	}
}

// closingReader is a vectorReader whose read without waiting, the one
// the reader goroutine makes while it fills the buffer of a waiting Read
// without holding the channel's lock (readAvailable), closes the channel
// first: the application's Close coming at that moment.
type closingReader struct{ c *channel }

func (r closingReader) read(wait bool, a, b, c []byte) (int, error) {
	if wait {
		return 0, errors.New("closingReader: a read that waits")
	}
	r.c.Close()
	return 0, nil
}

// TestCloseWhileFillingRead: a channel closed while the reader goroutine
// puts a payload into the buffer of the channel's waiting Read has the
// rest of the payload skipped. The reader went on to put the rest into the
// channel's ring, which Close had let go of with the channel's credit,
// and divided by the ring's length, zero (a panic seen once in 10 runs of
// the package under -race on a loaded machine).
func TestCloseWhileFillingRead(t *testing.T) {
	p := newRawPeer(t, &hostileConfig)
	p.openFromPeer(7, 4096, 1024)
	ch := p.accept().(*channel)
	read := make(chan error, 1)
	go func() {
		_, err := ch.Read(make([]byte, 1024))
		read <- err
	}()
	waitOffered(t, ch)

	// A DATA payload of 100 bytes, 10 of them buffered and the rest
	// still to come, handed to the channel as the reader goroutine would.
	payload := make([]byte, 100)
	rest := bytes.NewReader(payload[10:])
	in := newInput(rest, closingReader{ch})
	in.w = copy(in.buf, payload[:10])
	func() {
		defer func() {
			if v := recover(); v != nil {
				// receiveData panicked holding the channel's lock,
				// which the session's Close in the cleanup would wait
				// for.
				ch.recv.mu.Unlock()
				t.Fatalf("receiveData of the rest of the payload, the channel closed: %v", v)
			}
		}()
		if err := ch.receiveData(in, uint32(len(payload))); err != nil {
			t.Fatalf("receiveData: %v", err)
		}
	}()
	if in.r != in.w || rest.Len() != 0 {
		t.Errorf("%d bytes of the payload left unread, want it skipped to its end", in.w-in.r+rest.Len())
	}
	if err := <-read; !errors.Is(err, mux.ErrChannelClosed) {
		t.Errorf("the Read the channel's Close interrupted: %v, want ErrChannelClosed", err)
	}
}

// TestConcurrentReads checks that Reads racing on one channel share its
// data: no byte is lost, duplicated or altered, whichever way it reached
// them.
func TestConcurrentReads(t *testing.T) {
	for name, mk := range map[string]func(testing.TB, *Config) (*Session, *Session){"pipe": newPair, "tcp": newTCPPair} {
		t.Run(name, func(t *testing.T) {
			a, b := mk(t, nil)
			ca, cb := openPair(t, a, b)
			const chunks, size = 256, 64 << 10
			const total = chunks * size
			chunk := make([]byte, size)
			var sent int64
			for i := range chunk {
				chunk[i] = byte(i * 7)
				sent += chunks * int64(chunk[i])
			}
			go func() {
				for range chunks {
					ca.Write(chunk)
				}
				ca.(interface{ CloseWrite() error }).CloseWrite()
			}()

			var count, sum atomic.Int64
			var wg sync.WaitGroup
			for r := range 4 {
				wg.Go(func() {
					buf := make([]byte, (r+1)*8<<10)
					for {
						n, err := cb.Read(buf)
						count.Add(int64(n))
						var s int64
						for _, c := range buf[:n] {
							s += int64(c)
						}
						sum.Add(s)
						if err != nil {
							if err != io.EOF {
								t.Error(err)
							}
							return
						}
					}
				})
			}
			// No bound on the time 16 MiB take: under -race on a loaded
			// machine it can be long. A hang is reported by the test
			// binary's timeout, with every goroutine's stack.
			wg.Wait()
			if count.Load() != total || sum.Load() != sent {
				t.Fatalf("the readers got %d bytes summing to %d, want %d summing to %d", count.Load(), sum.Load(), total, sent)
			}
		})
	}
}

// decodeTCP is decode with the peer's stream sent over loopback TCP.
func decodeTCP(t testing.TB, input []byte) error {
	a, b := tcpConnPair(t)
	s := newSession(t, a, &fuzzConfig)
	go io.Copy(io.Discard, b) // what the session writes
	b.Write(input)
	b.(*net.TCPConn).CloseWrite()
	return waitEnd(t, s)
}

// TestDecodeSeedsTCP checks that each seed stream ends the session the same
// way over TCP as from memory.
func TestDecodeSeedsTCP(t *testing.T) {
	for name, input := range seedStreams() {
		want, got := decode(t, input), decodeTCP(t, input)
		if errors.Is(got, mux.ErrProtocol) != errors.Is(want, mux.ErrProtocol) || errors.Is(got, io.EOF) != errors.Is(want, io.EOF) {
			t.Errorf("%s: Wait() = %v over TCP, %v from memory", name, got, want)
		}
	}
}
