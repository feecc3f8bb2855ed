package qmux

import (
	"maps"
	"slices"
)

// speedupNames names each fast path for the tests of package qmux_test.
var speedupNames = map[string]speedup{
	"copyShortWrites":   copyShortWrites,
	"writeInPlace":      writeInPlace,
	"readVectored":      readVectored,
	"readIntoOffer":     readIntoOffer,
	"flushOnRead":       flushOnRead,
	"yieldAfterHandoff": yieldAfterHandoff,
	"lateCloseReply":    lateCloseReply,
	"yieldBeforeBatch":  yieldBeforeBatch,
	"readOnWait":        readOnWait,
	"quietWrites":       quietWrites,
	"lazyAccept":        lazyAccept,
}

// SpeedupNames returns the names of the fast paths a Config can switch
// off (see ConfigWithout).
func SpeedupNames() []string {
	return slices.Sorted(maps.Keys(speedupNames))
}

// ConfigWithout returns the default config with the fast path of that name
// switched off.
func ConfigWithout(name string) *Config {
	sw, ok := speedupNames[name]
	if !ok {
		panic("qmux: no fast path named " + name)
	}
	return &Config{without: sw}
}
