package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestNextGrowsWithinJitterAndCaps(t *testing.T) {
	p := Policy{Min: 100 * time.Millisecond, Max: time.Second, Factor: 2, Jitter: 0.25}
	for _, r := range []float64{0, 0.5, 0.999999} {
		b := p.New()
		b.random = func() float64 { return r }
		base := 100 * time.Millisecond
		for i := 0; i < 8; i++ {
			got := b.Next()
			want := time.Duration(float64(base) * (1 + 0.25*(2*r-1)))
			if want > time.Second {
				want = time.Second
			}
			if got != want {
				t.Fatalf("random %v, attempt %d: wait %v, want %v", r, i, got, want)
			}
			base = min(2*base, time.Second)
		}
		if b.Attempt() != 8 {
			t.Fatalf("Attempt() = %d, want 8", b.Attempt())
		}
	}
}

func TestResetStartsOver(t *testing.T) {
	b := Policy{Min: 10 * time.Millisecond, Max: time.Second, Jitter: 0}.New()
	first := b.Next()
	b.Next()
	b.Next()
	b.Reset()
	if got := b.Next(); got != first {
		t.Fatalf("after Reset the wait is %v, want the first wait %v", got, first)
	}
}

func TestZeroPolicyUsesDefaults(t *testing.T) {
	b := Policy{}.New()
	b.random = func() float64 { return 0.5 } // no jitter at the midpoint
	if got := b.Next(); got != DefaultMin {
		t.Fatalf("first wait %v, want %v", got, DefaultMin)
	}
	for i := 0; i < 100; i++ {
		if got := b.Next(); got > DefaultMax {
			t.Fatalf("wait %v exceeds the default max %v", got, DefaultMax)
		}
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	b := Policy{Min: time.Hour, Max: time.Hour}.New()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a cancelled ctx = %v, want context.Canceled", err)
	}
}
