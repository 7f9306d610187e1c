package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/flashcrowd/flashcrowd/attack"
	"github.com/flashcrowd/flashcrowd/hosting"
	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// The bare `flashcrowd compare`: the four built-in plans in turn under
// press-spike compressed 1,400× (17 h in 44 s a plan, about 3 minutes in
// all) with its peak at 2,500/s: above what shared and vps hold for its mix,
// below what cdn holds, and within what the generator sends on a 2-core
// machine. With --simulate the default is the full curve (35,000/s).
const (
	defaultCompareScenario = "press-spike"
	defaultCompareCompress = "1400"
	defaultComparePeak     = "2500/s"
	// defaultCompareWindow is the window of the default scale: compressed
	// 1,400×, the climb to the peak takes seconds, and quarter-second
	// windows resolve the capacity band four times finer than 1 s ones.
	defaultCompareWindow = "250ms"
	// defaultCompareGrace is the SLO grace at the default scale, where the
	// peak lasts about 5 s.
	defaultCompareGrace = 2 * time.Second
)

type compareOpts struct {
	sf       scenarioFlags
	plans    []string
	targets  []string
	costs    []string
	confirm  []string
	out      string
	simulate bool
	seed     int64
	shards   int
	af       attackFlags
	slo      string
	window   string
	json     bool
	quiet    bool
	mf       metricsFlags
	ms       *metricsServer
}

func init() {
	register(&command{
		name:    "compare",
		order:   25,
		summary: "run one scenario against several plans or hosts (or compare earlier runs): one table, one verdict",
		usage: `flashcrowd compare [--scenario NAME|FILE] [--plan NAME|FILE]... [--target NAME=URL]... [RUN_DIR|NAME=RUN_DIR]...
                   [--simulate] [--cost NAME=DOLLARS]... [--out DIR] [flags]

Runs the same scenario, with the same curve, endpoint mix and seed, against
each --plan's simulated host in turn (started on loopback, as flashcrowd run
does) and each --target, and compares them with the RUN_DIRs given (runs made
earlier by flashcrowd run or simulate). Each run gets a directory of its own,
OUT/NAME, with its results, run.json, windows and full report, written by the
same code as flashcrowd run; the comparison is built from those directories,
so its figures are the single-run reports' figures.

It prints a verdict naming the cheapest plan that held the SLO through the
whole curve (or, if none did, how much more capacity the best one needed)
and a table: capacity, break, the fraction of the peak each survived, p99
and errors at the peak, requests lost, recovery, first endpoint to fail,
monthly cost and cost per 1,000 req/s of capacity. It writes compare.html
(self-contained), compare.md, compare.json and three plots into OUT.

With no plans, targets or directories it compares the built-in plans
(` + "shared, vps, cdn, cloud" + `). The bare command replays press-spike
compressed 1,400× with its peak at 2,500/s against each: about 45 s a plan,
judged with a 2 s SLO grace (the compressed peak lasts 5 s). Note that
compression speeds up the curve, not the hosts: an autoscaling plan's
reaction lag stays real, so a compressed climb is harder on it than the
real day would be. With --simulate the plans run in the simulator instead
(no network), and the default is press-spike at full scale: under a minute
a plan.

A --target that is not loopback needs --confirm HOST. Its cost is unknown
unless given with --cost NAME=DOLLARS. Every --target gets a pre-flight
request before the first run, as with flashcrowd run: one that does not
answer is exit 2 before anything is run (--no-preflight skips it).

Exit status: 0 a plan held the SLO over the whole curve, 1 runtime error, 2
bad usage or input, 3 no plan held the SLO in force (--slo, or else the
scenario's own), 130 interrupted (the runs done so far are compared).

Examples:
  flashcrowd compare                                          # 4 built-in plans, ~3 min
  flashcrowd compare --simulate                               # full-scale press-spike, simulated
  flashcrowd compare --scenario breakpoint --peak 2500/s --plan shared --plan vps --out runs/cmp
  flashcrowd compare --plan vps --target mine=http://127.0.0.1:8080 --cost mine=25
  flashcrowd compare runs/shared runs/vps after=runs/vps-tuned
  flashcrowd compare --target staging=https://staging.example.com --confirm staging.example.com --cost staging=80 --max-rate 300/s`,
		flags: func(fs *pflag.FlagSet) any {
			o := &compareOpts{}
			o.sf.add(fs, defaultCompareScenario)
			o.sf.addMaxRate(fs)
			fs.StringArrayVar(&o.plans, "plan", nil, "compare the simulated host of plan `NAME|FILE` ("+strings.Join(hosting.BuiltinPlanNames(), ", ")+"; repeatable)")
			fs.StringArrayVar(&o.targets, "target", nil, "compare the host at `NAME=URL` (repeatable; not loopback: with --confirm)")
			fs.StringArrayVar(&o.costs, "cost", nil, "monthly cost of entry `NAME=DOLLARS` (repeatable; overrides a plan's)")
			fs.StringSliceVar(&o.confirm, "confirm", nil, "allow sending to `HOST`, which is not loopback (repeat or comma-separate for several)")
			fs.StringVar(&o.out, "out", "", "comparison `DIR`; each run goes to DIR/NAME (default runs/DATE-TIME-compare-SCENARIO)")
			fs.BoolVar(&o.simulate, "simulate", false, "simulate the plans (no network) instead of running them against their simulated hosts")
			fs.Int64Var(&o.seed, "seed", defaultSimSeed, "with --simulate: random `SEED`, the same for every plan")
			fs.IntVar(&o.shards, "shards", defaultSimShards, "with --simulate: simulate in `N` parallel shards (the same for every machine; lowered to what each plan allows)")
			o.af.add(fs)
			fs.StringVar(&o.slo, "slo", "", "judge every entry by this `SLO` (p99=800ms,errors=1%,...) over its scenario's; exit 3 if none holds it")
			fs.StringVar(&o.window, "window", "", "window `WIDTH` of new runs (default 1s, 250ms for the bare command's compressed curve; longer for curves over an hour)")
			fs.BoolVar(&o.json, "json", false, "print compare.json instead of the table")
			fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress output")
			o.mf.add(fs, true)
			return o
		},
		run: runCompare,
	})
}

