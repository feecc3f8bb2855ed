package fn

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"unicode"
)

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// signature is what a func type says about its calls, worked out once at
// registration.
type signature struct {
	numIn   int            // the Go parameters, the context included
	ctx     bool           // the first parameter is a context.Context
	params  []reflect.Type // the parameters on the wire
	args    reflect.Type   // a struct of the wire parameters, allocated once per call
	results int            // the results on the wire, the error excluded
	err     bool           // the last result is an error
	stream  bool           // the only wire result is a channel to stream
}

// parseHandlerFunc checks that calls to a func of type t can be served and
// describes them.
func parseHandlerFunc(t reflect.Type) (*signature, error) {
	if t.IsVariadic() {
		return nil, errors.New("variadic funcs are not supported")
	}
	s := &signature{numIn: t.NumIn()}
	s.ctx = s.numIn > 0 && t.In(0) == contextType
	var fields []reflect.StructField
	for i := range s.numIn {
		p := t.In(i)
		if i == 0 && s.ctx {
			continue
		}
		if err := checkDecodable(p); err != nil {
			return nil, fmt.Errorf("parameter %d (%s): %w", i, p, err)
		}
		s.params = append(s.params, p)
		fields = append(fields, reflect.StructField{Name: fmt.Sprintf("A%d", len(fields)), Type: p})
	}
	if len(fields) > 0 {
		s.args = reflect.StructOf(fields)
	}
	n := t.NumOut()
	if n > 0 && t.Out(n-1) == errorType {
		s.err = true
		n--
	}
	s.results = n
	for i := range n {
		r := t.Out(i)
		switch {
		case r.Kind() == reflect.Chan && n == 1:
			if r.ChanDir()&reflect.RecvDir == 0 {
				return nil, fmt.Errorf("result 0 (%s): a send-only channel", r)
			}
			s.stream = true
		case r == errorType:
			return nil, fmt.Errorf("result %d (%s): an error that is not the last result", i, r)
		default:
			if err := checkEncodable(r); err != nil {
				return nil, fmt.Errorf("result %d (%s): %w", i, r, err)
			}
		}
	}
	return s, nil
}

// checkEncodable rejects the kinds of types no codec can encode.
func checkEncodable(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Func, reflect.UnsafePointer:
		return fmt.Errorf("a %s cannot be encoded", t.Kind())
	case reflect.Chan:
		return errors.New("a channel can only be the single result of a func")
	}
	return nil
}

// checkDecodable rejects the types a codec cannot decode into: those it
// cannot encode, and interfaces other than any (a codec cannot choose
// their dynamic type).
func checkDecodable(t reflect.Type) error {
	if t == contextType {
		return errors.New("a context.Context that is not the first parameter")
	}
	if t.Kind() == reflect.Interface && t.NumMethod() > 0 {
		return errors.New("an interface with methods cannot be decoded")
	}
	return checkEncodable(t)
}

// selectorName returns the selector of a method or stub field: its name
// with the leading capital, or run of capitals, lower-cased.
func selectorName(name string) string {
	// Lower-case the leading run of capitals, keeping the last one of a
	// run followed by a lower-case letter: ID → id, HTTPGet → httpGet.
	rs := []rune(name)
	i := 0
	for i < len(rs) && unicode.IsUpper(rs[i]) {
		i++
	}
	if i > 1 && i < len(rs) && unicode.IsLower(rs[i]) {
		i--
	}
	for j := 0; j < max(i, 1) && j < len(rs); j++ {
		rs[j] = unicode.ToLower(rs[j])
	}
	return string(rs)
}

// unsupported returns an error matching ErrUnsupported.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}
