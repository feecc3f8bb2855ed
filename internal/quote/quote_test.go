package quote_test

import (
	"strings"
	"testing"

	"github.com/qtalkkit/qtalk/internal/quote"
)

func TestBounded(t *testing.T) {
	if got := quote.Bounded("a\"b"); got != `"a\"b"` {
		t.Errorf("short: %s", got)
	}
	long := strings.Repeat("é", 4<<20)
	got := quote.Bounded(long)
	if len(got) > quote.MaxLen+64 {
		t.Errorf("a %d-byte input quoted in %d bytes, want at most about %d", len(long), len(got), quote.MaxLen)
	}
	if !strings.HasPrefix(got, `"éé`) || !strings.HasSuffix(got, " more bytes)") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("long: %s", got)
	}
}
