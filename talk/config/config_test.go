package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/qtalkkit/qtalk/talk/config"
	"github.com/qtalkkit/qtalk/transport"
)

const full = `# a full config
listen = ["tcp://127.0.0.1:4242", "ws://127.0.0.1:8080/qtalk"]
watch_interval = "500ms"

[limits]
max_frame_size = 65536
max_sessions = 10
max_calls = 100
dial_timeout = "2s"
reconnect_min = "10ms"
reconnect_max = "1s"

[services]
chat = { provider = "local", module = "example.net/chat", options = { rooms = 3 } }
guild = { provider = "tcp://guild.example.net:4242", service = "guild-service", host = "Example.NET", timeout = "5s", retries = 2, idempotent = ["read", "list*"], fallback = "backup", breaker = { failures = 3, cooldown = "1s" } }
worker = { provider = "exec:./worker --fast" }

[services.backup]
provider = "tcp/$4:5000!guild-service"
`

func TestParseFull(t *testing.T) {
	cfg, err := config.Parse([]byte(full), "qtalk.toml")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"tcp://127.0.0.1:4242", "ws://127.0.0.1:8080/qtalk"}; !reflect.DeepEqual(cfg.Listen, want) {
		t.Errorf("Listen = %q", cfg.Listen)
	}
	if cfg.WatchInterval != 500*time.Millisecond {
		t.Errorf("WatchInterval = %v", cfg.WatchInterval)
	}
	wantLimits := config.Limits{MaxFrameSize: 65536, MaxSessions: 10, MaxCalls: 100, DialTimeout: 2 * time.Second, ReconnectMin: 10 * time.Millisecond, ReconnectMax: time.Second}
	if cfg.Limits != wantLimits {
		t.Errorf("Limits = %+v", cfg.Limits)
	}
	chat := cfg.Services["chat"]
	if !chat.Local() || chat.Module != "example.net/chat" || chat.Options["rooms"] != int64(3) || chat.Line != 14 {
		t.Errorf("chat = %+v", chat)
	}
	guild := cfg.Services["guild"]
	want := &config.Service{
		Name: "guild", Provider: "tcp://guild.example.net:4242", Service: "guild-service", Host: "example.net",
		Timeout: 5 * time.Second, Retries: 2, Idempotent: []string{"read", "list*"}, Fallback: "backup",
		Breaker: config.Breaker{Failures: 3, Cooldown: time.Second},
	}
	if !guild.Equal(want) || guild.Line != 15 {
		t.Errorf("guild = %+v", guild)
	}
	worker := cfg.Services["worker"]
	if worker.Provider != "exec:./worker --fast" || worker.Service != "worker" ||
		worker.Breaker != (config.Breaker{Failures: config.DefaultBreakerFailures, Cooldown: config.DefaultBreakerCooldown}) {
		t.Errorf("worker = %+v", worker)
	}
	backup := cfg.Services["backup"]
	if backup.Provider != "tcp://127.0.0.1:5000" || backup.Service != "guild-service" || backup.Line != 18 || backup.KeyLine("provider") != 19 {
		t.Errorf("backup = %+v (line %d)", backup, backup.Line)
	}
}

