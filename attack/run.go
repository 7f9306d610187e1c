package attack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// engine sends paced hits and streams their results. vegeta's Attacker is
// the engine today; this is the seam for another one.
type engine interface {
	Attack(tr vegeta.Targeter, p vegeta.Pacer, du time.Duration, name string) <-chan *vegeta.Result
	Stop() bool
	openConns() int64 // connections open now
	peakConns() int64 // most connections open at once
	kill()            // close every connection and refuse new ones
}

// vegetaEngine is vegeta's Attacker with the transport under it.
type vegetaEngine struct {
	*vegeta.Attacker
	*transport
}

// Summary is what a run did.
type Summary struct {
	Info         *scenarios.RunInfo
	Planned      uint64            // hits this shard was due to send over the whole curve
	Sent         uint64            // hits started
	Results      uint64            // results received and kept
	OK           uint64            // results without error
	Errors       map[string]uint64 // failed results by scenarios.ErrorKind
	Latency      Quantiles
	Lag          Quantiles // how far sends lagged their scheduled time
	BytesIn      uint64
	BytesOut     uint64
	Elapsed      time.Duration
	PeakInFlight uint64
	PeakConns    int64
	Aborted      *scenarios.AbortRule // the abort rule that stopped the run, if one did
	Visits       *VisitCounts         // the visitors (page views or journeys), when the arrivals were visitors; nil otherwise
	PageViews    *VisitCounts         // the page views among journeys' steps; nil when none
	Stopped      string               // why the run ended early, "" if it ran the whole curve
	Warnings     []string
}

// behindLag is the send lag (p99 over a second) above which the generator
// counts as behind schedule.
const behindLag = 50 * time.Millisecond

