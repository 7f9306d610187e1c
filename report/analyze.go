package report

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// Window states, from the SLO's point of view.
const (
	Idle     = "idle"      // no traffic offered or sent
	Held     = "held"      // within the SLO
	Violated = "violated"  // outside the SLO
	Behind   = "generator" // short of the offered rate only because the generator did not send it
)

// Verdict kinds (Analysis.Kind).
const (
	KindHeld        = "held"        // the SLO held over the whole curve
	KindBroke       = "broke"       // the host broke the SLO
	KindIncomplete  = "incomplete"  // the run did not cover its curve (stopped, cut, generator behind): it cannot hold
	KindUnreachable = "unreachable" // nothing answered at the target
)

// Gates that decide a break (Analysis.Gate).
const (
	GateStretch = "stretch" // a failing stretch outlasted the grace
	GateShare   = "share"   // more of all requests failed than the SLO allows
)

// Judged is one window's verdict and the figures behind it.
type Judged struct {
	Start      float64       `json:"t_s"` // seconds from t = 0
	Offered    float64       `json:"offered_rps"`
	Sent       float64       `json:"sent_rps"`
	Achieved   float64       `json:"achieved_rps"` // successful responses completed, per second
	Requests   uint64        `json:"requests"`
	Failed     uint64        `json:"failed"`
	ErrorRatio float64       `json:"error_ratio"`
	P50        time.Duration `json:"p50_ns"`
	P90        time.Duration `json:"p90_ns"`
	P99        time.Duration `json:"p99_ns"`
	Max        time.Duration `json:"max_ns"`
	LagP90     time.Duration `json:"lag_p90_ns"`
	LagMax     time.Duration `json:"lag_max_ns"`
	State      string        `json:"state"`
	Why        []string      `json:"why,omitempty"` // what broke the SLO: the whole's reasons, then each endpoint's
	GenBehind  bool          `json:"generator_behind,omitempty"`
	GenErrors  uint64        `json:"generator_errors,omitempty"`
	Covered    float64       `json:"covered_s"`         // seconds of the window requests were sent in: the rates are over this
	Partial    bool          `json:"partial,omitempty"` // sent in under half the window (the edge of a plain file's traffic)
	// Down: nearly every request in the window found nothing answering
	// (connection refused, or a name that did not resolve).
	Down        bool `json:"down,omitempty"`
	hostFailed  uint64
	expected    float64 // successful completions the throughput limit is held to
	cut         bool    // the run stopped or the results end in or before this window
	hostDivisor uint64
	own         int // how many of Why are the whole's; the rest name an endpoint
}

// Span is a stretch of broken windows: it starts with a run of violating
// windows longer than the grace period and ends when the SLO has held again
// for longer than the grace period (or at the end of the run).
type Span struct {
	Start      float64 `json:"start_s"`
	End        float64 `json:"end_s"` // start of the holding stretch that ended it; -1 if it never ended
	StartIndex int     `json:"-"`
	EndIndex   int     `json:"-"` // index of the first window of the recovery, or len(windows)
}

// Series is one endpoint's or class's view of the run.
type Series struct {
	Endpoint
	Total      Stats   `json:"-"`
	Requests   uint64  `json:"requests"`
	Failed     uint64  `json:"failed"`
	ErrorRatio float64 `json:"error_ratio"`
	P50        time.Duration
	P99        time.Duration
	Max        time.Duration
	// BrokeAt is when this series first broke the SLO on its own (errors
	// or p99), -1 if it never did; BrokeOffered is the overall offered
	// rate then.
	BrokeAt      float64 `json:"broke_at_s"`
	BrokeOffered float64 `json:"broke_offered_rps"`
	Why          []string
	index        int // series index in Windows.Endpoints, -1 for classes
	states       []string
	why          [][]string
	severity     float64 // how far past the SLO it was when it broke
}

// PhaseRow is the phase table's row.
type PhaseRow struct {
	Name       string
	Kind       string
	Start      float64
	Seconds    float64
	PeakRPS    float64 // offered
	Achieved   float64 // peak achieved
	Requests   uint64
	Failed     uint64
	ErrorRatio float64
	P50, P99   time.Duration
	Succeeded  uint64 // the successful requests P50 and P99 are of
	State      string // held, broke, generator, idle
	Began      bool   // the break began in this phase
}

// Analysis is a judged run.
type Analysis struct {
	W   *Windows
	SLO scenarios.SLO
	// Name is what broke or held: "The shared plan", "The target".
	Name string

	// Kind is the verdict's kind: Held, Broke, Incomplete or Unreachable.
	// Only Held passes the SLO.
	Kind string
	// Grace is the grace period the windows were judged with, in the
	// run's time: the SLO's grace is in the story's time, so a run
	// compressed K× judges with Grace/K, but never less than one window.
	Grace time.Duration
	// Gate says what decided a break: GateStretch (a failing stretch
	// outlasted the grace) or GateShare (the failing stretches were all
	// shorter than the grace, but more of all requests failed than the
	// SLO allows).
	Gate string
	// HostFailed is the share of all requests that failed at the host
	// (the generator's own failures left out), over the whole run.
	HostFailed float64
	// Incomplete says why the run does not cover its whole curve ("" when
	// it does): interrupted, aborted, results cut short, or a generator
	// that fell behind.
	Incomplete string
	// DownAt is when the target stopped answering (nearly every request
	// refused or unresolved from then on), -1 if it did not; DownWhat is
	// how ("connection refused").
	DownAt   float64
	DownWhat string
	// CutAt is where the results end early (a cut file, a killed run),
	// in seconds from t = 0; -1 if they do not.
	CutAt float64
	// stopAt is when sending stopped early (a stopped run, cut results),
	// in seconds from t = 0; +Inf if it did not. Nothing after it is known
	// of the curve: windows starting later are not judged, nor is their
	// offered load due.
	stopAt float64

	Windows []Judged
	Spans   []Span // broken stretches; the first is the break

	Broke        bool
	BreakAt      float64 // seconds from t = 0
	BreakOffered float64 // req/s offered in the first window of the break
	BreakPhase   string
	BreakInPhase float64 // seconds into BreakPhase
	BreakWhy     []string

	Capacity float64 // highest offered rate that held, in a whole window, before the break (or in the whole run)
	// Served is the mean rate of the mix the host served in the saturated
	// windows of the break, 0 when too few were saturated to say; when
	// known, the band is drawn around it.
	Served float64
	// AtHeldRate is set when the break came at a rate the host had held
	// in whole windows before and it then served far less: an outage or a
	// fault, not its capacity (the band is "at least" what it held).
	AtHeldRate bool
	// FellFrom is set when the break came at a rate the host had held
	// for HeldSecs, after which it served a steady lower rate: the band is
	// drawn around that (Served), and FellFrom is the rate it had held.
	// FellSteady says the latency was steady while it held (a capacity
	// that fell: a burst allowance running out, a throttle); otherwise it
	// grew (a queue had hidden the capacity while it filled).
	FellFrom   float64
	FellSteady bool
	// Throttled is set when the break's failures were mostly 429 Too Many
	// Requests and the host then served a steady rate below what it had
	// served before: a rate limiter whose burst allowance ran out. Its
	// sustained rate is the capacity (Served, the band around it).
	Throttled bool
	HeldLater bool // AtHeldRate from a break it held more than later (an outage mid-ramp)
	HeldSecs  float64

	// NotOfLoad is set when the break failed mostly by failures a host
	// gives at any rate (see notOfLoad): not its capacity (the band is
	// "at least" what held before).
	NotOfLoad bool
	// UnderLoad is set with NotOfLoad when the run, judged with those
	// failures left aside (taken as answers), broke under load: its break
	// is then the host's capacity, and the band is drawn from it.
	UnderLoad *LoadBreak
	loadOnly  bool // this Analysis judges with the failures not of load left aside
	// MixShifted is set when the visitors' requests in the saturated
	// windows were another mix than the scenario's (see mixShifted): the
	// band is of offered rates only.
	MixShifted bool
	mixShare   map[scenarios.Class]float64 // mixShares, once worked out
	saturated  bool                        // sharpen found the break's windows saturated, serving a real rate
	// SaturatedAt is the rate of the mix the host served while saturated
	// when that is above the band: the SLO broke before the host was
	// saturated. 0 otherwise.
	SaturatedAt float64
	CapacityLo  float64
	CapacityHi  float64 // +Inf when the SLO held

	// A host that scaled up during the break (autoscaling) served far more
	// later than at its start: ScaledTo is the rate it reached (served
	// while saturated, or held), ScaleSecs the time from the break to the
	// SLO holding again while the offered rate was still above the band (-1
	// if it never did), LostScaling the requests that failed or were never
	// answered in the break. Scaled is false (and the rest zero) otherwise.
	Scaled      bool
	ScaledTo    float64
	ScaleSecs   float64
	LostScaling uint64

	FellBelowAt float64 // when the offered rate first fell back under Capacity after the break, -1 if never
	RecoveredAt float64 // start of the first stretch that held again, -1 if never
	Recovery    float64 // RecoveredAt − FellBelowAt (≥ 0), -1 if unknown

	Endpoints []Series
	Classes   []Series
	First     *Series // the first endpoint to fail, nil if none did
	FirstCls  *Series

	PeakOffered    float64
	PeakAchieved   float64
	PeakP99        time.Duration
	PeakP99At      float64
	PeakErrorRatio float64 // pooled over the windows offered at least 90% of the peak rate
	MaxErrorRatio  float64 // the worst single window
	Total          Stats
	Unsent         float64 // requests due by the curve but never sent

	MaxLag         time.Duration
	GenBehindAt    float64 // first window where the generator fell behind, -1 if never
	GenBehindUntil float64
	GenBlamed      bool // the generator fell behind at or before the break: the verdict blames it

	// JudgedSecs is how long the windows judged (not idle, not only the
	// generator's fault) sent requests for.
	JudgedSecs float64

	// Unsuccessful requests' latency, apart from the successes' (which all
	// the other latency figures are).
	FailedP50, FailedP99 time.Duration

	Phases   []PhaseRow
	Warnings []string

	// Search is the capacity search that followed the run (run
	// --find-capacity), nil without one.
	Search *Search

	Verdict string
	// Visitors is what the page views added up to; nil when the
	// arrivals were single requests.
	Visitors *VisitorsSummary
}

// Tolerances of the window judgement.
const (
	// throughputSlack is how many requests a window may fall short of
	// MinThroughput·offered before it counts: requests crossing window
	// boundaries make the counts of small windows jitter by one or two.
	throughputSlack = 2
	// genShortfall is the fraction of a window's offered requests the
	// generator's backlog (due but not yet sent) may reach, at the
	// window's end, before it counts as behind; a backlog of less than
	// genLag's worth of requests never counts (a stall of a few tens of
	// milliseconds moves a 250 ms window's sends into the next one).
	genShortfall = 0.10
	// servedWindows is how many of the break's first windows measure the
	// rate the saturated host served.
	servedWindows = 3
	// genLag is the send lag (p90) beyond which the generator counts as
	// behind its schedule.
	genLag = 250 * time.Millisecond
)

// Analyze judges every window against slo and finds the break point,
// capacity, recovery, first failing endpoint and the rest of the verdict.
func Analyze(ws *Windows, slo scenarios.SLO) *Analysis { return analyze(ws, slo, false) }

// LoadBreak is where a run broke under load once the failures it had at
// any rate (not of load) are left aside.
type LoadBreak struct {
	At      float64 // seconds from t = 0
	Offered float64 // req/s offered in the breaking window
	When    string  // "12 s into the "article lands" phase"
}

func analyze(ws *Windows, slo scenarios.SLO, loadOnly bool) *Analysis {
	a := &Analysis{W: ws, SLO: slo, BreakAt: -1, FellBelowAt: -1, RecoveredAt: -1, Recovery: -1, GenBehindAt: -1, GenBehindUntil: -1,
		DownAt: -1, CutAt: -1, loadOnly: loadOnly}
	a.Name = subject(ws.Info)
	a.Grace = RunGrace(slo, ws.Info, ws.Width)
	if ws.CutAt > 0 {
		a.CutAt = ws.CutAt.Seconds()
	}
	a.judgeWindows()
	a.series()
	a.mergeEndpoints()
	a.Spans = spans(ws, a.Windows, a.Grace, func(i int) string { return a.Windows[i].State })
	if len(a.Spans) > 0 {
		a.Gate = GateStretch
	}
	a.totals()
	a.shareGate()
	a.findBreak()
	a.findRecovery()
	a.scaling()
	a.generator()
	a.down()
	a.phases()
	a.complete()
	if loadOnly {
		return a
	}
	a.warnings()
	a.visitors()
	a.Verdict = a.verdict()
	if s := a.visitorsSentence(); s != "" {
		a.Verdict += " " + s
	}
	if a.Kind != KindUnreachable && !a.GenBlamed {
		// Shards missing or killed lead the verdict.
		a.Verdict = a.incompleteVerdict(a.Verdict)
	}
	return a
}

