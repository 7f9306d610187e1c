package main

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/flashcrowd/flashcrowd/hosting"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSimulateReport is flashcrowd simulate's whole per-request cost:
// one minute at the press spike's real peak (35,000/s, its mix) against
// each built-in plan, simulated and folded into report windows, on one
// shard. It reports simulated requests per second of CPU.
//
//	go test -run '^$' -bench SimulateReport ./cmd/flashcrowd
func BenchmarkSimulateReport(b *testing.B) {
	s, err := scenarios.Builtin("press-spike")
	if err != nil {
		b.Fatal(err)
	}
	curve, err := scenarios.ParseCurve("bench", "hold 35000/s for 1m", nil)
	if err != nil {
		b.Fatal(err)
	}
	s.Curve, s.Compress = curve, 1
	for _, name := range hosting.BuiltinPlanNames() {
		b.Run(name, func(b *testing.B) {
			p, err := hosting.LoadPlan(name)
			if err != nil {
				b.Fatal(err)
			}
			var n uint64
			cpu0 := cpuTime()
			for b.Loop() {
				info := &scenarios.RunInfo{Scenario: s, Plan: name, Simulated: true, Shards: 1, Start: time.Unix(1e9, 0), Seed: 1}
				sm := simulation{Plan: p, Info: info, Width: time.Second, ClientTimeout: 30 * time.Second}
				ws, st, err := sm.run(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				n += st.Requests
				if ws.Results != st.Requests {
					b.Fatalf("folded %d of %d results", ws.Results, st.Requests)
				}
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(n)/cpu.Seconds(), "sim-req/cpu-s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/sim-req")
		})
	}
}
