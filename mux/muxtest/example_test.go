package muxtest_test

import (
	"testing"

	"github.com/qtalkkit/qtalk/mux"
	"github.com/qtalkkit/qtalk/mux/muxtest"
	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

// makePair connects two qmux sessions with an in-memory pipe. stop closes
// both and waits until they have ended, so that no goroutine outlives it.
func makePair(testing.TB) (a, b mux.Session, stop func()) {
	c1, c2 := pipe.New()
	sa, err := qmux.New(c1, nil)
	if err != nil {
		panic(err)
	}
	sb, err := qmux.New(c2, nil)
	if err != nil {
		panic(err)
	}
	return sa, sb, func() {
		sa.Close()
		sb.Close()
		sa.Wait()
		sb.Wait()
	}
}

// An implementation of mux.Session runs the whole suite from one test:
//
//	func TestConformance(t *testing.T) {
//		muxtest.Run(t, makePair)
//	}
func Example() {
	var _ muxtest.MakePair = makePair
}
