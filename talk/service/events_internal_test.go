package service

import "testing"

// A subscriber whose buffer is full loses its subscription at the next
// event it should get, a lifecycle event as much as any other: it never
// misses an open or a close without being told. Lifecycle events that
// change nothing are not sent, so they drop no one.
func TestHubDropsSlowSubscriber(t *testing.T) {
	h := newHub()
	h.known("chat")
	s, err := h.subscribe("chat") // its first event: chat/close
	if err != nil {
		t.Fatal(err)
	}
	h.publish("chat", EventOpen, nil)
	for i := range subscriberBuffer - 1 {
		h.publish("chat", "tick", i)
	}
	h.publish("chat", EventOpen, nil) // open already: not sent
	h.publish("other", EventClose, nil)
	select {
	case <-s.lost:
		t.Fatal("the subscriber was dropped while its buffer held every event")
	default:
	}

	h.publish("chat", EventClose, nil)
	select {
	case <-s.lost:
	default:
		t.Fatal("a subscriber with a full buffer was not dropped at chat/close")
	}
	h.publish("chat", EventOpen, nil) // reaches the dropped subscriber no more
	if !h.isOpen("chat") {
		t.Error("chat is not open after chat/open")
	}

	want := []string{"chat/close", "chat/open"}
	for range subscriberBuffer - 1 {
		want = append(want, "chat/tick")
	}
	if len(s.events) != len(want) {
		t.Fatalf("%d events queued, want %d", len(s.events), len(want))
	}
	for i, name := range want {
		if ev := <-s.events; ev.Name != name {
			t.Fatalf("event %d: %s, want %s", i, ev.Name, name)
		}
	}
}
