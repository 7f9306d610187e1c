package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/flashcrowd/flashcrowd/attack"
	"github.com/flashcrowd/flashcrowd/hosting"
	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// The bare `flashcrowd run`: press-spike in visitors (press-spike-visitors)
// compressed 400× (17 h in about 2.5 min) with its peak scaled to 132
// visitors a second (about 1,200 requests a second, 1.6 times what the
// shared plan holds for its mix), against the simulated shared host.
const (
	defaultRunScenario = "press-spike-visitors"
	defaultRunCompress = "400"
	defaultRunPeak     = "132/s"
	defaultRunPlan     = "shared"
	// realSiteDelay is how long a run against a confirmed real site waits
	// after printing what it will send, so it can still be cancelled.
	realSiteDelay = 5 * time.Second
)

type runOpts struct {
	sf            scenarioFlags
	target        string
	plan          string
	targets       string
	targetsFormat string
	out           string
	shard         string
	startAt       string
	confirm       []string
	af            attackFlags
	quiet         bool
	slo           string
	window        string
	mf            metricsFlags
	findCap       bool
	probe         time.Duration
}

// attackFlags are the flags that tune how traffic is sent (timeouts,
// workers, connections, headers, abort rules): `run` and `compare` share
// them.
type attackFlags struct {
	timeout        time.Duration
	workers        uint64
	maxWorkers     uint64
	connections    int
	maxConnections int
	keepAlive      bool
	http2          bool
	insecure       bool
	redirects      int
	headers        []string
	maxBody        string
	keepHeaders    bool

	abort   []string
	noAbort bool

	noPreflight bool

	engine        string
	perVisitor    int
	results       string
	resultsBudget string
}

func (o *attackFlags) add(fs *pflag.FlagSet) {
	fs.DurationVar(&o.timeout, "timeout", attack.DefaultTimeout, "per-request `TIMEOUT`, body included")
	fs.Uint64Var(&o.workers, "workers", attack.DefaultWorkers, "`N` workers started up front (more are added as needed)")
	fs.Uint64Var(&o.maxWorkers, "max-workers", attack.DefaultMaxWorkers, "bound on requests in flight `N`; at the bound sends fall behind (and the run says so)")
	fs.IntVar(&o.connections, "connections", 0, "idle keep-alive connections kept per host `N` (default --max-connections)")
	fs.IntVar(&o.maxConnections, "max-connections", attack.DefaultMaxConnections, "bound on open connections per host `N` (mind ulimit -n and local ports)")
	fs.BoolVar(&o.keepAlive, "keepalive", true, "reuse connections (off: a new connection per request, which exhausts local ports fast)")
	fs.BoolVar(&o.http2, "http2", true, "use HTTP/2 with https targets that offer it")
	fs.BoolVar(&o.insecure, "insecure", false, "do not verify TLS certificates")
	fs.IntVar(&o.redirects, "redirects", attack.DefaultRedirects, "follow up to `N` redirects (-1: follow none, a 3xx counts as success); never to a host that is not loopback or --confirm'ed")
	fs.StringArrayVarP(&o.headers, "header", "H", nil, "add `'NAME: VALUE'` to every request (repeatable)")
	fs.StringVar(&o.maxBody, "max-body", "0", "keep up to `BYTES` of each response body in the results (-1: all); bodies are always read and counted")
	fs.BoolVar(&o.keepHeaders, "keep-headers", false, "keep response headers in the results")
	fs.StringArrayVar(&o.abort, "abort", nil, "stop on `RULE` such as 'errors > 50% for 15s' or 'p99 > 10s for 30s' (repeatable; replaces the scenario's rules)")
	fs.BoolVar(&o.noAbort, "no-abort", false, "run the whole curve whatever happens")
	fs.BoolVar(&o.noPreflight, "no-preflight", false, "skip the pre-flight request (one HEAD a host before the run, not counted; exit 2 when nothing answers, the name does not resolve or TLS fails)")
	fs.StringVar(&o.engine, "engine", attack.DefaultEngine, "sender `NAME`: fast (keep-alive HTTP/1.1, plain http to one host; other runs fall back to vegeta) or vegeta (net/http: https, HTTP/2)")
	fs.IntVar(&o.perVisitor, "connections-per-visitor", attack.DefaultConnectionsPerVisitor, "a page view loads up to `N` of its assets at once, as a browser's connections to a host (scenarios whose pages list assets)")
	fs.StringVar(&o.results, "results", "", "raw results kept in results.gob, by `MODE`: all, none or sample=N (default: all up to --results-budget, then 1 in 100); reports always count every result")
	fs.StringVar(&o.resultsBudget, "results-budget", "2GB", "`BYTES` of results.gob kept in full before sampling 1 in 100 (≈ 64 bytes a result: 2GB is ≈ 15 min at 35,000/s)")
}

