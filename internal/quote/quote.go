package quote

import (
	"strconv"
	"unicode/utf8"
)

// MaxLen is the most bytes of its input Bounded quotes.
const MaxLen = 256

// Bounded returns s quoted as %q would, if it is at most MaxLen bytes
// long; otherwise its first MaxLen bytes (cut at a character boundary),
// quoted, followed by how many bytes were left out.
func Bounded(s string) string {
	if len(s) <= MaxLen {
		return strconv.Quote(s)
	}
	n := MaxLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strconv.Quote(s[:n]) + "... (" + strconv.Itoa(len(s)-n) + " more bytes)"
}
