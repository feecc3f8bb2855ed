package config

import (
	"errors"
	"fmt"
)

// ErrInvalid is matched by the errors of Parse and Load about the
// content of a config (not about reading its file).
var ErrInvalid = errors.New("config: invalid config")

// An Error reports a problem in a config: where, and what. It matches
// ErrInvalid, and the error it wraps, if any.
type Error struct {
	File string // the file, as given to Parse or Load; may be empty
	Line int    // 1-based; 0 when unknown
	Key  string // the dotted key, such as "services.guild.timeout"; may be empty
	Err  error  // what is wrong
}

func (e *Error) Error() string {
	file := e.File
	if file == "" {
		file = "config"
	}
	where := file
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", file, e.Line)
	}
	if e.Key == "" {
		return fmt.Sprintf("%s: %v", where, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", where, e.Key, e.Err)
}

// Unwrap returns ErrInvalid and the error wrapped.
func (e *Error) Unwrap() []error { return []error{ErrInvalid, e.Err} }
