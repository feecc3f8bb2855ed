package qmux

// queue is a FIFO backed by a ring that grows as needed and never shrinks,
// so steady-state use allocates nothing.
type queue[T any] struct {
	ring       []T
	head, size int
}

func (q *queue[T]) len() int { return q.size }

func (q *queue[T]) push(v T) {
	if q.size == len(q.ring) {
		ring := make([]T, max(8, 2*len(q.ring)))
		for i := range q.size {
			ring[i] = q.ring[(q.head+i)%len(q.ring)]
		}
		q.ring, q.head = ring, 0
	}
	q.ring[(q.head+q.size)%len(q.ring)] = v
	q.size++
}

func (q *queue[T]) pop() T {
	v := q.ring[q.head]
	var zero T
	q.ring[q.head] = zero
	q.head = (q.head + 1) % len(q.ring)
	q.size--
	return v
}