// Run sends o.Scenario's curve against o.Target, streams every result to
// o.Out/results.gob (vegeta's gob encoding) and to sink, and writes
// o.Out/run.json at the start and again at the end.
//
// Cancelling ctx stops sending, waits for requests in flight (up to the
// timeout) and keeps every result; cancelling hard as well returns at once
// with the results file flushed and valid, abandoning what is in flight.
// sink, if not nil, is called once per result in completion order, always
// from the same goroutine; it must not keep r.
//
// Setup problems (bad options, unconfirmed non-loopback target, an
// unusable run directory) return an error before anything is sent.
// Failures at the target are results, counted by kind in the Summary.
// A run stopped by an abort rule returns its Summary with Aborted set and
// a nil error.
func Run(ctx, hard context.Context, o Options, sink func(r *vegeta.Result)) (*Summary, error) {
	if o.Scenario == nil || o.Scenario.Curve == nil {
		return nil, errors.New("starting run: no scenario curve")
	}
	o.defaults()
	if o.Shard < 0 || o.Shard >= o.Shards {
		return nil, fmt.Errorf("starting run: shard %d/%d: want 0 ≤ i < n", o.Shard, o.Shards)
	}
	if late := time.Since(o.StartAt); !o.StartAt.IsZero() && late > StartTolerance {
		return nil, fmt.Errorf("starting run: %w: %s was %s ago (more than the %s tolerance); starting now would send a shifted schedule, so nothing was sent: give a later --start-at (with Kubernetes, write the manifests again)",
			ErrLateStart, o.StartAt.Format(time.RFC3339Nano), late.Round(time.Millisecond), StartTolerance)
	}
	eps := o.Scenario.Endpoints
	if len(eps) == 0 {
		eps = scenarios.DefaultEndpoints()
	}
	// Page views: the mix picks each arrival's page (or single request);
	// assets go with their pages.
	visitors := o.Scenario.Visitors() // page views or journeys
	arrivals := eps
	if o.Scenario.PageViews() {
		arrivals = scenarios.ArrivalEndpoints(eps)
	}
	tgt, err := NewMixTargeter(o.Target, arrivals, o.Header, o.Shard, o.Shards)
	if err != nil {
		return nil, err
	}
	if err := CheckConfirmed(Hosts(tgt.Targets()), o.Confirm); err != nil {
		return nil, err
	}
	curve := o.Scenario.Curve
	pacer := &CurvePacer{Curve: curve, Shard: o.Shard, Shards: o.Shards, PerArrival: o.Scenario.RequestsPerArrival()}

	info := o.Info
	info.Tool = "flashcrowd"
	info.GoVersion = runtime.Version()
	info.Vegeta = VegetaVersion
	engineName, engineWhy := o.Engine, ""
	if engineName == "" {
		engineName = DefaultEngine
	}
	switch {
	case visitors:
		if o.Engine == EngineVegeta {
			fmt.Fprintf(orDiscard(o.Progress), "note: the arrivals are %s: the %s engine sends them (on net/http, as vegeta's does)\n", o.Scenario.Arrivals(), EngineVisits)
		}
		engineName = EngineVisits
	case engineName == EngineFast:
		if why := fastEligible(&o, tgt.Targets()); why != "" {
			engineName, engineWhy = EngineVegeta, "the fast engine cannot send this run: "+why+"; using vegeta's"
		}
	case engineName == EngineVegeta:
	default:
		return nil, fmt.Errorf("starting run: unknown engine %q (want %s or %s)", o.Engine, EngineFast, EngineVegeta)
	}
	info.Engine = engineName
	// run.json, the results and everything shown hold ${ENV:NAME}
	// references, not their values.
	info.Scenario = o.Scenario.Redacted()
	chks := newChecks(eps, tgt.Targets())
	if o.Target != nil {
		info.Target = o.Target.String()
	} else {
		info.Target = strings.Join(Hosts(tgt.Targets()), ",")
	}
	info.Shard, info.Shards = o.Shard, o.Shards
	info.Stopped, info.Warnings = "", append([]string(nil), info.Warnings...)

	// The results file: refuse to overwrite a run.
	var (
		file *os.File
		bw   *bufio.Writer
		enc  vegeta.Encoder
	)
	every, err := ParseResults(o.Results)
	if err != nil {
		return nil, fmt.Errorf("starting run: %w", err)
	}
	keep := resultsPolicy{every: every, budget: o.ResultsBudget}
	switch {
	case o.Results == "none":
		info.ResultsKept = "none"
	case o.Results == "all":
		info.ResultsKept = "all"
	case every > 1:
		info.ResultsKept = fmt.Sprintf("1 in %d (seq a multiple of %d)", every, every)
	default:
		info.ResultsKept = "all"
		keep.every = 1
		keep.sampleAfter = SampleAfterBudget
	}
	if o.Out != "" {
		if err := os.MkdirAll(o.Out, 0o755); err != nil {
			return nil, fmt.Errorf("creating run directory: %w", err)
		}
	}
	if o.Out != "" && o.Results == "none" {
		if _, err := os.Stat(filepath.Join(o.Out, scenarios.RunInfoFile)); err == nil {
			return nil, fmt.Errorf("creating run directory: %s already holds a run (choose another --out)", o.Out)
		}
	}
	if o.Out != "" && o.Results != "none" {
		path := filepath.Join(o.Out, ResultsFile)
		if file, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
			if errors.Is(err, os.ErrExist) {
				return nil, fmt.Errorf("creating results file: %s already holds a run (choose another --out)", o.Out)
			}
			return nil, fmt.Errorf("creating results file: %w", err)
		}
		defer file.Close()
		keep.file = &countingWriter{w: file}
		bw = bufio.NewWriterSize(keep.file, 256<<10)
		enc = vegeta.NewEncoder(bw)
		info.Results = ResultsFile
	}
	// The visitors' records.
	var (
		vfile *os.File
		vw    *scenarios.VisitWriter
	)
	if o.Out != "" && visitors {
		path := filepath.Join(o.Out, scenarios.VisitsFile)
		if vfile, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
			if errors.Is(err, os.ErrExist) {
				return nil, fmt.Errorf("creating visits file: %s already holds a run (choose another --out)", o.Out)
			}
			return nil, fmt.Errorf("creating visits file: %w", err)
		}
		defer vfile.Close()
		vw = scenarios.NewVisitWriter(vfile)
		info.Visits = scenarios.VisitsFile
	}

	var (
		eng    engine
		tr     *transport
		fast   *fastEngine
		visits *visitEngine
	)
	switch engineName {
	case EngineVisits:
		if visits, err = newVisitEngine(&o, tgt, eps, chks); err != nil {
			return nil, err
		}
		visits.due = pacer.Due
		defer visits.base.CloseIdleConnections()
		eng = visits
	case EngineFast:
		if fast, err = newFastEngine(&o, tgt, chks); err != nil {
			return nil, err
		}
		fast.curve = pacer
		if fast.rt != nil {
			defer fast.rt.base.CloseIdleConnections()
		}
		eng = fast
	default:
		tr = newTransport(&o)
		tr.checks = chks
		defer tr.base.CloseIdleConnections()
		// vegeta's redirect policy, and no redirect to a host the run may
		// not send to: Redirects first, as it sets the client's policy,
		// which Client then replaces.
		client := &http.Client{Transport: tr, Timeout: o.Timeout, CheckRedirect: checkRedirect(o.Redirects, o.Confirm)}
		eng = vegetaEngine{vegeta.NewAttacker(
			vegeta.Redirects(o.Redirects),
			vegeta.Client(client),
			vegeta.Workers(o.Workers),
			vegeta.MaxWorkers(o.MaxWorkers),
			vegeta.MaxBody(o.MaxBody),
		), tr}
	}

	progress := orDiscard(o.Progress)
	warn := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		info.Warnings = append(info.Warnings, msg)
		if o.Live {
			fmt.Fprint(progress, "\r\x1b[K")
		}
		fmt.Fprintln(progress, "warning:", msg)
	}
	if engineWhy != "" {
		if o.Engine == EngineFast {
			warn("%s", engineWhy)
		} else {
			fmt.Fprintln(progress, "note:", engineWhy)
		}
	}
	if lim := openFilesLimit(); lim > 0 && uint64(o.MaxConnections)+64 > lim {
		warn("open-files limit %d is below --max-connections %d: connections past it fail with \"too many open files\" (raise ulimit -n or lower --max-connections)",
			lim, o.MaxConnections)
	}

	planned := pacer.Hits()
	shardNote := ""
	if o.Shards > 1 {
		shardNote = fmt.Sprintf(" (shard %d/%d: %s of %s)", o.Shard, o.Shards, fmtCount(planned), fmtCount(curve.Requests()))
	}
	dest := "no results file"
	if o.Out != "" {
		dest = filepath.Join(o.Out, ResultsFile)
	}
	if visitors {
		k := pacer.perArrival()
		what := o.Scenario.Arrivals()
		fmt.Fprintf(progress, "sending %s %s (about %s requests, %.3g a visitor) over %s, peak %s %s (%s requests)%s, to %s → %s\n",
			fmtCount(curve.Requests()), what, fmtCount(uint64(math.Round(float64(curve.Requests())*k))), k, scenarios.FormatDuration(curve.Duration()),
			fmtRate(curve.Peak()), what, fmtRate(curve.Peak()*k), shardNote, info.Target, dest)
	} else {
		fmt.Fprintf(progress, "sending %s requests over %s, peak %s%s, to %s → %s\n",
			fmtCount(curve.Requests()), scenarios.FormatDuration(curve.Duration()), fmtRate(curve.Peak()), shardNote, info.Target, dest)
	}

	// Shards on several machines: measure this clock against the shared
	// results folder's, so that the report can tell how well they agreed.
	if o.Shards > 1 && o.Out != "" && !o.StartAt.IsZero() {
		if off, ok := volumeClockOffset(o.Out); ok {
			info.ClockOffset, info.ClockRef = off, ClockRefVolume
		}
	}

	// The live metrics show the run at zero from now on, through the
	// wait for the start: the first scrape sees every counter at 0.
	var meter *meterFold
	if o.Meter != nil {
		meter = newMeterFold(o.Meter, o.StartAt, pacer, tgt, eps, visitNames(o.Scenario, eps))
		meter.waiting()
	}

	// Wait for the common start instant.
	start := o.StartAt
	if start.IsZero() {
		start = time.Now()
	} else if wait := time.Until(start); wait > 0 {
		fmt.Fprintf(progress, "waiting %s for the start at %s\n", scenarios.FormatDuration(wait.Round(time.Second)), start.Format(time.RFC3339))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			info.Start, info.End, info.Stopped = start, time.Now(), "interrupted before the start"
			if o.Out != "" {
				if err := writeEnd(o.Out, bw, file, &info); err != nil {
					return nil, err
				}
			}
			return &Summary{Info: &info, Planned: planned, Errors: map[string]uint64{}, Stopped: info.Stopped}, nil
		case <-t.C:
		}
	}
	info.Start = start
	if !o.StartAt.IsZero() {
		// How late sending began, by the reference clock when there is one.
		info.StartSkew = time.Since(start) - info.ClockOffset
	}
	if o.Started != nil {
		o.Started(&info)
	}
	if o.Out != "" {
		if err := scenarios.WriteRunInfo(o.Out, &info); err != nil {
			return nil, fmt.Errorf("writing run.json: %w", err)
		}
	}

	stop := make(chan struct{})
	now := time.Now()
	pacer.Offset = now.Sub(start)
	if fast != nil {
		fast.began = now
	}
	var visitCh <-chan *scenarios.Visit
	vsum := &VisitCounts{Broken: map[string]uint64{}}
	psum := &VisitCounts{Broken: map[string]uint64{}} // page views within journeys
	if visits != nil {
		visits.began, visits.start = now, start
		visitCh = visits.visits
	}
	results := eng.Attack(tgt.Next, stoppablePacer{Pacer: pacer, stop: stop}, 0, "")

	if meter != nil {
		meter.start = start
		meter.tick(0, false, false)
	}
	st := newStats(start, o.Abort)
	if o.NoAbort {
		st.rules = nil
	}
	sum := &Summary{Info: &info, Planned: planned}
	var (
		stopping                bool
		writeErr                error
		grace                   <-chan time.Time
		done                    = ctx.Done()
		hardDone                = hard.Done()
		abandoned               bool
		lastPrint               time.Time
		capSeconds              int
		connCapSecs             int
		behindSecs, behindRun   int
		warnedBehind, warnedCap bool
		lastSecond              int64 = -1
		sentHist                []sentSample
		handled                 int
	)
	stopOnce := func(why string) {
		if stopping {
			return
		}
		stopping = true
		if sum.Stopped == "" {
			sum.Stopped = why
			info.StoppedAt = time.Now() // sending stops here; End is after the replies in flight
		}
		close(stop)
		eng.Stop()
		grace = time.After(o.Timeout + 2*time.Second)
	}
	ticker := time.NewTicker(250 * time.Millisecond)
	defer ticker.Stop()
	// The send rate of the first progress line counts from the start.
	sentHist = append(sentHist, sentSample{start, 0})

	var pvRecent recentShare // page views ended lately, for the progress line
	addVisit := func(pv *scenarios.Visit) {
		if meter != nil {
			meter.visit(pv)
		}
		if pv.Kind == scenarios.PageView && pv.Why != scenarios.Interrupted {
			pvRecent.add(int64(time.Since(start)/time.Second), !pv.OK)
		}
		if pv.Kind == scenarios.PageView && o.Scenario.HasJourneys() {
			psum.add(pv)
		} else {
			vsum.add(pv)
		}
		if vw != nil && writeErr == nil {
			if err := vw.Write(pv); err != nil {
				writeErr = err
			}
		}
	}
	handle := func(r *vegeta.Result) {
		if tr != nil {
			// vegeta's engine: the transport metered and scanned the body;
			// the fast engine judged its results itself.
			m, ok := tr.takeBytes(r.Seq)
			if ok {
				r.BytesIn = m.n
			}
			chks.of(r).judge(r, &bodyScan{found: m.found})
			if tgt.redact != nil {
				tgt.redactResult(r)
			}
		}
		if !o.KeepHeaders {
			r.Headers = nil
		}
		if enc != nil && writeErr == nil && keep.keep(r.Seq, bw, &info) {
			if err := enc.Encode(r); err != nil {
				writeErr = err
				stopOnce("results file: " + err.Error())
			}
		}
		var lag time.Duration
		due, hasLag := pacer.Due(r.Seq)
		if hasLag {
			lag = r.Timestamp.Sub(start) - due
		}
		kind := st.add(r, lag, hasLag)
		if meter != nil {
			meter.add(r, kind, lag, hasLag)
		}
		if sink != nil {
			sink(r)
		}
		if fast != nil {
			fast.release(r)
		}
	}

