// Package backoff computes the waits between attempts to redo something
// that failed, typically a redial: each wait grows exponentially from
// Policy.Min up to Policy.Max and is spread by a random jitter, so that
// many clients cut off at once do not come back in lockstep.
//
// Every redial in qtalk (reconnecting peers, gateway upstream pools, exec:
// upstreams, grid links) waits through this package, with a Policy from its
// own Config.
package backoff