// RunGrace is the grace period windows are judged with, in the run's
// time. An SLO's grace is the story's time (a scenario says "forgive a
// 10 s blip" of the day it describes): a run compressed K× plays that
// story K× faster, so its grace is Grace/K. It is never less than one
// second of the run or one window, whichever is longer: with 1 s windows
// a lone window past the SLO is forgiven, two in a row are a break (the
// share gate still catches a lone window that failed more requests than
// the SLO allows over the whole run). An SLO stated in run time (SLO.RunGrace) is used as given.
func RunGrace(slo scenarios.SLO, info *scenarios.RunInfo, width time.Duration) time.Duration {
	g := slo.Grace
	if slo.RunGrace || info == nil || info.Scenario == nil {
		return g
	}
	k := info.Scenario.Compress
	if k <= 0 || k == 1 {
		return g
	}
	g = time.Duration(float64(g) / k)
	if floor := max(width, minGrace); g < floor && slo.Grace >= floor {
		g = floor
	}
	return g
}

// minGrace is the shortest grace a compressed run is judged with: a
// failing stretch must outlast a second of the run (and a window), as
// counts over less than that stray too much by chance to call a break on.
const minGrace = time.Second

// shareGate is the second gate on a run whose failing stretches were all
// shorter than the grace: when more of all the requests failed at the host
// than the SLO's error limit, the SLO did not hold, however short the
// stretches. The break is then the first window past the SLO.
func (a *Analysis) shareGate() {
	var failed, n uint64
	for _, j := range a.Windows {
		if j.State == Idle {
			continue
		}
		failed += j.hostFailed
		n += j.hostDivisor
	}
	if n > 0 {
		a.HostFailed = float64(failed) / float64(n)
	}
	if len(a.Spans) > 0 || n == 0 || a.HostFailed <= a.SLO.MaxErrorRatio {
		return
	}
	a.Gate = GateShare
	a.Spans = spans(a.W, a.Windows, 0, func(i int) string { return a.Windows[i].State })
	if len(a.Spans) > 0 {
		return
	}
	// No window was past the SLO on its own (failures spread thin over
	// windows each just within it): the first with failures starts it.
	for i, j := range a.Windows {
		if j.hostFailed > 0 {
			a.Windows[i].State = Violated
			a.Windows[i].Why = append(a.Windows[i].Why, "errors "+pct(j.ErrorRatio))
			a.Windows[i].own = len(a.Windows[i].Why)
			a.Spans = []Span{{Start: j.Start, End: -1, StartIndex: i, EndIndex: len(a.Windows)}}
			return
		}
	}
}

// down finds where the target stopped answering: the first window from
// which nearly every request was refused or its name did not resolve,
// through the end of the results.
func (a *Analysis) down() {
	last := -1
	for i := len(a.Windows) - 1; i >= 0; i-- {
		j := a.Windows[i]
		if j.State == Idle || j.Requests == 0 {
			continue
		}
		if !j.Down {
			break
		}
		last = i
	}
	if last < 0 {
		return
	}
	a.DownAt = a.Windows[last].Start
	var refused, dns uint64
	for i := last; i < len(a.W.W); i++ {
		refused += a.W.W[i].Total.Errors[Refused]
		dns += a.W.W[i].Total.Errors[DNS]
	}
	a.DownWhat = "connection refused"
	if dns > refused {
		a.DownWhat = "the name did not resolve"
	}
}

// complete decides the verdict's kind. A run that did not cover its whole
// curve cannot hold; one whose target stopped answering did not break at
// a capacity.
func (a *Analysis) complete() {
	info := a.W.Info
	switch {
	case a.Total.Requests == 0:
		a.Incomplete = "there are no results"
	case info != nil && info.Stopped != "":
		a.Incomplete = "the run stopped early (" + info.Stopped + ")"
		if at := a.stoppedAt(); !math.IsInf(at, 1) && info.Scenario != nil {
			a.Incomplete = fmt.Sprintf("the run stopped early (%s) %s into the %s curve",
				info.Stopped, fmtSec(at), fmtSec(info.Scenario.Curve.Seconds()))
		}
	case a.CutAt >= 0:
		a.Incomplete = fmt.Sprintf("the results end at %s", fmtSec(a.CutAt))
		if info != nil && info.Scenario != nil {
			a.Incomplete += fmt.Sprintf(" of the %s curve (cut short)", fmtSec(info.Scenario.Curve.Seconds()))
		}
	case a.GenBlamed:
		a.Incomplete = "the generator fell behind its schedule"
	}
	if inc := a.incomplete(); inc != "" && (a.Incomplete == "" || a.Incomplete == "there are no results") {
		a.Incomplete = inc // shards missing or killed
	}
	switch {
	case a.DownAt >= 0 && (!a.Broke || a.DownAt <= a.BreakAt || a.diedAtBreak()):
		a.Kind = KindUnreachable
	case a.Total.Requests == 0 || a.GenBlamed:
		a.Kind = KindIncomplete
	case a.Broke:
		a.Kind = KindBroke
	case a.Incomplete != "":
		a.Kind = KindIncomplete
	default:
		a.Kind = KindHeld
	}
}

// diedAtBreak reports whether the break is the target going down: every
// window from the break to where nothing answered failed (nearly) only by
// refused connections or names that did not resolve. A server that dies
// mid-window fails half that window's requests so, and then all: that is
// not a capacity.
func (a *Analysis) diedAtBreak() bool {
	if !a.Broke || a.DownAt < 0 {
		return false
	}
	for i := a.Spans[0].StartIndex; i < len(a.Windows) && a.Windows[i].Start < a.DownAt; i++ {
		j := a.Windows[i]
		if j.State == Idle {
			continue
		}
		e := a.W.W[i].Total.Errors
		if j.hostFailed == 0 || float64(e[Refused]+e[DNS]) < 0.9*float64(j.hostFailed) {
			return false
		}
	}
	return true
}

func subject(info *scenarios.RunInfo) string {
	switch {
	case info == nil:
		return "The target"
	case info.Simulated:
		return "The simulated " + info.Plan + " plan"
	case info.Plan != "":
		return "The " + info.Plan + " plan"
	}
	return "The host"
}

func (a *Analysis) judgeWindows() {
	ws, slo := a.W, a.SLO
	width := ws.Width.Seconds()
	stoppedAt := a.stoppedAt()
	a.stopAt = stoppedAt
	a.Windows = make([]Judged, len(ws.W))
	var dueSoFar, sentSoFar float64 // through the window being judged
	for i := range ws.W {
		w := &ws.W[i]
		s := &w.Total
		j := &a.Windows[i]
		j.Start = ws.StartSec(i)
		// Rates are over the part of the window requests were sent in.
		j.Covered, j.Partial = ws.Covered(i), ws.Partial(i)
		j.Offered = ws.rateOf(i, offeredOf)
		j.Sent = ws.rateOf(i, sentOf)
		j.Achieved = ws.rateOf(i, achievedOf)
		j.Requests, j.Failed, j.ErrorRatio = s.Requests, s.Failed(), s.ErrorRatio()
		j.P50, j.P90, j.P99, j.Max = s.Latency.Quantile(.5), s.Latency.Quantile(.9), s.Latency.Quantile(.99), s.Latency.Quantile(1)
		j.LagP90, j.LagMax = w.Lag.Quantile(.9), w.Lag.Quantile(1)
		j.GenErrors = s.Errors[Generator]
		// Failures of the generator (out of ports or files) are not the
		// host's: leave them out of its error ratio.
		j.hostFailed, j.hostDivisor = j.Failed-j.GenErrors, j.Requests-j.GenErrors
		j.Down = j.hostDivisor > 0 && float64(s.Errors[Refused]+s.Errors[DNS]) >= 0.9*float64(j.hostDivisor)
		cut := j.Start+width > stoppedAt // the run was stopped in or before this window
		j.cut = cut
		if j.Start >= stoppedAt {
			// Sent after the stop: a journey's step or a page's assets in
			// flight, not the curve's load. Not judged (it would "hold").
			j.State = Idle
			continue
		}
		// A simulation has no generator to fall behind: a window short of
		// its offered count there is Poisson arrivals' chance.
		dueSoFar += w.Offered
		sentSoFar += float64(s.Requests)
		backlog := dueSoFar - sentSoFar
		// Page views: a failed page sends no assets, so requests short
		// of the mix's mean are not the generator's; its page requests'
		// send lag still tells.
		short := ws.Info != nil && !ws.Info.Simulated && !ws.pageViews() && !cut && w.Offered >= 1 &&
			backlog > max(genShortfall*w.Offered, w.Offered/width*genLag.Seconds())+throughputSlack
		j.GenBehind = short || j.LagP90 > genLag || j.GenErrors > 0 && j.GenErrors*20 >= s.Requests
		if s.Requests == 0 && w.Offered < 1 {
			j.State = Idle
			continue
		}
		if cut && s.Requests == 0 {
			j.State = Idle
			continue
		}
		if j.hostDivisor > 0 {
			if er := float64(j.hostFailed) / float64(j.hostDivisor); er > slo.MaxErrorRatio {
				v, lim := cmpPct(er, slo.MaxErrorRatio)
				j.Why = append(j.Why, fmt.Sprintf("errors %s > %s", v, lim))
			}
		}
		if p := judgedP99(s); slo.P99 > 0 && p > slo.P99 && s.Requests > 0 {
			v, lim := cmpLatency(p, slo.P99)
			j.Why = append(j.Why, fmt.Sprintf("p99 %s > %s", v, lim))
		}
		throughputShort := false
		offered := w.Offered
		if ws.Info != nil && (ws.Info.Simulated || ws.pageViews()) {
			// A simulation's arrivals are what was offered (Poisson
			// arrivals stray from the curve's expectation by chance);
			// so are a page-view run's requests (its visitors are on
			// schedule, but how many requests each sends, and when, is
			// theirs: a failed page sends no assets).
			offered = float64(s.Requests)
		}
		j.expected = offered
		if ws.Info != nil && !ws.Info.Simulated {
			j.expected = offered * a.lagged(i, a.healthyLatency(i))
		}
		if slo.MinThroughput > 0 && offered >= 1 && !cut {
			if float64(s.DoneOK) < slo.MinThroughput*j.expected-a.slack() {
				throughputShort = true
			}
		}
		switch {
		case len(j.Why) == 0 && throughputShort && j.GenBehind:
			j.State = Behind
			j.Why = append(j.Why, fmt.Sprintf("sent %s of the offered rate", pct(float64(s.Requests)/w.Offered)))
		case throughputShort:
			v, lim := cmpPct(float64(s.DoneOK)/j.expected, slo.MinThroughput)
			j.Why = append(j.Why, fmt.Sprintf("achieved %s < %s of offered", v, lim))
			j.State = Violated
		case len(j.Why) > 0:
			j.State = Violated
		default:
			j.State = Held
		}
		j.own = len(j.Why)
	}
}

// lagged is the share of window i's offered requests that a host
// answering each in d would complete within the window: the curve's count
// over the window moved back by d, over its count. Responses complete d
// after their send, so in the first window of a run, or while the rate
// climbs, a host that keeps up completes fewer than were offered in the
// same window; at a steady rate the two are equal. It is 1 without a curve.
func (a *Analysis) lagged(i int, d time.Duration) float64 {
	info := a.W.Info
	if info == nil || info.Scenario == nil || d <= 0 {
		return 1
	}
	c := info.Scenario.Curve
	t0 := a.W.StartSec(i)
	t1 := t0 + a.W.Width.Seconds()
	n := c.N(t1) - c.N(t0)
	if n <= 0 {
		return 1
	}
	l := d.Seconds()
	return min(1, (c.N(max(t1-l, 0))-c.N(max(t0-l, 0)))/n)
}