// options checks the flags and returns the attack options they set for
// scenario s (target, output, shards and progress are the caller's).
func (o *attackFlags) options(fs *pflag.FlagSet, s *scenarios.Scenario, confirm []string) (attack.Options, error) {
	ao := attack.Options{
		Scenario:         s,
		Confirm:          confirm,
		Timeout:          o.timeout,
		Workers:          o.workers,
		MaxWorkers:       o.maxWorkers,
		Connections:      o.connections,
		MaxConnections:   o.maxConnections,
		DisableKeepAlive: !o.keepAlive,
		DisableHTTP2:     !o.http2,
		Insecure:         o.insecure,
		Redirects:        o.redirects,
		KeepHeaders:      o.keepHeaders,
		NoAbort:          o.noAbort,

		ConnectionsPerVisitor: o.perVisitor,
	}
	if o.timeout <= 0 {
		return ao, usagef("--timeout must be > 0")
	}
	if o.perVisitor < 1 || o.perVisitor > 100 {
		return ao, usagef("--connections-per-visitor must be 1 to 100, not %d", o.perVisitor)
	}
	if o.maxWorkers == 0 || o.maxConnections <= 0 {
		return ao, usagef("--max-workers and --max-connections must be > 0")
	}
	if o.redirects == 0 {
		return ao, usagef("--redirects 0 is ambiguous: give -1 to follow none, or N > 0")
	}
	if err := o.contradictions(fs); err != nil {
		return ao, err
	}
	if o.workers > o.maxWorkers {
		ao.Workers = o.maxWorkers // only --max-workers was given: the default --workers fits under it
	}
	switch o.engine {
	case attack.EngineFast, attack.EngineVegeta:
	default:
		return ao, usagef("--engine %q: want fast or vegeta", o.engine)
	}
	ao.Engine = o.engine
	if _, err := attack.ParseResults(o.results); err != nil {
		return ao, usagef("--results: %v", err)
	}
	ao.Results = o.results
	if b, err := scenarios.ParseBytes(o.resultsBudget); err != nil || b <= 0 {
		return ao, usagef("--results-budget %q: want a size such as 500MB or 2GB", o.resultsBudget)
	} else {
		ao.ResultsBudget = b
	}
	var err error
	if ao.MaxBody, err = parseMaxBody(o.maxBody); err != nil {
		return ao, usagef("--max-body: %v", err)
	}
	if ao.Header, err = parseHeaders(o.headers); err != nil {
		return ao, err
	}
	if fs.Changed("abort") {
		ao.Abort = []scenarios.AbortRule{}
		for _, a := range o.abort {
			r, err := scenarios.ParseAbortRule(a)
			if err != nil {
				return ao, usagef("--abort: %v", err)
			}
			ao.Abort = append(ao.Abort, r)
		}
	}
	return ao, nil
}

// contradictions refuses flags that cannot all hold: exit 2 before
// anything starts.
func (o *attackFlags) contradictions(fs *pflag.FlagSet) error {
	switch {
	case fs.Changed("abort") && o.noAbort:
		return usagef("--abort and --no-abort contradict each other: give rules with --abort, or run the whole curve with --no-abort")
	case o.workers == 0:
		return usagef("--workers 0: want at least 1 worker started up front (more are added as needed, up to --max-workers)")
	case fs.Changed("workers") && o.workers > o.maxWorkers:
		return usagef("--workers %d is more than --max-workers %d: raise --max-workers or lower --workers", o.workers, o.maxWorkers)
	case o.connections < 0:
		return usagef("--connections %d: want N >= 0 (0: as many as --max-connections)", o.connections)
	case o.connections > o.maxConnections:
		return usagef("--connections %d is more than --max-connections %d: idle connections kept cannot outnumber open ones", o.connections, o.maxConnections)
	case o.redirects < -1:
		return usagef("--redirects %d: want -1 (follow none) or N > 0", o.redirects)
	}
	return nil
}

