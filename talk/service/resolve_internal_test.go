package service

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// answer returns a DNS answer of A records living ttls, with its rcode.
func answer(t *testing.T, rcode dnsmessage.RCode, ttls ...uint32) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{Response: true, RCode: rcode})
	name := dnsmessage.MustNewName("up.test.")
	b.StartQuestions()
	b.Question(dnsmessage.Question{Name: name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET})
	b.StartAnswers()
	for _, ttl := range ttls {
		if err := b.AResource(dnsmessage.ResourceHeader{Name: name, Class: dnsmessage.ClassINET, TTL: ttl}, dnsmessage.AResource{A: [4]byte{10, 0, 0, 1}}); err != nil {
			t.Fatal(err)
		}
	}
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// A stream connection to a name server carries each message after its
// length, split anywhere by the reads: the TTLs of every whole, successful
// answer count, the smallest wins; an empty message, a failed answer
// (its TTLs do not count) and bytes that are no DNS message change
// nothing and stop nothing.
func TestStreamAnswersTTL(t *testing.T) {
	var stream []byte
	for _, msg := range [][]byte{
		answer(t, dnsmessage.RCodeSuccess, 30, 7),
		{},
		answer(t, dnsmessage.RCodeNameError, 1),
		[]byte("no DNS message"),
		answer(t, dnsmessage.RCodeSuccess, 9, 3, 12),
	} {
		stream = binary.BigEndian.AppendUint16(stream, uint16(len(msg)))
		stream = append(stream, msg...)
	}
	for _, chunk := range []int{1, 2, 5, len(stream)} {
		r := &resolver{}
		client, server := net.Pipe()
		go func() {
			for rest := stream; len(rest) > 0; rest = rest[min(chunk, len(rest)):] {
				server.Write(rest[:min(chunk, len(rest))])
			}
			server.Close()
		}()
		c := &ttlStreamConn{Conn: client, r: r}
		got, err := io.ReadAll(c)
		if err != nil || !bytes.Equal(got, stream) {
			t.Fatalf("chunks of %d: read %d bytes, %v; want the %d written", chunk, len(got), err, len(stream))
		}
		if !r.hasTTL || r.ttl != 3 {
			t.Errorf("chunks of %d: ttl %d (seen %v), want 3", chunk, r.ttl, r.hasTTL)
		}
	}
}

// The wait before resolving again is resolve_every, or the TTL if it is
// shorter, but no less than a second unless resolve_every is.
func TestResolveWait(t *testing.T) {
	for _, c := range []struct {
		every, ttl time.Duration
		hasTTL     bool
		want       time.Duration
	}{
		{5 * time.Second, 0, false, 5 * time.Second},
		{5 * time.Second, 2 * time.Second, true, 2 * time.Second},
		{5 * time.Second, time.Hour, true, 5 * time.Second},
		{5 * time.Second, 0, true, time.Second},
		{50 * time.Millisecond, 0, true, 50 * time.Millisecond},
	} {
		if got := resolveWait(c.every, c.ttl, c.hasTTL); got != c.want {
			t.Errorf("resolveWait(%v, %v, %v) = %v, want %v", c.every, c.ttl, c.hasTTL, got, c.want)
		}
	}
}
