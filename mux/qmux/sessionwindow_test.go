package qmux

import (
	"io"
	"slices"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux"
)

// TestSessionWindow: the windows of a session's channels stay within
// SessionWindowSize together, but for minWindow that each has whatever
// the others hold; a closed channel gives back what it took and lets go
// of what it buffered, and a channel short of window takes the credit
// when it gives window back.
func TestSessionWindow(t *testing.T) {
	const window, maxPacket = 16 << 10, minWindow
	cfg := Config{WindowSize: window, MaxWindowSize: window, MaxPacketSize: maxPacket, SessionWindowSize: 2 * window}
	p := newRawPeer(t, &cfg)
	var sids []uint32
	for id, want := range []uint32{window, window, minWindow, minWindow} {
		p.send(frame{typ: msgChannelOpen, sender: uint32(id), window: 1 << 20, maxPacket: maxPacket})
		f, _ := p.next()
		if f.typ != msgChannelOpenConfirm || f.window != want {
			t.Fatalf("channel %d: the session answered OPEN with %+v, want a confirmation announcing window %d", id, f, want)
		}
		sids = append(sids, f.sender)
	}
	chans := []*channel{p.accept().(*channel), p.accept().(*channel), p.accept().(*channel), p.accept().(*channel)}

	// The first channel fills its window and is closed unread: what it
	// buffered goes, and what it took comes back.
	for range window / maxPacket {
		p.send(frame{typ: msgChannelData, recipient: sids[0], length: maxPacket})
	}
	p.syncQuiet()
	chans[0].Close()
	p.expect(frame{typ: msgChannelClose, recipient: 0})
	chans[0].recv.mu.Lock()
	if buf := chans[0].recv.buf; buf != nil {
		t.Errorf("a closed channel holds a buffer of %d bytes", len(buf))
	}
	chans[0].recv.mu.Unlock()

	// The third reads its minWindow: the adjust gives back what it read
	// and what is left of what the first returned (the third and the
	// fourth overdrew the credit by their minWindow).
	p.send(frame{typ: msgChannelData, recipient: sids[2], length: minWindow})
	p.syncQuiet()
	buf := make([]byte, minWindow)
	chans[2].SetReadDeadline(time.Now().Add(failAfter))
	if _, err := io.ReadFull(chans[2], buf); err != nil {
		t.Fatal(err)
	}
	p.expect(frame{typ: msgChannelWindowAdjust, recipient: 2, window: window - minWindow})
	// The fourth, reading next, finds nothing left: it gets back what it
	// read only.
	p.send(frame{typ: msgChannelData, recipient: sids[3], length: minWindow})
	p.syncQuiet()
	chans[3].SetReadDeadline(time.Now().Add(failAfter))
	if _, err := io.ReadFull(chans[3], buf); err != nil {
		t.Fatal(err)
	}
	p.expect(frame{typ: msgChannelWindowAdjust, recipient: 3, window: minWindow})
	// Past its window, a channel's data is still a protocol error.
	p.send(frame{typ: msgChannelData, recipient: sids[3], length: minWindow})
	p.syncQuiet()
	p.send(frame{typ: msgChannelData, recipient: sids[3], length: 1})
	p.expectProtocolError()
}

// TestSessionWindowUnbounded: a negative SessionWindowSize gives every
// channel its WindowSize.
func TestSessionWindowUnbounded(t *testing.T) {
	cfg := Config{WindowSize: 16 << 10, MaxPacketSize: 1 << 10, SessionWindowSize: -1}
	p := newRawPeer(t, &cfg)
	for id := range uint32(4) {
		p.send(frame{typ: msgChannelOpen, sender: id, window: 1 << 20, maxPacket: 1 << 10})
		if f, _ := p.next(); f.typ != msgChannelOpenConfirm || f.window != cfg.WindowSize {
			t.Fatalf("the session answered OPEN with %+v, want a confirmation announcing window %d", f, cfg.WindowSize)
		}
	}
}

