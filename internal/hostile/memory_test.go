package hostile_test

import (
	"runtime"
	"testing"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
)

// sessionMemoryBound is the bound spec/limits.md ("Memory per session")
// gives a session with the defaults: what qmux buffers for its channels,
// what the rpc server holds in frames, and what each channel open costs
// besides.
const sessionMemoryBound = qmux.DefaultSessionWindows*qmux.DefaultWindowSize + rpc.DefaultMaxFrameMemory + qmux.DefaultMaxChannels*channelCost

// channelCost is what spec/limits.md counts for each channel open, beyond
// the bytes it buffers: the channel's minimum window, the channel, the
// call and the goroutine serving it with its stack (measured: about 10
// KiB, 14 KiB under the race detector).
const channelCost = 24 << 10

// frameChannels is how many calls of the attack send all but the last
// byte of a frame of the largest size: together, three times the frame memory
// of a session (MaxWaitingChannels refuses none: they are fewer).
const frameChannels = 3 * rpc.DefaultMaxFrameMemory / rpc.DefaultMaxFrameSize

// TestSessionMemory: one session opens the worst case the defaults allow,
// every channel a session may have (qmux.DefaultMaxChannels) and all the
// bytes they let it send: calls that send all but the last byte of a
// frame of rpc.DefaultMaxFrameSize, and calls to a handler that takes
// long and reads nothing more, whose channels it fills up to their
// windows. The server's heap and stacks stay within the bound of
// spec/limits.md, as the attack goes and once it is all sent; the good
// client's calls succeed; and all is let go once the attacker leaves.
//
// Without rpc.Server.MaxFrameMemory the frames alone took 3 × 64 MiB;
// without qmux.Config.SessionWindowSize each channel's 512 KiB window
// filled, 2 GiB for 4096 channels: both go past the bound, which the test
// checks after each batch of channels, before more is sent.
func TestSessionMemory(t *testing.T) {
	tg := startTarget(t, func(s *rpc.Server) { s.RequestTimeout, s.WriteTimeout = 0, 0 }) // the defaults
	baseGoroutines, base := runtime.NumGoroutine(), memoryInuse()
	check := func(when string) uint64 {
		t.Helper()
		now := memoryInuse()
		used := now - min(base, now)
		if used > sessionMemoryBound {
			t.Fatalf("%s: the heap and stacks grew by %d MiB, over the bound of %d MiB", when, used/MiB, sessionMemoryBound/MiB)
		}
		return used
	}
	m := dialRaw(t, tg.addr)

	// Calls to hold on as many channels as a session may have, each
	// filled up to its window.
	hold := append(callFrame("hold", 0, 0), cborNull...)
	const batch = 256
	var holds []int
	for left := qmux.DefaultMaxChannels - frameChannels - 16; left > 0; left -= batch {
		nums := m.open(min(batch, left))
		for _, i := range nums {
			m.push(i, hold, 1<<30) // up to the window: the handler never reads it
		}
		holds = append(holds, nums...)
		check("while the channels fill")
	}
	// Every call to hold runs, unless the server refused it: on a loaded
	// machine some wait for the server to read them past the second after
	// which MaxWaitingChannels counts them.
	m.waitFor(func() bool { return m.heardOrClosedLocked(holds) }, "the calls to hold to run")
	check("with the calls to hold running")

	// Then frames of the largest size, all but their last byte.
	header := append(callFrame("echo", 0, 0), 3, 0x00, 0x40, 0x00, 0x00) // a VALUE frame of 4 MiB
	var frames []int
	for left := frameChannels; left > 0; left -= 8 {
		nums := m.open(min(8, left))
		m.pushAll(nums, header, len(header)+rpc.DefaultMaxFrameSize-1)
		frames = append(frames, nums...)
		check("while the frames come")
	}
	used := check("with the attack all sent")
	t.Logf("%d calls to hold (%d refused or failed), %d frames (%d failed or refused), the heap and stacks %d MiB over the start, bound %d MiB",
		len(holds), m.closed(holds), len(frames), m.closed(frames), used/MiB, sessionMemoryBound/MiB)
	if n := m.closed(frames); n < frameChannels/2 {
		t.Errorf("%d of the %d calls sending 4 MiB frames failed, want most of them over the frame memory", n, frameChannels)
	}

	m.close()
	tg.releaseHeld()
	settle(t, tg, baseGoroutines)
	if now := memoryInuse(); now-min(base, now) > 16*MiB {
		t.Errorf("after the attacker left, the heap and stacks are %d MiB over the start", (now-base)/MiB)
	}
}

// memoryInuse returns the heap and the goroutine stacks in use after two
// collections (the second empties the pools of buffers).
func memoryInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}
