package grid

import "hash/fnv"

// The selectors of the rpc calls a grid link carries (spec/grid.md).
const (
	selectorHello = "grid:hello"   // the dialer greets: hello
	selectorPing  = "grid:ping"    // no arguments, null reply
	prefixRequest = "grid:req:"    // + name; a []byte payload, a []byte reply
	prefixStream  = "grid:stream:" // + name; a []byte payload, a streamOpen reply, then []byte values both ways
)

// hello is the argument of selectorHello: who dials whom.
type hello struct {
	From string `cbor:"from"` // the dialer's canonical address
	To   string `cbor:"to"`   // the address the dialer means to reach
}

// streamOpen is the reply that continues a stream call: the capacities
// the handler was registered with.
type streamOpen struct {
	Requests  int `cbor:"requests"`
	Responses int `cbor:"responses"`
}

// dials reports whether the host at address self dials the one at peer
// (both canonical): the pair's FNV-1a hash, taken over the two addresses
// in sorted order, picks the lower address when even and the higher when
// odd. Both hosts compute the same answer, and over many pairs the
// dialing is spread evenly rather than always falling on the lowest
// addresses.
func dials(self, peer string) bool {
	lo, hi := self, peer
	if hi < lo {
		lo, hi = hi, lo
	}
	h := fnv.New32a()
	h.Write([]byte(lo))
	h.Write([]byte{0})
	h.Write([]byte(hi))
	dialer := lo
	if h.Sum32()%2 == 1 {
		dialer = hi
	}
	return dialer == self
}
