package rpc_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves goroutines behind: every call,
// session and listener a test starts must be over when it returns.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
