package rpc

import (
	"errors"
	"fmt"
)

// ErrDecodeBudget is matched by the error of a CBOR or JSON value whose
// decoding would allocate far more than its size (spec/limits.md): many
// small containers, such as an array of a million empty maps, each cost a
// Go map or slice of their own. The server answers such arguments with
// CodeResourceExhausted.
var ErrDecodeBudget = errors.New("rpc: value over the decode budget")

// The decode budget of a value of n bytes is decodeBudgetRatio*n +
// decodeBudgetBase bytes of an estimate, charged before decoding, of what
// decoding it into interface values allocates (measured with
// fxamacker/cbor and encoding/json, and rounded up). Ordinary shapes
// stay below it (numbers, strings, byte strings, structs, arrays of
// small objects, large maps: encoding/json allocates up to some 55 times
// the size of some of them); shapes that are mostly empty or one-pair
// containers, which cost a Go map or slice each for a byte or two, are
// over it.
const (
	decodeBudgetRatio = 64
	decodeBudgetBase  = 64 << 10

	// CBOR: every data item (its slot in an array or map, a boxed
	// scalar), and on top of that strings (their header and bytes),
	// arrays, tags, maps (a first group of slots if not empty, and the
	// slots of large maps, amortised over their growth).
	cborItemCost      = 24
	cborStringCost    = 24
	cborArrayCost     = 32
	cborTagCost       = 32
	cborMapCost       = 64
	cborMapGroupCost  = 288
	cborMapPairCost   = 168
	cborMapGroupPairs = 8

	// JSON, per byte that starts or separates values outside strings.
	jsonObjectCost  = 160
	jsonArrayCost   = 112
	jsonElementCost = 96  // a comma
	jsonPairCost    = 200 // a colon
)

func decodeBudget(n int) int { return decodeBudgetRatio*n + decodeBudgetBase }

// errScanStop ends a scan without a verdict: the value is malformed or
// nested deeper than the decoders accept, which they report themselves.
var errScanStop = errors.New("stop")

// maxScanDepth is past the nesting the decoders accept (CBOR 32, JSON
// 10000 is left to encoding/json): a scan that reaches it leaves the
// value to the decoder.
const maxScanDepth = 64

// checkCBORBudget checks the estimated decoding cost of the CBOR value
// in data against its budget, without allocating. It walks the data
// items only as far as they are well formed, leaving errors of form to
// the decoder.
func checkCBORBudget(data []byte) error {
	s := cborScan{b: data, size: len(data), budget: decodeBudget(len(data))}
	if err := s.item(0); err != nil && err != errScanStop {
		return err
	}
	return nil
}

type cborScan struct {
	b      []byte // what is left to scan
	size   int    // of the value
	cost   int
	budget int
}

func (s *cborScan) spend(n uint64) error {
	if n > uint64(s.budget-s.cost) {
		return fmt.Errorf("%w: decoding %d bytes of CBOR would allocate more than %d", ErrDecodeBudget, s.size, s.budget)
	}
	s.cost += int(n)
	return nil
}

// head reads the head of a data item: its major type, additional
// information and argument.
func (s *cborScan) head() (major, info byte, arg uint64, err error) {
	if len(s.b) == 0 {
		return 0, 0, 0, errScanStop
	}
	ib := s.b[0]
	major, info = ib>>5, ib&0x1f
	s.b = s.b[1:]
	switch {
	case info < 24:
		return major, info, uint64(info), nil
	case info == 31:
		return major, info, 0, nil
	case info > 27:
		return 0, 0, 0, errScanStop
	}
	n := 1 << (info - 24)
	if len(s.b) < n {
		return 0, 0, 0, errScanStop
	}
	for _, c := range s.b[:n] {
		arg = arg<<8 | uint64(c)
	}
	s.b = s.b[n:]
	return major, info, arg, nil
}

// item scans one data item.
func (s *cborScan) item(depth int) error {
	if depth > maxScanDepth {
		return errScanStop
	}
	major, info, arg, err := s.head()
	if err != nil {
		return err
	}
	if err := s.spend(cborItemCost); err != nil {
		return err
	}
	indefinite := info == 31
	switch major {
	case 2, 3: // byte and text strings
		if err := s.spend(cborStringCost); err != nil {
			return err
		}
		if indefinite {
			for !s.atBreak() {
				if err := s.item(depth + 1); err != nil {
					return err
				}
			}
			return nil
		}
		if arg > uint64(len(s.b)) {
			return errScanStop
		}
		s.b = s.b[arg:]
		return s.spend(arg)
	case 4, 5: // arrays, maps
		items := uint64(1)
		if major == 5 {
			items = 2
		}
		if indefinite {
			return s.indefinite(depth, major == 5, items)
		}
		if arg > uint64(len(s.b)) { // every item takes a byte at least
			return errScanStop
		}
		if err := s.spend(containerCost(major == 5, arg)); err != nil {
			return err
		}
		for range arg * items {
			if err := s.item(depth + 1); err != nil {
				return err
			}
		}
		return nil
	case 6: // a tag and its item
		if err := s.spend(cborTagCost); err != nil {
			return err
		}
		return s.item(depth + 1)
	case 7:
		if indefinite {
			return errScanStop // a break out of place
		}
	}
	return nil // integers, simple values, floats: their heads were read
}

// indefinite scans the items of an indefinite-length array or map up to
// its break, charging for the container as it grows.
func (s *cborScan) indefinite(depth int, isMap bool, items uint64) error {
	var n uint64
	for !s.atBreak() {
		if err := s.spend(containerCost(isMap, n+1) - containerCost(isMap, n)); err != nil {
			return err
		}
		n++
		for range items {
			if err := s.item(depth + 1); err != nil {
				return err
			}
		}
	}
	return s.spend(containerCost(isMap, 0))
}

// containerCost is the estimated cost of an array or map of n elements
// or pairs, beyond that of its items, less the cost of an empty one when
// it has any (so that an indefinite one is charged as it grows).
func containerCost(isMap bool, n uint64) uint64 {
	switch {
	case !isMap:
		return cborArrayCost
	case n == 0:
		return cborMapCost
	case n <= cborMapGroupPairs:
		return cborMapCost + cborMapGroupCost
	}
	return cborMapCost + cborMapGroupCost + (n-cborMapGroupPairs)*cborMapPairCost
}

// atBreak reports whether the next byte ends an indefinite-length item,
// and consumes it if so. Out of data, it reports true: the decoder will
// say the value is truncated.
func (s *cborScan) atBreak() bool {
	if len(s.b) == 0 {
		return true
	}
	if s.b[0] == 0xff {
		s.b = s.b[1:]
		return true
	}
	return false
}

// checkJSONBudget checks the estimated decoding cost of the JSON value in
// data against its budget, counting containers, elements and pairs
// outside strings.
func checkJSONBudget(data []byte) error {
	budget, cost := decodeBudget(len(data)), 0
	inString, escaped := false, false
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{':
			cost += jsonObjectCost
		case '[':
			cost += jsonArrayCost
		case ',':
			cost += jsonElementCost
		case ':':
			cost += jsonPairCost
		}
	}
	if cost > budget {
		return fmt.Errorf("%w: decoding %d bytes of JSON would allocate more than %d", ErrDecodeBudget, len(data), budget)
	}
	return nil
}