// TestSessionWindowFairShare: while the session's credit is short, the
// channels that all read share it evenly, whichever opened first. The
// peer sends, round after round, all that each channel's window allows,
// and the application reads it all; the first channels opened take full
// windows and the rest start at minWindow, but over the run each channel
// gets a fair part of the bytes. The windows given to the peer stay
// within SessionWindowSize plus minWindow per channel throughout.
func TestSessionWindowFairShare(t *testing.T) {
	const (
		window, maxPacket = 64 << 10, minWindow
		channels          = 16
		budget            = 2 * window // fair share: 8 KiB
		total             = 4 << 20    // bytes sent over the run
	)
	cfg := Config{WindowSize: window, MaxPacketSize: maxPacket, SessionWindowSize: budget, MaxChannels: 2 * channels}
	p := newRawPeer(t, &cfg)
	sids := make([]uint32, channels)
	windows := make(map[uint32]uint32) // by the peer's number: the window the peer may fill
	for id := range uint32(channels) {
		p.send(frame{typ: msgChannelOpen, sender: id, window: 1 << 20, maxPacket: maxPacket})
		f, _ := p.next()
		if f.typ != msgChannelOpenConfirm {
			t.Fatalf("the session answered OPEN with %+v, want a confirmation", f)
		}
		sids[id], windows[id] = f.sender, f.window
	}
	if windows[0] != window || windows[channels-1] != minWindow {
		t.Fatalf("first windows %d and %d, want %d for the first channel and %d for the last", windows[0], windows[channels-1], window, minWindow)
	}
	chans := make([]mux.Channel, channels)
	for i := range chans {
		chans[i] = p.accept()
		chans[i].SetReadDeadline(time.Now().Add(failAfter))
	}

	got := make([]int, channels)
	buf := make([]byte, window)
	for sent := 0; sent < total; {
		var sum int64
		for id := range uint32(channels) {
			sum += int64(windows[id])
		}
		if limit := int64(budget + channels*minWindow); sum > limit {
			t.Fatalf("after %d bytes, the peer's windows add up to %d, past %d", sent, sum, limit)
		}
		for id := range uint32(channels) {
			for w := windows[id]; w > 0; w -= min(w, maxPacket) {
				p.send(frame{typ: msgChannelData, recipient: sids[id], length: min(w, maxPacket)})
			}
		}
		// All of it buffered before the application reads: each channel's
		// round is one Read, so the grants do not depend on how the
		// reader goroutine and the Reads interleave.
		p.syncQuiet()
		for id := range uint32(channels) {
			n := int(windows[id])
			if _, err := io.ReadFull(chans[id], buf[:n]); err != nil {
				t.Fatal(err)
			}
			got[id] += n
			sent += n
			windows[id] = 0
		}
		for _, f := range p.sync() {
			if f.typ != msgChannelWindowAdjust {
				t.Fatalf("session wrote %+v, want only WINDOW_ADJUST", f)
			}
			windows[f.recipient] += f.window
		}
	}
	least, most := slices.Min(got), slices.Max(got)
	t.Logf("bytes delivered per channel: %v", got)
	if float64(least) < 0.5*float64(most) {
		t.Errorf("bytes delivered per channel %v: the slowest got %.2f of the fastest's, want at least 0.5", got, float64(least)/float64(most))
	}
}