// healthyLatency is the latency window i's completions are expected to
// lag its sends by: the mean latency of the successes of the window before
// it (before a host saturates, its latency is low; once it saturates, its
// queueing latency is the symptom, not an excuse), or of window i itself
// when it is the first with successes. It is capped at the SLO's p99.
func (a *Analysis) healthyLatency(i int) time.Duration {
	d := time.Duration(0)
	switch {
	case i > 0 && a.W.W[i-1].Total.Latency.N > 0:
		d = a.W.W[i-1].Total.Latency.Mean()
	case a.W.W[i].Total.Latency.N > 0:
		d = a.W.W[i].Total.Latency.Mean()
	}
	if a.SLO.P99 > 0 {
		d = min(d, a.SLO.P99)
	}
	return d
}

// spans finds the broken stretches: a run of violated windows longer than
// grace starts one; holding for longer than grace ends it. Idle and
// generator-only windows neither start nor end a stretch, nor do the
// windows after the curve's end, nor does a
// window that held in only a sliver of its width (Windows.Partial); a
// violated sliver counts for the part it covers. A run of violated windows
// that reaches the end of the data is a stretch however short when the SLO
// never held in a whole window before it, or when it lasted half of the
// judged time or more (a 5 s run failing from its second second).
func spans(ws *Windows, js []Judged, grace time.Duration, state func(i int) string) []Span {
	g := grace.Seconds()
	var out []Span
	broken := false
	held := false               // the SLO held in a whole window before the current violated run
	runStart, runLen := -1, 0.0 // current run of violated (or, when broken, held) windows
	judged := 0.0
	end := math.Inf(1)
	if ws.Info != nil && ws.Info.Scenario != nil {
		end = ws.Info.Scenario.Curve.Seconds()
	}
	for i := range js {
		st := state(i)
		if st == Idle || st == Behind {
			continue
		}
		if js[i].Offered == 0 && js[i].Start >= end-1e-9 {
			// After the curve's end: stragglers (journeys' later steps
			// after a think time, the last replies), no traffic the curve
			// offered. A few late successes are no recovery.
			continue
		}
		judged += ws.Covered(i)
		partial := ws.Partial(i)
		if !broken {
			switch {
			case st == Violated:
				if runStart < 0 {
					runStart, runLen = i, 0
				}
				runLen += ws.Covered(i)
				if runLen > g+1e-9 {
					broken = true
					out = append(out, Span{Start: js[runStart].Start, End: -1, StartIndex: runStart, EndIndex: len(js)})
					runStart = -1
				}
			case !partial:
				runStart, held = -1, true
			}
			continue
		}
		switch {
		case st == Held && !partial:
			if runStart < 0 {
				runStart, runLen = i, 0
			}
			runLen += ws.Covered(i)
			if runLen > g+1e-9 || i == len(js)-1 {
				broken = false
				out[len(out)-1].End, out[len(out)-1].EndIndex = js[runStart].Start, runStart
				runStart = -1
			}
		case st == Violated:
			runStart = -1
		}
	}
	switch {
	case !broken && runStart >= 0 && (!held || runLen >= judged/2-1e-9):
		// Cut short by the end of the data, but the SLO never held, or
		// failed for the last half of the run or more: it did not recover.
		out = append(out, Span{Start: js[runStart].Start, End: -1, StartIndex: runStart, EndIndex: len(js)})
	case broken && runStart >= 0:
		// A stretch that was holding at the very end of the run has recovered.
		out[len(out)-1].End, out[len(out)-1].EndIndex = js[runStart].Start, runStart
	}
	return out
}

func (a *Analysis) totals() {
	ws := a.W
	a.Total = ws.Sum(-1)
	// Peak rates come from whole windows: a sliver's rate is an estimate
	// from a few requests.
	whole := false
	for _, j := range a.Windows {
		whole = whole || !j.Partial && j.State != Idle
	}
	counts := func(j Judged) bool { return !j.Partial || !whole }
	// The peak p99 is a window's while the curve offered load: after its
	// end the windows hold stragglers (journeys' last steps, replies to
	// the last sends), a handful of requests whose "p99" is their maximum.
	offering := false
	for _, j := range a.Windows {
		offering = offering || j.State != Idle && j.Offered > 0
	}
	var offered float64
	cutOrStop := -1.0
	if !math.IsInf(a.stopAt, 1) {
		cutOrStop = a.stopAt
	}
	var rawP99 time.Duration
	rawP99At := 0.0
	for i, j := range a.Windows {
		offered += a.dueBefore(i, cutOrStop) // due while the run sent and the results last
		if j.State != Idle && j.State != Behind {
			a.JudgedSecs += j.Covered
		}
		if counts(j) && j.Start < a.stopAt {
			a.PeakOffered = max(a.PeakOffered, j.Offered)
			a.PeakAchieved = max(a.PeakAchieved, j.Achieved)
		}
		// The p99 the SLO judged: in a window of a few requests, the
		// slowest is forgiven (judgedP99), so a lone slow checkout in
		// the quiet tail is not the run's peak.
		if p := judgedP99(&a.W.W[i].Total); j.State != Idle && (j.Offered > 0 || !offering) && p > a.PeakP99 {
			a.PeakP99, a.PeakP99At = p, j.Start
		}
		if p := a.W.W[i].Total.Latency.Quantile(.99); j.State != Idle && (j.Offered > 0 || !offering) && p > rawP99 {
			rawP99, rawP99At = p, j.Start
		}
		if j.Requests > 0 && counts(j) {
			a.MaxErrorRatio = max(a.MaxErrorRatio, j.ErrorRatio)
		}
		a.MaxLag = max(a.MaxLag, j.LagMax)
	}
	if a.PeakP99 == 0 {
		// Every window held a single success (a run at 1 req/s): none
		// had a p99 to judge, but the latencies were what they were.
		a.PeakP99, a.PeakP99At = rawP99, rawP99At
	}
	if ws.Info != nil && !ws.Info.Simulated && !ws.pageViews() {
		a.Unsent = max(0, math.Round(offered-float64(a.Total.Requests)))
	}
	var peak Stats
	for i, j := range a.Windows {
		if counts(j) && j.Start < a.stopAt && j.Offered >= 0.9*a.PeakOffered && a.PeakOffered > 0 {
			peak.Requests += ws.W[i].Total.Requests
			peak.OK += ws.W[i].Total.OK
		}
	}
	a.PeakErrorRatio = peak.ErrorRatio()
	a.FailedP50, a.FailedP99 = a.Total.FailLatency.Quantile(.5), a.Total.FailLatency.Quantile(.99)
}

func (a *Analysis) findBreak() {
	js := a.Windows
	end := len(js)
	if len(a.Spans) > 0 {
		sp := a.Spans[0]
		a.Broke = true
		end = sp.StartIndex
		a.BreakAt = sp.Start
		a.BreakOffered = a.peakIn(sp.StartIndex)
		a.BreakWhy = js[sp.StartIndex].Why
		if info := a.W.Info; info != nil {
			// The phase whose traffic the breaking window holds: a window
			// that starts at the end of a quiet phase and holds the first
			// second of the spike broke in the spike.
			a.BreakPhase = info.Scenario.Curve.PhaseAt(a.arrivalMid(sp.StartIndex))
			for _, p := range info.Scenario.Curve.Spans() {
				if p.Name == a.BreakPhase && a.arrivalMid(sp.StartIndex) >= p.Start-1e-9 {
					a.BreakInPhase = max(0, a.BreakAt-p.Start)
				}
			}
		}
	}
	for i := 0; i < end; i++ {
		if js[i].State == Held && !js[i].Partial {
			a.Capacity = max(a.Capacity, js[i].Offered)
		}
	}
	if !a.Broke {
		a.CapacityLo, a.CapacityHi = a.Capacity, math.Inf(1)
		return
	}
	// The band runs from the last good to the first bad offered rate. A
	// host with a queue holds a little past its capacity while the queue
	// fills, so the last good rate can overshoot it. A saturated host serves
	// its capacity, so the rate of the mix it served at the start of the
	// break (over its first servedWindows windows, less two standard
	// deviations of counting noise) bounds the capacity from below: the
	// band's bottom comes down to it when lower.
	sp := a.Spans[0]
	var first []int
	for i := sp.StartIndex; i < sp.EndIndex && i < len(js) && len(first) < servedWindows; i++ {
		if js[i].State == Violated {
			first = append(first, i)
		}
	}
	bound := a.servedBound(first)
	lastGood := 0.0
	for i := sp.StartIndex - 1; i >= 0; i-- {
		if js[i].State == Held && !js[i].Partial {
			lastGood = js[i].Offered
			break
		}
	}
	lo := max(0, min(lastGood, bound))
	if lastGood < bound && a.servedWithinP99(first) {
		// The curve leapt past the capacity between two windows (a
		// compressed spike climbs hundreds of requests a second each
		// second): the last good rate says little, but the host served
		// the mix at the bound within the SLO's latency while saturated.
		lo = bound
	}
	a.CapacityLo = min(lo, a.BreakOffered)
	a.CapacityHi = max(a.BreakOffered, a.Capacity)
	if a.Capacity == 0 {
		a.CapacityLo = 0
	}
	if !a.loadOnly && (a.notOfLoad(sp.StartIndex, sp.EndIndex) || a.notOfLoad(sp.StartIndex, sp.StartIndex+servedWindows)) {
		// Failures a host gives at any rate (401s, 404s, failed content
		// checks) are no limit of its capacity, whether they make the
		// whole break or only its start (a page that never says "Add to
		// cart" fails the SLO from the first second; the host may break
		// under load much later). Judged with them left aside, the run
		// shows its capacity: a break under load, or at least what held.
		a.NotOfLoad = true
		a.CapacityLo, a.CapacityHi = a.Capacity, math.Inf(1)
		l := analyze(ws0(a.W), a.SLO, true)
		switch {
		case l.Broke && l.Capacity > 0 && !l.AtHeldRate && !l.NotOfLoad && l.DownAt < 0 && !l.GenBlamed && l.Kind != KindUnreachable:
			// (A run that fails from the start even so, by a latency
			// check at any rate, shows no load break.)
			a.UnderLoad = &LoadBreak{At: l.BreakAt, Offered: l.BreakOffered, When: l.breakWhen()}
			a.CapacityLo, a.CapacityHi = l.CapacityLo, l.CapacityHi
			a.Served, a.SaturatedAt = l.Served, l.SaturatedAt
		case !l.Broke:
			a.CapacityLo = max(a.CapacityLo, l.Capacity)
		}
		return
	}
	switch a.heldBreak(first) {
	case heldOutage:
		// Not a capacity: the host failed at a rate it had served within
		// the SLO in whole windows before. It holds at least that.
		a.AtHeldRate = true
		a.CapacityLo, a.CapacityHi = a.Capacity, math.Inf(1)
		return
	case heldNot:
		if a.heldMoreLater(first) {
			// It answered next to nothing, then held the SLO at more
			// than the rate it broke at: an outage, not its capacity.
			a.AtHeldRate, a.HeldLater = true, true
			a.CapacityLo, a.CapacityHi = a.Capacity, math.Inf(1)
			return
		}
	case heldFell:
		// It served the rate for a while, then steadily less: what it
		// serves now is its capacity, whatever it held before.
		lo, hi := a.CapacityLo, a.CapacityHi
		a.CapacityLo, a.CapacityHi = 0, a.BreakOffered
		a.sharpen()
		if a.Served > 0 {
			a.FellFrom = a.Capacity
			return
		}
		a.CapacityLo, a.CapacityHi = lo, hi
	}
	a.sharpen()
}

// notOfLoad reports whether the first break failed mostly (half of its
// failed requests or more) by failures that are not of load: client
// errors other than 408 and 429 (a missing session cookie's 401, a 404)
// and failed checks of status, size or content. A saturated host answers
// 503, 429, 504, times out or resets; one that answers 401 or the wrong
// page does so at any rate.
func (a *Analysis) notOfLoad(from, to int) bool {
	var failed, other uint64
	for i := from; i < to && i < a.Spans[0].EndIndex && i < len(a.W.W); i++ {
		st := &a.W.W[i].Total
		failed += st.Failed()
		other += notLoadFailed(st)
	}
	return failed > 0 && 2*other >= failed
}

// notLoadFailed counts st's failures that are not of load: client errors
// other than 408 and 429, and failed checks of status, size or content.
func notLoadFailed(st *Stats) uint64 {
	n := st.Status[4] - st.S429 - st.Codes[408]
	n += st.Errors[CheckStatus] + st.Errors[CheckBytes] + st.Errors[CheckBody]
	return min(n, st.Failed())
}