// sendFlags are attackFlags that only tune sending: a simulation sends
// nothing, so they have no effect there (--timeout does: the simulated
// client gives up after it too).
var sendFlags = []string{"workers", "max-workers", "connections", "max-connections", "keepalive", "http2", "insecure",
	"redirects", "header", "max-body", "keep-headers", "abort", "no-abort", "engine", "results", "results-budget", "confirm", "no-preflight"}

// startSimHost serves plan's simulated host on a free loopback port. The
// host outlives the run's context (requests in flight after a Ctrl-C still
// get their answers); stop shuts it down and waits for it.
func startSimHost(plan *hosting.Plan) (target *url.URL, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("starting the simulated host: %w", err)
	}
	hctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- hosting.Serve(hctx, ln, plan) }()
	return &url.URL{Scheme: "http", Host: ln.Addr().String()}, func() { cancel(); <-served }, nil
}

func init() {
	register(&command{
		name:    "run",
		order:   10,
		summary: "replay a scenario's curve against a target (default: a simulated host) and keep every result",
		usage: `flashcrowd run [--scenario NAME|FILE] [--target URL] [--plan NAME|FILE] [--compress K] [--peak RATE]
               [--out DIR] [--shard i/n] [--start-at TIME] [flags]

Sends the scenario's curve exactly (request i at N⁻¹(i + ½), in an open model: a
slow target gets more requests in flight, never fewer requests) and streams
every result to DIR/results.gob (vegeta's gob format: "vegeta report
DIR/results.gob" reads it) beside DIR/run.json (the curve, mix, target, flags,
shard, start time). Ctrl-C stops sending, waits for requests in flight and
keeps every result; a second Ctrl-C stops at once, the file still valid.

With no --target it starts the simulated host (plan shared unless --plan) on a
free loopback port. The bare command replays press-spike-visitors (press-spike
in visitors: a product page, then its 8 images; one in 21 goes on to a
checkout) compressed 400× with its peak at 132 visitors a second (about 1,200
requests a second) against it: about 2.5 minutes; the host breaks, and the
report says how many visitors got a broken page and how many checkouts failed.

--find-capacity adds a capacity search after the curve: steady probes
(--probe each, 10 s by default, never above --max-rate) starting from the
run's capacity band, bisecting between the highest rate that held and the
lowest that broke until they are within 5% (at most 8 probes, 2 s apart).
A probe holds when every window of its second half holds the SLO. The
probes go to DIR/find-capacity/, the result to DIR/find-capacity.json.

A target that is not loopback needs --confirm HOST naming its host; the run
prints what it will send and waits 5 s before starting.

Before the curve starts, one pre-flight HEAD request goes to each host of
the target (it is not among the results; --no-preflight skips it). When
nothing answers (connection refused), the name does not resolve or TLS
fails, the run exits 2 at once, writing nothing. Any HTTP answer, a 503
too, means the target is up. The simulated host is not checked.

Exit status: 0 the SLO held over the whole curve, 1 runtime error, 2 bad
usage or input (an unreachable target too), 3 the SLO in force (--slo, or
else the scenario's own) did not hold (a break, an abort, a target that
stopped answering, a generator that fell behind), 130 interrupted (results
kept, report written).

Examples:
  flashcrowd run                                            # the main job, ~2.5 min
  flashcrowd run --plan vps --out runs/vps
  flashcrowd run --scenario breakpoint --peak 2000/s --plan cloud
  flashcrowd run --plan shared --find-capacity                   # then bracket the capacity to 5%
  flashcrowd run --rate 500/s --duration 30s --target http://127.0.0.1:8080
  flashcrowd run --scenario my-launch.yaml --target https://staging.example.com --confirm staging.example.com --max-rate 300/s
  flashcrowd run --targets targets.txt --curve 'ramp 10/s to 800/s over 2m' --target http://127.0.0.1:8080
  flashcrowd run --shard 2/4 --start-at 2026-03-14T09:00:00Z --target http://staging.example.com --confirm staging.example.com`,
		flags: func(fs *pflag.FlagSet) any {
			o := &runOpts{}
			o.sf.add(fs, defaultRunScenario)
			o.sf.addMaxRate(fs)
			fs.StringVar(&o.target, "target", "", "base `URL` the endpoints' paths are joined to (default: start the simulated host on loopback)")
			fs.StringVar(&o.plan, "plan", "", "without --target: the simulated host's plan, built-in `NAME` ("+strings.Join(hosting.BuiltinPlanNames(), ", ")+") or FILE (default shared)")
			fs.StringVar(&o.targets, "targets", "", "send the targets of a vegeta targets `FILE` (http or json format) in turn, instead of the scenario's endpoints")
			fs.StringVar(&o.targetsFormat, "targets-format", "", "`FORMAT` of --targets: http or json (default: detected)")
			fs.StringVar(&o.out, "out", "", "run `DIR` for results.gob and run.json (default runs/DATE-TIME-SCENARIO)")
			fs.StringVar(&o.shard, "shard", "", "send only shard `i/n` of the schedule (0 ≤ i < n): requests i, i+n, i+2n, …")
			fs.StringVar(&o.startAt, "start-at", "", "start the curve at `TIME`: RFC 3339, or +DURATION from now (one process); give every shard the same RFC 3339 time")
			fs.StringSliceVar(&o.confirm, "confirm", nil, "allow sending to `HOST`, which is not loopback (repeat or comma-separate for several)")
			o.af.add(fs)
			fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress output")
			fs.StringVar(&o.slo, "slo", "", "judge the report by this `SLO` (p99=800ms,errors=1%,...) over the scenario's; exit 3 if it fails (as when the scenario's fails)")
			fs.StringVar(&o.window, "window", "", "report window `WIDTH` (default 1s; longer for curves over an hour)")
			fs.BoolVar(&o.findCap, "find-capacity", false, "after the curve, search the capacity with steady probes around the run's estimate (up to 8 probes of --probe, bisecting to 5%)")
			fs.DurationVar(&o.probe, "probe", 10*time.Second, "with --find-capacity: how long each probe holds its rate (`DURATION`; the second half is judged)")
			o.mf.add(fs, true)
			return o
		},
		run: runRun,
	})
}

