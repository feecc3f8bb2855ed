package fn

import "testing"

func TestSelectorName(t *testing.T) {
	for name, want := range map[string]string{
		"Add": "add", "GetUser": "getUser", "ID": "id", "HTTPGet": "httpGet",
		"A": "a", "X1": "x1", "UserID": "userID", "Éclair": "éclair",
	} {
		if got := selectorName(name); got != want {
			t.Errorf("selectorName(%q) = %q, want %q", name, got, want)
		}
	}
}
