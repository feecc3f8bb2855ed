package pipe_test

import (
	"fmt"
	"io"

	"github.com/qtalkkit/qtalk/transport/pipe"
)

func Example() {
	a, b := pipe.New()
	defer b.Close()

	// Unlike net.Pipe, a Write returns as soon as the data is buffered, so
	// one goroutine can write and then read.
	a.Write([]byte("ping"))
	a.Close()

	data, err := io.ReadAll(b)
	fmt.Printf("%s %v\n", data, err)
	// Output: ping <nil>
}