func runRun(e *env, fs *pflag.FlagSet, opts any, args []string) (err error) {
	o := opts.(*runOpts)
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	// The bare command: the main job's scale.
	if !fs.Changed("scenario") && o.sf.curve == "" && o.sf.rate == 0 && o.sf.duration == "" && o.targets == "" {
		if !fs.Changed("compress") {
			fs.Set("compress", defaultRunCompress)
		}
		if !fs.Changed("peak") {
			fs.Set("peak", defaultRunPeak)
		}
	}
	if o.targetsFormat != "" && o.targets == "" {
		return usagef("--targets-format is the format of a --targets file: give --targets too")
	}
	if o.targets != "" && !fs.Changed("scenario") && o.sf.curve == "" && o.sf.rate == 0 {
		return usagef("--targets needs a curve: give --scenario, --curve or --rate and --duration")
	}
	s, err := o.sf.load(fs)
	if err != nil {
		return err
	}
	// No message holds a value from the environment: a ${ENV:NAME}
	// reference is printed as the reference (an error from a library may
	// quote a URL or a header built from one).
	defer func() { err = redactErr(s, err) }()
	if o.targets != "" {
		eps, err := attack.ReadTargets(o.targets, o.targetsFormat)
		if err != nil {
			return err
		}
		s.Endpoints = eps
	}

	ao, err := o.af.options(fs, s, o.confirm)
	if err != nil {
		return err
	}
	// --slo and --window are checked before a host starts.
	rep, err := newLiveReport(s, o.slo, o.window)
	if err != nil {
		return err
	}
	if ao.Shard, ao.Shards, err = parseShard(o.shard); err != nil {
		return err
	}
	if o.findCap && ao.Shards > 1 {
		return usagef("--find-capacity searches from one machine: run it without --shard")
	}
	if o.findCap && o.probe < 2*time.Second {
		return usagef("--probe %s: want at least 2s (the first half of a probe lets queues fill)", o.probe)
	}
	if ao.StartAt, err = parseStartAt(o.startAt, time.Now()); err != nil {
		return err
	}
	if w := startAtWarning(o.startAt, ao.Shards); w != "" {
		fmt.Fprintf(e.stderr, "flashcrowd run: warning: %s\n", w)
	}

	ao.Out = o.out
	if ao.Out == "" {
		ao.Out = filepath.Join("runs", time.Now().Format("2006-01-02-150405")+"-"+safeName(s.Name))
		if ao.Shards > 1 {
			ao.Out += fmt.Sprintf("-shard-%d-of-%d", ao.Shard, ao.Shards)
		}
	}
	if err := checkOut(ao.Out, "--out"); err != nil {
		return err
	}

	// The target: a URL, none when every endpoint is a full URL (a vegeta
	// targets file), or the simulated host in this process.
	eps := s.Endpoints
	if len(eps) == 0 {
		eps = scenarios.DefaultEndpoints()
	}
	var about string
	simHost := false
	if o.target == "" && !fs.Changed("plan") && allFullURLs(eps) {
		hosts, err := targetHosts(nil, eps)
		if err != nil {
			return usagef("%v", err)
		}
		about = "against " + s.RedactText(strings.Join(hosts, ", "))
	} else if o.target != "" {
		if fs.Changed("plan") {
			return usagef("--plan is for the simulated host: give --target or --plan, not both")
		}
		u, err := url.Parse(o.target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--target %q: want an http(s) URL such as http://127.0.0.1:8080", o.target)
		}
		ao.Target = u
		about = "against " + u.String()
	} else {
		name := o.plan
		if name == "" {
			name = defaultRunPlan
		}
		plan, err := hosting.LoadPlan(name)
		if err != nil {
			return err
		}
		simHost = true
		target, stopHost, err := startSimHost(plan)
		if err != nil {
			return err
		}
		defer stopHost()
		ao.Target = target
		ao.Info.Plan, ao.Info.PlanCost = plan.Name, plan.MonthlyCost
		about = fmt.Sprintf("against the simulated host (plan %s, $%g/month, holds about %s/s of this mix) on %s",
			plan.Name, plan.MonthlyCost, fmtCap(plan.Capacity(s.RequestMix())), ao.Target)
	}
	hosts, err := targetHosts(ao.Target, eps)
	if err != nil {
		return usagef("%v", err)
	}
	if err := attack.CheckConfirmed(hosts, o.confirm); err != nil {
		return usagef("%v", err)
	}
	real := false
	for _, h := range hosts {
		real = real || !attack.IsLoopback(h)
	}
	if real && ao.StartAt.IsZero() {
		ao.StartAt = time.Now().Add(realSiteDelay)
	}

	ao.Info.Version = version()
	ao.Info.Args = []string{"flashcrowd", "run"}
	fs.Visit(func(f *pflag.Flag) { ao.Info.Args = append(ao.Info.Args, "--"+f.Name+"="+flagValue(f)) })
	ao.Info.Options = map[string]string{}
	fs.VisitAll(func(f *pflag.Flag) { ao.Info.Options[f.Name] = flagValue(f) })

	if !o.quiet {
		ao.Progress = e.stderr
		ao.Live = isTerminal(e.stderr)
	}
	// The metrics address is checked (and listened on) before anything
	// is said of the run and before the pre-flight request: bad usage
	// sends nothing and prints only its error.
	ms, err := o.mf.start(e, "run")
	if err != nil {
		return err
	}
	defer ms.close(e)
	desc := o.sf.describe(s)
	if !o.quiet {
		fmt.Fprintf(e.stderr, "flashcrowd run: %s %s\n", desc, about)
		if real {
			fmt.Fprintf(e.stderr, "flashcrowd run: %s is a real site: starting at %s; Ctrl-C now to cancel\n",
				s.RedactText(strings.Join(hosts, ", ")), ao.StartAt.Format(time.TimeOnly))
		}
	}

	if !simHost && !o.af.noPreflight {
		if err := preflight(e, s, "run", "", &ao, o.quiet); err != nil {
			return err
		}
	}
	ao.Meter = ms.meter(o.mf.runLabel(ao.Out), ao.Shard, rep.slo)
	ao.Started = rep.start
	sum, err := attack.Run(e.ctx, e.hard, ao, rep.add)
	if err != nil {
		if errors.Is(err, attack.ErrNotConfirmed) {
			return usagef("%v", err)
		}
		if sum == nil {
			return err
		}
		fmt.Fprintf(e.stderr, "flashcrowd run: %s\n", s.RedactText(err.Error()))
	}
	to := s.RedactText(strings.Join(hosts, ", "))
	if ao.Target != nil {
		to = ao.Target.String()
	}
	fmt.Fprintf(e.stdout, "%s: %s → %s\n", desc, to, filepath.Join(ao.Out, attack.ResultsFile))
	if err := sum.WriteText(e.stdout); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout)
	sloErr, rerr := rep.finish(e, ao.Out)
	if rerr != nil {
		fmt.Fprintf(e.stderr, "flashcrowd run: writing the report: %v\n", rerr)
	}
	fmt.Fprintf(e.stdout, "results: %s (vegeta report %s; flashcrowd report %s)\n",
		filepath.Join(ao.Out, attack.ResultsFile), filepath.Join(ao.Out, attack.ResultsFile), ao.Out)
	if o.findCap && err == nil && rerr == nil && rep.last != nil && sum.Stopped != "interrupted" && e.ctx.Err() == nil {
		// Probes are requests a second; --max-rate caps arrivals (page
		// views, when they are).
		cs, ferr := findCapacity(e, ao, s, rep.last, rep.slo, o.probe, float64(o.sf.maxRate)*s.RequestsPerArrival(), o.quiet)
		if ferr != nil {
			fmt.Fprintf(e.stderr, "flashcrowd run: --find-capacity: %v\n", ferr)
		}
		if cs != nil {
			// The report gains the search (its table, a fact, summary.json's capacity_search).
			rep.last.Search = cs
			if werr := report.WriteAll(ao.Out, rep.last); werr != nil {
				fmt.Fprintf(e.stderr, "flashcrowd run: writing the report with the capacity search: %v\n", werr)
			}
		}
	}
	switch {
	case err == nil && rerr != nil:
		return exitError{code: exitRuntime}
	case err != nil:
		return exitError{code: exitRuntime}
	case sum.Aborted != nil:
		return exitError{code: exitSLO, msg: sum.Stopped}
	case sum.Stopped == "interrupted" || sum.Stopped == "interrupted before the start":
		return exitError{code: exitInterrupted, msg: fmt.Sprintf("interrupted: %s results kept in %s", fmtCount(float64(sum.Results)), ao.Out)}
	case sloErr != nil && ao.Shards > 1:
		// A shard's verdict is of its share of the traffic: the run's is
		// the merged report's, whose exit code is the SLO's. A shard that
		// ran its curve through did its part (under a Job, exit 3 would
		// fail its index, and the Job, for a break the rehearsal found).
		fmt.Fprintf(e.stderr, "flashcrowd run: this shard's SLO failed (%s); its verdict is of its share of the traffic: flashcrowd report over every shard's folder gives the run's, and exits 3 when it fails\n", strings.TrimSuffix(sloErr.Error(), " (exit 3)"))
	case sloErr != nil:
		return sloErr
	}
	return nil
}