// ws0 is ws with the failures not of load taken as answers (counted as
// successes, their latency left out): the run as a host that answered
// them rightly would have seen it, to judge its capacity by.
func ws0(ws *Windows) *Windows {
	c := *ws
	c.W = make([]Window, len(ws.W))
	fix := func(st *Stats) {
		n := notLoadFailed(st)
		st.OK += n
		st.DoneOK += n
	}
	for i, w := range ws.W {
		w.Endpoints = append([]Stats(nil), w.Endpoints...)
		fix(&w.Total)
		for k := range w.Endpoints {
			fix(&w.Endpoints[k])
		}
		c.W[i] = w
	}
	return &c
}

// throttled reports whether half or more of the first break's failures
// (the host's) were 429 Too Many Requests: a rate limiter refused them.
func (a *Analysis) throttled() bool {
	sp := a.Spans[0]
	var failed, s429 uint64
	for i := sp.StartIndex; i < sp.EndIndex && i < len(a.W.W); i++ {
		st := &a.W.W[i].Total
		failed += st.Failed() - st.Errors[Generator]
		s429 += st.S429
	}
	return failed > 0 && 2*s429 >= failed
}

// heldKind is how a break at a rate the host had held reads.
type heldKind int

const (
	heldNot    heldKind = iota // not at a held rate (or held too briefly): a capacity
	heldOutage                 // it then served far less, or erratically: an outage or a fault
	heldFell                   // it then served a steady rate well below it: its capacity fell (or a queue had hidden it)
)

// heldBreak reads a break at a rate the host had held (whole windows
// before it, over at least heldFor of the run and three windows, held
// the SLO at 95% of the breaking rate or more). A host at its capacity
// keeps serving about its capacity when it breaks, so what it served
// through the break (its windows at the rate held or more) says which:
// a steady rate (a plateau) below 80% of the breaking rate is a capacity
// that fell (a burst allowance running out, a throttle; the latency was
// steady while it held) or that a queue had hidden while it filled (the
// p50 of the last held window over twice the first's), and the band is
// drawn around it; with a steady latency while it held, only when its
// successes then waited (their p50 over twice what it was while it held:
// saturated), for a host failing a share of requests at once (a fault, a
// rate limiter) serves a steady lower rate too. With a steady latency
// while it held, serving under 80%
// of the rate at once, in its first broken windows (first), or less and
// less, or erratically, is an outage, a fault or a leak, not its capacity
// (a growing latency: a queue filling past the capacity, and a queue with
// timeouts serves less and less past it).
func (a *Analysis) heldBreak(first []int) heldKind {
	if a.BreakOffered <= 0 || len(first) == 0 {
		return heldNot
	}
	var held []int
	secs := 0.0
	for i := 0; i < a.Spans[0].StartIndex; i++ {
		if j := a.Windows[i]; j.State == Held && !j.Partial && j.Offered >= 0.95*a.BreakOffered {
			held = append(held, i)
			secs += j.Covered
		}
	}
	if len(held) < 3 || secs < heldFor.Seconds() {
		return heldNot
	}
	a.HeldSecs = secs
	steady := true
	if p0, p1 := a.Windows[held[0]].P50, a.Windows[held[len(held)-1]].P50; p0 > 0 && p1 > 2*p0 && p1-p0 > 10*time.Millisecond {
		steady = false
	}
	var ok uint64
	var span float64
	for _, i := range first {
		ok += a.W.W[i].Total.DoneOK
		span += a.W.Secs(i)
	}
	answered := span > 0 && float64(ok)/span < 0.8*a.BreakOffered
	// What it served through the break, window by window, at the rate
	// it had held or more.
	var served []float64
	var p50s []float64
	sp := a.Spans[0]
	for i := sp.StartIndex; i < sp.EndIndex && i < len(a.Windows); i++ {
		j := a.Windows[i]
		if j.State != Violated || j.Partial || j.GenBehind || j.cut || j.Down || j.Offered < 0.95*a.BreakOffered {
			continue
		}
		r, _ := a.servedRate([]int{i})
		served = append(served, r)
		p50s = append(p50s, float64(j.P50))
	}
	// Saturated: its successes waited (a queue full), their p50 over
	// twice what it was while it held. A host that fails a share of
	// requests at once (a fault) or refuses them at once (a rate limiter)
	// answers the rest as fast as before.
	var heldP50 []float64
	for _, i := range held {
		heldP50 = append(heldP50, float64(a.Windows[i].P50))
	}
	saturated := len(p50s) > 0 && median(heldP50) > 0 && median(p50s) > 2*median(heldP50)
	plateau := false
	if len(served) >= 3 {
		m, sd := meanSD(served)
		plateau = m >= fellShare*a.BreakOffered && sd <= fellSpread*m && m < 0.95*a.BreakOffered
	}
	low := len(served) >= 3 && median(served) < 0.8*a.BreakOffered
	thr := a.throttled()
	switch {
	case plateau && low && ((saturated || !steady) && a.evenlyFailed(sp) || thr):
		// (A rate limiter refuses at once, 429 Too Many Requests, the
		// latency of what it lets through unchanged: its burst ran out.)
		a.Throttled = thr
		// A steady lower rate: with a steady latency while it held, a
		// capacity that fell; with a growing one, a queue filling had
		// hidden the capacity it then served.
		a.FellSteady = steady
		return heldFell
	case steady && (answered || low):
		// It answered far less at once, or served less and less, or
		// erratically: an outage, a fault, a leak.
		return heldOutage
	}
	return heldNot
}

// heldMoreLater reports whether the host answered under half of the
// breaking rate in the break's first windows (first), and after the
// break held the SLO in three whole windows offered more than it: a host
// that fails next to everything, then serves more than it failed at, had
// an outage (a saturated host serves its capacity; one that scaled up
// was saturated first).
func (a *Analysis) heldMoreLater(first []int) bool {
	if a.BreakOffered <= 0 || len(first) == 0 {
		return false
	}
	var ok uint64
	var span float64
	for _, i := range first {
		ok += a.W.W[i].Total.DoneOK
		span += a.W.Secs(i)
	}
	if span <= 0 || float64(ok)/span >= 0.5*a.BreakOffered {
		return false
	}
	n := 0
	for i := a.Spans[0].EndIndex; i < len(a.Windows); i++ {
		if j := a.Windows[i]; j.State == Held && !j.Partial && !j.cut && j.Offered > 1.05*a.BreakOffered {
			n++
		}
	}
	return n >= 3
}

// evenlyFailed says whether the break's failures fell on every endpoint of
// at least 5% of the requests alike (their shares failed within half of
// each other): a host whose capacity fell turns away requests whatever
// they ask for; one endpoint failing whole while another succeeds is a
// fault of that endpoint, even if its class's rate looks steady.
func (a *Analysis) evenlyFailed(sp Span) bool {
	var total Stats
	eps := make([]Stats, len(a.W.Endpoints))
	for i := sp.StartIndex; i < sp.EndIndex && i < len(a.W.W); i++ {
		w := &a.W.W[i]
		total.Requests += w.Total.Requests
		for k := range w.Endpoints {
			if k < len(eps) {
				eps[k].Requests += w.Endpoints[k].Requests
				eps[k].OK += w.Endpoints[k].OK
			}
		}
	}
	lo, hi := 1.0, 0.0
	for _, e := range eps {
		if total.Requests == 0 || float64(e.Requests) < 0.05*float64(total.Requests) {
			continue
		}
		r := float64(e.Failed()) / float64(e.Requests)
		lo, hi = min(lo, r), max(hi, r)
	}
	return hi-lo <= 0.5
}

// A capacity that fell: the host serves, through the break, a steady rate
// (windows' standard deviation at most fellSpread of their mean) of at
// least fellShare of the rate it had held.
const (
	fellShare  = 0.15
	fellSpread = 0.2
)

// heldFor is how long a rate must have held, steadily, before a break at
// it is taken for an outage rather than the capacity: longer than a queue
// takes to fill at a rate a little past the capacity.
const heldFor = 3 * time.Second

// scaledBy is how much more than the band's top a host must serve after
// its break to count as having scaled up.
const scaledBy = 1.5

// heldScaledBy is how much more than the band's top a saturated host must
// hold the SLO at, after its break, to count as having scaled up: the top
// bounds what it served saturated, so holding above it in three whole
// windows is no queue draining.
const heldScaledBy = 1.2

// scaling finds whether the host scaled up during its first break: the
// rate it served while saturated, or held in a whole window, after the
// break began, well above the capacity band.
func (a *Analysis) scaling() {
	if !a.Broke || a.W.Info == nil {
		return
	}
	if a.AtHeldRate || a.NotOfLoad || a.Capacity == 0 {
		// It served the rate before (an outage), or no rate held, so the
		// band has no top to scale from.
		return
	}
	sp := a.Spans[0]
	var reached []float64
	heldAbove := 0
	for i := sp.StartIndex; i < len(a.Windows); i++ {
		j := a.Windows[i]
		if j.Partial || j.GenBehind || j.cut || j.Requests == 0 {
			continue
		}
		switch j.State {
		case Held:
			reached = append(reached, j.Offered)
			if j.Offered >= heldScaledBy*a.CapacityHi {
				heldAbove++
			}
		case Violated:
			if a.minRateIn(i) > a.CapacityHi {
				r, _ := a.servedRate([]int{i})
				reached = append(reached, r)
			}
		}
	}
	if len(reached) < 3 {
		return
	}
	sort.Float64s(reached)
	top := reached[len(reached)-3] // the third highest: one window's count is noisy
	if top <= 0 || a.CapacityHi <= 0 {
		return // (a host that served nothing did not scale)
	}
	// Saturated at the break (the band drawn around what it served), then
	// holding the SLO in whole windows offered well above the band's top:
	// it scaled, however its windows in between read (it serves more as
	// the curve falls while it scales, no plateau). Without that, it
	// served far more while saturated, on a plateau.
	heldMore := (a.Served > 0 || a.saturated) && heldAbove >= 3
	if !heldMore && (top < scaledBy*a.CapacityHi || !a.servedMoreLater(sp)) {
		return
	}
	a.Scaled, a.ScaledTo, a.ScaleSecs = true, top, -1
	if sp.End >= 0 && sp.EndIndex < len(a.Windows) && a.Windows[sp.EndIndex].Offered > a.CapacityHi {
		a.ScaleSecs = sp.End - sp.Start
	}
	for i := sp.StartIndex; i < sp.EndIndex && i < len(a.Windows); i++ {
		j := a.Windows[i]
		a.LostScaling += j.hostFailed
		if !j.cut && !j.GenBehind {
			a.LostScaling += uint64(max(0, math.Round(a.W.W[i].Offered-float64(j.Requests))))
		}
	}
}

// servedMoreLater reports whether the host, after its break, served well
// above the band's top (scaledBy) while saturated: in at least three whole
// broken windows, serving a rate that does not follow the rate sent (a
// plateau: what a saturated host serves is its capacity, however much is
// sent). A host that fails a share of requests at any rate (a failing
// check, a soft limit near the SLO's error limit) serves more as more is
// sent, at about the same share: that is no scaling. When the rate sent
// barely varies, a plateau is one that refuses more than plateauShare of
// it.
func (a *Analysis) servedMoreLater(sp Span) bool {
	var xs, ys []float64
	for i := sp.StartIndex; i < len(a.Windows); i++ {
		j := a.Windows[i]
		if j.State == Violated && !j.Partial && !j.GenBehind && !j.cut && j.Sent > 0 && j.Achieved >= scaledBy*a.CapacityHi {
			xs, ys = append(xs, j.Sent), append(ys, j.Achieved)
		}
	}
	if len(xs) < 3 {
		return false
	}
	lo, hi := slices.Min(xs), slices.Max(xs)
	if hi < 1.2*lo {
		var sent, served float64
		for k := range xs {
			sent, served = sent+xs[k], served+ys[k]
		}
		return served <= plateauShare*sent
	}
	// The least-squares slope of the rate served on the rate sent.
	mx, _ := meanSD(xs)
	my, _ := meanSD(ys)
	var sxy, sxx float64
	for k := range xs {
		sxy += (xs[k] - mx) * (ys[k] - my)
		sxx += (xs[k] - mx) * (xs[k] - mx)
	}
	return sxx > 0 && sxy/sxx <= plateauSlope
}

// A plateau: the rate served rises by at most plateauSlope of a rise in
// the rate sent, or (when the rate sent barely varies) is at most
// plateauShare of it.
const (
	plateauSlope = 0.5
	plateauShare = 0.7
)

