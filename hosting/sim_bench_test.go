package hosting

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSimulate simulates one minute at the press spike's real peak
// (35,000/s, the press-spike mix) against each built-in plan, and reports
// simulated requests per second of CPU. emit only counts: the report's fold
// is not part of the engine's cost.
//
//	go test -run '^$' -bench 'Simulate$' ./hosting
func BenchmarkSimulate(b *testing.B) {
	s, err := scenarios.Builtin("press-spike")
	if err != nil {
		b.Fatal(err)
	}
	curve, err := scenarios.ParseCurve("bench", "hold 35000/s for 1m", nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range BuiltinPlanNames() {
		b.Run(name, func(b *testing.B) {
			p, err := LoadPlan(name)
			if err != nil {
				b.Fatal(err)
			}
			var n uint64
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := Simulate(context.Background(), p, curve, s.Endpoints, SimOptions{Seed: 1}, func(r *vegeta.Result) { n++ }); err != nil {
					b.Fatal(err)
				}
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(n)/cpu.Seconds(), "sim-req/cpu-s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/sim-req")
		})
	}
}

// BenchmarkSimulatePressSpike simulates the whole press-spike curve at its
// real peak, uncompressed (about 545 million requests, 17 hours of
// traffic), against the cloud plan, in two shards on two goroutines.
//
//	go test -run '^$' -bench SimulatePressSpike -benchtime 1x ./hosting
func BenchmarkSimulatePressSpike(b *testing.B) {
	s, err := scenarios.Builtin("press-spike")
	if err != nil {
		b.Fatal(err)
	}
	p, err := LoadPlan("cloud")
	if err != nil {
		b.Fatal(err)
	}
	const shards = 2
	for b.Loop() {
		cpu0 := cpuTime()
		t0 := time.Now()
		var wg sync.WaitGroup
		stats := make([]SimStats, shards)
		for k := range shards {
			wg.Go(func() {
				st, err := Simulate(context.Background(), p, s.Curve, s.Endpoints, SimOptions{Seed: 1, Shard: k, Shards: shards}, func(*vegeta.Result) {})
				if err != nil {
					b.Error(err)
				}
				stats[k] = st
			})
		}
		wg.Wait()
		wall, cpu := time.Since(t0), cpuTime()-cpu0
		var n, ok uint64
		for _, st := range stats {
			n += st.Requests
			ok += st.OK
		}
		b.ReportMetric(float64(n), "requests")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(n)/cpu.Seconds(), "sim-req/cpu-s")
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
		b.Logf("%d requests (%d OK) in %s wall, %s CPU", n, ok, wall.Round(time.Millisecond), cpu.Round(time.Millisecond))
	}
}
