package main

import (
	"fmt"
	"io"
	"math"
	"net"
	"strings"

	"github.com/spf13/pflag"

	"github.com/flashcrowd/flashcrowd/hosting"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

type serveOpts struct {
	plan   string
	listen string
	list   bool
	mix    string
}

func init() {
	register(&command{
		name:    "serve",
		summary: "serve a simulated host (a hosting plan as a queueing model) on loopback",
		usage: `flashcrowd serve [--plan NAME|FILE] [--listen 127.0.0.1:PORT]

Paths: / and /p/* are pages, /img/* assets, /api/* the api; /healthz, and
/_stats for the host's counters as JSON. Ctrl-C stops it.

Examples:
  flashcrowd serve                                   # the shared plan on 127.0.0.1:8080
  flashcrowd serve --plan vps --listen 127.0.0.1:9000
  flashcrowd serve --plan testdata/plans/small.yaml
  flashcrowd serve --list                            # the built-in plans and their capacities
  curl -s 127.0.0.1:8080/_stats`,
		flags: func(fs *pflag.FlagSet) any {
			o := &serveOpts{}
			fs.StringVar(&o.plan, "plan", "shared", "built-in plan `NAME` ("+strings.Join(hosting.BuiltinPlanNames(), ", ")+") or plan FILE")
			fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "`ADDR` to listen on (port 0 picks a free one)")
			fs.BoolVar(&o.list, "list", false, "list the built-in plans with the capacity each implies, and exit")
			fs.StringVar(&o.mix, "mix-of", "press-spike", "with --list: the scenario `NAME|FILE` whose endpoint mix the capacities are for")
			return o
		},
		run:   runServe,
		order: 40,
	})
}

func runServe(e *env, fs *pflag.FlagSet, opts any, args []string) error {
	o := opts.(*serveOpts)
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	if o.list {
		s, err := scenarios.Load(o.mix)
		if err != nil {
			return err
		}
		return listPlans(e.stdout, s)
	}
	p, err := hosting.LoadPlan(o.plan)
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(o.listen)
	if err != nil {
		return usagef("--listen %q: want HOST:PORT such as 127.0.0.1:8080", o.listen)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(e.stderr, "flashcrowd serve: warning: %s is not a loopback address; the simulated host is reachable from outside this machine\n", host)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.listen, err)
	}
	fmt.Fprintf(e.stderr, "flashcrowd serve: plan %s (%s) on http://%s\n", p.Name, p.Description, ln.Addr())
	fmt.Fprintf(e.stderr, "  capacity: %s req/s of pages alone; stats at http://%s/_stats; Ctrl-C stops\n", fmtCap(p.Capacity(nil)), ln.Addr())
	if err := hosting.Serve(e.ctx, ln, p); err != nil {
		return fmt.Errorf("serving plan %s: %w", p.Name, err)
	}
	fmt.Fprintln(e.stderr, "flashcrowd serve: stopped")
	return nil
}

func fmtCap(c float64) string {
	if math.IsInf(c, 1) {
		return "unlimited"
	}
	return fmt.Sprintf("%.0f", c)
}

// listPlans prints the built-in plans as a Markdown table.
func listPlans(w io.Writer, s *scenarios.Scenario) error {
	fmt.Fprintf(w, "| plan | workers (pool: n, queue) | service times | bandwidth | host timeout | cost/month | capacity, %s mix | bottleneck | pages only |\n", s.Name)
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, n := range hosting.BuiltinPlanNames() {
		p, err := hosting.LoadPlan(n)
		if err != nil {
			return err
		}
		var pools []string
		for _, pl := range p.Pools {
			ws := fmt.Sprint(pl.Workers)
			if a := pl.Autoscale; a != nil {
				ws = fmt.Sprintf("%d→%d (+%d after %s)", a.Min, a.Max, a.Step, scenarios.FormatDuration(a.Lag))
			}
			pools = append(pools, fmt.Sprintf("%s: %s, q %d", pl.Name, ws, pl.Queue))
		}
		var svc []string
		for _, c := range scenarios.Classes {
			cs := p.Class(c)
			x := ""
			if cs.Offload {
				x = ", offloaded"
			}
			svc = append(svc, fmt.Sprintf("%s %s, %s%s", c, cs.Service, fmtBytes(cs.Size), x))
		}
		bw := "unlimited"
		if p.Bandwidth > 0 {
			bw = fmt.Sprintf("%s/s (%.0f Mbit/s)", fmtBytes(p.Bandwidth), float64(p.Bandwidth)*8/1e6)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | $%g | %s req/s | %s | %s req/s |\n", n, strings.Join(pools, "; "), strings.Join(svc, "; "), bw,
			scenarios.FormatDuration(p.HostTimeout), p.MonthlyCost, fmtCap(p.Capacity(s.Endpoints)), p.Bottleneck(s.Endpoints), fmtCap(p.Capacity(nil)))
	}
	return nil
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return fmt.Sprintf("%dMB", n/1e6)
	case n >= 1e3 && n%1e3 == 0:
		return fmt.Sprintf("%dKB", n/1e3)
	}
	return fmt.Sprintf("%dB", n)
}
