package main

import (
	"fmt"
	"os"
	"strings"
)

const gatewayOver3 = "through a gateway over 3 upstreams"

// gatewayBalanceScenario compares calls through a gateway whose service
// has three upstreams (a provider list, round robin) with calls straight
// to one upstream, at concurrency 32.
func gatewayBalanceScenario(cfg *config) *scenario {
	const conc = 32
	return &scenario{
		id:    "gateway-3up-c32",
		title: "Through a gateway over 3 upstreams: five processes, 64 B, concurrency 32",
		about: fmt.Sprintf("`qtalk bench --concurrency %d` calls echo:echo either directly on one upstream `qtalk serve` or "+
			"through a gateway whose service echo has the three upstreams' addresses as its provider (round robin, one "+
			"session each). Each is a process of its own, over loopback TCP, on one machine: the upstreams share its cores, "+
			"so the spread shows what balancing costs rather than what it adds.", conc),
		cols:     callCols(),
		baseline: gatewayDirect,
		impls: []impl{
			{name: gatewayDirect, kind: refImpl, run: func(rec recorder) error { return runQtalkBenchDirect(cfg, conc, rec) }},
			{name: gatewayOver3, kind: qtalkImpl, run: func(rec recorder) error {
				servers := []func([]string) ([]string, error){qtalkServe, qtalkServe, qtalkServe, qtalkGatewayList}
				return withServers(servers, func(addr string) error { return runQtalkBench(cfg, addr, conc, rec) })
			}},
		},
	}
}

// gatewayBalanceTargets compare the gateway over three upstreams with
// direct calls at concurrency 32, as the one-upstream gateway's target
// does: half the calls/s, and twice the latency at most.
func gatewayBalanceTargets() []target {
	const id = "gateway-3up-c32"
	return []target{
		ratioTarget("through a gateway over 3 upstreams (five processes), concurrency 32", ">= 0.5x the calls/s of calling one upstream directly",
			"gateway 3 up c32: through / direct", figure{id, gatewayOver3, mCallsPerSec}, figure{id, gatewayDirect, mCallsPerSec}, 0.5, false),
		ratioTarget("through a gateway over 3 upstreams, concurrency 32: latency", "p50 <= 2x calling one upstream directly",
			"gateway 3 up c32 p50: through / direct", figure{id, gatewayOver3, mP50Us}, figure{id, gatewayDirect, mP50Us}, 2, true),
		ratioTarget("through a gateway over 3 upstreams, concurrency 32: tail latency", "p99 <= 2x calling one upstream directly",
			"gateway 3 up c32 p99: through / direct", figure{id, gatewayOver3, mP99Us}, figure{id, gatewayDirect, mP99Us}, 2, true),
	}
}

// qtalkGatewayList is qtalk serve --config forwarding echo to every
// upstream started before it, as one provider list.
func qtalkGatewayList(addrs []string) ([]string, error) {
	bin, err := qtalkBinary()
	if err != nil {
		return nil, err
	}
	quoted := make([]string, len(addrs))
	for i, a := range addrs {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	conf := fmt.Sprintf("listen = [\"tcp://127.0.0.1:0\"]\nwatch_interval = \"0s\"\n\n[services]\necho = { provider = [%s] }\n", strings.Join(quoted, ", "))
	f, err := os.CreateTemp(builtDir, "gateway-list-*.toml")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(conf); err != nil {
		return nil, err
	}
	return []string{bin, "serve", "--config", f.Name()}, nil
}