// compareJob is one entry to run: a plan (real or simulated) or a target.
type compareJob struct {
	name   string
	plan   *hosting.Plan
	target *url.URL
	warns  []string // the pre-flight's, for run.json
}

// compareDir is one entry read from a run directory.
type compareDir struct{ name, dir string }

func runCompare(e *env, fs *pflag.FlagSet, opts any, args []string) error {
	o := opts.(*compareOpts)
	var s *scenarios.Scenario
	err := o.compare(e, fs, args, &s)
	// A message may quote a URL, header or body built from ${ENV:NAME}
	// values (an error from a library): the references are written instead.
	return redactErr(s, err)
}

// compare is runCompare; *sp is the scenario the new runs send, once
// loaded.
func (o *compareOpts) compare(e *env, fs *pflag.FlagSet, args []string, sp **scenarios.Scenario) error {
	if o.simulate && len(o.targets) > 0 {
		return usagef("--simulate runs plans, not --target hosts: give one or the other")
	}
	if o.simulate {
		for _, name := range sendFlags {
			if fs.Changed(name) {
				return usagef("--%s tunes sending, and --simulate sends nothing: drop one of them", name)
			}
		}
	}
	if o.simulate && o.mf.addr != "" {
		return usagef("--metrics-addr shows live runs: not with --simulate")
	}
	if o.shards < 1 || o.shards > 256 {
		return usagef("--shards %d: want 1 to 256", o.shards)
	}
	var slo *scenarios.SLO
	if o.slo != "" {
		s, err := scenarios.ParseSLO(o.slo, scenarios.DefaultSLO)
		if err != nil {
			return usagef("--slo: %v", err)
		}
		slo = &s
	}
	names := map[string]bool{}
	claim := func(name, what string) error {
		if name == "" || safeName(name) != name {
			return usagef("%s: name %q: use letters, digits, '-', '_' and '.'", what, name)
		}
		if names[name] {
			return usagef("%s: %q is named twice: name the entries apart (NAME=...)", what, name)
		}
		names[name] = true
		return nil
	}

	// Earlier runs.
	var dirs []compareDir
	for _, a := range args {
		name, dir, ok := strings.Cut(a, "=")
		if !ok {
			dir, name = a, filepath.Base(filepath.Clean(a))
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return usagef("%q is not a run directory", dir)
		}
		if err := claim(name, dir); err != nil {
			return err
		}
		dirs = append(dirs, compareDir{name, dir})
	}

	// New runs.
	var jobs []compareJob
	plans := o.plans
	if len(plans) == 0 && len(o.targets) == 0 && len(dirs) == 0 {
		plans = builtinPlansByCost()
	}
	for _, p := range plans {
		plan, err := hosting.LoadPlan(p)
		if err != nil {
			return err
		}
		if err := claim(plan.Name, "--plan "+p); err != nil {
			return err
		}
		jobs = append(jobs, compareJob{name: plan.Name, plan: plan})
	}
	for _, t := range o.targets {
		name, raw, ok := strings.Cut(t, "=")
		if !ok {
			return usagef("--target %q: want NAME=URL, e.g. mine=http://127.0.0.1:8080", t)
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--target %q: want an http(s) URL such as http://127.0.0.1:8080", raw)
		}
		if err := claim(name, "--target"); err != nil {
			return err
		}
		jobs = append(jobs, compareJob{name: name, target: u})
	}
	costs := map[string]float64{}
	for _, c := range o.costs {
		name, v, ok := strings.Cut(c, "=")
		x, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimSpace(v), "$"), 64)
		if !ok || err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) {
			return usagef("--cost %q: want NAME=DOLLARS, e.g. mine=25", c)
		}
		if !names[name] {
			return usagef("--cost %q: no entry is named %q", c, name)
		}
		costs[name] = x
	}
	if len(jobs) == 0 && (fs.Changed("scenario") || o.sf.curve != "" || o.sf.rate > 0 || fs.Changed("compress") || fs.Changed("peak")) {
		return usagef("the scenario flags are for new runs: give --plan or --target too (runs read from directories keep their own)")
	}

	out := o.out
	var s *scenarios.Scenario
	if len(jobs) > 0 {
		var err error
		if s, err = o.loadScenario(fs); err != nil {
			return err
		}
		*sp = s
		if len(s.Endpoints) == 0 {
			s.Endpoints = scenarios.DefaultEndpoints()
		}
	}
	if out == "" {
		stem := "compare"
		if s != nil {
			stem += "-" + safeName(s.Name)
		}
		out = filepath.Join("runs", time.Now().Format("2006-01-02-150405")+"-"+stem)
	}
	for _, j := range jobs {
		if err := checkOut(filepath.Join(out, j.name), "--out"); err != nil {
			return err
		}
	}

	var err error
	var interrupted bool
	if len(jobs) > 0 {
		if o.simulate {
			interrupted, err = o.simulateAll(e, fs, s, jobs, out)
		} else {
			interrupted, err = o.runAll(e, fs, s, jobs, out)
		}
		if err != nil {
			return err
		}
	}
	// New runs first, in the order given, then earlier runs.
	var done []compareDir
	for _, j := range jobs {
		if _, err := os.Stat(filepath.Join(out, j.name, scenarios.RunInfoFile)); err == nil {
			done = append(done, compareDir{j.name, filepath.Join(out, j.name)})
		}
	}
	dirs = append(done, dirs...)
	if len(dirs) == 0 {
		return exitError{code: exitInterrupted, msg: "interrupted before any run started: nothing to compare"}
	}

	// The comparison, from the run directories alone.
	var entries []report.CompareEntry
	for _, d := range dirs {
		en, err := loadCompareEntry(d.dir, d.name, slo, e.stderr)
		if err != nil {
			return err
		}
		if c, ok := costs[d.name]; ok {
			en.Cost = c
		}
		entries = append(entries, en)
	}
	c := report.Compare(entries)
	if o.json {
		err = c.WriteJSON(e.stdout)
	} else {
		fmt.Fprintln(e.stdout)
		err = c.WriteText(e.stdout)
	}
	if err != nil {
		return err
	}
	if err := report.WriteComparison(out, c); err != nil {
		return err
	}
	if !o.quiet {
		where := ""
		if len(done) > 0 {
			where = fmt.Sprintf("; each new run's own report in %s", filepath.Join(out, "NAME"))
		}
		fmt.Fprintf(e.stderr, "wrote %s (and compare.md, compare.json, the plots%s)\n",
			filepath.Join(out, report.CompareHTMLFile), where)
	}
	switch {
	case interrupted:
		return exitError{code: exitInterrupted, msg: "interrupted: the runs done so far are compared"}
	case !anyHeld(c):
		src := "the scenario's SLO"
		if slo != nil {
			src = "the --slo SLO"
		}
		return exitError{code: exitSLO, msg: fmt.Sprintf("no %s held %s through the whole curve (exit 3)", c.Noun, src)}
	}
	return nil
}

