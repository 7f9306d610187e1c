package main

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/attack"
	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// Capacity search (--find-capacity): after the curve, a short staircase of
// steady probes around the capacity the run estimated, each probe a rate
// held for --probe, judged on its second half (the first half lets a queue
// fill). Bisection between the highest rate that held and the lowest that
// broke stops when they are within findCapTolerance of each other.
const (
	findCapTolerance = 0.05
	findCapMaxProbes = 8
	findCapPause     = 2 * time.Second // idle between probes, so a queue drains
)

// findStart is the first probe's rate and where it came from: the middle
// of a broken run's capacity band, or above the peak of a run that held.
func findStart(a *report.Analysis) (float64, string, error) {
	switch {
	case a.Kind == report.KindUnreachable:
		return 0, "", errors.New("the target stopped answering during the run: no capacity to search around")
	case a.Broke && a.CapacityLo > 0 && !math.IsInf(a.CapacityHi, 1) && a.CapacityHi > 0:
		return (a.CapacityLo + a.CapacityHi) / 2, fmt.Sprintf("the run's band %s–%s", report.FormatRate(a.CapacityLo), report.FormatRate(a.CapacityHi)), nil
	case a.Broke && a.BreakOffered > 0:
		return a.BreakOffered, "the rate offered at the break, " + report.FormatRate(a.BreakOffered), nil
	case !a.Broke && a.PeakOffered > 0 && a.Kind == report.KindHeld:
		return 1.25 * a.PeakOffered, "above the peak the run held, " + report.FormatRate(a.PeakOffered), nil
	}
	return 0, "", fmt.Errorf("the run did not reach a verdict to search around (%s)", a.Kind)
}

// nextProbe is the next rate after n probes, and why to stop ("" to go
// on). Until a probe has held and one has broken, it steps away from the
// start by 20%, 50%, then doubling (or 15%, 30%, then halving); then it
// bisects.
func nextProbe(start, held, broke float64, n int) (float64, string) {
	switch {
	case n >= findCapMaxProbes:
		return 0, fmt.Sprintf("after %d probes", n)
	case held > 0 && !math.IsInf(broke, 1) && (broke-held)/held <= findCapTolerance:
		return 0, fmt.Sprintf("bracketed within %.0f%%", 100*findCapTolerance)
	case held == 0 && math.IsInf(broke, 1):
		return start, ""
	case held == 0:
		return []float64{0.85, 0.7, 0.5}[min(n, 3)-1] * broke, ""
	case math.IsInf(broke, 1):
		return []float64{1.2, 1.5, 2}[min(n, 3)-1] * held, ""
	}
	return (held + broke) / 2, ""
}

// findCapacity runs the search after a run of s with options base, whose
// report is a, and writes its result into base.Out.
// Probes never exceed maxRate (when > 0, the --max-rate cap).
func findCapacity(e *env, base attack.Options, s *scenarios.Scenario, a *report.Analysis, slo scenarios.SLO, probe time.Duration, maxRate float64, quiet bool) (*report.Search, error) {
	start, from, err := findStart(a)
	if err != nil {
		return nil, err
	}
	cs := &report.Search{Start: math.Round(start), From: from, ProbeS: probe.Seconds(), JudgedS: probe.Seconds() / 2}
	held, broke := 0.0, math.Inf(1)
	for n := 0; ; n++ {
		r, stop := nextProbe(start, held, broke, n)
		if stop != "" {
			cs.Stopped = stop
			break
		}
		r = math.Round(r)
		if maxRate > 0 && r >= maxRate {
			if held >= maxRate {
				cs.Stopped = "held at the --max-rate cap"
				break
			}
			r = maxRate
		}
		if e.ctx.Err() != nil {
			cs.Stopped = "interrupted"
			break
		}
		if n > 0 {
			select {
			case <-time.After(findCapPause):
			case <-e.ctx.Done():
			}
		}
		p, err := runProbe(e, base, s, slo, r, probe, filepath.Join(base.Out, report.SearchDir, fmt.Sprintf("probe-%d", n+1)))
		if err != nil {
			return cs, err
		}
		if p == nil { // interrupted
			cs.Stopped = "interrupted"
			break
		}
		cs.Probes = append(cs.Probes, *p)
		if !quiet {
			state := "held"
			if !p.Held {
				state = "broke: " + p.Why
			}
			fmt.Fprintf(e.stderr, "flashcrowd run: capacity probe %d: %s for %s: %s\n", n+1, report.FormatRate(r), scenarios.FormatDuration(probe), state)
		}
		if p.Held && r >= broke || !p.Held && r <= held {
			cs.Stopped = fmt.Sprintf("the probes disagree (held at %s, broke at %s): the host's capacity moved during the search (autoscaling, a neighbour, noise)",
				report.FormatRate(math.Max(held, r)), report.FormatRate(math.Min(broke, r)))
		}
		if p.Held {
			held = math.Max(held, r)
		} else {
			broke = math.Min(broke, r)
		}
		if cs.Stopped != "" {
			break
		}
	}
	if held > 0 {
		cs.HeldRPS = &held
	}
	if !math.IsInf(broke, 1) {
		cs.BrokeRPS = &broke
	}
	switch {
	case held > 0 && !math.IsInf(broke, 1) && held < broke:
		w := math.Round(1000*(broke-held)/held) / 10
		cs.WidthPct = &w
		cs.Statement = fmt.Sprintf("Capacity %s–%s (%.0f%% wide): the host held %s steadily and broke at %s.",
			report.FormatRate(held), report.FormatRate(broke), w, report.FormatRate(held), report.FormatRate(broke))
	case held > 0 && math.IsInf(broke, 1):
		cs.Statement = fmt.Sprintf("Capacity ≥ %s: no probe broke the host.", report.FormatRate(held))
	case held == 0 && !math.IsInf(broke, 1):
		cs.Statement = fmt.Sprintf("Capacity < %s: every probe broke the host.", report.FormatRate(broke))
	default:
		cs.Statement = "No capacity found: no probe ran to its end."
	}
	if held > 0 && !math.IsInf(broke, 1) && held >= broke {
		cs.Statement = "No steady capacity: " + cs.Stopped + "."
	}
	return cs, writeCapSearch(e, base.Out, cs)
}