// redactErr is err with every value from one of s's ${ENV:NAME}
// references replaced by the reference, in its message (its kind kept:
// errors.Is and As see through it).
func redactErr(s *scenarios.Scenario, err error) error {
	if err == nil || !s.FromEnv() {
		return err
	}
	var ue usageError
	var ee exitError
	switch {
	case errors.As(err, &ee):
		ee.msg = s.RedactText(ee.msg)
		return ee
	case errors.As(err, &ue):
		return usageError{s.RedactText(ue.msg)}
	}
	if msg := s.RedactText(err.Error()); msg != err.Error() {
		return &redactedError{msg: msg, err: err}
	}
	return err
}

// redactedError is an error whose message was redacted.
type redactedError struct {
	msg string
	err error
}

func (r *redactedError) Error() string { return r.msg }
func (r *redactedError) Unwrap() error { return r.err }

// exitInterrupted is the exit status of a run stopped by Ctrl-C or SIGTERM
// (128 + SIGINT), its results kept.
const exitInterrupted = 130

// allFullURLs tells whether every endpoint names its own host (as a vegeta
// targets file does), so that no base URL is needed.
func allFullURLs(eps []scenarios.Endpoint) bool {
	for _, e := range eps {
		if !strings.HasPrefix(e.URL, "http://") && !strings.HasPrefix(e.URL, "https://") {
			return false
		}
	}
	return true
}