func anyHeld(c *report.Comparison) bool {
	for _, r := range c.Rows {
		if r.Held {
			return true
		}
	}
	return false
}

// loadScenario is the scenario every new run sends: the flags' scenario,
// at the default compare scale when none was given.
func (o *compareOpts) loadScenario(fs *pflag.FlagSet) (*scenarios.Scenario, error) {
	if !o.simulate && !fs.Changed("scenario") && o.sf.curve == "" && o.sf.rate == 0 && o.sf.duration == "" {
		if !fs.Changed("window") && !fs.Changed("compress") {
			fs.Set("window", defaultCompareWindow)
		}
		if !fs.Changed("compress") {
			fs.Set("compress", defaultCompareCompress)
		}
		if !fs.Changed("peak") {
			fs.Set("peak", defaultComparePeak)
		}
		s, err := o.sf.load(fs)
		if err != nil {
			return nil, err
		}
		// Compressed 1,400×, the two-hour peak lasts 5 s: under the
		// scenario's 10 s grace a plan could break for the whole peak and
		// still "hold". Judge the short peak by a grace it can fail.
		if s.SLO.Grace > defaultCompareGrace {
			s.SLO.Grace = defaultCompareGrace
		}
		return s, nil
	}
	return o.sf.load(fs)
}

// builtinPlansByCost lists the built-in plans, cheapest first.
func builtinPlansByCost() []string {
	names := hosting.BuiltinPlanNames()
	cost := map[string]float64{}
	for _, n := range names {
		if p, err := hosting.LoadPlan(n); err == nil {
			cost[n] = p.MonthlyCost
		}
	}
	sort.SliceStable(names, func(i, j int) bool { return cost[names[i]] < cost[names[j]] })
	return names
}