// Margins of the band around the rate a saturated host served: it cannot
// serve faster than its capacity, so the rate served understates it (a
// worker's time between requests), more than counting noise overstates it.
const (
	servedBelow = 0.05 // the band's bottom: 5% under the served rate (or two standard errors, if more)
	servedAbove = 0.10 // its top: 10% over it
)

// sharpen narrows the band around the rate of the mix the host served in
// the saturated windows of the break: every broken window offered more
// than that rate throughout. A saturated host serves its capacity whatever
// is offered, so the mean over many such windows (for each endpoint, its
// successes ÷ its share of the mix; the lowest: the one whose pool limits
// the mix) pins the capacity far closer than the last good and first bad
// offered rates of a curve that climbs hundreds of requests a second each
// second. The band is left as it is when fewer than three windows were
// saturated, or when the host scaled up during the break (the first
// windows, before it scaled, are used when there are enough of them).
func (a *Analysis) sharpen() {
	if !a.Broke {
		return
	}
	sp := a.Spans[0]
	var idx []int
	var est []float64
	for i := sp.StartIndex; i < sp.EndIndex && i < len(a.Windows); i++ {
		j := a.Windows[i]
		if j.State != Violated || j.Partial || j.GenBehind || j.cut || j.Down {
			continue
		}
		r, _ := a.servedRate([]int{i})
		idx, est = append(idx, i), append(est, r)
	}
	if len(est) < 3 {
		return
	}
	// Saturated: offered more than the served rate for the whole window.
	m := median(est)
	var sat []int
	var satEst []float64
	for k, i := range idx {
		if a.minRateIn(i) >= 1.05*m {
			sat, satEst = append(sat, i), append(satEst, est[k])
		}
	}
	if len(sat) < 3 {
		return
	}
	// A host that scaled up serves more later in the break: judge the
	// capacity it broke at from the windows before it scaled.
	third := max(len(sat)/3, 1)
	early, late := median(satEst[:third]), median(satEst[len(sat)-third:])
	// Saturated at the break, serving a real rate (not a host failing
	// next to everything): what scaling is judged from.
	a.saturated = early >= 0.1*a.BreakOffered
	if late > 1.25*early {
		if third < 3 {
			return // too few windows before it scaled to pin a band
		}
		sat, satEst = sat[:third], satEst[:third]
	}
	if a.mixShares() != nil {
		// Visitors whose earlier request failed sent no later ones: in
		// such windows the host served another mix, whose capacity is
		// not the scenario's. Only the windows that sent the scenario's
		// mix say; with fewer than three, the band of offered rates
		// stands.
		var kept []int
		var keptEst []float64
		for k, i := range sat {
			if !a.mixShifted([]int{i}) {
				kept, keptEst = append(kept, i), append(keptEst, satEst[k])
			}
		}
		if len(kept) < 3 {
			a.MixShifted = true
			return
		}
		sat, satEst = kept, keptEst
	}
	mean, limit := a.servedRate(sat)
	if mean < 0.1*a.BreakOffered {
		// Nothing (or next to nothing) served: no capacity to pin, only
		// a host failing.
		return // nothing served (every answer a failure): no capacity to pin, only a host failing
	}
	// The standard error from the windows' spread, of the limiting class.
	per := make([]float64, len(sat))
	for k, i := range sat {
		per[k] = a.classRate(i, limit)
	}
	_, sd := meanSD(per)
	se := sd / math.Sqrt(float64(len(sat)))
	lo := mean - max(2*se, servedBelow*mean)
	hi := mean + max(2*se, servedAbove*mean)
	// (A plain file's top is only its breaking window's average send
	// rate, which a saturated host can outserve.)
	if mean < a.CapacityLo && a.throttled() && len(sat) >= 3 {
		// A rate limiter with a burst allowance: it let through more than
		// its rate while the burst lasted (the rates offered then held),
		// then refused the excess with 429s and served its rate steadily.
		// That rate is its capacity.
		m, sd := meanSD(satEst)
		if sd <= fellSpread*m {
			a.Throttled = true
			a.Served = mean
			a.CapacityLo, a.CapacityHi = lo, hi
			return
		}
	}
	if mean < a.CapacityLo || mean > a.CapacityHi && a.W.Info != nil {
		// The served rate is outside the band of offered rates: the SLO
		// failed before the host saturated (a burst of errors near its
		// capacity, a slow endpoint), so the offered rates say where the
		// SLO broke; the rate it served is said beside it.
		a.SaturatedAt = mean
		return
	}
	a.Served = mean
	a.CapacityLo = max(a.CapacityLo, lo)
	a.CapacityHi = min(a.CapacityHi, hi)
	if a.W.Info == nil {
		// A plain file's breaking window says only its average send
		// rate (a step of a ramp may have begun in it): the top is the
		// saturated host's, as the bottom is.
		a.CapacityHi = max(hi, a.CapacityLo)
	}
	if a.Capacity > 0 {
		a.CapacityLo = min(a.CapacityLo, max(a.Capacity, lo))
	}
}

// servedRate is the rate of the whole mix the host served over windows
// idx, pooled: for each class of endpoints with at least 5% of the
// requests, its successes completed in the windows over its share of the
// requests sent; the lowest of these and the whole mix's (the class whose
// pool limits the mix). Classes, not endpoints: the minimum of many noisy
// small counts would understate it. limit is the class that set it ("" for
// the whole mix).
func (a *Analysis) servedRate(idx []int) (rate float64, limit scenarios.Class) {
	var secs float64
	var total Stats
	done := map[scenarios.Class]float64{}
	reqs := map[scenarios.Class]float64{}
	failed := map[scenarios.Class]float64{}
	for _, i := range idx {
		w := &a.W.W[i]
		secs += a.W.Secs(i)
		total.Requests += w.Total.Requests
		total.DoneOK += w.Total.DoneOK
		total.OK += w.Total.OK
		for k := range w.Endpoints {
			if k < len(a.W.Endpoints) {
				c := a.W.Endpoints[k].Class
				done[c] += float64(w.Endpoints[k].DoneOK)
				reqs[c] += float64(w.Endpoints[k].Requests)
				failed[c] += float64(w.Endpoints[k].Failed())
			}
		}
	}
	if secs <= 0 {
		return 0, ""
	}
	rate = float64(total.DoneOK) / secs
	if total.Requests == 0 {
		return rate, ""
	}
	mix := a.mixShares()
	for _, c := range scenarios.Classes {
		share := reqs[c] / float64(total.Requests)
		if mix != nil {
			share = mix[c]
		}
		if share >= 0.05 || smallLimit(failed[c], reqs[c], &total) {
			if r := done[c] / share / secs; r < rate {
				rate, limit = r, c
			}
		}
	}
	return rate, limit
}

// classRate is window i's served rate of the mix by class c alone (its
// successes over its share of the requests), or of the whole mix for "".
func (a *Analysis) classRate(i int, c scenarios.Class) float64 {
	w := &a.W.W[i]
	secs := a.W.Secs(i)
	if c == "" || w.Total.Requests == 0 {
		return float64(w.Total.DoneOK) / secs
	}
	var done, reqs float64
	for k := range w.Endpoints {
		if k < len(a.W.Endpoints) && a.W.Endpoints[k].Class == c {
			done += float64(w.Endpoints[k].DoneOK)
			reqs += float64(w.Endpoints[k].Requests)
		}
	}
	if reqs == 0 {
		return float64(w.Total.DoneOK) / secs
	}
	if mix := a.mixShares(); mix != nil && mix[c] > 0 {
		return done / mix[c] / secs
	}
	return done / (reqs / float64(w.Total.Requests)) / secs
}

// mixShifted says whether the requests sent in windows idx were another
// mix than the scenario's: a class sent at under 80% of its share of the
// rate offered (visitors whose page failed sent no assets, journeys
// abandoned before their api steps), where at least 20 were due. A class
// of a few requests can weigh much: the api steps of journeys are 2% of
// the requests and a quarter of the app workers' time. Only runs of
// visitors can.
func (a *Analysis) mixShifted(idx []int) bool {
	mix := a.mixShares()
	if mix == nil {
		return false
	}
	var offered float64
	sent := map[scenarios.Class]float64{}
	for _, i := range idx {
		w := &a.W.W[i]
		offered += a.Windows[i].Offered * a.W.Secs(i)
		for k := range w.Endpoints {
			if k < len(a.W.Endpoints) {
				sent[a.W.Endpoints[k].Class] += float64(w.Endpoints[k].Requests)
			}
		}
	}
	for c, m := range mix {
		if due := offered * m; due >= 20 && sent[c] < 0.8*due {
			return true
		}
	}
	return false
}

// mixShares is each class's share of the requests the scenario's mix
// sends, for runs of visitors (page views, journeys), nil otherwise. A
// visitor's later requests are sent only when the earlier ones succeeded
// (a page's assets, a journey's next step), so the shares sent shift as
// the host fails: a class's served rate of the mix is over its share of
// the mix, not of what was sent. Requests sent one by one (the mix) are
// sent in their shares whatever the host does.
func (a *Analysis) mixShares() map[scenarios.Class]float64 {
	if a.mixShare != nil || a.W.Info == nil || a.W.Info.Scenario == nil || !a.W.Info.Scenario.Visitors() {
		return a.mixShare
	}
	var total float64
	m := map[scenarios.Class]float64{}
	for _, e := range a.W.Info.Scenario.RequestMix() {
		m[e.Class] += e.Weight
		total += e.Weight
	}
	if total <= 0 {
		return nil
	}
	for c := range m {
		m[c] /= total
	}
	a.mixShare = m
	return m
}

// minRateIn is the lowest offered rate within window i (see rateRange).
func (a *Analysis) minRateIn(i int) float64 { lo, _ := a.rateRange(i); return lo }

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	if len(xs) > 1 {
		sd = math.Sqrt(sd / float64(len(xs)-1))
	}
	return mean, sd
}

// dueBefore is how many of window i's offered requests were due before
// t seconds (all of them when t < 0).
func (a *Analysis) dueBefore(i int, t float64) float64 {
	w := &a.W.W[i]
	t0 := a.W.StartSec(i)
	t1 := t0 + a.W.Width.Seconds()
	switch {
	case t < 0 || t >= t1:
		return w.Offered
	case t <= t0:
		return 0
	}
	info := a.W.Info
	if info == nil || info.Scenario == nil {
		return w.Offered * (t - t0) / (t1 - t0)
	}
	c := info.Scenario.Curve
	n := c.N(t1) - c.N(t0)
	if n <= 0 {
		return 0
	}
	return w.Offered * (c.N(t) - c.N(t0)) / n
}

// peakIn is the highest offered rate within window i (see rateRange). A
// window in which a compressed spike climbs from 20 to 1,200 req/s
// averages 380 req/s; a host that broke in it broke at some rate up to
// 1,200 req/s, not at 380.
func (a *Analysis) peakIn(i int) float64 { _, hi := a.rateRange(i); return hi }

// rateRange is the lowest and highest offered rate within window i: the
// curve's instantaneous rate over the window (for the shards present),
// bracketing the window's average; the average alone without a curve, or
// for a sliver at the edge of a plain file's traffic.
func (a *Analysis) rateRange(i int) (lo, hi float64) {
	avg := a.Windows[i].Offered
	info := a.W.Info
	if info == nil || info.Scenario == nil || a.Windows[i].Partial {
		return avg, avg
	}
	c := info.Scenario.Curve
	t0 := a.W.StartSec(i)
	w := a.W.Width.Seconds()
	n := c.N(t0+w) - c.N(t0)
	if n <= 0 {
		return avg, avg
	}
	frac := a.W.W[i].Offered / n // the shards present
	lo, hi = avg, avg
	const steps = 64
	for k := 0; k <= steps; k++ {
		t := t0 + w*float64(k)/steps
		if k == steps {
			t = math.Nextafter(t0+w, t0)
		}
		r := c.Rate(t) * frac
		lo, hi = min(lo, r), max(hi, r)
	}
	return lo, hi
}

// servedWithinP99 reports whether the successful requests of windows idx
// met the SLO's p99 (or there is no p99 limit).
func (a *Analysis) servedWithinP99(idx []int) bool {
	if len(idx) == 0 {
		return false
	}
	var h Hist
	for _, i := range idx {
		h.Merge(&a.W.W[i].Total.Latency)
	}
	return h.N > 0 && (a.SLO.P99 <= 0 || h.Quantile(.99) <= a.SLO.P99)
}

