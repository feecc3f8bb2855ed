package quote_test

import (
	"fmt"
	"strings"

	"github.com/qtalkkit/qtalk/internal/quote"
)

func ExampleBounded() {
	fmt.Println(quote.Bounded("echo:echo"))
	fmt.Println(len(quote.Bounded(strings.Repeat("x", 4<<20))))
	// Output:
	// "echo:echo"
	// 282
}
