package main

import (
	"testing"
	"time"
)

func TestParseBenchSummary(t *testing.T) {
	out := "label      concurrency  size  duration  calls  calls/s  p50     p99    max     MB/s\n" +
		"echo:echo  1            64 B  1.2s      12001  10001    95.3µs  1.2ms  3.45ms  1.28\n"
	calls, p50, p99, err := parseBenchSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 10001 || p50 != 95300*time.Nanosecond || p99 != 1200*time.Microsecond {
		t.Errorf("got %v calls/s, p50 %v, p99 %v; want 10001, 95.3µs, 1.2ms", calls, p50, p99)
	}
	for _, bad := range []string{
		"",
		"label calls/s p50 p99 max MB/s\n",
		"label calls/s p50 p99 MB/s max\necho:echo 1 2µs 3µs 4µs 5\n",
		"label calls/s p50 p99 max MB/s\necho:echo many 2µs 3µs 4µs 5\n",
		"label calls/s p50 p99 max MB/s\necho:echo 1 soon 3µs 4µs 5\n",
	} {
		if _, _, _, err := parseBenchSummary(bad); err == nil {
			t.Errorf("parseBenchSummary(%q) = nil error, want one", bad)
		}
	}
}
