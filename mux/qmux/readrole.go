package qmux

import (
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// A readRole is the role of reading the connection: parsing the peer's
// messages and handing each to its channel (readMessage). At most one
// goroutine holds it at a time: the reader goroutine (readLoop), or, on
// sockets (readOnWait), a Read about to wait that found the role free. A
// Read that reads the connection itself is woken by the network poller
// with the bytes it waits for, where otherwise the poller wakes the reader
// goroutine and that goroutine wakes the Read: one hand-off between
// goroutines less per message read, and between processes one thread
// woken less.
//
// The role is free only after the reader goroutine handed a whole short
// payload to a waiting Read (the reply of a call): that Read's goroutine
// is then likely to come back and wait again soon. The reader goroutine
// waits for the role to come back, which it does when a Read that holds
// it gets what it waited for while other Reads wait, when the holder meets
// a message not whole in the input buffer, when an Open or a Write needs
// the peer's answer, or readLinger after the role was freed. Other Reads
// count only while they have waited less than idleWait: one waiting
// longer waits for events (the next message of a long-lived stream, which
// a talk peer keeps open to watch its upstream), not for a reply, and
// would otherwise keep the role with the reader goroutine for good; its
// message may wait up to readLinger while the role is free. For the same
// reason a holder that has waited idleWait lets go of the role when
// another Read is about to wait. A holder
// reads only whole messages, so that it can stop between two: when its
// channel's deadline passes or the channel is closed, a read deadline in
// the past on the connection interrupts its wait (interrupted), which it
// clears before it lets go.
//
// The fields are guarded by mu, a leaf lock (taken after Session.mu and
// recvHalf.mu, never before), but for handed, which belongs to the
// goroutine holding the role.
type readRole struct {
	mu          sync.Mutex
	cond        sync.Cond // L is &mu; the reader goroutine waits on it for the role to come back
	owner       roleOwner
	holder      *recvHalf // the channel of the Read holding the role (owner roleRead)
	heldSince   time.Time // when the holder took the role
	waiting     int       // Reads waiting for the holder to hand them data (on their recvHalf.cond)
	ages        waitAges  // of the waiting Reads, those that count (activeWaitersLocked)
	interrupted bool      // a read deadline in the past interrupts the holder's wait
	ended       bool      // the session ended
	freedAt     time.Time // when the role was last freed; the session's deferred work gives it back readLinger later
	// lent is set while the reader goroutine has lent the role (free or
	// held by a Read): no other Read was waiting (quietLocked). Written
	// by the reader goroutine with mu held; read without it.
	lent atomic.Bool
	// dl sets the socket's read deadline; nil when readOnWait is off or
	// the connection is no socket.
	dl interface{ SetReadDeadline(time.Time) error }

	handed bool // a whole short payload went to a waiting Read since the reader goroutine took the role
}

type roleOwner uint8

const (
	roleReader roleOwner = iota // the reader goroutine
	roleFree                    // nobody: the reader goroutine waits for it
	roleRead                    // a Read about to wait (holder)
)

// readLinger bounds how long the role stays free before the reader
// goroutine takes it back, so that what no Read waits for (an open, a
// window grant, data for a channel nobody reads yet) waits no longer.
var readLinger = 500 * time.Microsecond // a variable for the tests

// lendRole frees the role if a Read can take it (readOnWait, on a
// socket) and no Read waits for data, and waits until it comes back to
// the reader goroutine. Called by the reader goroutine between messages,
// its input buffer empty, after it handed a short payload to a waiting
// Read.
func (s *Session) lendRole() {
	rr := &s.role
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.handed = false
	if rr.dl == nil || rr.activeWaitersLocked() || rr.ended {
		// Without dl no Read takes the role (recvHalf's wait): lent, it
		// would stay free for readLinger, the peer's messages unread.
		return
	}
	rr.owner = roleFree
	rr.lent.Store(true)
	s.armLingerLocked()
	for rr.owner != roleReader && !(rr.ended && rr.owner == roleFree) {
		rr.cond.Wait()
	}
	rr.owner = roleReader
	rr.lent.Store(false)
	rr.handed = false
}

// armLingerLocked records when the role was freed, and has the session's
// deferred work (timer.go) give it back to the reader goroutine readLinger
// later if nobody took it: a Read taking the role does not stop the timer
// (resetting a timer on every call costs a wake-up of the runtime's
// network poller), so when it runs it looks at how long the role has been
// free, and waits for the rest of readLinger if less.
func (s *Session) armLingerLocked() {
	now := time.Now()
	s.role.freedAt = now
	s.armDeferredLocked(now, readLinger)
}

// wakeReader gives the role back to the reader goroutine if it is free:
// an Open or a Write is about to wait for the peer's answer.
func (s *Session) wakeReader() {
	rr := &s.role
	if rr.dl == nil {
		return
	}
	rr.mu.Lock()
	if rr.owner == roleFree {
		rr.owner = roleReader
		rr.cond.Signal()
	}
	rr.mu.Unlock()
}

// takeRole makes the Read of r, about to wait for data, the holder of the
// role if it is free, and reports whether it did; otherwise the Read is
// counted as waiting until waited(stamp). Called with r.mu held.
func (s *Session) takeRole(r *recvHalf) (took bool, stamp uint32) {
	rr := &s.role
	rr.mu.Lock()
	defer rr.mu.Unlock()
	now := time.Now()
	if rr.owner == roleFree && !rr.ended {
		rr.owner, rr.holder, rr.heldSince = roleRead, r, now
		return true, 0
	}
	if rr.owner == roleRead && now.Sub(rr.heldSince) >= idleWait {
		// The holder waits for events, not a reply: it lets go, and the
		// role comes back to this Read or the next by way of the reader
		// goroutine, which lends it again.
		s.interruptLocked()
	}
	rr.waiting++
	return false, rr.ages.count(now)
}

// waited ends the wait that takeRole counted and stamped.
func (s *Session) waited(stamp uint32) {
	rr := &s.role
	rr.mu.Lock()
	rr.waiting--
	rr.ages.uncount(stamp)
	rr.mu.Unlock()
}

// activeWaitersLocked reports whether Reads wait that have not waited
// idleWait yet.
func (rr *readRole) activeWaitersLocked() bool {
	return rr.waiting > 0 && rr.ages.young(time.Now())
}

// idleWait is how long a Read waits before it no longer keeps the read
// role from being lent (see readRole): longer than a reply takes.
var idleWait = 5 * time.Millisecond // a variable for the tests

// waitAges tells the waiting Reads that have waited less than idleWait
// from the others, roughly and in constant time: epochs of at least
// idleWait each, a Read counted in the one under way (cur) or the one
// before (prev) is young; so a Read is young for at least idleWait and at
// most three times that. A wait's stamp is the epoch it was counted in.
type waitAges struct {
	epoch     uint32
	since     time.Time // when the epoch began
	cur, prev int
}

// advance moves on to the epoch of now.
func (a *waitAges) advance(now time.Time) {
	switch d := now.Sub(a.since); {
	case d < idleWait:
		return
	case d < 2*idleWait:
		a.prev, a.cur = a.cur, 0
		a.epoch++
	default:
		a.prev, a.cur = 0, 0
		a.epoch += 2
	}
	a.since = now
}

func (a *waitAges) count(now time.Time) (stamp uint32) {
	a.advance(now)
	a.cur++
	return a.epoch
}

func (a *waitAges) uncount(stamp uint32) {
	switch stamp {
	case a.epoch:
		a.cur--
	case a.epoch - 1:
		a.prev--
	}
}

func (a *waitAges) young(now time.Time) bool {
	a.advance(now)
	return a.cur+a.prev > 0
}

// interruptHolder interrupts the wait of r's Read if it holds the role:
// its deadline passed, or its channel was closed. Called with r.mu held.
func (s *Session) interruptHolder(r *recvHalf) {
	rr := &s.role
	if rr.dl == nil {
		return
	}
	rr.mu.Lock()
	if rr.owner == roleRead && rr.holder == r {
		s.interruptLocked()
	}
	rr.mu.Unlock()
}

func (s *Session) interruptLocked() {
	rr := &s.role
	if !rr.interrupted {
		rr.interrupted = true
		rr.dl.SetReadDeadline(time.Unix(1, 0)) // a failure leaves the wait to the peer's next message
	}
}

// endRole records the end of the session: the holder's wait is
// interrupted, and the reader goroutine takes the role back once the
// holder lets go. Called with Session.mu held.
func (s *Session) endRole() {
	rr := &s.role
	if rr.dl == nil {
		return
	}
	rr.mu.Lock()
	rr.ended = true
	s.deferred.stop()
	if rr.owner == roleRead {
		s.interruptLocked()
	}
	rr.cond.Broadcast()
	rr.mu.Unlock()
}

// releaseRole ends the holding of the role by a Read: back to the reader
// goroutine if toReader, the Read was interrupted, other Reads wait for
// replies (activeWaitersLocked) or the session ended, else free.
func (s *Session) releaseRole(toReader bool) {
	rr := &s.role
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.interrupted {
		// The Read failed or was closed: it is not likely back soon.
		rr.interrupted, toReader = false, true
		rr.dl.SetReadDeadline(time.Time{})
	}
	rr.holder = nil
	if toReader || rr.activeWaitersLocked() || rr.ended {
		rr.owner = roleReader
		rr.cond.Signal()
		return
	}
	rr.owner = roleFree
	s.armLingerLocked()
}

// readForWait reads and dispatches the peer's messages from the goroutine
// of a Read holding the role, until the Read of r can go on (data, its
// end, or its deadline) or its wait is interrupted; then it lets go of the
// role. It reads whole messages only: at the start of one that the input
// buffer does not hold whole, it hands the role to the reader goroutine.
func (s *Session) readForWait(r *recvHalf) {
	in := s.in
	s.holderReads = true // false again before the role goes
	for {
		if in.r == in.w {
			if r.canProceed() {
				break
			}
			s.payAccept() // about to wait
			if !s.waitRead() {
				break
			}
		}
		if !in.holdsMessage() {
			s.payAccept()
			s.holderReads = false
			s.releaseRole(true)
			return
		}
		if err := s.readMessage(); err != nil {
			s.fail(err)
			break
		}
		s.countMessage()
	}
	s.holderReads = false
	s.releaseRole(false)
}

// waitRead waits for the connection to bring bytes into the empty input
// buffer, and reports false if the wait was interrupted (interruptHolder).
// Another failure is kept in the input for readMessage to report.
func (s *Session) waitRead() bool {
	in := s.in
	if in.err != nil {
		return true
	}
	n, err := in.vr.read(true, in.buf, nil, nil)
	in.bytes.Add(uint64(n))
	in.r, in.w = 0, n
	if err == nil {
		return true
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.role.mu.Lock()
		interrupted := s.role.interrupted
		s.role.mu.Unlock()
		if interrupted {
			return false
		}
	}
	in.err = err
	return true
}

// canProceed reports whether a Read waiting on r would go on now.
func (r *recvHalf) canProceed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.offer.state == offerFilled || r.n > 0 || r.end != recvOpen || expired(r.deadline)
}

// holdsMessage reports whether the buffer holds a whole message, its
// payload included, or the start of something that is no qmux message:
// readMessage then reads nothing from the connection.
func (in *input) holdsMessage() bool {
	k := in.w - in.r
	if k == 0 {
		return false
	}
	n := headerLen(in.buf[in.r])
	switch {
	case n == 0:
		return true
	case k < n:
		return false
	case in.buf[in.r] != msgChannelData:
		return true
	}
	return uint64(k-n) >= uint64(binary.BigEndian.Uint32(in.buf[in.r+5:]))
}
