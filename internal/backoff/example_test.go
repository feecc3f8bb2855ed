package backoff_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/qtalkkit/qtalk/internal/backoff"
)

func Example() {
	b := backoff.Policy{Min: time.Millisecond, Max: 10 * time.Millisecond}.New()
	attempts := 0
	dial := func() error {
		attempts++
		if attempts < 3 {
			return errors.New("refused")
		}
		return nil
	}
	for dial() != nil {
		if err := b.Wait(context.Background()); err != nil {
			return
		}
	}
	fmt.Println("connected after", attempts, "attempts")
	// Output: connected after 3 attempts
}