// targetHosts lists the hosts the endpoints resolve to under base.
func targetHosts(base *url.URL, eps []scenarios.Endpoint) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, e := range eps {
		raw, err := attack.EndpointURL(base, e.URL)
		if err != nil {
			return nil, fmt.Errorf("endpoint %q: %v", e.Name, err)
		}
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("endpoint %q: %v", e.Name, err)
		}
		if h := u.Hostname(); !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out, nil
}

// parseShard reads "i/n" (0 ≤ i < n); "" is 0/1.
func parseShard(s string) (int, int, error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, usagef("--shard %q: want i/n with 0 ≤ i < n, e.g. 0/4 … 3/4", s)
	}
	return i, n, nil
}

// startAtWarning is the warning for a relative --start-at on a shard:
// each process adds the duration to its own clock, so shards started by
// hand a moment apart start apart, and flashcrowd report refuses to merge
// them. "" when there is nothing to say.
func startAtWarning(startAt string, shards int) string {
	if shards < 2 || !strings.HasPrefix(startAt, "+") {
		return ""
	}
	return fmt.Sprintf("--start-at %s is from this process's clock: shards started a moment apart start apart, and flashcrowd report refuses to merge them; "+
		"give every shard the same absolute time, computed once (T=$(date -u -d '+2 min' +%%Y-%%m-%%dT%%H:%%M:%%SZ), then --start-at $T on each); +DURATION is for one process", startAt)
}