// arrivalMid is the time by which half of window i's offered requests
// were due: where its traffic sits on the curve. It is the window's middle
// without a curve, or when nothing was due in it.
func (a *Analysis) arrivalMid(i int) float64 {
	t0 := a.W.StartSec(i)
	t1 := t0 + a.W.Width.Seconds()
	info := a.W.Info
	if info == nil || info.Scenario == nil {
		return (t0 + t1) / 2
	}
	c := info.Scenario.Curve
	n0, n1 := c.N(t0), c.N(t1)
	if n1-n0 < 1e-9 {
		return (t0 + t1) / 2
	}
	t := c.Inv((n0 + n1) / 2)
	if math.IsNaN(t) || math.IsInf(t, 0) {
		return (t0 + t1) / 2
	}
	return min(max(t, t0), t1)
}

func (a *Analysis) findRecovery() {
	if !a.Broke {
		return
	}
	sp := a.Spans[0]
	js := a.Windows
	// "Below capacity" is below the highest rate that held (the band's
	// bottom is a conservative bound, not the capacity).
	capacity := max(a.Capacity, a.CapacityLo)
	if a.FellFrom > 0 {
		capacity = a.CapacityHi // what it held before is no longer its capacity
	}
	if capacity == 0 {
		capacity = a.BreakOffered
	}
	// A sliver's rate does not say traffic fell, and for plain vegeta
	// files the windows after the last send are the end of the data, not
	// a fall in the rate.
	end := len(js)
	if a.W.Info == nil {
		for end > 0 && js[end-1].Requests == 0 {
			end--
		}
	}
	// Below for the whole window: the rate in a window the curve climbs
	// through (a compressed spike's first second) is below capacity on
	// average only.
	below := func(i int) bool { return a.peakIn(i) < capacity }
	if a.W.Info == nil {
		// A plain file's offered rate is what was sent: a window's count
		// jitters by a request or two about a constant rate.
		below = func(i int) bool {
			secs := a.W.Secs(i)
			return js[i].Offered*secs < capacity*secs-throughputSlack
		}
	}
	// Traffic falls below capacity while the curve still offers load and
	// the run still sends: a curve that ends, a run stopped, results cut
	// short are not a fall in the rate.
	until := a.stopAt
	if info := a.W.Info; info != nil && info.Scenario != nil && info.Scenario.Curve != nil {
		until = min(until, info.Scenario.Curve.Seconds())
	}
	for i := sp.StartIndex; i < end && js[i].Start < until; i++ {
		if below(i) && (!js[i].Partial || js[i].Requests == 0) {
			a.FellBelowAt = js[i].Start
			break
		}
	}
	if sp.End >= 0 {
		a.RecoveredAt = sp.End
	}
	if a.FellBelowAt >= 0 && a.RecoveredAt >= 0 {
		a.Recovery = max(0, a.RecoveredAt-a.FellBelowAt)
	}
}

// servedBound is a lower bound on the rate of the whole mix the host
// served over windows idx: for each endpoint with at least 5% of the
// requests, its successful completions divided by its share of the
// requests sent (when one class saturates first, the mix can be served
// only as fast as that class allows), less two standard deviations of
// Poisson counting noise; the lowest over endpoints and the whole mix. It
// is +Inf for no windows.
// smallLimit says whether a small part of the mix (under 5% of its
// requests, whose served rate is too noisy to bound the mix's when it
// serves what it is sent) failed so much that it is what limits the mix:
// half its requests or more, and at least twice the share of the whole
// mix's (total failed of total requests), so that a host failing every
// part alike is bounded by its large parts.
func smallLimit(failed, reqs float64, total *Stats) bool {
	return reqs >= 2 && failed >= 0.5*reqs && failed/reqs >= 2*total.ErrorRatio()
}

func (a *Analysis) servedBound(idx []int) float64 {
	if len(idx) == 0 {
		return math.Inf(1)
	}
	secs := 0.0
	var total Stats
	eps := make([]Stats, len(a.W.Endpoints))
	for _, i := range idx {
		w := &a.W.W[i]
		secs += a.W.Secs(i)
		total.Requests += w.Total.Requests
		total.DoneOK += w.Total.DoneOK
		total.OK += w.Total.OK
		for k := range w.Endpoints {
			eps[k].Requests += w.Endpoints[k].Requests
			eps[k].DoneOK += w.Endpoints[k].DoneOK
			eps[k].OK += w.Endpoints[k].OK
		}
	}
	bound := func(done, share float64) float64 { return (done - 2*math.Sqrt(done)) / share / secs }
	b := bound(float64(total.DoneOK), 1)
	for _, e := range eps {
		if total.Requests == 0 {
			break
		}
		if share := float64(e.Requests) / float64(total.Requests); share >= 0.05 || smallLimit(float64(e.Failed()), float64(e.Requests), &total) {
			b = min(b, bound(float64(e.DoneOK), share))
		}
	}
	return b
}

// series builds the per-endpoint and per-class views and finds which broke
// first.
func (a *Analysis) series() {
	ws := a.W
	for i, e := range ws.Endpoints {
		s := a.judgeSeries(e, a.shareOf(func(e Endpoint) bool { return e == ws.Endpoints[i] }), func(w *Window) *Stats {
			if i < len(w.Endpoints) {
				return &w.Endpoints[i]
			}
			return nil
		})
		s.index = i
		a.Endpoints = append(a.Endpoints, s)
	}
	for _, c := range scenarios.Classes {
		var has bool
		for _, e := range ws.Endpoints {
			has = has || e.Class == c
		}
		if !has {
			continue
		}
		var tmp Stats
		s := a.judgeSeries(Endpoint{Name: string(c), Class: c}, a.shareOf(func(e Endpoint) bool { return e.Class == c }), func(w *Window) *Stats {
			tmp = Stats{}
			for k := range w.Endpoints {
				if ws.Endpoints[k].Class == c {
					tmp.Merge(&w.Endpoints[k])
				}
			}
			return &tmp
		})
		s.index = -1
		a.Classes = append(a.Classes, s)
	}
	a.First = firstBroken(a.Endpoints)
	a.FirstCls = firstBroken(a.Classes)
}

// minShare is the share of all requests an endpoint needs for its own
// failures to count as the host's: the SLO holds for each endpoint of the
// mix, not just for the mix as a whole, or a small but vital endpoint (the
// page itself, among many images) could fail unnoticed.
const minShare = 0.01

// smallFailed is how many failed requests a failing stretch of a small
// endpoint (under minShare of the requests) needs to count.
const smallFailed = 20

// smallBroken is s's window states kept only over its failing stretches
// with smallFailed failures or more (and an error ratio over the SLO's
// limit there); nil when there is none.
func (a *Analysis) smallBroken(s Series) []string {
	var out []string
	for _, sp := range spans(a.W, a.Windows, a.Grace, func(i int) string { return s.states[i] }) {
		var st Stats
		for i := sp.StartIndex; i < sp.EndIndex && i < len(a.W.W); i++ {
			if s.index < len(a.W.W[i].Endpoints) {
				st.Merge(&a.W.W[i].Endpoints[s.index])
			}
		}
		host := st.Requests - st.Errors[Generator]
		failed := st.Failed() - st.Errors[Generator]
		if failed < smallFailed || host == 0 || float64(failed)/float64(host) <= a.SLO.MaxErrorRatio {
			continue
		}
		if out == nil {
			out = make([]string, len(s.states))
		}
		copy(out[sp.StartIndex:min(sp.EndIndex, len(out))], s.states[sp.StartIndex:min(sp.EndIndex, len(out))])
	}
	return out
}

// mergeEndpoints marks a window violated when an endpoint with at least
// minShare of the requests violated the SLO in it, or a smaller one in a
// stretch where it failed smallFailed requests or more (smallBroken).
func (a *Analysis) mergeEndpoints() {
	var total uint64
	for i := range a.W.W {
		total += a.W.W[i].Total.Requests
	}
	for _, s := range a.Endpoints {
		states := s.states
		if float64(s.Requests) < minShare*float64(total) {
			// A small endpoint's windows hold a request or two: one
			// failure fails a window. Its failures count only over its
			// own failing stretches (longer than the grace) with
			// smallFailed failures or more: a checkout at 0.5% of the
			// requests failing most of its orders breaks the SLO.
			states = a.smallBroken(s)
			if states == nil {
				continue
			}
		}
		for i, st := range states {
			j := &a.Windows[i]
			if st != Violated || j.State == Behind || j.State == Idle {
				continue
			}
			j.State = Violated
			if len(s.why[i]) > 0 {
				j.Why = append(j.Why, s.Name+": "+strings.Join(s.why[i], " and "))
			}
		}
	}
}

func firstBroken(ss []Series) *Series {
	var first *Series
	for i := range ss {
		s := &ss[i]
		if s.BrokeAt < 0 || s.Requests == 0 {
			continue
		}
		// Endpoints that break in the same window: the one furthest past
		// the SLO then failed first.
		if first == nil || s.BrokeAt < first.BrokeAt || s.BrokeAt == first.BrokeAt && s.severity > first.severity {
			first = s
		}
	}
	return first
}

// shareOf is the share of the offered requests that goes to the series of
// endpoints matching in: the scenario's weights say how the mix splits the
// curve. It is 0 when unknown (plain vegeta files, "other" series): the
// series' offered count is then what it sent.
func (a *Analysis) shareOf(in func(Endpoint) bool) float64 {
	info := a.W.Info
	if info == nil {
		return 0
	}
	var total, part float64
	for _, e := range info.Scenario.Endpoints {
		total += e.Weight
	}
	for _, e := range a.W.Endpoints {
		if e.Other {
			if in(e) {
				return 0
			}
			continue
		}
		if in(e) {
			for _, se := range info.Scenario.Endpoints {
				if se.Name == e.Name {
					part += se.Weight
					break
				}
			}
		}
	}
	if total <= 0 {
		return 0
	}
	return part / total
}

// judgedP99 is the latency a window's p99 limit is held to: its p99 when
// it has 100 requests or more; with fewer, a p99 is its slowest request,
// so one slow request is forgiven and the second slowest is judged (a
// window of 24 requests, one a 2 s checkout, is not a host that broke),
// and a lone request is judged by the error limit alone.
func judgedP99(s *Stats) time.Duration {
	switch n := s.Latency.N; {
	case n <= 1:
		return 0
	case n < 100:
		return s.Latency.Quantile(float64(n-1) / float64(n))
	}
	return s.Latency.Quantile(.99)
}

// judgeSeries judges one series window by window on errors, p99 and
// throughput (against share·offered, or what it sent when share is 0).
func (a *Analysis) judgeSeries(e Endpoint, share float64, get func(*Window) *Stats) Series {
	ws := a.W
	s := Series{Endpoint: e, BrokeAt: -1}
	states := make([]string, len(ws.W))
	why := make([][]string, len(ws.W))
	severity := make([]float64, len(ws.W)) // how far past the SLO: 1 = at the limit
	for i := range ws.W {
		st := get(&ws.W[i])
		if st == nil || st.Requests == 0 {
			states[i] = Idle
			continue
		}
		s.Total.Merge(st)
		host := st.Requests - st.Errors[Generator]
		states[i] = Held
		if host > 0 {
			if er := float64(st.Failed()-st.Errors[Generator]) / float64(host); er > a.SLO.MaxErrorRatio {
				states[i] = Violated
				v, _ := cmpPct(er, a.SLO.MaxErrorRatio)
				why[i] = append(why[i], "errors "+v)
				severity[i] = max(severity[i], er/max(a.SLO.MaxErrorRatio, 1e-3))
			}
		}
		if p := judgedP99(st); a.SLO.P99 > 0 && p > a.SLO.P99 {
			states[i] = Violated
			v, _ := cmpLatency(p, a.SLO.P99)
			why[i] = append(why[i], "p99 "+v)
			severity[i] = max(severity[i], float64(p)/float64(a.SLO.P99))
		}
		// Against what was sent of this endpoint: the mix is drawn at
		// random, so its share of a window's schedule strays by chance
		// (some 50 pages in a 250 ms window stray by 7), which is not the
		// host's doing; the whole window's schedule is judged above.
		offered := float64(st.Requests)
		if ws.Info != nil && !ws.Info.Simulated {
			offered *= a.lagged(i, a.healthyLatency(i))
		}
		if a.SLO.MinThroughput > 0 && offered >= 1 && a.Windows[i].State != Behind && !a.Windows[i].GenBehind && !a.Windows[i].cut &&
			float64(st.DoneOK) < a.SLO.MinThroughput*offered-a.slack() {
			states[i] = Violated
			v, _ := cmpPct(float64(st.DoneOK)/offered, a.SLO.MinThroughput)
			why[i] = append(why[i], "achieved "+v+" of offered")
			severity[i] = max(severity[i], (1-float64(st.DoneOK)/offered)/max(1-a.SLO.MinThroughput, 1e-3))
		}
	}
	s.states, s.why = states, why
	sp := spans(ws, a.Windows, a.Grace, func(i int) string { return states[i] })
	if len(sp) > 0 {
		s.BrokeAt = sp[0].Start
		s.BrokeOffered = a.peakIn(sp[0].StartIndex)
		s.Why = why[sp[0].StartIndex]
		s.severity = severity[sp[0].StartIndex]
	}
	s.Requests, s.Failed, s.ErrorRatio = s.Total.Requests, s.Total.Failed(), s.Total.ErrorRatio()
	s.P50, s.P99, s.Max = s.Total.Latency.Quantile(.5), s.Total.Latency.Quantile(.99), s.Total.Latency.Quantile(1)
	return s
}