func TestParseAllowOrigins(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want []string
	}{
		{`allow_origins = ["localhost:5173", "*.example.com", "https://app.example.net"]`, []string{"localhost:5173", "*.example.com", "https://app.example.net"}},
		{`allow_origins = "localhost:5173"`, []string{"localhost:5173"}},
		{`allow_origins = []`, nil},
		{``, nil},
	} {
		cfg, err := config.Parse([]byte(tc.doc), "")
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.doc, err)
			continue
		}
		if !slices.Equal(cfg.AllowOrigins, tc.want) {
			t.Errorf("Parse(%q).AllowOrigins = %q, want %q", tc.doc, cfg.AllowOrigins, tc.want)
		}
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, err := config.Parse(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, config.Default()) {
		t.Errorf("empty config = %+v, want the defaults %+v", cfg, config.Default())
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct {
		name, doc string
		line      int
		key, msg  string
	}{
		{"syntax", "listen = [\n\"a\"\nx", 3, "listen", "expected a comma"},
		{"unknown top", "lisen = []", 1, "lisen", "unknown key"},
		{"listen type", "listen = 4", 1, "listen", "want a string or an array of strings"},
		{"listen address", "listen = [\"nope://x\"]", 1, "listen", "unknown scheme"},
		{"listen exec", "listen = \"exec:cat\"", 1, "listen", "can only be dialed"},
		{"watch", "\n\nwatch_interval = \"5x\"", 3, "watch_interval", "bad duration"},
		{"origins type", "allow_origins = [1]", 1, "allow_origins", "want a string or an array of strings"},
		{"origins pattern", "\nallow_origins = [\"ok.test\", \"[bad\"]", 2, "allow_origins", `bad origin pattern "[bad"`},
		{"origins empty", "allow_origins = \"\"", 1, "allow_origins", `bad origin pattern ""`},
		{"limits unknown", "[limits]\nmax_frames = 3", 2, "limits.max_frames", "unknown key"},
		{"limits range", "[limits]\n\nmax_frame_size = 10", 3, "limits.max_frame_size", "out of range"},
		{"limits type", "[limits]\nmax_calls = \"lots\"", 2, "limits.max_calls", "want an integer"},
		{"limits reconnect", "[limits]\nreconnect_min = \"2s\"\nreconnect_max = \"1s\"", 3, "limits.reconnect_max", "less than reconnect_min"},
		{"limits not table", "limits = 3", 1, "limits", "want a table"},
		{"service name", "[services]\n\"bad name\" = { provider = \"local\", module = \"m\" }", 2, `services."bad name"`, "bad service name"},
		{"service reserved", "[services]\nqtalk = { provider = \"local\", module = \"m\" }", 2, "services.qtalk", "reserved"},
		{"no provider", "[services]\nchat = { module = \"m\" }", 2, "services.chat", "missing provider"},
		{"no module", "[services.chat]\nprovider = \"local\"", 1, "services.chat", "missing module"},
		{"unknown service key", "[services.chat]\nprovider = \"local\"\nmodule = \"m\"\nmodul = \"x\"", 4, "services.chat.modul", "unknown key"},
		{"local timeout", "[services.chat]\nprovider = \"local\"\nmodule = \"m\"\ntimeout = \"1s\"", 4, "services.chat.timeout", "only upstream services"},
		{"remote module", "[services]\nguild = { provider = \"tcp://h:1\", module = \"m\" }", 2, "services.guild.module", "only local services"},
		{"bad provider", "[services.guild]\n\nprovider = \"tcp://h\"", 3, "services.guild.provider", "bad provider"},
		{"stdio provider", "[services.guild]\nprovider = \"stdio:\"", 2, "services.guild.provider", "cannot dial stdio"},
		{"subport mismatch", "[services.guild]\nprovider = \"tcp://h:1!a\"\nservice = \"b\"", 3, "services.guild.service", "differs"},
		{"bad timeout", "[services.guild]\nprovider = \"tcp://h:1\"\ntimeout = \"-1s\"", 3, "services.guild.timeout", "out of range"},
		{"bad retries", "[services.guild]\nprovider = \"tcp://h:1\"\nretries = 11", 3, "services.guild.retries", "out of range"},
		{"bad idempotent", "[services.guild]\nprovider = \"tcp://h:1\"\nidempotent = [\"a b\"]", 3, "services.guild.idempotent", "bad name"},
		{"bad host", "[services.guild]\nprovider = \"tcp://h:1\"\nhost = \"a/b\"", 3, "services.guild.host", "bad host"},
		{"bad breaker", "[services.guild]\nprovider = \"tcp://h:1\"\nbreaker = { failures = 1, cooldown = 3 }", 3, "services.guild.breaker.cooldown", "want a duration"},
		{"breaker key", "[services.guild]\nprovider = \"tcp://h:1\"\n[services.guild.breaker]\nfailure = 1", 4, "services.guild.breaker.failure", "unknown key"},
		{"fallback missing", "[services.guild]\nprovider = \"tcp://h:1\"\nfallback = \"nope\"", 3, "services.guild.fallback", "no service"},
		{"fallback self", "[services.guild]\nprovider = \"tcp://h:1\"\nfallback = \"guild\"", 3, "services.guild.fallback", "own fallback"},
		{"service not table", "[services]\nguild = \"tcp://h:1\"", 2, "services.guild", "want a table"},
		{"allow empty", "[services.chat]\nprovider = \"local\"\nmodule = \"m\"\nallow = [\"\"]", 4, "services.chat.allow", "bad entry"},
		{"allow token", "[services.chat]\nprovider = \"local\"\nmodule = \"m\"\nallow = \"token:\"", 4, "services.chat.allow", "bad entry"},
		{"tokens empty", "tokens = \"\"", 1, "tokens", "empty file name"},
		{"listen item", "listen = [\"tcp://h:1\", 3]", 1, "listen", "item 2: want an address or a table"},
		{"listen no addr", "listen = [{ cert = \"c.pem\", key = \"k.pem\" }]", 1, "listen", "item 1: missing addr"},
		{"listen tls key", "listen = [{ addr = \"tls://h:1\", certificate = \"c.pem\" }]", 1, "listen.certificate", "unknown key"},
		{"listen cert alone", "listen = [{ addr = \"tls://h:1\", cert = \"c.pem\" }]", 1, "listen", "cert and key go together"},
		{"listen bad addr", "listen = [{ addr = \"nope://x\" }]", 1, "listen", "unknown scheme"},
		{"upstream key alone", "[services.guild]\nprovider = \"tls://h:1\"\nkey = \"k.pem\"", 1, "services.guild", "cert and key go together"},
		{"local cert", "[services.chat]\nprovider = \"local\"\nmodule = \"m\"\nca = \"ca.pem\"", 4, "services.chat.ca", "only upstream services"},
		{"provider list empty", "[services.g]\nprovider = []", 2, "services.g.provider", "empty list"},
		{"provider list item", "[services.g]\nprovider = [\"tcp://h:1\", \"tcp://h\"]", 2, "services.g.provider", "bad provider"},
		{"provider list dns", "[services.g]\nprovider = [\"dns://h:1\", \"tcp://h:1\"]", 2, "services.g.provider", "cannot name DNS"},
		{"dns no port", "[services.g]\nprovider = \"dns://h\"", 2, "services.g.provider", "want dns://name:port"},
		{"dns bad port", "[services.g]\nprovider = \"dns://h:0\"", 2, "services.g.provider", "bad port"},
		{"srv name", "[services.g]\nprovider = \"dns+srv://h.example\"", 2, "services.g.provider", "want dns+srv://_service._proto.name"},
		{"balance unknown", "[services.g]\nprovider = \"dns://h:1\"\nbalance = \"random\"", 3, "services.g.balance", "unknown policy"},
		{"hash no param", "[services.g]\nprovider = \"dns://h:1\"\nbalance = \"hash\"", 3, "services.g.balance", "needs hash_param"},
		{"param no hash", "[services.g]\nprovider = \"dns://h:1\"\nhash_param = \"user\"", 3, "services.g.hash_param", "is for balance"},
		{"resolve not dns", "[services.g]\nprovider = \"tcp://h:1\"\nresolve_every = \"1s\"", 3, "services.g.resolve_every", "only DNS providers"},
		{"scheme not dns", "[services.g]\nprovider = \"tcp://h:1\"\nscheme = \"tls\"", 3, "services.g.scheme", "only DNS providers"},
		{"unknown scheme", "[services.g]\nprovider = \"dns://h:1\"\nscheme = \"ws\"", 3, "services.g.scheme", `unknown scheme "ws" (want one of tcp, tls, quic)`},
		{"local balance", "[services.chat]\nprovider = \"local\"\nmodule = \"m\"\nbalance = \"hash\"", 4, "services.chat.balance", "only upstream services"},
		{"provider tls differs", "[services.a]\nprovider = \"tls://h:1\"\nca = \"a.pem\"\n[services.b]\nprovider = \"tls://h:1\"", 4, "services.b", "differ from those of service \"a\""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tt.doc), "q.toml")
			var ce *config.Error
			if !errors.As(err, &ce) || !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("Parse = %v, want a *config.Error matching ErrInvalid", err)
			}
			if ce.Line != tt.line || ce.Key != tt.key || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q: line %d, key %q; want line %d, key %q, message with %q", err, ce.Line, ce.Key, tt.line, tt.key, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "q.toml:") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}
}

