package relay

// Wire functions for the tests of package relay_test.
var (
	AppendRequest = appendRequest
	ReadRequest   = readRequest
	AppendRefusal = appendRefusal
	ReadAnswer    = readAnswer
)
