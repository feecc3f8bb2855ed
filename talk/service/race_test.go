//go:build race

package service_test

// raceEnabled: the race detector makes sync.Pool drop a quarter of what
// is put back, which costs allocations.
const raceEnabled = true