// parseStartAt reads an RFC 3339 instant or +DURATION from now; "" is the
// zero time (start at once).
func parseStartAt(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		d, err := scenarios.ParseDuration(rest)
		if err != nil || d < 0 {
			return time.Time{}, usagef("--start-at %q: want an RFC 3339 time or +DURATION (e.g. +30s)", s)
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, usagef("--start-at %q: want an RFC 3339 time such as 2026-03-14T09:00:00Z, or +DURATION", s)
	}
	if late := now.Sub(t); late > attack.StartTolerance {
		return time.Time{}, usagef("--start-at %s is in the past (by %s): a run starting now would send a shifted schedule (the missed requests in a burst); give a later instant (with Kubernetes, write the manifests again)",
			s, late.Round(time.Millisecond))
	}
	return t, nil
}

func parseHeaders(hs []string) (http.Header, error) {
	if len(hs) == 0 {
		return nil, nil
	}
	h := http.Header{}
	for _, s := range hs {
		k, v, ok := strings.Cut(s, ":")
		if !ok || strings.TrimSpace(k) == "" || strings.ContainsAny(strings.TrimSpace(k), " \t") {
			return nil, usagef("--header %q: want 'Name: value'", s)
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return h, nil
}

func parseMaxBody(s string) (int64, error) {
	if strings.TrimSpace(s) == "-1" {
		return -1, nil
	}
	return scenarios.ParseBytes(s)
}

// flagValue prints a flag's value; repeated flags as their values joined
// by ", ".
// Values of headers that look like credentials are redacted, so run.json
// can be shared.
func flagValue(f *pflag.Flag) string {
	sv, ok := f.Value.(pflag.SliceValue)
	if !ok {
		return f.Value.String()
	}
	vs := sv.GetSlice()
	if f.Name == "header" {
		vs = append([]string(nil), vs...)
		for i, h := range vs {
			if k, _, ok := strings.Cut(h, ":"); ok && secretHeader(k) {
				vs[i] = strings.TrimSpace(k) + ": (redacted)"
			}
		}
	}
	return strings.Join(vs, ", ")
}

func secretHeader(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, s := range []string{"auth", "cookie", "token", "secret", "key", "password", "session"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// safeName keeps a scenario name usable as a directory name.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, s)
	if s == "" || s == "." || s == ".." {
		return "run"
	}
	return s
}
