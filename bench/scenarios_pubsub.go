package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/qtalkkit/qtalk/pubsub"
	"github.com/qtalkkit/qtalk/rpc"
	qtransport "github.com/qtalkkit/qtalk/transport"
)

const (
	mMsgsPerSec = "msgs/s"
	mP99Ms      = "p99 ms"

	pubsubQtalk = "qtalk pubsub"
	pubsubNATS  = "nats"

	pubsubPayload = 64  // bytes of each message: its sequence number, when it was sent, padding
	pubsubWindow  = 512 // messages the publisher may be ahead of the slowest subscriber
	pubsubTopic   = "bench.fanout"
)

// pubsubFanouts are the subscriber counts of the fan-out scenarios.
func pubsubFanouts(cfg *config) []int {
	if cfg.short {
		return []int{1, 100}
	}
	return []int{1, 100, 1000}
}

// pubsubScenarios measure one publisher fanning out to n subscribers,
// each on a connection of its own, through qtalk's pubsub hub and through
// a NATS server, both in this process over loopback TCP.
func pubsubScenarios(cfg *config) []*scenario {
	var scs []*scenario
	for _, n := range pubsubFanouts(cfg) {
		scs = append(scs, &scenario{
			id:    fmt.Sprintf("pubsub-%d", n),
			title: fmt.Sprintf("Pub/sub fan-out, one publisher to %d subscriber(s), 64 B", n),
			about: fmt.Sprintf("One publisher sends 64-byte messages on one topic as fast as it may; %d subscriber(s), each "+
				"on a TCP connection of its own, receive every one. The publisher stays at most %d messages ahead of the "+
				"slowest subscriber (no message is dropped by either system), so msgs/s is messages delivered to every "+
				"subscriber per second, and p99 ms the time from a message's publication to its arrival at a subscriber. "+
				"qtalk: the pubsub hub of `qtalk serve` on an rpc.Server, the publisher sending one-way messages "+
				"(Client.Send to pubsub:publish, CBOR), each subscriber one pubsub:subscribe stream. NATS: nats-server "+
				"run in this process, nats.go clients (Publish; Subscribe with a handler).", n, pubsubWindow),
			cols: []metric{
				{name: mMsgsPerSec, format: "%.0f"},
				{name: mP99Ms, lowerBetter: true, format: "%.2f"},
			},
			baseline: pubsubNATS,
			impls: []impl{
				{name: pubsubNATS, kind: peerImpl, run: func(rec recorder) error { return runFanout(cfg, n, startNATSFanout, rec) }},
				{name: pubsubQtalk, kind: qtalkImpl, run: func(rec recorder) error { return runFanout(cfg, n, startQtalkFanout, rec) }},
			},
		})
	}
	return scs
}

// A fanout is a publisher and its subscribers, connected to a broker.
type fanout struct {
	publish func(msg []byte) error
	close   func() error
}

// A fanoutStart starts a broker, n subscribers that call got with each
// message they receive, and a publisher.
type fanoutStart func(n int, got func(msg []byte)) (*fanout, error)

// deliveries tracks which messages every subscriber has received: the
// publisher waits for message seq-pubsubWindow before sending seq.
type deliveries struct {
	n     int
	ring  [4 * pubsubWindow]atomic.Int32 // receipts of message seq at seq % len
	done  atomic.Int64                   // messages received by all, in order: every seq < done
	wake  chan struct{}                  // a message became received by all
	start time.Time

	measuring atomic.Bool
	mu        sync.Mutex // guards lats
	lats      []time.Duration
	sample    uint64 // record the latency of every sample-th message
}

func newDeliveries(n int) *deliveries {
	return &deliveries{n: n, wake: make(chan struct{}, 1), start: time.Now(), sample: uint64(max(1, n/50))}
}