// loadCompareEntry reads a run directory exactly as `flashcrowd report DIR`
// does and judges it by its scenario's SLO (with slo's overrides).
func loadCompareEntry(dir, name string, slo *scenarios.SLO, warn io.Writer) (report.CompareEntry, error) {
	ws, err := report.Open([]string{dir}, 0, warn)
	if err != nil {
		return report.CompareEntry{}, fmt.Errorf("reading run %s: %w", dir, err)
	}
	judge := scenarios.DefaultSLO
	if ws.Info != nil && ws.Info.Scenario != nil && ws.Info.Scenario.SLO != (scenarios.SLO{}) {
		judge = ws.Info.Scenario.SLO
	}
	if slo != nil {
		judge = *slo
	}
	en := report.CompareEntry{Name: name, Dir: dir, A: report.Analyze(ws, judge), Cost: math.NaN()}
	if ws.Info != nil && ws.Info.Plan != "" {
		en.Cost = ws.Info.PlanCost
	}
	return en, nil
}

// runAll sends the scenario to each job in turn, each into out/NAME with
// its live report, as flashcrowd run does. It stops after the run a Ctrl-C
// interrupted.
func (o *compareOpts) runAll(e *env, fs *pflag.FlagSet, s *scenarios.Scenario, jobs []compareJob, out string) (interrupted bool, err error) {
	base, err := o.af.options(fs, s, o.confirm)
	if err != nil {
		return false, err
	}
	// Check every target before sending anything.
	for _, j := range jobs {
		if j.target == nil {
			continue
		}
		hosts, err := targetHosts(j.target, s.Endpoints)
		if err != nil {
			return false, usagef("--target %s: %v", j.name, err)
		}
		if err := attack.CheckConfirmed(hosts, o.confirm); err != nil {
			return false, usagef("--target %s: %v", j.name, err)
		}
	}
	// A fresh live report per run; checked once here for bad flags.
	if _, err := newLiveReport(s, o.slo, o.window); err != nil {
		return false, err
	}
	// The metrics address is checked (and listened on) before any
	// pre-flight request: bad usage sends nothing.
	if o.ms, err = o.mf.start(e, "compare"); err != nil {
		return false, err
	}
	defer o.ms.close(e)
	// Every --target answers (the simulated hosts are started here, one
	// at a time, and need no check): before the first run, so that a dead
	// last target does not cost the runs before it.
	for i, j := range jobs {
		if j.target == nil || o.af.noPreflight {
			continue
		}
		ao := base
		ao.Target = j.target
		ao.Info.Warnings = nil
		if err := preflight(e, s, "compare", "--target "+j.name, &ao, o.quiet); err != nil {
			return false, err
		}
		jobs[i].warns = ao.Info.Warnings
	}
	if !o.quiet {
		var ns []string
		for _, j := range jobs {
			ns = append(ns, j.name)
		}
		fmt.Fprintf(e.stderr, "flashcrowd compare: %s, %s over %s (peak %s/s) against %s in turn\n",
			o.sf.describe(s), countOf(s, s.Curve.Total()), fmtDur(s.Curve.Seconds()), fmtCap(s.Curve.Peak()), strings.Join(ns, ", "))
	}
	for _, j := range jobs {
		if e.ctx.Err() != nil {
			return true, nil
		}
		ao := base
		ao.Out = filepath.Join(out, j.name)
		ao.Info.Version = version()
		ao.Info.Args = []string{"flashcrowd", "compare"}
		fs.Visit(func(f *pflag.Flag) { ao.Info.Args = append(ao.Info.Args, "--"+f.Name+"="+flagValue(f)) })
		ao.Info.Options = map[string]string{"compare-entry": j.name}
		fs.VisitAll(func(f *pflag.Flag) { ao.Info.Options[f.Name] = flagValue(f) })
		about := ""
		if j.plan != nil {
			target, stop, err := startSimHost(j.plan)
			if err != nil {
				return false, err
			}
			ao.Target = target
			ao.Info.Plan, ao.Info.PlanCost = j.plan.Name, j.plan.MonthlyCost
			about = fmt.Sprintf("the simulated %s host ($%g/month, holds about %s/s of this mix) on %s", j.plan.Name, j.plan.MonthlyCost, fmtCap(j.plan.Capacity(s.RequestMix())), target)
			stopped, err := o.runOne(e, s, ao, j.name, about)
			stop()
			if err != nil || stopped {
				return stopped, err
			}
			continue
		}
		ao.Target = j.target
		ao.Info.Warnings = append(append([]string(nil), ao.Info.Warnings...), j.warns...)
		hosts, _ := targetHosts(j.target, s.Endpoints)
		for _, h := range hosts {
			if !attack.IsLoopback(h) {
				ao.StartAt = time.Now().Add(realSiteDelay)
			}
		}
		about = j.target.String()
		if !ao.StartAt.IsZero() && !o.quiet {
			fmt.Fprintf(e.stderr, "flashcrowd compare: %s is a real site: starting at %s; Ctrl-C now to cancel\n",
				s.RedactText(strings.Join(hosts, ", ")), ao.StartAt.Format(time.TimeOnly))
		}
		stopped, err := o.runOne(e, s, ao, j.name, about)
		if err != nil || stopped {
			return stopped, err
		}
	}
	return false, nil
}