loop:
	for {
		select {
		case r, ok := <-results:
			if !ok {
				break loop
			}
			handle(r)
			// With one core, a backlog of results must not hold off the
			// sender until the scheduler preempts this loop (10 ms).
			if handled++; handled%16 == 0 {
				runtime.Gosched()
			}
		case pv, ok := <-visitCh:
			if !ok {
				visitCh = nil
				continue
			}
			addVisit(pv)
		case <-done:
			done = nil
			stopOnce("interrupted")
		case <-hardDone:
			abandoned = true
			if sum.Stopped == "" {
				sum.Stopped = "interrupted"
				info.StoppedAt = time.Now()
			}
			break loop
		case <-grace:
			abandoned = true
			break loop
		case now := <-ticker.C:
			el := now.Sub(start)
			sent := tgt.Calls()
			inflight := sent - st.n
			sum.PeakInFlight = max(sum.PeakInFlight, inflight)
			sentHist = appendSample(sentHist, sentSample{now, sent})
			cur := int64(el / time.Second)
			// Every second: generator health and abort rules.
			if cur > lastSecond {
				lastSecond = cur
				if inflight >= o.MaxWorkers {
					capSeconds++
					if !warnedCap {
						warnedCap = true
						warn("requests in flight reached the worker cap (%s) at %s: sends wait for a free worker and fall behind schedule (raise --max-workers)",
							fmtCount(o.MaxWorkers), scenarios.FormatDuration(el.Round(time.Second)))
					}
				}
				if eng.openConns() >= int64(o.MaxConnections) && inflight > uint64(o.MaxConnections) {
					connCapSecs++
				}
				if _, _, _, lag := st.window(cur-1, cur); lag.n > 0 && lag.quantile(0.99) > behindLag {
					behindSecs++
					behindRun++
					// A blip of one second is not yet a trend.
					if !warnedBehind && (behindRun >= 2 || lag.quantile(0.99) > 4*behindLag) {
						warnedBehind = true
						warn("generator is falling behind schedule at %s: p99 send lag %s (CPU, worker or connection limits)",
							scenarios.FormatDuration(el.Round(time.Second)), fmtLatency(lag.quantile(0.99)))
					}
				} else {
					behindRun = 0
				}
				if !stopping {
					// A second is complete once its last results can have arrived.
					if rule := st.evaluate(int64((el - 250*time.Millisecond) / time.Second)); rule != nil {
						sum.Aborted = rule
						stopOnce("aborted: " + rule.String())
						if o.Live {
							fmt.Fprint(progress, "\r\x1b[K")
						}
						fmt.Fprintf(progress, "abort rule %q fired at %s: stopping\n", rule.String(), scenarios.FormatDuration(el.Round(time.Second)))
					}
				}
				if bw != nil && writeErr == nil {
					if err := bw.Flush(); err != nil {
						writeErr = err
						stopOnce("results file: " + err.Error())
					}
				}
				if vw != nil && writeErr == nil {
					if err := vw.Flush(); err != nil {
						writeErr = err
						stopOnce("visits file: " + err.Error())
					}
				}
			}
			if meter != nil {
				meter.tick(el, stopping, false)
			}
			if o.Live || now.Sub(lastPrint) >= 10*time.Second {
				lastPrint = now
				line := progressLine(el, curve, pacer, st, sentHist, inflight, behindSecs > 0 && warnedBehind, inflight >= o.MaxWorkers, stopping)
				if n, broken := pvRecent.last(int64(el/time.Second), 5); n > 0 {
					line += fmt.Sprintf("  pages broken %.0f%%", 100*float64(broken)/float64(n))
				}
				if o.Live {
					fmt.Fprint(progress, "\r\x1b[K"+line)
				} else {
					fmt.Fprintln(progress, line)
				}
			}
		}
	}
	if abandoned {
		killed := time.Now()
		eng.kill()
		go func() {
			for range results {
			}
		}()
		// The visitors in flight end now (their requests fail, their
		// think times end): keep their visits, up to visitsDrain, as cut
		// short by the stop, so that the report has them.
		if visitCh != nil {
			t := time.NewTimer(visitsDrain)
		collect:
			for {
				select {
				case pv, ok := <-visitCh:
					if !ok {
						visitCh = nil
						break collect
					}
					if !pv.OK && pv.Why != scenarios.Interrupted && !visits.visitEnd(pv).Before(killed) {
						// Broken by the kill, not by the site.
						pv.Why = scenarios.Interrupted
					}
					addVisit(pv)
				case <-t.C:
					break collect
				}
			}
			t.Stop()
		}
		if visitCh != nil {
			go func() {
				for range visitCh {
				}
			}()
		}
	} else {
		// Results are all in: the last visits may still be buffered.
		for visitCh != nil {
			pv, ok := <-visitCh
			if !ok {
				break
			}
			addVisit(pv)
		}
	}
	end := time.Now()
	if o.Live {
		fmt.Fprintln(progress)
	}

	if meter != nil {
		meter.tick(end.Sub(start), stopping, true)
	}
	sum.Sent = tgt.Calls()
	if visits != nil {
		sum.Visits = vsum
		if psum.Started > 0 {
			sum.PageViews = psum
		}
	}
	sum.Results = st.n
	sum.OK = st.ok
	sum.Errors = st.errors
	sum.Latency = quantiles(&st.lat)
	sum.Lag = quantiles(&st.lag)
	sum.BytesIn, sum.BytesOut = st.bytesIn, st.bytesOut
	sum.Elapsed = end.Sub(start)
	sum.PeakConns = eng.peakConns()
	if abandoned && sum.Sent > sum.Results {
		info.Abandoned = sum.Sent - sum.Results
		warn("stopped at once: %s requests in flight were abandoned and not recorded", fmtCount(sum.Sent-sum.Results))
	}
	if sum.Lag.P99 > behindLag {
		warn("generator fell behind schedule: p99 send lag %s, max %s, %d s behind (the target saw a lighter load than the curve)",
			fmtLatency(sum.Lag.P99), fmtLatency(sum.Lag.Max), behindSecs)
	}
	if capSeconds > 0 {
		warn("requests in flight were at the worker cap (%s) for %d s", fmtCount(o.MaxWorkers), capSeconds)
	}
	if connCapSecs > 0 {
		warn("connections were at --max-connections (%s) for %d s: requests queued in the generator for a connection, so their latency includes that wait",
			fmtCount(o.MaxConnections), connCapSecs)
	}
	if n := st.errors[scenarios.ErrFDLimit] + st.errors[scenarios.ErrNoPorts]; n > 0 {
		warn("%s requests failed inside the generator (out of file descriptors or local ports): raise ulimit -n, keep keep-alive on, or lower --max-connections", fmtCount(n))
	}
	if keep.sampling {
		warn("results.gob reached its budget of %s bytes at seq %s: from there it keeps 1 in %d raw results (windows and the summary still count every one; --results all keeps all, --results-budget raises the budget)",
			fmtCount(keep.budget), fmtCount(keep.since), keep.sampleAfter)
	}
	sum.Warnings = info.Warnings
	info.Stopped = sum.Stopped
	info.End = end
	if vw != nil {
		err := vw.Flush()
		if err == nil {
			err = vfile.Sync()
		}
		if err != nil && writeErr == nil {
			writeErr = err
		}
	}
	if o.Out != "" {
		if err := writeEnd(o.Out, bw, file, &info); err != nil {
			return sum, err
		}
	}
	if writeErr != nil {
		return sum, fmt.Errorf("writing results to %s: %w", filepath.Join(o.Out, ResultsFile), writeErr)
	}
	return sum, nil
}

