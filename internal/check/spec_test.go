package check

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/qtalkkit/qtalk/mux/qmux"
	"github.com/qtalkkit/qtalk/rpc"
	"github.com/qtalkkit/qtalk/talk"
	"github.com/qtalkkit/qtalk/transport/pipe"
)

const specPath = "../../spec/check.md"

// A specStep is one line of an example exchange in spec/check.md: bytes
// the client writes ("C:"), its half-close ("C: EOF"), or bytes the
// server writes ("S:").
type specStep struct {
	line   int
	client bool
	eof    bool
	data   []byte
}

// specExchanges returns the exchanges of the ```hex blocks of the spec.
func specExchanges(t *testing.T, spec []byte) [][]specStep {
	var blocks [][]specStep
	var cur []specStep
	in := false
	sc := bufio.NewScanner(bytes.NewReader(spec))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case !in && line == "```hex":
			in, cur = true, nil
			continue
		case in && line == "```":
			in = false
			blocks = append(blocks, cur)
			continue
		case !in:
			continue
		}
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		st := specStep{line: n}
		switch {
		case strings.HasPrefix(line, "C:"):
			st.client = true
		case strings.HasPrefix(line, "S:"):
		default:
			t.Fatalf("%s:%d: a hex line starts with C: or S:", specPath, n)
		}
		body := strings.TrimSpace(line[2:])
		if st.client && body == "EOF" {
			st.eof = true
		} else {
			data, err := hex.DecodeString(strings.Join(strings.Fields(body), ""))
			if err != nil {
				t.Fatalf("%s:%d: %v", specPath, n, err)
			}
			st.data = data
		}
		cur = append(cur, st)
	}
	return blocks
}

// The example exchanges of spec/check.md are what the Go server sends
// for what the client sends, byte for byte, and nothing more.
func TestSpecExchanges(t *testing.T) {
	spec, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	blocks := specExchanges(t, spec)
	if len(blocks) < 5 {
		t.Fatalf("%s has %d hex examples, want at least 5", specPath, len(blocks))
	}

	root := rpc.NewRespondMux()
	root.Handle(Prefix, Handler())
	c1, c2 := pipe.New()
	sess1, err := qmux.New(c1, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := talk.NewPeer(sess1, talk.WithHandler(root))
	defer srv.Close()
	sess, err := qmux.New(c2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for _, steps := range blocks {
		ch, err := sess.Open(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ch.SetReadDeadline(time.Now().Add(5 * time.Second))
		for _, st := range steps {
			var err error
			switch {
			case st.eof:
				err = ch.CloseWrite()
			case st.client:
				_, err = ch.Write(st.data)
			default:
				got := make([]byte, len(st.data))
				var n int
				n, err = io.ReadFull(ch, got)
				if err == nil && !bytes.Equal(got, st.data) {
					t.Errorf("%s:%d: the server sent\n% x\nwant\n% x", specPath, st.line, got[:n], st.data)
				}
			}
			if err != nil {
				t.Fatalf("%s:%d: %v", specPath, st.line, err)
			}
		}
		rest, err := io.ReadAll(ch)
		if err != nil || len(rest) > 0 {
			t.Errorf("%s:%d: after the example the server sent % x (%v), want the end of the channel", specPath, steps[len(steps)-1].line, rest, err)
		}
		ch.Close()
	}
}

// The sample value, its encodings and the byte pattern printed in
// spec/check.md are those of the Checker.
func TestSpecSample(t *testing.T) {
	spec, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(string(spec)), "")

	b, err := rpc.CBOR.Append(nil, theSample)
	if err != nil {
		t.Fatal(err)
	}
	// The two pairs of m come in either order.
	one, two := "636f6e6501", "6374776f02"
	enc := hex.EncodeToString(b)
	if !strings.Contains(enc, one+two) && !strings.Contains(enc, two+one) {
		t.Fatalf("the sample's m encodes unexpectedly: %s", enc)
	}
	ordered := strings.Replace(enc, two+one, one+two, 1)
	if !strings.Contains(flat, ordered) {
		t.Errorf("%s does not show the sample's CBOR encoding\n%s", specPath, ordered)
	}

	j, err := json.Marshal(theSample)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(spec, j) {
		t.Errorf("%s does not show the sample's JSON encoding\n%s", specPath, j)
	}

	if p := hex.EncodeToString(pattern(16)); !strings.Contains(flat, p) {
		t.Errorf("%s does not show the first 16 bytes of the pattern: %s", specPath, p)
	}
}
