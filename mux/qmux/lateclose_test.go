package qmux

import (
	"slices"
	"testing"
)

// TestCloseReply: the CLOSE answering the peer's goes out by itself when
// nothing else is written, and ahead of the next message when something is
// (the session keeps its control messages in order); the channel number
// is released once the application closes its end too. The same with the
// reply held for the next write (lateCloseReply) and without.
func TestCloseReply(t *testing.T) {
	for _, name := range []string{"late", "at once"} {
		t.Run(name, func(t *testing.T) {
			cfg := hostileConfig
			if name == "at once" {
				cfg.without = lateCloseReply
			}
			p := newRawPeer(t, &cfg)

			sid := p.openFromPeer(5, 4096, 1024)
			ch := p.accept()
			p.send(frame{typ: msgChannelClose, recipient: sid})
			p.expect(frame{typ: msgChannelClose, recipient: 5}) // nothing else is written
			p.expectChannels(1, "the peer's CLOSE answered, the application's end still open")
			ch.Close()
			p.expectChannels(0, "both ends closed")

			sid = p.openFromPeer(6, 4096, 1024)
			ch = p.accept()
			defer ch.Close()
			p.send(frame{typ: msgChannelClose, recipient: sid})
			// sync makes the session write a refusal: the reply goes
			// ahead of it, if it has not gone by itself already.
			if got, want := p.sync(), []frame{{typ: msgChannelClose, recipient: 6}}; !slices.Equal(got, want) {
				t.Fatalf("session wrote %+v before the refusal, want %+v", got, want)
			}
			p.checkUsable(7)
		})
	}
}