// visitsDrain bounds the wait, after a hard stop, for the visits still
// in flight to end (the engine has failed their requests).
const visitsDrain = 2 * time.Second

// writeEnd flushes and syncs the results file and rewrites run.json with
// the process's CPU time so far (the sending phase's; a report made after
// Run is not in it).
func writeEnd(dir string, bw *bufio.Writer, f *os.File, info *scenarios.RunInfo) error {
	var errs []error
	if bw != nil {
		if err := bw.Flush(); err != nil {
			errs = append(errs, fmt.Errorf("flushing results: %w", err))
		}
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("syncing results: %w", err))
		}
	}
	info.SendCPU = processCPU()
	if err := scenarios.WriteRunInfo(dir, info); err != nil {
		errs = append(errs, fmt.Errorf("writing run.json: %w", err))
	}
	return errors.Join(errs...)
}

type sentSample struct {
	at   time.Time
	sent uint64
}

// appendSample keeps about the last 2 s of samples.
func appendSample(s []sentSample, x sentSample) []sentSample {
	s = append(s, x)
	i := 0
	for i < len(s)-1 && x.at.Sub(s[i].at) > 2*time.Second {
		i++
	}
	return append(s[:0], s[i:]...)
}

// recentShare counts events, and how many of them were bad, per second
// over the last few seconds (page views ended, and broken).
type recentShare struct {
	ring [8]struct {
		sec    int64
		n, bad uint64
	}
}

