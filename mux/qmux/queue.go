package qmux

// chanQueue is a FIFO of channels backed by a ring that grows as needed and
// never shrinks, so steady-state use allocates nothing.
type chanQueue struct {
	ring       []*channel
	head, size int
}

func (q *chanQueue) len() int { return q.size }

func (q *chanQueue) push(c *channel) {
	if q.size == len(q.ring) {
		ring := make([]*channel, max(8, 2*len(q.ring)))
		for i := range q.size {
			ring[i] = q.ring[(q.head+i)%len(q.ring)]
		}
		q.ring, q.head = ring, 0
	}
	q.ring[(q.head+q.size)%len(q.ring)] = c
	q.size++
}

func (q *chanQueue) pop() *channel {
	c := q.ring[q.head]
	q.ring[q.head] = nil
	q.head = (q.head + 1) % len(q.ring)
	q.size--
	return c
}
