// Command driver sends a constant rate with flashcrowd's attack engine
// (attack.Run) for the benchmark, optionally writing CPU and heap profiles.
// It stands in for `flashcrowd run` where a profile of the engine alone is
// wanted: the same Options defaults, the same results.gob and run.json.
//
//	go build -o driver ./bench/driver
//	driver -target http://127.0.0.1:18080/ -rate 20000 -duration 10s -out DIR -cpuprofile cpu.prof
//
// Traffic goes to loopback only: attack.Run refuses any other host unless
// confirmed, and this driver never confirms one.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/attack"
	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("driver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		target     = fs.String("target", "", "base `URL` on loopback (required)")
		rate       = fs.Float64("rate", 0, "requests per second (required)")
		duration   = fs.Duration("duration", 10*time.Second, "how long to send")
		out        = fs.String("out", "", "run `DIR` for results.gob and run.json (\"\" keeps no files)")
		cpuprofile = fs.String("cpuprofile", "", "write a CPU profile of the whole run to `FILE`")
		memprofile = fs.String("memprofile", "", "write a heap profile at the end to `FILE`")
		maxWorkers = fs.Uint64("max-workers", 0, "bound on requests in flight (0: attack's default)")
		progress   = fs.Bool("progress", false, "print attack's progress lines to stderr")
		fold       = fs.Bool("fold", false, "fold results into report windows as `flashcrowd run` does (report.Folder as the sink)")
		engine     = fs.String("engine", "", "sender: fast or vegeta (\"\": attack's default)")
		meter      = fs.Bool("meter", false, "keep live metrics (an attack.Meter, read once a second as a scrape would) as `flashcrowd run --metrics-addr` does")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *target == "" || *rate <= 0 || *duration <= 0 {
		fmt.Fprintln(stderr, "driver: -target, -rate and -duration are required")
		return 2
	}
	u, err := url.Parse(*target)
	if err != nil || !attack.IsLoopback(u.Hostname()) {
		fmt.Fprintf(stderr, "driver: -target %q: want a loopback URL\n", *target)
		return 2
	}
	curve, err := scenarios.ParseCurve("-rate", fmt.Sprintf("hold %g/s for %s", *rate, scenarios.FormatDuration(*duration)), nil)
	if err != nil {
		fmt.Fprintf(stderr, "driver: building the curve: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(stderr, "driver: creating CPU profile: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "driver: starting CPU profile: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}

	o := attack.Options{
		Scenario:   &scenarios.Scenario{Name: "bench", Curve: curve},
		Target:     u,
		Out:        *out,
		MaxWorkers: *maxWorkers,
		NoAbort:    true,
		Engine:     *engine,
	}
	if *progress {
		o.Progress = stderr
	}
	if *meter {
		o.Meter = &attack.Meter{Run: "bench", Shard: "0"}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		go func() {
			for range tick.C {
				o.Meter.Snapshot()
			}
		}()
	}
	var sink func(*vegeta.Result)
	if *fold {
		var folder *report.Folder
		o.Started = func(info *scenarios.RunInfo) { folder = report.NewFolder(info, report.WidthFor(curve.Duration())) }
		sink = func(r *vegeta.Result) { folder.Add(r) }
	}
	sum, err := attack.Run(ctx, context.Background(), o, sink)
	if sum != nil {
		sum.WriteText(stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "driver: %v\n", err)
		return 1
	}
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			fmt.Fprintf(stderr, "driver: creating heap profile: %v\n", err)
			return 1
		}
		defer f.Close()
		runtime.GC()
		if err := pprof.WriteHeapProfile(f); err != nil {
			fmt.Fprintf(stderr, "driver: writing heap profile: %v\n", err)
			return 1
		}
	}
	return 0
}