// TestWindowGrows: a channel whose window the peer fills and the
// application reads gets a window twice as large with each WINDOW_ADJUST,
// up to MaxWindowSize, and as far as that leaves half of
// SessionWindowSize; with MaxWindowSize at WindowSize, it keeps
// WindowSize.
func TestWindowGrows(t *testing.T) {
	const window, maxPacket = 16 << 10, 4 << 10
	for _, tc := range []struct {
		name    string
		cfg     Config
		adjusts []uint32 // the WINDOW_ADJUSTs after each round
	}{
		{"up to MaxWindowSize", Config{MaxWindowSize: 4 * window}, []uint32{2 * window, 4 * window, 4 * window, 4 * window}},
		{"within half SessionWindowSize", Config{MaxWindowSize: 4 * window, SessionWindowSize: 4 * window}, []uint32{2 * window, 2 * window, 2 * window}},
		{"fixed", Config{MaxWindowSize: window}, []uint32{window, window, window}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.WindowSize, cfg.MaxPacketSize = window, maxPacket
			p := newRawPeer(t, &cfg)
			p.send(frame{typ: msgChannelOpen, sender: 0, window: 1 << 20, maxPacket: maxPacket})
			f, _ := p.next()
			if f.typ != msgChannelOpenConfirm || f.window != window {
				t.Fatalf("the session answered OPEN with %+v, want a confirmation announcing window %d", f, window)
			}
			sid := f.sender
			ch := p.accept()
			ch.SetReadDeadline(time.Now().Add(failAfter))
			peerWindow := uint32(window)
			buf := make([]byte, 4*window)
			for round, want := range tc.adjusts {
				for w := peerWindow; w > 0; w -= min(w, maxPacket) {
					p.send(frame{typ: msgChannelData, recipient: sid, length: min(w, maxPacket)})
				}
				// All of it buffered before the application reads it in
				// one Read, so that one WINDOW_ADJUST answers the round.
				p.syncQuiet()
				if n, err := ch.Read(buf); err != nil || n != int(peerWindow) {
					t.Fatalf("round %d: Read = %d, %v; want the %d bytes sent", round, n, err, peerWindow)
				}
				p.expect(frame{typ: msgChannelWindowAdjust, recipient: 0, window: want})
				peerWindow = want
			}
			// Past its window, a channel's data is a protocol error.
			for w := peerWindow; w > 0; w -= min(w, maxPacket) {
				p.send(frame{typ: msgChannelData, recipient: sid, length: min(w, maxPacket)})
			}
			p.syncQuiet()
			p.send(frame{typ: msgChannelData, recipient: sid, length: 1})
			p.expectProtocolError()
		})
	}
}

// TestGrownWindowGivesBack: a window grown past WindowSize is given back
// to channels that open later and find the session's credit short: once
// one of them is hungry, the grown channel aims at its fair share, and the
// hungry one takes what it gives back.
func TestGrownWindowGivesBack(t *testing.T) {
	const window, maxPacket = 16 << 10, 4 << 10
	cfg := Config{WindowSize: window, MaxWindowSize: 4 * window, MaxPacketSize: maxPacket, SessionWindowSize: 4 * window}
	p := newRawPeer(t, &cfg)
	open := func(id, want uint32) (sid uint32, ch mux.Channel) {
		t.Helper()
		p.send(frame{typ: msgChannelOpen, sender: id, window: 1 << 20, maxPacket: maxPacket})
		if f, _ := p.next(); f.typ != msgChannelOpenConfirm || f.window != want {
			t.Fatalf("the session answered OPEN with %+v, want a confirmation announcing window %d", f, want)
		} else {
			sid = f.sender
		}
		ch = p.accept()
		ch.SetReadDeadline(time.Now().Add(failAfter))
		return sid, ch
	}
	buf := make([]byte, 4*window)
	// round sends n bytes on the channel, has the application read them
	// in one Read, and expects the WINDOW_ADJUST that answers.
	round := func(sid, id uint32, ch mux.Channel, n, adjust uint32) {
		t.Helper()
		for w := n; w > 0; w -= min(w, maxPacket) {
			p.send(frame{typ: msgChannelData, recipient: sid, length: min(w, maxPacket)})
		}
		p.syncQuiet()
		if k, err := ch.Read(buf); err != nil || k != int(n) {
			t.Fatalf("channel %d: Read = %d, %v; want the %d bytes sent", id, k, err, n)
		}
		p.expect(frame{typ: msgChannelWindowAdjust, recipient: id, window: adjust})
	}

	sidA, a := open(0, window)
	round(sidA, 0, a, window, 2*window) // grown, from the upper half of the credit
	// Three more: the last finds the credit used up and opens with
	// minWindow.
	open(1, window)
	open(2, window)
	sidD, d := open(3, minWindow)
	round(sidD, 3, d, minWindow, minWindow) // nothing left to take: hungry
	round(sidA, 0, a, 2*window, window)     // down to its fair share, the rest to the credit
	round(sidD, 3, d, minWindow, window)    // up to WindowSize with what came back
	round(sidA, 0, a, window, window)       // no growth while the session is short
}
