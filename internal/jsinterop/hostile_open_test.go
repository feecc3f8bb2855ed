//go:build browser

package jsinterop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// A hostileAnswer is what a raw Go listener answers the TypeScript
// driver's first OPEN with, given the driver's number for that channel.
type hostileAnswer struct {
	name   string
	answer func(sid uint32) [][]byte
}

// hostileAnswers are the cases of mux/qmux's hostile_test.go about a
// channel the session itself opened (spec/qmux.md §9, items 7 to 9), which
// the listening TypeScript peer of TestHostileToTypeScript cannot be given.
func hostileAnswers() []hostileAnswer {
	var cases []hostileAnswer
	add := func(name string, answer func(sid uint32) [][]byte) {
		cases = append(cases, hostileAnswer{name, answer})
	}
	one := func(msg func(sid uint32) []byte) func(sid uint32) [][]byte {
		return func(sid uint32) [][]byte { return [][]byte{msg(sid)} }
	}

	// Item 8: messages for the channel before any answer to its OPEN.
	add("data before the answer", one(func(sid uint32) []byte { return data(sid, []byte("x")) }))
	add("empty data before the answer", one(func(sid uint32) []byte { return data(sid, nil) }))
	add("EOF before the answer", one(func(sid uint32) []byte { return message(msgEOF, sid) }))
	add("window adjust before the answer", one(func(sid uint32) []byte { return message(msgWindowAdjust, sid, 1) }))
	add("CLOSE before the answer", one(func(sid uint32) []byte { return message(msgClose, sid) }))

	// Item 9.
	add("confirmation with max packet 0", one(func(sid uint32) []byte { return message(msgOpenConfirm, sid, 1, 4096, 0) }))

	// Item 7: a second answer, and answers for a channel never opened.
	confirm := func(sid uint32) []byte { return message(msgOpenConfirm, sid, 1, 4096, 1024) }
	add("second confirmation", func(sid uint32) [][]byte { return [][]byte{confirm(sid), confirm(sid)} })
	add("failure of a confirmed channel", func(sid uint32) [][]byte {
		return [][]byte{confirm(sid), message(msgOpenFailure, sid)}
	})
	add("failure of a channel never opened", one(func(uint32) []byte { return message(msgOpenFailure, 0x7FFFFFFF) }))
	add("confirmation of a channel never opened", one(func(uint32) []byte {
		return message(msgOpenConfirm, 0x7FFFFFFF, 1, 4096, 1024)
	}))
	return cases
}

// channels100Failed matches the driver's line for its first scenario,
// channels-100, failed with a protocol error.
var channels100Failed = regexp.MustCompile(`(?m)^FAIL channels-100: .*mux: protocol error`)

// The TypeScript driver (node js/dist/interop/qmux-peer.js drive ADDR),
// whose first scenario opens 100 channels, is answered its first OPEN with
// input that breaks the protocol, one connection each: it ends the session
// with a protocol error, which its channels-100 line names, exits with
// status 1 and closes the connection. Node's start, its connection, each
// of its scenarios and its exit have a guard of their own.
func TestHostileAnswersToTypeScript(t *testing.T) {
	scenarios := []string{"channels-100", "transfer-8mb", "half-close", "slow-reader", "peer-closes"}
	for _, tc := range hostileAnswers() {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })

			drive := startRun(t, "interop/qmux-peer.js", "drive", "tcp://"+ln.Addr().String())
			ln.(*net.TCPListener).SetDeadline(time.Now().Add(guard))
			conn, err := ln.Accept()
			if err != nil {
				t.Fatalf("the driver's connection, after its start: %v (%s)", err, drive.sched())
			}
			served := make(chan error, 1)
			go func() { served <- answerFirstOpen(conn, tc.answer) }()
			t.Cleanup(func() {
				conn.Close()
				<-served
			})

			drive.awaitSteps(t, scenarios)
			status := drive.awaitExit(t, "after its last step")
			if out := drive.stdout.text(); !channels100Failed.MatchString(out) {
				t.Errorf("the driver's output has no line FAIL channels-100 naming mux: protocol error:\n%s", out)
			}
			if status != 1 {
				t.Errorf("the driver exited with status %d, want 1", status)
			}
			select {
			case err := <-served:
				served <- err // for the cleanup
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(guard):
				t.Fatalf("the Go listener's connection did not end within %v of the driver's exit", guard)
			}
		})
	}
}

// answerFirstOpen reads the OPEN that comes first on conn, the driver's,
// within the guard, writes answer(sender) and then reads and discards
// what the peer writes until it closes the connection, within another. It
// runs on a goroutine of its own: it returns what went wrong instead of
// failing the test.
func answerFirstOpen(conn net.Conn, answer func(sid uint32) [][]byte) error {
	conn.SetDeadline(time.Now().Add(guard))

	// OPEN: the type byte, then sender channel, initial window and max
	// packet (spec/qmux.md §2).
	open := make([]byte, 1+4*fieldCounts[msgOpen])
	if _, err := io.ReadFull(conn, open); err != nil {
		return fmt.Errorf("reading the driver's first OPEN: %w", err)
	}
	if open[0] != msgOpen {
		return fmt.Errorf("the driver's first message is of type %d, want an OPEN (%d)", open[0], msgOpen)
	}
	sender := binary.BigEndian.Uint32(open[1:])
	if maxPacket := binary.BigEndian.Uint32(open[9:]); maxPacket == 0 {
		return fmt.Errorf("the driver's OPEN announces a max packet of 0")
	}
	conn.SetDeadline(time.Now().Add(guard))
	if _, err := conn.Write(concat(answer(sender))); err != nil {
		return fmt.Errorf("writing the answer: %w", err)
	}

	// More OPENs, and DATA on a confirmed channel, may come first.
	if _, err := io.Copy(io.Discard, conn); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("the driver did not close the connection: %w", err)
	}
	return nil
}
