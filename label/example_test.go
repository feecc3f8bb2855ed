package label_test

import (
	"errors"
	"fmt"

	"github.com/qtalkkit/qtalk/label"
)

func ExampleParse() {
	l, err := label.Parse("example.net/guild-service:write?id=7&note=hi%20there")
	if err != nil {
		fmt.Println(err)
		return
	}
	note, _ := l.Params.Get("note")
	fmt.Println(l.Host, l.Module, l.Name, note)
	fmt.Println(l)
	// Output:
	// example.net guild-service write hi there
	// example.net/guild-service:write?id=7&note=hi%20there
}

func ExampleParse_error() {
	_, err := label.Parse("chat:se nd")
	var se *label.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Part, se.Offset, errors.Is(err, label.ErrInvalid))
	}
	fmt.Println(err)
	// Output:
	// name 7 true
	// label: bad name in "chat:se nd" at offset 7: ' ' is not allowed (letters, digits, '-', '_' and '.' are)
}

func ExamplePrefix() {
	m := label.Prefix("docs.")
	fmt.Println(m.Match(label.MustParse("files:docs.readme?rev=3")))
	fmt.Println(m.Match(label.MustParse("files:img.logo")))
	// Output:
	// true
	// false
}