func (a *Analysis) generator() {
	for _, j := range a.Windows {
		if j.GenBehind && j.State != Idle {
			if a.GenBehindAt < 0 {
				a.GenBehindAt = j.Start
			}
			a.GenBehindUntil = j.Start + a.W.Width.Seconds()
		}
	}
	if a.GenBehindAt < 0 {
		return
	}
	// The generator is to blame when it fell behind at or before the
	// break (so what looked like the host failing may be the generator
	// not keeping up, and latencies from then on are understated), or
	// when it fell behind and the host never broke.
	a.GenBlamed = !a.Broke || a.GenBehindAt <= a.BreakAt+a.W.Width.Seconds()/2
}

func (a *Analysis) phases() {
	ws := a.W
	width := ws.Width.Seconds()
	type span struct {
		name, kind     string
		start, seconds float64
	}
	var ps []span
	if ws.Info != nil {
		for _, p := range ws.Info.Scenario.Curve.Spans() {
			ps = append(ps, span{p.Name, p.Kind, p.Start, p.Seconds})
		}
	}
	if len(ps) == 0 && len(a.Windows) > 0 {
		ps = []span{{"whole run", "", 0, a.Windows[len(a.Windows)-1].Start + width}}
	}
	for pi, p := range ps {
		row := PhaseRow{Name: p.name, Kind: p.kind, Start: p.start, Seconds: p.seconds, State: Idle}
		var st Stats
		whole := false
		endT := p.start + p.seconds
		if pi == len(ps)-1 {
			endT = math.Inf(1) // the tail after the curve ends belongs to the last phase
		}
		for i, j := range a.Windows {
			mid := j.Start + width/2
			if ws.Info != nil {
				mid = a.arrivalMid(i) // with the phase its traffic belongs to
			}
			if mid < p.start || mid >= endT {
				continue
			}
			if a.Broke && i == a.Spans[0].StartIndex {
				row.Began = true
			}
			st.Merge(&ws.W[i].Total)
			// Peaks from whole windows; slivers only when there are none.
			if !j.Partial && !whole {
				whole, row.PeakRPS, row.Achieved = true, 0, 0
			}
			if !j.Partial || !whole {
				row.PeakRPS = max(row.PeakRPS, a.peakIn(i))
				row.Achieved = max(row.Achieved, j.Achieved)
			}
			switch {
			case a.inSpan(i):
				row.State = "broke"
			case (j.State == Behind || j.GenBehind && j.State != Idle) && row.State != "broke":
				row.State = Behind
			case j.State != Idle && row.State == Idle:
				row.State = Held
			}
		}
		row.Requests, row.Failed, row.ErrorRatio = st.Requests, st.Failed(), st.ErrorRatio()
		row.P50, row.P99, row.Succeeded = st.Latency.Quantile(.5), st.Latency.Quantile(.99), st.Latency.N
		a.Phases = append(a.Phases, row)
	}
}

func (a *Analysis) inSpan(i int) bool {
	for _, s := range a.Spans {
		if i >= s.StartIndex && i < s.EndIndex {
			return true
		}
	}
	return false
}

func (a *Analysis) warnings() {
	ws := a.W
	a.Warnings = append(a.Warnings, ws.Warnings...)
	if ws.Dropped > 0 {
		a.Warnings = append(a.Warnings, fmt.Sprintf("%s results had timestamps too far from the rest to window and were left out", num(float64(ws.Dropped))))
	}
	if a.GenBehindAt >= 0 {
		a.Warnings = append(a.Warnings, fmt.Sprintf("the generator fell behind its schedule between %s and %s (sends lagged up to %s%s): rates there are below what the curve asked for and latencies are understated",
			fmtSec(a.GenBehindAt), fmtSec(a.GenBehindUntil), fmtLatency(a.MaxLag), a.unsentNote()))
	}
	if g := a.Total.Errors[Generator]; g > 0 {
		a.Warnings = append(a.Warnings, fmt.Sprintf("%s requests failed in the generator itself (out of file descriptors or local ports)", num(float64(g))))
	}
	if ws.Info != nil && ws.Info.Stopped != "" {
		a.Warnings = append(a.Warnings, "the run stopped early: "+ws.Info.Stopped)
	}
	if ws.Info != nil {
		for _, w := range ws.Info.Warnings {
			a.Warnings = append(a.Warnings, w)
		}
	}
	if a.Total.Requests == 0 {
		a.Warnings = append(a.Warnings, "no results to report")
	}
	if n := a.shortRun(); n != "" {
		a.Warnings = append(a.Warnings, n+": a break needs a longer failing stretch than that, unless the SLO never held")
	}
	if ws.Info != nil && ws.Info.Shards > 1 && len(ws.Shards) < ws.Info.Shards && !missingNoted(ws.Warnings) {
		// (A note naming the shards missing says it already.)
		a.Warnings = append(a.Warnings, fmt.Sprintf("only %d of %d shards' results were given: figures cover those shards", len(ws.Shards), ws.Info.Shards))
	}
}

func (a *Analysis) unsentNote() string {
	if a.Unsent >= 1 {
		return fmt.Sprintf("; %s requests never sent", num(a.Unsent))
	}
	return ""
}

// verdict is the one-sentence answer.
func (a *Analysis) verdict() string {
	if a.Total.Requests == 0 {
		if info := a.W.Info; info != nil && info.Abandoned > 0 {
			return fmt.Sprintf("Incomplete: %s sent %s requests, and the run was stopped at once (a second Ctrl-C) before any came back: nothing to judge (none answered within %s).",
				a.W.Info.Tool, num(float64(info.Abandoned)), fmtSec(info.End.Sub(info.Start).Seconds()))
		}
		return a.Name + " was not tested: there are no results."
	}
	var b strings.Builder
	lower := strings.ToLower(a.Name[:1]) + a.Name[1:]
	if a.Kind == KindUnreachable {
		if a.heldBefore(a.DownAt) == 0 {
			fmt.Fprintf(&b, "Nothing answered at %s (%s) from the start of the run: is the server running? This is not a capacity result: no request got an answer", a.targetName(), a.DownWhat)
			if a.DownAt > a.firstSent() {
				fmt.Fprintf(&b, " from %s on", fmtSec(a.DownAt))
			}
			b.WriteString(".")
		} else {
			fmt.Fprintf(&b, "%s held the SLO at up to %s, then stopped answering at %s (%s for nearly every request from then on): did the server go down? This is not a capacity break.",
				a.Name, rps(a.heldBefore(a.DownAt)), fmtSec(a.DownAt), a.DownWhat)
		}
		b.WriteString(a.shortNote())
		return b.String()
	}
	if a.GenBlamed {
		fmt.Fprintf(&b, "The generator fell behind its schedule %s into the run (sends lagged up to %s%s), so this run cannot say where %s breaks",
			fmtSec(a.GenBehindAt), fmtLatency(a.MaxLag), a.unsentNote(), lower)
		if a.Broke {
			fmt.Fprintf(&b, "; the SLO failed from %s at %s offered (%s)", fmtSec(a.BreakAt), rps(a.BreakOffered), a.briefWhy())
		} else {
			fmt.Fprintf(&b, "; until then it held the SLO at up to %s", rps(a.heldBefore(a.GenBehindAt)))
		}
		b.WriteString(": rerun with more workers or shards.")
		b.WriteString(a.shortNote())
		return b.String()
	}
	if !a.Broke {
		if a.Kind == KindIncomplete {
			// A run that did not see its whole curve cannot say the host
			// holds it.
			held := a.Capacity // the highest rate held in a whole window
			if held == 0 {
				held = a.PeakOffered
			}
			fmt.Fprintf(&b, "Incomplete: %s, so it does not show that %s holds the curve; until then it held the SLO at up to %s, p99 ≤ %s",
				a.Incomplete, lower, rps(held), fmtLatency(a.PeakP99))
		} else {
			fmt.Fprintf(&b, "%s held the SLO through the whole curve: peak %s, p99 ≤ %s", a.Name, rps(a.PeakOffered), fmtLatency(a.PeakP99))
		}
		if a.MaxErrorRatio > 0 {
			fmt.Fprintf(&b, ", %s of requests failed (worst window %s)", pct(a.HostFailed), pct(a.MaxErrorRatio))
		}
		if a.violated() {
			fmt.Fprintf(&b, " (no failing stretch outlasted the %s)", a.graceText())
		}
		if a.First != nil {
			// An endpoint can fail on its own while the whole holds: too
			// small a share to count, or failing across windows where the
			// rest held.
			fmt.Fprintf(&b, "; but %s failed its own SLO from %s", a.First.Name, fmtSec(a.First.BrokeAt))
		}
		b.WriteString(".")
		b.WriteString(a.shortNote())
		return b.String()
	}
	when := a.breakWhen()
	if a.Capacity == 0 {
		when = "from the start"
	}
	switch {
	case a.NotOfLoad && a.UnderLoad != nil:
		l := a.UnderLoad
		fmt.Fprintf(&b, "%s failed the SLO %s at %s by failures that come at any rate, not of load (%s); left aside, it broke under load %s at %s (capacity %s)",
			a.Name, when, rps(a.BreakOffered), a.briefWhy(), l.When, rps(l.Offered), a.bandText())
	case a.NotOfLoad:
		fmt.Fprintf(&b, "%s failed the SLO %s at %s by failures that come at any rate, not of load (%s): not its capacity (%s)",
			a.Name, when, rps(a.BreakOffered), a.briefWhy(), a.bandText())
	case a.Capacity == 0:
		fmt.Fprintf(&b, "%s failed the SLO from the start, at %s (%s)", a.Name, rps(a.BreakOffered), a.briefWhy())
	case a.HeldLater:
		fmt.Fprintf(&b, "%s failed the SLO %s at %s, answering next to nothing, and held more than that later: not its capacity (%s) but an outage or a fault at the host (%s)",
			a.Name, when, rps(a.BreakOffered), a.bandText(), a.briefWhy())
	case a.AtHeldRate:
		fmt.Fprintf(&b, "%s failed the SLO %s at %s, a rate it had held before: not its capacity (%s) but an outage or a fault at the host (%s)",
			a.Name, when, rps(a.BreakOffered), a.bandText(), a.briefWhy())
	case a.Throttled && a.FellFrom > 0:
		fmt.Fprintf(&b, "%s failed the SLO %s at %s, a rate it had held for %s: a rate limiter (http 429) whose burst allowance ran out; from then it served a steady %s of the mix, its capacity (%s)",
			a.Name, when, rps(a.BreakOffered), fmtSec(a.HeldSecs), rps(a.Served), a.bandText())
	case a.Throttled:
		fmt.Fprintf(&b, "%s broke %s at %s: a rate limiter (http 429) whose burst allowance ran out; from then it served a steady %s of the mix, its capacity (%s)",
			a.Name, when, rps(a.BreakOffered), rps(a.Served), a.bandText())
	case a.FellFrom > 0:
		how := "its capacity fell (a burst allowance running out, a throttle)"
		if !a.FellSteady {
			how = "a queue, filling while its latency grew, had hidden its capacity"
		}
		fmt.Fprintf(&b, "%s failed the SLO %s at %s, a rate it had held for %s; from then it served %s of the mix (capacity %s): %s (%s)",
			a.Name, when, rps(a.BreakOffered), fmtSec(a.HeldSecs), rps(a.Served), a.bandText(), how, a.briefWhy())
	case a.brokeBeforeSaturated():
		fmt.Fprintf(&b, "%s broke %s at %s, before it was saturated: it served %s of the mix while saturated later, about its capacity; the SLO failed at the lower rate (%s)",
			a.Name, when, rps(a.BreakOffered), rps(a.SaturatedAt), a.briefWhy())
	default:
		fmt.Fprintf(&b, "%s broke %s at %s (capacity %s)", a.Name, when, rps(a.BreakOffered), a.bandText())
		if a.SaturatedAt > 0 && a.SaturatedAt < a.CapacityLo {
			// Past its capacity it served less than it: a queue with
			// timeouts, retries, thrashing.
			fmt.Fprintf(&b, "; overloaded, it served only %s of the mix", rps(a.SaturatedAt))
		}
	}
	if a.Gate == GateShare {
		fmt.Fprintf(&b, ": %s of all requests failed, above the SLO's %s, though no failing stretch outlasted the %s",
			pct(a.HostFailed), pct(a.SLO.MaxErrorRatio), a.graceText())
	}
	if a.First != nil {
		fmt.Fprintf(&b, "; %s failed first", a.First.Name)
	}
	if a.Scaled {
		fmt.Fprintf(&b, "; it scaled up to about %s", rps(a.ScaledTo))
		if a.ScaleSecs >= 0 {
			fmt.Fprintf(&b, ", holding the SLO again %s after the break", fmtSec(a.ScaleSecs))
		}
		fmt.Fprintf(&b, ", and lost %s requests while scaling", num(float64(a.LostScaling)))
	}
	if a.Total.Latency.N == 0 {
		fmt.Fprintf(&b, "; not one request succeeded (%s)", a.failedWhat())
	} else {
		fmt.Fprintf(&b, "; p99 peaked at %s; %s of requests failed at the peak", fmtLatency(a.PeakP99), pct(a.PeakErrorRatio))
	}
	switch {
	case a.DownAt >= 0:
		fmt.Fprintf(&b, "; from %s nothing answered (%s): the server went down", fmtSec(a.DownAt), a.DownWhat)
	case a.RecoveredAt >= 0 && (a.AtHeldRate || a.NotOfLoad):
		fmt.Fprintf(&b, "; it held the SLO again from %s", fmtSec(a.RecoveredAt))
	case a.RecoveredAt >= 0 && (a.FellBelowAt < 0 || a.RecoveredAt < a.FellBelowAt):
		fmt.Fprintf(&b, "; it recovered at %s, while traffic was still at or above capacity", fmtSec(a.RecoveredAt))
	case a.Recovery >= 0 && a.Recovery < a.W.Width.Seconds():
		b.WriteString("; it recovered as soon as traffic fell below capacity")
	case a.Recovery >= 0:
		fmt.Fprintf(&b, "; it recovered %s after traffic fell below capacity", fmtSec(a.Recovery))
	case a.Incomplete != "":
		fmt.Fprintf(&b, "; %s before it recovered", a.Incomplete)
	case a.AtHeldRate || a.NotOfLoad:
		b.WriteString("; the SLO was still broken at the end")
	case a.FellBelowAt < 0 && (a.W.Info == nil || a.Capacity == 0):
		b.WriteString("; the results end with the SLO still broken")
	case a.FellBelowAt < 0:
		b.WriteString("; traffic never fell back below capacity")
	default:
		fmt.Fprintf(&b, "; it had not recovered by the end, %s after traffic fell below capacity", fmtSec(a.W.StartSec(len(a.W.W)-1)+a.W.Width.Seconds()-a.FellBelowAt))
	}
	b.WriteString(".")
	if a.GenBehindAt >= 0 {
		fmt.Fprintf(&b, " The generator fell behind later, from %s: figures after that understate the load.", fmtSec(a.GenBehindAt))
	}
	b.WriteString(a.shortNote())
	return b.String()
}