// runOne makes one run with its live report (the report's text goes
// nowhere: the comparison prints the summary). stopped is true when a
// Ctrl-C cut it short.
func (o *compareOpts) runOne(e *env, s *scenarios.Scenario, ao attack.Options, name, about string) (stopped bool, err error) {
	rep, err := newLiveReport(s, o.slo, o.window)
	if err != nil {
		return false, err
	}
	ao.Started = rep.start
	ao.Meter = o.ms.meter(compareRunLabel(o.mf.runLabel(filepath.Dir(ao.Out)), name), ao.Shard, rep.slo)
	if !o.quiet {
		ao.Progress = e.stderr
		ao.Live = isTerminal(e.stderr)
		fmt.Fprintf(e.stderr, "flashcrowd compare: %s: %s against %s → %s\n", name, o.sf.describe(s), about, ao.Out)
	}
	sum, err := attack.Run(e.ctx, e.hard, ao, rep.add)
	if err != nil {
		if errors.Is(err, attack.ErrNotConfirmed) {
			return false, usagef("%v", err)
		}
		if sum == nil {
			return false, fmt.Errorf("running %s: %w", name, err)
		}
		fmt.Fprintf(e.stderr, "flashcrowd compare: %s: %s\n", name, s.RedactText(err.Error()))
	}
	quiet := &env{stdin: e.stdin, stdout: io.Discard, stderr: e.stderr, ctx: e.ctx, hard: e.hard, stopNote: e.stopNote}
	if _, err := rep.finish(quiet, ao.Out); err != nil {
		return false, fmt.Errorf("writing %s's report: %w", name, err)
	}
	return sum != nil && strings.HasPrefix(sum.Stopped, "interrupted"), nil
}