func (r *recentShare) add(sec int64, bad bool) {
	c := &r.ring[sec%int64(len(r.ring))]
	if c.sec != sec {
		c.sec, c.n, c.bad = sec, 0, 0
	}
	c.n++
	if bad {
		c.bad++
	}
}

// last sums the k seconds before second now (k < 8).
func (r *recentShare) last(now int64, k int64) (n, bad uint64) {
	for s := max(now-k, 0); s < now; s++ {
		if c := &r.ring[s%int64(len(r.ring))]; c.sec == s {
			n += c.n
			bad += c.bad
		}
	}
	return n, bad
}

// progressLine is one line of live progress.
func progressLine(el time.Duration, c *scenarios.Curve, p *CurvePacer, st *stats, sent []sentSample, inflight uint64, behind, atCap, stopping bool) string {
	cur := int64(el / time.Second)
	n, ok, lat, lag := st.window(cur-5, cur)
	secs := float64(min(cur, 5))
	if cur == 0 {
		n, ok, lat, lag = st.window(0, 1)
		secs = max(el.Seconds(), 0.001)
	}
	var sentRate float64
	if len(sent) > 1 {
		a, b := sent[0], sent[len(sent)-1]
		if dt := b.at.Sub(a.at).Seconds(); dt > 0 {
			sentRate = float64(b.sent-a.sent) / dt
		}
	}
	errRatio := 0.0
	if n > 0 {
		errRatio = float64(n-ok) / float64(n)
	}
	phase := c.PhaseAt(el.Seconds())
	shown := el.Round(time.Second)
	if phase == "" || el > c.Duration() {
		// Past the curve's end, waiting for the answers in flight.
		phase = "draining +" + scenarios.FormatDuration(max(el-c.Duration(), 0).Round(time.Second))
		shown = c.Duration().Round(time.Second)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%s/%s] %-14s offered %s  sent %s  ok %s  in flight %s  p99 %s  errors %.1f%%",
		scenarios.FormatDuration(shown), scenarios.FormatDuration(c.Duration().Round(time.Second)), phase,
		fmtRate(p.Rate(el)*p.perArrival()), fmtRate(sentRate), fmtRate(float64(ok)/secs), fmtCount(inflight), fmtLatency(lat.quantile(0.99)), 100*errRatio)
	if q := lag.quantile(0.99); q > behindLag || behind {
		fmt.Fprintf(&b, "  lag %s", fmtLatency(q))
	}
	if atCap {
		b.WriteString("  WORKER CAP")
	}
	if stopping {
		b.WriteString("  stopping…")
	}
	return b.String()
}

