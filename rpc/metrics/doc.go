// Package metrics counts a server's calls and sessions and writes them in
// the Prometheus text format, with no dependency beyond the standard
// library: Metrics.Interceptor records each call (by the service, the
// module of its label, and its code), SessionOpened and SessionClosed
// the sessions, and Metrics.ServeHTTP answers a scrape.
//
// The series:
//
//	qtalk_calls_total{service,code}            calls ended, by code
//	qtalk_calls_in_flight                      calls being served
//	qtalk_call_duration_seconds{service}       a histogram of the calls' durations
//	qtalk_sessions_total, qtalk_sessions_open  client sessions accepted, and open
//	qtalk_sent_bytes_total                     bytes sent on the sessions' connections, framing included
//	qtalk_received_bytes_total                 bytes received on them
//
// A call forwarded at the channel level (rpc.Forward, as a gateway does)
// counts with the code its handler saw, ok, and the duration until the
// forwarding ended.
package metrics
