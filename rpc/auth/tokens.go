package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrBadTokenFile is matched by the errors of LoadTokens and ParseTokens.
var ErrBadTokenFile = errors.New("auth: bad token file")

// maxTokenFile bounds the size of a token file.
const maxTokenFile = 1 << 20

// Tokens are static tokens, each with the name of whom it stands for.
type Tokens struct {
	names  []string
	hashes [][sha256.Size]byte // of the tokens, compared in constant time
}

// LoadTokens reads the tokens of the file at path (see ParseTokens).
func LoadTokens(path string) (*Tokens, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadTokenFile, err)
	}
	return ParseTokens(data, path)
}

// ParseTokens parses a token file: one "NAME TOKEN" per line, blank lines
// and lines starting with "#" ignored; file names it in errors. Names
// and tokens are unique.
func ParseTokens(data []byte, file string) (*Tokens, error) {
	if len(data) > maxTokenFile {
		return nil, fmt.Errorf("%w: %s is over %d bytes", ErrBadTokenFile, file, maxTokenFile)
	}
	t := &Tokens{}
	seen := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%w: %s:%d: want NAME TOKEN", ErrBadTokenFile, file, i+1)
		}
		name, token := fields[0], fields[1]
		h := sha256.Sum256([]byte(token))
		if seen[name] || seen["\x00"+string(h[:])] {
			return nil, fmt.Errorf("%w: %s:%d: name or token %q listed twice", ErrBadTokenFile, file, i+1, name)
		}
		seen[name], seen["\x00"+string(h[:])] = true, true
		t.names = append(t.names, name)
		t.hashes = append(t.hashes, h)
	}
	return t, nil
}

// Verify is a Verifier: it returns the name of token, comparing it with
// every token in constant time.
func (t *Tokens) Verify(_ context.Context, token string) (string, error) {
	h := sha256.Sum256([]byte(token))
	found := -1
	for i := range t.hashes {
		if subtle.ConstantTimeCompare(h[:], t.hashes[i][:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", errors.New("unknown token")
	}
	return t.names[found], nil
}
