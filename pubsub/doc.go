// Package pubsub is a publish/subscribe hub served over rpc: publishers
// publish values under topics, subscribers receive the values of the
// topics their pattern matches, as a stream.
//
//	hub := pubsub.NewHub(nil)
//	mux.Handle("pubsub:", hub.Handler()) // pubsub:publish, pubsub:retain, pubsub:subscribe
//
// # Labels
//
//	publish    [topic, value]  publishes value under topic; replies null
//	retain     [topic, value]  publishes, and keeps value as the topic's last
//	                            (a null value forgets it)
//	subscribe  [pattern]       continues with null, then streams Events
//
// Topics are dot-separated tokens ("chat.room1"). In a pattern, "*"
// matches one token and a final ">" one or more: "chat.*" matches
// "chat.room1" but not "chat.room1.typing", "chat.>" matches both.
//
// A publisher that wants its values delivered in order publishes with
// one-way messages (rpc.Client.Send to "pubsub:publish"), which a server
// handles in the order sent, or waits for each call; the hub passes each
// publication to every matching subscriber's queue before it takes the
// next, so every subscriber sees one publisher's values in order. A
// publication is encoded once per codec, by the first subscriber that
// sends it, for all of them.
//
// # Slow subscribers
//
// Each subscriber has a bounded queue (Config.QueueSize values). When a
// publication finds it full, the hub drops the oldest value queued and
// counts it; the subscriber then receives an Event whose Gap is the
// number of values it missed, before the values that followed. A
// publisher is never held back by a subscriber.
//
// # Retained values
//
// A value published with retain is kept as its topic's last value; a new
// subscriber first receives the retained values of the topics its pattern
// matches (marked Retained), in topic order, then the live ones.
package pubsub