// got counts a subscriber's receipt of msg.
func (d *deliveries) got(msg []byte) {
	if len(msg) < 16 {
		return
	}
	seq := binary.BigEndian.Uint64(msg)
	if d.measuring.Load() && seq%d.sample == 0 {
		sent := time.Duration(binary.BigEndian.Uint64(msg[8:]))
		lat := time.Since(d.start) - sent
		d.mu.Lock()
		d.lats = append(d.lats, lat)
		d.mu.Unlock()
	}
	if d.ring[seq%uint64(len(d.ring))].Add(1) == int32(d.n) {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

// advance moves done past the messages received by all.
func (d *deliveries) advance() {
	for {
		seq := d.done.Load()
		slot := &d.ring[seq%int64(len(d.ring))]
		if slot.Load() != int32(d.n) {
			return
		}
		slot.Store(0)
		d.done.Add(1)
	}
}

// message builds message seq.
func (d *deliveries) message(seq int64) []byte {
	msg := make([]byte, pubsubPayload)
	binary.BigEndian.PutUint64(msg, uint64(seq))
	binary.BigEndian.PutUint64(msg[8:], uint64(time.Since(d.start)))
	return msg
}

// stallTimeout bounds the wait for the slowest subscriber: longer means a
// message was lost, which the scenario reports as a failure.
const stallTimeout = 10 * time.Second

func runFanout(cfg *config, n int, start fanoutStart, rec recorder) error {
	d := newDeliveries(n)
	f, err := start(n, d.got)
	if err != nil {
		return err
	}
	defer f.close()
	var seq int64
	publishUntil := func(until time.Time) error {
		for time.Now().Before(until) {
			for seq-d.done.Load() >= pubsubWindow {
				select {
				case <-d.wake:
				case <-time.After(stallTimeout):
					return fmt.Errorf("message %d did not reach all %d subscribers within %v", d.done.Load(), n, stallTimeout)
				}
				d.advance()
			}
			if err := f.publish(d.message(seq)); err != nil {
				return err
			}
			seq++
			d.advance()
		}
		return nil
	}
	if err := publishUntil(time.Now().Add(cfg.warmup)); err != nil {
		return err
	}
	d.measuring.Store(true)
	done0, t0 := d.done.Load(), time.Now()
	if err := publishUntil(t0.Add(cfg.window)); err != nil {
		return err
	}
	dt, delivered := time.Since(t0), d.done.Load()-done0
	d.measuring.Store(false)
	d.mu.Lock()
	lats := latencies(d.lats)
	d.mu.Unlock()
	if delivered == 0 || len(lats) == 0 {
		return errors.New("no message reached every subscriber")
	}
	rec(mMsgsPerSec, float64(delivered)/dt.Seconds())
	rec(mP99Ms, float64(lats.percentile(99))/float64(time.Millisecond))
	return nil
}

// startQtalkFanout serves a pubsub hub on loopback TCP, subscribes n
// clients, each over a session of its own, and returns a publisher on
// another session.
func startQtalkFanout(n int, got func([]byte)) (*fanout, error) {
	ctx := context.Background()
	ln, err := qtransport.Listen(ctx, "tcp://127.0.0.1:0", qtransport.WithConnLimits(n+16, n+16))
	if err != nil {
		return nil, err
	}
	hub := pubsub.NewHub(nil)
	m := rpc.NewRespondMux()
	m.Handle("pubsub:", hub.Handler())
	srv := &rpc.Server{Handler: m}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(ln)
	}()
	var sessions []interface{ Close() error }
	var readers sync.WaitGroup
	stop := func() error {
		hub.Close()
		for _, s := range sessions {
			s.Close()
		}
		readers.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(ctx)
		<-served
		return err
	}
	addr := "tcp://" + ln.Addr().String()
	for range n {
		sess, err := qtransport.Dial(ctx, addr)
		if err != nil {
			stop()
			return nil, err
		}
		sessions = append(sessions, sess)
		resp, err := rpc.NewClient(sess).Call(ctx, "pubsub:subscribe", []any{pubsubTopic}, nil)
		if err != nil {
			stop()
			return nil, err
		}
		readers.Go(func() {
			defer resp.Close()
			for {
				var ev struct {
					Value []byte `cbor:"value"`
				}
				if resp.Receive(&ev) != nil {
					return
				}
				got(ev.Value)
			}
		})
	}
	sess, err := qtransport.Dial(ctx, addr)
	if err != nil {
		stop()
		return nil, err
	}
	sessions = append(sessions, sess)
	pub := rpc.NewClient(sess)
	return &fanout{
		publish: func(msg []byte) error { return pub.Send(ctx, "pubsub:publish", []any{pubsubTopic, msg}) },
		close:   stop,
	}, nil
}

// startNATSFanout runs a NATS server in this process, subscribes n
// clients, each over a connection of its own, and returns a publisher on
// another connection.
func startNATSFanout(n int, got func([]byte)) (*fanout, error) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, MaxConn: n + 16})
	if err != nil {
		return nil, err
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("nats-server did not start")
	}
	var conns []*nats.Conn
	stop := func() error {
		for _, c := range conns {
			c.Close()
		}
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil
	}
	for range n {
		c, err := nats.Connect(ns.ClientURL())
		if err != nil {
			stop()
			return nil, err
		}
		conns = append(conns, c)
		if _, err := c.Subscribe(pubsubTopic, func(m *nats.Msg) { got(m.Data) }); err != nil {
			stop()
			return nil, err
		}
		// The subscription reaches the server before the publisher starts.
		if err := c.Flush(); err != nil {
			stop()
			return nil, err
		}
	}
	pub, err := nats.Connect(ns.ClientURL())
	if err != nil {
		stop()
		return nil, err
	}
	conns = append(conns, pub)
	return &fanout{publish: func(msg []byte) error { return pub.Publish(pubsubTopic, msg) }, close: stop}, nil
}
