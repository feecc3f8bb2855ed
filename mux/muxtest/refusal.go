package muxtest

import (
	"io"
	"testing"

	"github.com/qtalkkit/qtalk/mux"
)

// RunRefusal checks how a session reports the channels its peer refuses:
// the layers above rely on it (rpc opens another channel when the open of
// a call was refused). mp must return a pair whose b has an accept backlog
// of one: it queues one channel for Accept and holds at most one more open
// unanswered, and refuses the next. With o.EarlyOpen, a's Open returns
// before the answer.
//
// It runs CheckRefusal on a fresh pair and checks that no goroutine
// outlives it.
func RunRefusal(t *testing.T, mp MakePair, o Options) {
	runCase(t, mp, false, func(t *testing.T, a, b mux.Session) { CheckRefusal(t, a, b, o, nil) })
}

// CheckRefusal makes three opens from a with no Accept pending on b, whose
// accept backlog is one: one must be refused, with an error matching
// mux.ErrOpenRejected from Open, or, with o.EarlyOpen (a's Open returns
// before the answer), from the channel's first Read and from every Read
// and Write after it (Close then succeeds). The refusal is the first
// outcome: the other two wait for Accept, which then takes them both, and
// they carry data. whileFull, if not nil, runs once the refusal is seen,
// before the other two are accepted. The session goes on.
func CheckRefusal(t *testing.T, a, b mux.Session, o Options, whileFull func()) {
	t.Helper()
	ctx, cancel := stepContext()
	defer cancel()
	type result struct {
		c    mux.Channel // nil if Open failed
		data string      // what the first Read got
		err  error
	}
	results := make(chan result, 3)
	read := func(c mux.Channel) {
		buf := make([]byte, 5)
		_, err := io.ReadFull(c, buf)
		results <- result{c, string(buf), err}
	}
	for range 3 {
		go func() {
			c, err := a.Open(ctx)
			if err != nil {
				results <- result{err: err}
				return
			}
			read(c)
		}()
	}

	r := recv(t, results, "the outcome of three opens beyond an accept backlog of one")
	checkErr(t, r.err, "the first outcome of three opens beyond an accept backlog of one", mux.ErrOpenRejected)
	switch {
	case r.c != nil && !o.EarlyOpen:
		t.Errorf("Open returned a channel whose first Read reported the refusal; want Open to fail")
	case r.c != nil:
		_, err := r.c.Read(make([]byte, 1))
		checkErr(t, err, "a second Read of the refused channel", mux.ErrOpenRejected)
		_, err = r.c.Write([]byte("x"))
		checkErr(t, err, "a Write to the refused channel", mux.ErrOpenRejected)
		noErr(t, r.c.Close(), "Close of the refused channel")
	}
	if whileFull != nil {
		whileFull()
	}

	for range 2 {
		ac, err := b.Accept(ctx)
		if err != nil {
			t.Fatalf("Accept of an open within the backlog: %v", err)
		}
		if _, err := ac.Write([]byte("hello")); err != nil {
			t.Errorf("Write to an accepted channel: %v", err)
		}
		ac.Close()
	}
	for range 2 {
		r := recv(t, results, "the outcome of an open within the backlog")
		if r.err != nil || r.data != "hello" {
			t.Errorf("an open within the backlog read %q, %v; want \"hello\"", r.data, r.err)
		}
		if r.c != nil {
			r.c.Close()
		}
	}

	oc, ac := pair(t, a, b)
	msg := []byte("still open")
	werr := writeAsync(oc, msg)
	checkRead(t, ac, msg, "a channel opened after the refusal")
	noErr(t, recv(t, werr, "Write after the refusal"), "Write after the refusal")
	oc.Close()
	ac.Close()
}