// A syntax error keeps the parser's error in its chain, with its
// position, while the message says where once.
func TestParseSyntaxError(t *testing.T) {
	_, err := config.Parse([]byte("listen = [\n\"a\"\nx"), "q.toml")
	var pe toml.ParseError
	if !errors.As(err, &pe) || !errors.Is(err, config.ErrInvalid) {
		t.Fatalf("Parse = %v, want an error matching ErrInvalid that wraps a toml.ParseError", err)
	}
	if pe.Position.Line != 3 || pe.Position.Col == 0 {
		t.Errorf("toml.ParseError position %+v, want line 3 and a column", pe.Position)
	}
	if want := "q.toml:3: listen: " + pe.Message; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qtalk.toml")
	if err := os.WriteFile(path, []byte("listen = \"tcp://127.0.0.1:0\"\n[limits]\nbogus = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":3: limits.bogus: unknown key") {
		t.Errorf("Load: %v", err)
	}
	if _, err := config.Load(filepath.Join(t.TempDir(), "none.toml")); !errors.Is(err, os.ErrNotExist) || errors.Is(err, config.ErrInvalid) {
		t.Errorf("Load of a missing file: %v, want os.ErrNotExist only", err)
	}
}

func TestParseTLS(t *testing.T) {
	doc := `
listen = ["tcp://127.0.0.1:4242", { addr = "wss://0.0.0.0:6002/qtalk", cert = "certs/server.pem", key = "/etc/qtalk/server-key.pem", ca = "clients.pem" }]

[services.guild]
provider = "tls://guild.example.net:4444"
cert = "me.pem"
key = "me-key.pem"
ca = "guild-ca.pem"
`
	cfg, err := config.Parse([]byte(doc), filepath.Join("conf", "qtalk.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"tcp://127.0.0.1:4242", "wss://0.0.0.0:6002/qtalk"}; !reflect.DeepEqual(cfg.Listen, want) {
		t.Errorf("Listen = %q, want %q", cfg.Listen, want)
	}
	want := map[string]transport.TLSFiles{"wss://0.0.0.0:6002/qtalk": {
		Cert: filepath.Join("conf", "certs", "server.pem"),
		Key:  "/etc/qtalk/server-key.pem",
		CA:   filepath.Join("conf", "clients.pem"),
	}}
	if !reflect.DeepEqual(cfg.ListenTLS, want) {
		t.Errorf("ListenTLS = %+v, want %+v", cfg.ListenTLS, want)
	}
	wantUp := transport.TLSFiles{Cert: filepath.Join("conf", "me.pem"), Key: filepath.Join("conf", "me-key.pem"), CA: filepath.Join("conf", "guild-ca.pem")}
	if got := cfg.Services["guild"].TLS; got != wantUp {
		t.Errorf("guild's TLS = %+v, want %+v", got, wantUp)
	}
	other := *cfg.Services["guild"]
	other.TLS.CA = "other.pem"
	if cfg.Services["guild"].SameBackend(&other) {
		t.Error("services with different CA files are the same backend")
	}
}

// A provider may be a list of addresses or a DNS name, with a balancing
// policy; the checks and the resolving get their defaults.
func TestParseEndpoints(t *testing.T) {
	cfg, err := config.Parse([]byte(`
[services]
list = { provider = ["tcp://a:1!up", "tcp://b:2"], balance = "least_outstanding" }
dns = { provider = "dns://guild.example:4242", balance = "hash", hash_param = "user", health_every = "0s" }
srv = { provider = "dns+srv://_qtalk._tcp.guild.example", resolve_every = "30s", health_every = "1s", scheme = "tls" }
one = { provider = ["tcp://c:3"] }
`), "q.toml")
	if err != nil {
		t.Fatal(err)
	}
	list, dns, srv, one := cfg.Services["list"], cfg.Services["dns"], cfg.Services["srv"], cfg.Services["one"]
	if !slices.Equal(list.Endpoints, []string{"tcp://a:1", "tcp://b:2"}) || list.Provider != "tcp://a:1, tcp://b:2" || list.Service != "up" ||
		list.Balance != config.BalanceLeastOutstanding || list.HealthEvery != config.DefaultHealthEvery || list.ResolveEvery != 0 || !list.Many() || list.Scheme != "" {
		t.Errorf("list = %+v", list)
	}
	if dns.Provider != "dns://guild.example:4242" || dns.Balance != config.BalanceHash || dns.HashParam != "user" ||
		dns.ResolveEvery != config.DefaultResolveEvery || dns.HealthEvery != 0 || !dns.Many() || dns.Scheme != "tcp" {
		t.Errorf("dns = %+v", dns)
	}
	if srv.ResolveEvery != 30*time.Second || srv.HealthEvery != time.Second || !srv.Many() || srv.Scheme != "tls" {
		t.Errorf("srv = %+v", srv)
	}
	if one.Provider != "tcp://c:3" || one.Endpoints != nil || one.Many() || one.HealthEvery != 0 {
		t.Errorf("one = %+v", one)
	}
}