// WriteText prints the summary as a small table: what was sent, what came
// back by kind, latency and send lag, and any warnings.
func (s *Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, v) }
	if s.Info != nil && s.Info.Scenario != nil && s.Info.Scenario.Arrivals() != "requests" {
		// Visitors are planned; their requests follow from what each
		// visitor got.
		row("planned", fmtCount(s.Planned)+" "+s.Info.Scenario.Arrivals())
		row("sent", fmtCount(s.Sent)+" requests")
	} else {
		row("planned", fmtCount(s.Planned))
		row("sent", fmtCount(s.Sent))
	}
	row("results", fmtCount(s.Results))
	if s.Results > 0 {
		row("ok", fmt.Sprintf("%s (%.2f%%)", fmtCount(s.OK), 100*float64(s.OK)/float64(s.Results)))
	}
	kinds := make([]string, 0, len(s.Errors))
	for k := range s.Errors {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if s.Errors[kinds[i]] != s.Errors[kinds[j]] {
			return s.Errors[kinds[i]] > s.Errors[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	for _, k := range kinds {
		row("  "+k, fmt.Sprintf("%s (%.2f%%)", fmtCount(s.Errors[k]), 100*float64(s.Errors[k])/float64(max(s.Results, 1))))
	}
	q := func(x Quantiles) string {
		return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s", fmtLatency(x.P50), fmtLatency(x.P90), fmtLatency(x.P99), fmtLatency(x.Max))
	}
	row("latency (ok)", q(s.Latency))
	row("send lag", q(s.Lag))
	row("bytes in/out", fmt.Sprintf("%s / %s", fmtCount(s.BytesIn), fmtCount(s.BytesOut)))
	row("peak in flight", fmtCount(s.PeakInFlight))
	row("peak connections", fmtCount(s.PeakConns))
	for _, v := range []*VisitCounts{s.PageViews, s.Visits} {
		if v == nil || v.Started == 0 {
			continue
		}
		what, by := "page views", "  broken by "
		if v.Kind == scenarios.JourneyVisit {
			what, by = "journeys", "  failed at "
		}
		judged := max(v.Started-v.Interrupted, 1) // the shares leave out the visits the stop cut short
		share := fmt.Sprintf(" (%.2f%%)", 100*float64(v.OK)/float64(judged))
		if v.Started == v.Interrupted {
			share = "" // none judged
		}
		row(what, fmt.Sprintf("%s, complete %s%s", fmtCount(v.Started), fmtCount(v.OK), share))
		for _, k := range v.brokenOrder() {
			row(by+k, fmt.Sprintf("%s (%.2f%%)", fmtCount(v.Broken[k]), 100*float64(v.Broken[k])/float64(judged)))
		}
		if v.Interrupted > 0 {
			row("  cut short by the stop", fmt.Sprintf("%s (not in the shares above)", fmtCount(v.Interrupted)))
		}
	}
	row("elapsed", s.Elapsed.Round(time.Millisecond).String())
	if s.Stopped != "" {
		row("stopped", s.Stopped)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, wn := range s.Warnings {
		if _, err := fmt.Fprintln(w, "  warning:", wn); err != nil {
			return err
		}
	}
	return nil
}

// resultsPolicy decides which raw results go to the results file.
type resultsPolicy struct {
	every       uint64 // keep seq % every == 0; 0 keeps none
	budget      int64  // bytes, when sampleAfter > 0
	sampleAfter uint64 // past the budget keep 1 in this many
	file        *countingWriter
	sampling    bool   // past the budget
	since       uint64 // seq at which sampling began
}

func (p *resultsPolicy) keep(seq uint64, bw *bufio.Writer, info *scenarios.RunInfo) bool {
	if p.every == 0 {
		return false
	}
	if p.sampleAfter > 0 && !p.sampling && p.file != nil && p.file.n+int64(bw.Buffered()) >= p.budget {
		p.sampling, p.since = true, seq
		info.ResultsKept = fmt.Sprintf("all up to the budget of %d bytes, then 1 in %d (seq a multiple of %d) from seq %d",
			p.budget, p.sampleAfter, p.sampleAfter, seq)
	}
	if p.sampling {
		return seq%p.sampleAfter == 0
	}
	return seq%p.every == 0
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// orDiscard is w, or io.Discard when w is nil.
func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// VisitCounts sums a run's page views.
type VisitCounts struct {
	Kind    string            // scenarios.PageView or scenarios.JourneyVisit
	Started uint64            // visits that ended (complete, broken or interrupted)
	OK      uint64            // complete: every part succeeded within the SLO's p99
	Broken  map[string]uint64 // by the endpoint that broke them first
	// Interrupted counts the visits the run's stop cut short; the shares
	// of complete and broken leave them out, as the report does.
	Interrupted uint64
}

func (c *VisitCounts) add(pv *scenarios.Visit) {
	c.Kind = pv.Kind
	c.Started++
	switch {
	case pv.OK:
		c.OK++
	case pv.Why == scenarios.Interrupted:
		c.Interrupted++
	default:
		c.Broken[pv.Broke]++
	}
}

// brokenOrder is Broken's keys, most first.
func (c *VisitCounts) brokenOrder() []string {
	ks := make([]string, 0, len(c.Broken))
	for k := range c.Broken {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if c.Broken[ks[i]] != c.Broken[ks[j]] {
			return c.Broken[ks[i]] > c.Broken[ks[j]]
		}
		return ks[i] < ks[j]
	})
	return ks
}