// simulateAll simulates each plan under the scenario (flashcrowd simulate's
// simulation, with the same seed for every plan), each into out/NAME with
// its run.json, windows and report.
func (o *compareOpts) simulateAll(e *env, fs *pflag.FlagSet, s *scenarios.Scenario, jobs []compareJob, out string) (interrupted bool, err error) {
	width := report.WidthFor(time.Duration(s.Curve.Seconds() * float64(time.Second)))
	if o.window != "" {
		d, err := scenarios.ParseDuration(o.window)
		if err != nil || d <= 0 {
			return false, usagef("--window %q: want a duration such as 1s or 5s", o.window)
		}
		width = d
	}
	slo := s.SLO
	if slo == (scenarios.SLO{}) {
		slo = scenarios.DefaultSLO
	}
	if o.slo != "" {
		if slo, err = scenarios.ParseSLO(o.slo, slo); err != nil {
			return false, usagef("--slo: %v", err)
		}
	}
	if o.af.timeout < 0 {
		return false, usagef("--timeout must be >= 0")
	}
	start := time.Now().UTC().Truncate(time.Second)
	for _, j := range jobs {
		if e.ctx.Err() != nil {
			return true, nil
		}
		dir := filepath.Join(out, j.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, fmt.Errorf("creating the run directory: %w", err)
		}
		info := &scenarios.RunInfo{
			Tool: "flashcrowd", Version: version(), GoVersion: runtime.Version(), Vegeta: attack.VegetaVersion,
			Engine: "simulate", Scenario: s.Redacted(), Plan: j.plan.Name, PlanCost: j.plan.MonthlyCost, Simulated: true,
			Shards: o.shards, Start: start, Seed: o.seed,
			Args: []string{"flashcrowd", "compare"}, Options: map[string]string{"compare-entry": j.name},
		}
		fs.Visit(func(f *pflag.Flag) { info.Args = append(info.Args, "--"+f.Name+"="+flagValue(f)) })
		fs.VisitAll(func(f *pflag.Flag) { info.Options[f.Name] = flagValue(f) })
		if !o.quiet {
			what := s.Arrivals()
			fmt.Fprintf(e.stderr, "flashcrowd compare: %s: simulating %s, %s %s (peak %s/s), against the %s plan ($%g/month, holds about %s req/s of this mix)\n",
				j.name, o.sf.describe(s), fmtCount(s.Curve.Total()), what, fmtCap(s.Curve.Peak()), j.plan.Name, j.plan.MonthlyCost, fmtCap(j.plan.Capacity(s.RequestMix())))
		}
		if m, limit := j.plan.MaxShards(); fs.Changed("shards") && o.shards > m {
			fmt.Fprintf(e.stderr, "flashcrowd compare: %s: --shards %d lowered to %d: the %s plan allows at most %d (%s)\n", j.name, o.shards, m, j.plan.Name, m, limit)
		}
		sim := simulation{Plan: j.plan, Info: info, Width: width, ClientTimeout: o.af.timeout, ConnectionsPerVisitor: o.af.perVisitor}
		t0 := time.Now()
		ws, st, err := sim.run(e.ctx)
		if errors.Is(err, context.Canceled) {
			info.Stopped = "interrupted"
			info.End = info.Start.Add(time.Duration(st.Seconds * float64(time.Second)))
			interrupted, err = true, nil
		}
		if err != nil {
			return false, fmt.Errorf("simulating %s: %w", j.name, err)
		}
		if !o.quiet {
			fmt.Fprintf(e.stderr, "flashcrowd compare: %s: %s requests simulated in %s\n", j.name, fmtCount(float64(st.Requests)), time.Since(t0).Round(time.Millisecond))
		}
		if err := scenarios.WriteRunInfo(dir, info); err != nil {
			return false, fmt.Errorf("writing run.json: %w", err)
		}
		if err := ws.Save(dir); err != nil {
			return false, fmt.Errorf("saving windows: %w", err)
		}
		if err := report.WriteAll(dir, report.Analyze(ws, slo)); err != nil {
			return false, err
		}
		if interrupted {
			return true, nil
		}
	}
	return false, nil
}