// heldBefore is the highest offered rate that held in a whole window
// starting before t.
func (a *Analysis) heldBefore(t float64) float64 {
	held := 0.0
	for _, j := range a.Windows {
		if j.State == Held && !j.Partial && j.Start < t {
			held = max(held, j.Offered)
		}
	}
	return held
}

// firstSent is the start of the first window requests were sent in.
func (a *Analysis) firstSent() float64 {
	for _, j := range a.Windows {
		if j.Requests > 0 {
			return j.Start
		}
	}
	return 0
}

// targetName is the host requests went to: "127.0.0.1:8080".
func (a *Analysis) targetName() string {
	if info := a.W.Info; info != nil && info.Target != "" {
		if u, err := url.Parse(info.Target); err == nil && u.Host != "" {
			return u.Host
		}
		return info.Target
	}
	return "the target"
}

// graceText names the grace the windows were judged with: "10 s grace",
// or under compression "10 s grace (1 s of this 2,000× run)".
func (a *Analysis) graceText() string {
	g := fmtSec(a.SLO.Grace.Seconds()) + " grace"
	if a.Grace != a.SLO.Grace {
		k := 1.0
		if info := a.W.Info; info != nil && info.Scenario != nil {
			k = info.Scenario.Compress
		}
		g += fmt.Sprintf(" (%s of this %s× run)", fmtSec(a.Grace.Seconds()), num(k))
	}
	return g
}

// violated reports whether any window broke the SLO.
// violatedTop is the highest offered rate of a window that failed the
// SLO (forgiven or not), 0 when none did.
func (a *Analysis) violatedTop() float64 {
	top := 0.0
	for _, j := range a.Windows {
		if j.State == Violated {
			top = max(top, j.Offered)
		}
	}
	return top
}

func (a *Analysis) violated() bool {
	for _, j := range a.Windows {
		if j.State == Violated {
			return true
		}
	}
	return false
}

// shortRun is the note on a run shorter than the grace period: its
// failing windows cannot outlast the grace, so it breaks only when the SLO
// never held.
func (a *Analysis) shortRun() string {
	if a.Total.Requests == 0 || a.JudgedSecs >= a.Grace.Seconds() {
		return ""
	}
	return fmt.Sprintf("only %s of traffic was judged, less than the %s period", fmtSec(a.JudgedSecs), a.graceText())
}

func (a *Analysis) shortNote() string {
	note := ""
	if n := a.shortRun(); n != "" {
		note = " Note: " + n + "."
	}
	if info := a.W.Info; info != nil && info.Abandoned > 0 {
		note += fmt.Sprintf(" %s more requests were in flight, unanswered, when the run was stopped at once: they are not in these figures.", num(float64(info.Abandoned)))
	}
	return note
}

// briefWhy is what broke the SLO at the break, short enough for the
// verdict: the whole's reasons, the first failing endpoint's (or the first
// listed), and how many more endpoints failed then. The break fact and
// the tables have the full list.
func (a *Analysis) briefWhy() string {
	if !a.Broke {
		return ""
	}
	j := a.Windows[a.Spans[0].StartIndex]
	own, eps := j.Why[:min(j.own, len(j.Why))], j.Why[min(j.own, len(j.Why)):]
	parts := []string{}
	if len(own) > 0 {
		parts = append(parts, strings.Join(own, ", "))
	}
	if len(eps) > 0 {
		k := 0
		if a.First != nil {
			for i, e := range eps {
				if strings.HasPrefix(e, a.First.Name+": ") {
					k = i
					break
				}
			}
		}
		parts = append(parts, a.withCommonestFailure(j.Start, eps[k]))
		if n := len(eps) - 1; n == 1 {
			parts = append(parts, "and 1 more endpoint")
		} else if n > 1 {
			parts = append(parts, fmt.Sprintf("and %d more endpoints", n))
		}
	}
	return strings.Join(parts, "; ")
}

// withCommonestFailure adds to a window-judgement line about an endpoint's
// errors ("big page: errors 100% and achieved 0% of offered") how most of
// its failed requests failed in the window starting at start: "big page:
// errors 100% (http 403) and …". Other lines are returned as they are.
func (a *Analysis) withCommonestFailure(start float64, why string) string {
	name, rest, ok := strings.Cut(why, ": ")
	if !ok || !strings.HasPrefix(rest, "errors ") {
		return why
	}
	i := a.windowAt(start)
	for k, e := range a.W.Endpoints {
		if e.Name != name || i < 0 || k >= len(a.W.W[i].Endpoints) {
			continue
		}
		st := &a.W.W[i].Endpoints[k]
		ks := counts(st.Kinds(), st.Failed())
		if len(ks) == 0 {
			break
		}
		figure, tail, _ := strings.Cut(rest[len("errors "):], " ")
		if tail != "" {
			tail = " " + tail
		}
		return name + ": errors " + figure + " (" + ks[0].Name + ")" + tail
	}
	return why
}

// bandText prints the capacity band: "1,120–1,180 req/s".
func (a *Analysis) bandText() string {
	if math.IsInf(a.CapacityHi, 1) && a.CapacityLo == 0 {
		return "not measured"
	}
	if math.IsInf(a.CapacityHi, 1) {
		return "at least " + rps(a.CapacityLo)
	}
	lo, hi := math.Round(a.CapacityLo), math.Round(a.CapacityHi)
	if a.CapacityLo == 0 {
		return "below " + rps(a.CapacityHi) // no rate offered held
	}
	if lo == hi {
		return rps(a.CapacityLo)
	}
	return num(lo) + "–" + rps(hi)
}

// brokeBeforeSaturated reports whether the host served more of the mix
// while saturated (SaturatedAt) than the band's top: the SLO failed on the
// way up (an endpoint's throughput lagging a steep climb, a burst of
// errors), below what the host can serve.
func (a *Analysis) brokeBeforeSaturated() bool {
	return a.Broke && a.SaturatedAt > a.CapacityHi && !math.IsInf(a.CapacityHi, 1)
}

// bandKnown reports whether the run found a capacity band with a top: it
// broke, not at a rate it had held before (AtHeldRate), nor before it was
// saturated.
func (a *Analysis) bandKnown() bool {
	return a.Broke && !math.IsInf(a.CapacityHi, 1) && !a.brokeBeforeSaturated()
}

// SLOHeld reports whether the SLO held over the whole curve: only a
// complete run that did not break holds.
func (a *Analysis) SLOHeld() bool { return a.Kind == KindHeld }

// Judgement of a window by time, for plots: index of the window starting at
// or before t.
func (a *Analysis) windowAt(t float64) int {
	i := sort.Search(len(a.Windows), func(i int) bool { return a.Windows[i].Start > t })
	return max(i-1, 0)
}

// breakWhen says when the break came: "26 s into the "article lands"
// phase", or into the run when the curve has no phase names.
func (a *Analysis) breakWhen() string {
	if a.BreakPhase == "" {
		return fmtSec(a.BreakAt) + " into the run"
	}
	if a.BreakInPhase < a.W.Width.Seconds() {
		return "at the start of the \"" + a.BreakPhase + "\" phase"
	}
	return fmtSec(a.BreakInPhase) + " into the \"" + a.BreakPhase + "\" phase"
}

// failedWhat says how a run's requests failed, the commonest ways first
// (at most three): "all 500 failed: http 503", "1,200 failed: reset 70%,
// garbage 30%".
func (a *Analysis) failedWhat() string {
	f := a.Total.Failed()
	ks := counts(a.ErrorCounts(), f) // commonest first
	head := num(float64(f)) + " failed"
	if f == a.Total.Requests {
		head = "all " + head
	}
	if len(ks) == 1 {
		if ks[0].Name == Garbage.String() {
			return head + ": the answers were not HTTP; is the URL's scheme (http or https) or port right?"
		}
		return head + ": " + ks[0].Name
	}
	var parts []string
	for k, c := range ks {
		if k == 3 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, c.Name+" "+pct(float64(c.N)/float64(max(f, 1))))
	}
	return head + ": " + strings.Join(parts, ", ")
}

// stoppedAt is when sending stopped early, in seconds from t = 0: a run
// stopped (when it stopped sending; for runs before that was recorded,
// its end), or results cut short; +Inf when neither.
func (a *Analysis) stoppedAt() float64 {
	at := math.Inf(1)
	if info := a.W.Info; info != nil && info.Stopped != "" {
		switch {
		case !info.StoppedAt.IsZero():
			at = info.StoppedAt.Sub(info.Start).Seconds()
		case !info.End.IsZero():
			at = info.End.Sub(info.Start).Seconds()
		}
	}
	if a.CutAt >= 0 {
		// Past the end of cut results, nothing is known: not a shortfall.
		at = min(at, a.CutAt)
	}
	return at
}