// runProbe sends rate r for d into dir and judges it; nil when interrupted
// before its end.
func runProbe(e *env, base attack.Options, s *scenarios.Scenario, slo scenarios.SLO, r float64, d time.Duration, dir string) (*report.Probe, error) {
	curve, err := scenarios.ParseCurve("probe", fmt.Sprintf("probe: hold %s for %s", scenarios.Rate(r), scenarios.FormatDuration(d)), nil)
	if err != nil {
		return nil, err
	}
	// A probe is a steady rate of requests: page views go as their mix.
	rs, err := s.AsRequests()
	if err != nil {
		return nil, err
	}
	ps := *rs
	ps.Name, ps.Curve, ps.Compress, ps.Abort = s.Name+"-probe", curve, 1, nil
	o := base
	o.Scenario, o.Out, o.Abort, o.NoAbort = &ps, dir, nil, true
	o.Progress, o.Live, o.Meter, o.StartAt = nil, false, nil, time.Time{}
	width := d / 10 // 1 s windows for the default 10 s probe
	var folder *report.Folder
	o.Started = func(info *scenarios.RunInfo) { folder = report.NewFolder(info, width) }
	sum, err := attack.Run(e.ctx, e.hard, o, func(res *vegeta.Result) { folder.Add(res) })
	if err != nil {
		return nil, err
	}
	if folder == nil || strings.HasPrefix(sum.Stopped, "interrupted") {
		return nil, nil
	}
	if err := folder.Save(dir); err != nil {
		return nil, err
	}
	return judgeProbe(report.Analyze(folder.Windows(), slo), slo, r, d, width, dir), nil
}

// judgeProbe judges a probe on the second half of its windows, pooled
// (the first half lets a queue fill): the host's error ratio, the worst
// window's p99 of successes, and the successes completed against the
// requests offered, each against the SLO. Pooling over the half, rather
// than judging each window, keeps a steady rate near the capacity from
// breaking on one window's counting noise; a rate above it fills the
// queue, and then fails requests or waits past the p99 limit in every
// window.
func judgeProbe(a *report.Analysis, slo scenarios.SLO, r float64, d, width time.Duration, dir string) *report.Probe {
	p := &report.Probe{Rate: r, Dir: dir}
	var failed, n uint64
	var achieved, offered float64
	var p99 time.Duration
	windows, behind := 0, false
	half := d.Seconds() / 2
	for _, j := range a.Windows {
		if j.Start < half-1e-9 || j.Start >= d.Seconds()-1e-9 || j.State == report.Idle {
			continue
		}
		windows++
		n += j.Requests
		failed += j.Failed
		achieved += j.Achieved * width.Seconds()
		offered += j.Offered * width.Seconds()
		p99 = max(p99, j.P99)
		behind = behind || j.GenBehind
	}
	p.P99MS = float64(p99) / 1e6
	if windows > 0 {
		p.Achieved = math.Round(achieved/(float64(windows)*width.Seconds())*10) / 10
	}
	if n > 0 {
		p.ErrorRatio = float64(failed) / float64(n)
	}
	var why []string
	switch {
	case n == 0:
		why = append(why, "nothing sent in the judged half")
	case behind:
		why = append(why, "the generator fell behind")
	default:
		if p.ErrorRatio > slo.MaxErrorRatio {
			why = append(why, fmt.Sprintf("errors %.1f%% > %.1f%%", 100*p.ErrorRatio, 100*slo.MaxErrorRatio))
		}
		if slo.P99 > 0 && p99 > slo.P99 {
			why = append(why, fmt.Sprintf("p99 %s > %s", scenarios.FormatDuration(p99), scenarios.FormatDuration(slo.P99)))
		}
		if slo.MinThroughput > 0 && achieved < slo.MinThroughput*offered-2 {
			why = append(why, fmt.Sprintf("achieved %.0f%% < %.0f%% of offered", 100*achieved/offered, 100*slo.MinThroughput))
		}
	}
	p.Held, p.Why = len(why) == 0, strings.Join(why, ", ")
	return p
}

// writeCapSearch prints the search's table and writes find-capacity.json.
func writeCapSearch(e *env, dir string, cs *report.Search) error {
	fmt.Fprintf(e.stdout, "\nCapacity search\n%s\n", cs.Heading())
	h, rows := cs.Rows()
	t := tablewriter.NewTable(e.stdout, tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: []tw.Align{tw.AlignRight, tw.AlignRight, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft}}),
		tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAutoWrap(tw.WrapNone))
	t.Header(h)
	for _, r := range rows {
		t.Append(r)
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s (search ended: %s; probes in %s)\n", cs.Statement, cs.Stopped, filepath.Join(dir, report.SearchDir))
	return report.WriteSearch(dir, cs)
}
