package main_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// scrape returns the metrics served at url.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}

var metricsLogged = regexp.MustCompile(`serving metrics addr=(http://\S+/metrics)`)

func TestServeMetrics(t *testing.T) {
	t.Parallel()
	s := serve(t, "--metrics", "127.0.0.1:0")
	url := metricsLogged.FindStringSubmatch(s.waitLog(t, metricsLogged.String()))[1]
	qtalk(t, "", "call", s.tcp, "echo:echo", `"hi"`).want(t, 0, "call")
	qtalk(t, "", "call", s.tcp, "kv:get", `["nope"]`).want(t, 15, "call of a missing key")
	text := scrape(t, url)
	for _, want := range []string{
		`qtalk_calls_total{service="echo",code="ok"} 1`,
		`qtalk_calls_total{service="kv",code="not_found"} 1`,
		`qtalk_call_duration_seconds_count{service="echo"} 1`,
		`qtalk_sessions_total 2`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no line %q in the metrics:\n%s", want, text)
		}
	}
	for _, series := range []string{"qtalk_sent_bytes_total", "qtalk_received_bytes_total"} {
		if !regexp.MustCompile(`(?m)^` + series + ` [1-9][0-9]*$`).MatchString(text) {
			t.Errorf("no positive %s in the metrics:\n%s", series, text)
		}
	}
}
