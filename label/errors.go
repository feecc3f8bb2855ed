package label

import (
	"errors"
	"fmt"
	"github.com/qtalkkit/qtalk/internal/quote"
)

// ErrInvalid is matched by the errors of Parse for strings that are not
// labels.
var ErrInvalid = errors.New("label: invalid label")

// The parts of a label, as SyntaxError.Part names them.
const (
	PartLabel  = "label" // the label as a whole (empty, too long, a separator missing)
	PartHost   = "host"
	PartModule = "module"
	PartName   = "name"
	PartParams = "params"
)

// A SyntaxError reports a string that is not a label: which part is wrong,
// where, and why. It matches ErrInvalid.
type SyntaxError struct {
	Label  string // the string given to Parse
	Part   string // PartHost, PartModule, PartName, PartParams or PartLabel
	Offset int    // byte offset in Label where the problem is
	Reason string // what is wrong, for people
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("label: bad %s in %s at offset %d: %s", e.Part, quote.Bounded(e.Label), e.Offset, e.Reason)
}

// Unwrap returns ErrInvalid.
func (e *SyntaxError) Unwrap() error { return ErrInvalid }
