package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/flashcrowd/flashcrowd/hosting"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

type serveOpts struct {
	plan   string
	listen string
	list   bool
	mix    string
	mf     metricsFlags
}

func init() {
	register(&command{
		name:    "serve",
		summary: "serve a simulated host (a hosting plan as a queueing model) on loopback",
		usage: `flashcrowd serve [--plan NAME|FILE] [--listen 127.0.0.1:PORT]

Paths: / and /p/* are pages, /img/* assets, /api/* the api; /healthz, and
/_stats for the host's counters as JSON.

Ctrl-C (or SIGTERM) stops it, with exit status 0: it stops accepting
connections, answers every queued request 503 (or resets it, under
when_full: refuse|reset), and gives requests in service up to 2 s to
finish. A second Ctrl-C stops it at once.

Examples:
  flashcrowd serve                                   # the shared plan on 127.0.0.1:8080
  flashcrowd serve --plan vps --listen 127.0.0.1:9000
  flashcrowd serve --plan testdata/plans/small.yaml
  flashcrowd serve --list                            # the built-in plans and their capacities
  flashcrowd serve --list --plan myplan.yaml         # your plan, and the capacity it implies
  curl -s 127.0.0.1:8080/_stats`,
		flags: func(fs *pflag.FlagSet) any {
			o := &serveOpts{}
			fs.StringVar(&o.plan, "plan", "shared", "built-in plan `NAME` ("+strings.Join(hosting.BuiltinPlanNames(), ", ")+") or plan FILE")
			fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "`ADDR` to listen on (port 0 picks a free one)")
			fs.BoolVar(&o.list, "list", false, "list the built-in plans (or with --plan, that plan) with the capacity each implies, and exit")
			fs.StringVar(&o.mix, "mix-of", "press-spike", "with --list: the scenario `NAME|FILE` whose endpoint mix the capacities are for")
			o.mf.add(fs, false)
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
		s, err := scenarios.LoadEnv(o.mix, os.LookupEnv)
		if err != nil {
			return err
		}
		names := hosting.BuiltinPlanNames()
		if fs.Changed("plan") {
			names = []string{o.plan} // the user's plan (a name or a file) alone
		}
		return listPlans(e.stdout, s, names)
	}
	p, err := hosting.LoadPlan(o.plan)
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(o.listen)
	if err != nil {
		return usagef("--listen %q: want HOST:PORT such as 127.0.0.1:8080", o.listen)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return usagef("--listen %q: port %q: want 0 to 65535 (0 picks a free one)", o.listen, port)
	}
	if w := listenWarning(host, port); w != "" {
		fmt.Fprintf(e.stderr, "flashcrowd serve: warning: %s\n", w)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.listen, err)
	}
	ms, err := o.mf.start(e, "serve")
	if err != nil {
		ln.Close()
		return err
	}
	defer ms.close(e)
	h := hosting.NewHost(p)
	defer h.Close()
	ms.host(h)
	ctx, stop := serveSignals(e, p)
	defer stop()
	fmt.Fprintf(e.stderr, "flashcrowd serve: plan %s (%s) on http://%s\n", p.Name, p.Description, ln.Addr())
	fmt.Fprintf(e.stderr, "  capacity: %s req/s of pages alone; stats at http://%s/_stats; Ctrl-C stops\n", fmtCap(p.Capacity(nil)), ln.Addr())
	if err := hosting.ServeHost(ctx, ln, h); err != nil {
		return fmt.Errorf("serving plan %s: %w", p.Name, err)
	}
	fmt.Fprintln(e.stderr, "flashcrowd serve: stopped")
	return nil
}

// listenWarning is what to warn about listening on host:port, or "".
func listenWarning(host, port string) string {
	switch ip := net.ParseIP(host); {
	case host == "" || ip != nil && ip.IsUnspecified():
		return fmt.Sprintf("--listen %s listens on every interface; the simulated host is reachable from outside this machine (127.0.0.1:%s keeps it on loopback)", net.JoinHostPort(host, port), port)
	case host != "localhost" && (ip == nil || !ip.IsLoopback()):
		return fmt.Sprintf("%s is not a loopback address; the simulated host is reachable from outside this machine", host)
	}
	return ""
}

// serveSignals takes SIGINT and SIGTERM over from main's handler while
// serve serves: main's announces what run does with a signal ("keeping
// every result"), and serve keeps no results. The first signal cancels the
// returned context, saying what stopping does; a second one gets the
// default action (the process ends at once). stop hands the signals back.
func serveSignals(e *env, p *hosting.Plan) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(e.ctx)
	sigs := make(chan os.Signal, 1)
	signal.Reset(os.Interrupt, syscall.SIGTERM) // main's channel no longer hears them
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	queued := "queued requests get 503"
	if p.WhenFull != hosting.Full503 {
		queued = "queued requests are reset (when_full: " + string(p.WhenFull) + ")"
	}
	go func() {
		select {
		case <-sigs:
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			fmt.Fprintf(e.stderr, "\nflashcrowd serve: stopping: no new connections, %s, requests in service have 2 s to finish (Ctrl-C again to stop at once)\n", queued)
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		cancel()
	}
}

func fmtCap(c float64) string {
	if math.IsInf(c, 1) {
		return "unlimited"
	}
	return fmt.Sprintf("%.0f", c)
}

// listPlans prints plans (built-in names or plan files) as a Markdown
// table, with the capacity each implies for s's mix.
func listPlans(w io.Writer, s *scenarios.Scenario, names []string) error {
	// Every plan loads before a line is printed: a bad plan file is an
	// error with nothing half-written.
	plans := make([]*hosting.Plan, len(names))
	for i, n := range names {
		p, err := hosting.LoadPlan(n)
		if err != nil {
			return err
		}
		plans[i] = p
	}
	fmt.Fprintf(w, "| plan | workers (pool: n, queue) | service times | bandwidth | host timeout | cost/month | capacity, %s mix | bottleneck | pages only |\n", s.Name)
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, p := range plans {
		n := p.Name
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
			scenarios.FormatDuration(p.HostTimeout), p.MonthlyCost, fmtCap(p.Capacity(s.RequestMix())), p.Bottleneck(s.RequestMix()), fmtCap(p.Capacity(nil)))
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
