package config_test

import (
	"fmt"

	"github.com/qtalkkit/qtalk/talk/config"
)

func ExampleParse() {
	cfg, err := config.Parse([]byte(`
listen = "tcp://127.0.0.1:4242"

[services]
chat  = { provider = "local", module = "example.net/chat" }
guild = { provider = "tcp://guild.example.net:4242", service = "guild-service", timeout = "5s" }
`), "qtalk.toml")
	if err != nil {
		fmt.Println(err)
		return
	}
	g := cfg.Services["guild"]
	fmt.Println(cfg.Listen, g.Provider, g.Service, g.Timeout)
	// Output: [tcp://127.0.0.1:4242] tcp://guild.example.net:4242 guild-service 5s
}

func ExampleError() {
	_, err := config.Parse([]byte(`
[services.guild]
provider = "tcp://guild.example.net:4242"
timout = "5s"
`), "qtalk.toml")
	fmt.Println(err)
	// Output: qtalk.toml:4: services.guild.timout: unknown key (want one of provider, src, module, options, service, host, timeout, retries, idempotent, fallback, breaker, cert, key, ca, allow, file, start, stop_timeout, ping_interval, ping_timeout, balance, hash_param, resolve_every, health_every, scheme)
}
