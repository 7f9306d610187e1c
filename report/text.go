package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// sloText prints an SLO for people: "p99 ≤ 800 ms, errors ≤ 1%, throughput ≥ 95%, grace 5 s".
func sloText(s scenarios.SLO) string {
	parts := []string{}
	if s.P99 > 0 {
		parts = append(parts, "p99 ≤ "+fmtLatency(s.P99))
	}
	parts = append(parts, "errors ≤ "+pct(s.MaxErrorRatio))
	if s.MinThroughput > 0 {
		parts = append(parts, "throughput ≥ "+pct(s.MinThroughput)+" of offered")
	}
	g := "grace " + fmtSec(s.Grace.Seconds())
	if s.RunGrace {
		g += " of run time"
	}
	parts = append(parts, g)
	return strings.Join(parts, ", ")
}

// graceFact says how the grace was applied under compression: "10 s of
// the story = 5 ms at 2,000×, judged as 1 s …".
func (a *Analysis) graceFact() string {
	if a.Grace == a.SLO.Grace || a.W.Info == nil || a.W.Info.Scenario == nil {
		return ""
	}
	k := a.W.Info.Scenario.Compress
	scaled := time.Duration(float64(a.SLO.Grace) / k)
	f := fmt.Sprintf("%s of the story = %s of this run at %s×", fmtSec(a.SLO.Grace.Seconds()), fmtLatency(scaled), num(k))
	if a.Grace != scaled {
		f += fmt.Sprintf(", judged as %s (the shortest a run judges: one second or one window, the longer): a failing stretch longer than that breaks", fmtSec(a.Grace.Seconds()))
	}
	return f + "; over the run, failed requests may not exceed the error limit"
}

// Facts are the key figures as label/value lines, shared by the text,
// Markdown and HTML outputs.
func (a *Analysis) Facts() [][2]string {
	var out [][2]string
	add := func(k, v string) { out = append(out, [2]string{k, v}) }
	ws := a.W
	if ws.Info != nil {
		s := ws.Info.Scenario
		sc := s.Name
		if s.Compress > 0 && s.Compress != 1 {
			sc += fmt.Sprintf(" (compressed %g×)", s.Compress)
		}
		add("scenario", sc)
		tg := ws.Info.Target
		switch {
		case ws.Info.Simulated:
			tg = fmt.Sprintf("none: the %s plan's model, simulated (flashcrowd simulate, seed %d; no request was sent)", ws.Info.Plan, ws.Info.Seed)
		case ws.Info.Plan != "":
			tg += " (simulated " + ws.Info.Plan + " plan)"
		}
		add("target", tg)
	} else {
		add("input", strings.Join(ws.Sources, ", "))
	}
	add("SLO", sloText(a.SLO)+fmt.Sprintf("; windows of %s", fmtSec(ws.Width.Seconds())))
	if g := a.graceFact(); g != "" {
		add("grace", g)
	}
	req := fmt.Sprintf("%s sent, %s failed (%s)", num(float64(a.Total.Requests)), num(float64(a.Total.Failed())), pct(a.Total.ErrorRatio()))
	if a.Unsent >= 1 {
		req += fmt.Sprintf(", %s due but never sent", num(a.Unsent))
	}
	add("requests", req)
	switch a.Kind {
	case KindIncomplete:
		if a.GenBlamed {
			add("incomplete", a.Incomplete+", so the host was not sent its whole curve: this run cannot show that it holds")
		} else {
			add("incomplete", a.Incomplete+": a run that did not cover its whole curve cannot show that the SLO holds")
		}
	case KindUnreachable:
		add("unreachable", fmt.Sprintf("from %s nothing answered at %s (%s)", fmtSec(a.DownAt), a.targetName(), a.DownWhat))
	}
	if a.Broke && a.Kind != KindUnreachable { // a server that went down is no capacity result
		why := strings.Join(a.BreakWhy, "; ")
		if a.Gate == GateShare {
			why += fmt.Sprintf(" (decided by the share of failed requests: %s of all requests, above the %s limit; no failing stretch outlasted the %s)",
				pct(a.HostFailed), pct(a.SLO.MaxErrorRatio), a.graceText())
		}
		add("break", fmt.Sprintf("at %s, %s offered: %s", fmtSec(a.BreakAt), rps(a.BreakOffered), why))
		held := fmt.Sprintf(" (highest rate held: %s)", rps(a.Capacity))
		switch {
		case a.NotOfLoad && a.UnderLoad != nil:
			held = fmt.Sprintf(" (with the failures that come at any rate left aside, taken as answers: it broke under load at %s, %s offered)", fmtSec(a.UnderLoad.At), rps(a.UnderLoad.Offered))
		case a.NotOfLoad && a.CapacityLo == 0:
			held = " (the failures that come at any rate hide it: fix them, or leave their endpoints out, and run again)"
		case a.NotOfLoad:
			held = " (the highest rate held, with the failures that come at any rate left aside)"
		case a.Served > 0:
			held = fmt.Sprintf(" (around the %s of the mix it served while saturated; highest rate held: %s)", rps(a.Served), rps(a.Capacity))
			if a.Capacity > a.CapacityHi {
				held = fmt.Sprintf(" (around the %s of the mix it served while saturated; it had held %s before the break, for a while)", rps(a.Served), rps(a.Capacity))
			}
			if a.Capacity == 0 {
				held = fmt.Sprintf(" (around the %s of the mix it served while saturated; no rate offered held)", rps(a.Served))
			}
			if a.FellFrom > 0 {
				held = fmt.Sprintf(" (around the %s of the mix it served steadily through the break; it had held %s for %s before)", rps(a.Served), rps(a.FellFrom), fmtSec(a.HeldSecs))
			}
		case a.CapacityLo > a.Capacity:
			held = fmt.Sprintf(" (the host served %s of the mix within the SLO's latency while saturated; the highest window rate that held was %s)", rps(a.CapacityLo), rps(a.Capacity))
		case a.Capacity == 0:
			held = " (no rate offered held)"
		}
		if a.MixShifted {
			held += "; a wide band: visitors whose earlier request failed sent no later ones (a page's assets, a journey's next steps), so what the host served was another mix than the scenario's and does not narrow it"
		}
		add("capacity", a.bandText()+held)
		switch {
		case a.SaturatedAt > a.CapacityHi:
			add("saturated", fmt.Sprintf("the host served %s of the mix while saturated, above the band: the SLO broke before the host was saturated", rps(a.SaturatedAt)))
		case a.SaturatedAt > 0:
			add("saturated", fmt.Sprintf("the host served %s of the mix while saturated, below the band", rps(a.SaturatedAt)))
		}
		switch {
		case (a.AtHeldRate || a.NotOfLoad) && a.RecoveredAt >= 0:
			add("recovery", fmt.Sprintf("the SLO held again from %s", fmtSec(a.RecoveredAt)))
		case a.AtHeldRate || a.NotOfLoad:
			add("recovery", "none by the end of the results")
		case a.RecoveredAt >= 0 && a.FellBelowAt >= 0 && a.RecoveredAt < a.FellBelowAt:
			add("recovery", fmt.Sprintf("at %s, while traffic was still above capacity (it fell below at %s)", fmtSec(a.RecoveredAt), fmtSec(a.FellBelowAt)))
		case a.RecoveredAt >= 0 && a.FellBelowAt < 0:
			add("recovery", fmt.Sprintf("at %s, while traffic was still at or above capacity (it never fell below)", fmtSec(a.RecoveredAt)))
		case a.Recovery >= 0:
			add("recovery", fmt.Sprintf("%s after traffic fell below capacity (at %s; SLO held again from %s)", fmtSec(a.Recovery), fmtSec(a.FellBelowAt), fmtSec(a.RecoveredAt)))
		case a.FellBelowAt < 0 && (ws.Info == nil || a.Capacity == 0):
			add("recovery", "none: the results end with the SLO still broken")
		case a.FellBelowAt < 0:
			add("recovery", "none: traffic never fell back below capacity")
		default:
			add("recovery", fmt.Sprintf("none by the end of the run (traffic fell below capacity at %s)", fmtSec(a.FellBelowAt)))
		}
		if a.Scaled {
			f := fmt.Sprintf("from %s to about %s", a.bandText(), rps(a.ScaledTo))
			if a.ScaleSecs >= 0 {
				f += fmt.Sprintf(", holding the SLO again %s after the break (while traffic was above the first capacity)", fmtSec(a.ScaleSecs))
			} else {
				f += ", but it did not hold the SLO again while traffic was above the first capacity"
			}
			f += fmt.Sprintf("; %s requests lost while scaling", num(float64(a.LostScaling)))
			add("scaled", f)
		}
		if len(a.Spans) > 1 {
			add("breaks", fmt.Sprintf("the SLO broke %d times", len(a.Spans)))
		}
	} else if a.Kind == KindUnreachable {
		if held := a.heldBefore(a.DownAt); held > 0 {
			add("capacity", fmt.Sprintf("at least %s (held until the server stopped answering; no capacity measured past that)", rps(held)))
		} else {
			add("capacity", "not measured: nothing answered")
		}
	} else if a.Total.Requests > 0 {
		why := " (the SLO held at every rate offered)"
		if top := a.violatedTop(); top > 0 {
			// Some windows failed, forgiven by the grace: the rates they
			// were offered did not "hold".
			why = fmt.Sprintf(" (the highest rate a whole window held; windows failed, within the grace, at up to %s)", rps(top))
		}
		add("capacity", a.bandText()+why)
	} else {
		add("capacity", "not measured: no requests")
	}
	if v := a.Visitors; v != nil && v.Interrupted > 0 {
		add("cut short", fmt.Sprintf("%s visits (page views or journeys) were under way when the run stopped: left out of the visitors' tables and shares", num(float64(v.Interrupted))))
	}
	if a.Search != nil {
		add("capacity search", fmt.Sprintf("%s (%d probes of %s; %s)", a.Search.Statement, len(a.Search.Probes), fmtSec(a.Search.ProbeS), a.Search.Stopped))
	}
	if n := a.shortRun(); n != "" {
		add("judged", n)
	}
	if a.First != nil {
		f := fmt.Sprintf("%s (%s) at %s, %s offered", a.First.Name, a.First.Class, fmtSec(a.First.BrokeAt), rps(a.First.BrokeOffered))
		if a.FirstCls != nil && a.FirstCls.Name != string(a.First.Class) {
			f += fmt.Sprintf("; class %s first", a.FirstCls.Name)
		}
		if a.Broke {
			add("first to fail", f)
		} else {
			add("failed own SLO", f+"; the whole held")
		}
	}
	if a.Total.Requests == 0 {
		return out
	}
	p99 := "p99 " + fmtLatency(a.PeakP99) + " at " + fmtSec(a.PeakP99At)
	if a.Total.Latency.N == 0 {
		p99 = "no request succeeded"
	}
	add("peak", fmt.Sprintf("%s offered, %s achieved; %s; %s of requests failed at the peak (worst window %s)",
		rps(a.PeakOffered), rps(a.PeakAchieved), p99, pct(a.PeakErrorRatio), pct(a.MaxErrorRatio)))
	if f := a.Total.Failed(); f > 0 && a.Total.FailLatency.N > 0 {
		add("failed latency", fmt.Sprintf("p50 %s, p99 %s over %s failed requests (every other latency here is of successful requests)",
			fmtLatency(a.FailedP50), fmtLatency(a.FailedP99), num(float64(f))))
	}
	if ws.Info != nil && !ws.Info.Simulated {
		add("send lag", "up to "+fmtLatency(a.MaxLag))
	}
	if ws.Info != nil && ws.Info.ResultsKept != "" && ws.Info.ResultsKept != "all" {
		// Windows count every result; only the raw results file is partial.
		add("raw results", ws.Info.ResultsKept+" kept in "+ws.Info.Results+" (these figures count every request)")
		if ws.Info.Results == "" {
			out[len(out)-1][1] = "none kept (these figures count every request)"
		}
	}
	return out
}

// WriteText writes the verdict, the key figures, a phase table and an
// endpoint table for a terminal.
func (a *Analysis) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s\n\n", wrap(a.Verdict, 78))
	facts := a.Facts()
	kw := 0
	for _, f := range facts {
		kw = max(kw, len([]rune(f[0])))
	}
	for _, f := range facts {
		fmt.Fprintf(bw, "  %-*s  %s\n", kw, f[0], f[1])
	}
	fmt.Fprintln(bw)
	if a.Visitors != nil && len(a.Visitors.Pages) > 0 {
		fmt.Fprintln(bw, "Visitors (page views)")
		h, rows := a.VisitorRows()
		if err := table(bw, h, rows, []bool{false, true, true, true, false, true, true}); err != nil {
			return err
		}
		fmt.Fprintln(bw)
	}
	if a.Visitors != nil && len(a.Visitors.Journeys) > 0 {
		fmt.Fprintln(bw, "Journeys")
		h, rows := a.JourneyRows()
		for _, r := range rows { // a failure a line: the table stays narrow
			r[4] = strings.ReplaceAll(r[4], "; ", "\n")
		}
		if err := table(bw, h, rows, []bool{false, true, true, true, false, true, true}); err != nil {
			return err
		}
		fmt.Fprintln(bw)
	}
	fmt.Fprintln(bw, "Phases")
	if err := a.phaseTable(bw); err != nil {
		return err
	}
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "Endpoints")
	if err := a.endpointTable(bw); err != nil {
		return err
	}
	if len(a.Warnings) > 0 {
		fmt.Fprintln(bw)
		for _, s := range a.Warnings {
			fmt.Fprintf(bw, "warning: %s\n", s)
		}
	}
	return bw.Flush()
}

// wrap breaks s into lines of at most n columns.
func wrap(s string, n int) string {
	var b strings.Builder
	col := 0
	for i, word := range strings.Fields(s) {
		l := len([]rune(word))
		if i > 0 && col+1+l > n {
			b.WriteByte('\n')
			col = 0
		} else if i > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += l
	}
	return b.String()
}

// PhaseRows are the phase table's header and rows as text.
func (a *Analysis) PhaseRows() (head []string, rows [][]string) {
	head = []string{"phase", "start", "length", "offered peak", "achieved peak", "requests", "failed", "p50", "p99", "SLO"}
	for _, p := range a.Phases {
		state := p.State
		switch state {
		case Behind:
			state = "generator behind"
		case Idle:
			state = "-"
		}
		if p.Began && len(a.Phases) > 1 {
			state = "broke (began here)"
		}
		rows = append(rows, []string{p.Name, fmtSec(p.Start), fmtSec(p.Seconds), rps(p.PeakRPS), rps(p.Achieved),
			num(float64(p.Requests)), pct(p.ErrorRatio), latOrDash(p.P50, p.Requests), latOrDash(p.P99, p.Requests), state})
	}
	return head, rows
}

// EndpointRows are the endpoint table's header and rows as text. The
// latencies are of successful requests: "-" for an endpoint with none.
// How the failed ones failed is in FailureRows.
func (a *Analysis) EndpointRows() (head []string, rows [][]string) {
	head = []string{"endpoint", "class", "requests", "failed", "p50", "p99", "max", "failed from"}
	for _, s := range a.Endpoints {
		if s.Requests == 0 {
			continue
		}
		from := "-"
		if s.BrokeAt >= 0 {
			from = fmt.Sprintf("%s @ %s", fmtSec(s.BrokeAt), rps(s.BrokeOffered))
			if a.First != nil && a.First.index == s.index {
				from += " (first)"
			}
		}
		n := s.Total.Latency.N
		rows = append(rows, []string{s.Name, string(s.Class), num(float64(s.Requests)), pct(s.ErrorRatio),
			latOrDash(s.P50, n), latOrDash(s.P99, n), latOrDash(s.Max, n), from})
	}
	return head, rows
}

// FailureRows are the failures table: for each endpoint with failed
// requests, how they failed, the commonest kinds first ("check min_bytes
// 775, http 403 58"); no rows when nothing failed.
func (a *Analysis) FailureRows() (head []string, rows [][]string) {
	head = []string{"endpoint", "failed", "failed by (commonest first)"}
	for _, s := range a.Endpoints {
		f := s.Total.Failed()
		if s.Requests == 0 || f == 0 {
			continue
		}
		by := topCounts(counts(s.Total.Kinds(), f), func(c Count) string { return num(float64(c.N)) })
		rows = append(rows, []string{s.Name, fmt.Sprintf("%s (%s)", num(float64(f)), pct(s.ErrorRatio)), by})
	}
	return head, rows
}

func latOrDash(d time.Duration, n uint64) string {
	if n == 0 {
		return "-"
	}
	return fmtLatency(d)
}

func (a *Analysis) phaseTable(w io.Writer) error {
	head, rows := a.PhaseRows()
	return table(w, head, rows, []bool{false, true, true, true, true, true, true, true, true, false})
}

func (a *Analysis) endpointTable(w io.Writer) error {
	head, rows := a.EndpointRows()
	if err := table(w, head, rows, []bool{false, false, true, true, true, true, true, false}); err != nil {
		return err
	}
	if head, rows = a.FailureRows(); len(rows) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Failed requests, by kind")
		return table(w, head, rows, []bool{false, true, false})
	}
	return nil
}

func table(w io.Writer, head []string, rows [][]string, right []bool) error {
	align := make([]tw.Align, len(right))
	for i, r := range right {
		align[i] = tw.AlignLeft
		if r {
			align[i] = tw.AlignRight
		}
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	h := make([]any, len(head))
	for i := range head {
		h[i] = head[i]
	}
	t.Header(h...)
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return err
		}
	}
	return t.Render()
}

// Summary is summary.json: the answer for CI and scripts. Times are seconds
// from the start of the run; rates are requests per second; latencies are
// milliseconds. Fields that do not apply (no break, no recovery) are null.
type Summary struct {
	Verdict              string            `json:"verdict"`
	SLOHeld              bool              `json:"slo_held"`
	Kind                 string            `json:"verdict_kind"`             // held, broke, incomplete, unreachable
	Gate                 string            `json:"break_gate,omitempty"`     // what decided the break: "stretch" (a failing stretch outlasted the grace) or "share" (failed requests over the run above the limit)
	AtHeldRate           bool              `json:"break_at_held_rate"`       // the break came at a rate the host had held before, serving far less then: an outage or a fault, not its capacity (capacity_band has no top)
	NotOfLoad            bool              `json:"break_not_of_load"`        // the break failed mostly (or began) by failures that come at any rate (401, 404, failed content checks): not its capacity (capacity_band has no top, unless break_under_load_at_s says where it broke with those left aside)
	UnderLoadAtS         *float64          `json:"break_under_load_at_s"`    // with break_not_of_load: where the run broke under load with those failures left aside (taken as answers); capacity_band is then around that break. Null otherwise
	UnderLoadReqS        *float64          `json:"break_under_load_req_s"`   // the rate offered at that break
	Throttled            bool              `json:"break_throttled"`          // the break's failures were mostly 429 Too Many Requests and the host then served a steady rate: a rate limiter whose burst ran out; capacity_band is around that rate
	FellFromReqS         *float64          `json:"capacity_fell_from_req_s"` // the break came at a rate the host had held (this one), after which it served a steady lower rate: capacity_band is around that; null otherwise
	Incomplete           string            `json:"incomplete,omitempty"`     // why the run does not cover its curve
	HostFailedRatio      float64           `json:"host_failed_ratio"`        // failed requests at the host over the whole run (the generator's own left out)
	DownAtS              *float64          `json:"target_down_at_s"`         // when the target stopped answering, null if it did not
	CutAtS               *float64          `json:"results_cut_at_s"`         // where the results end early (a cut file, a killed run), null if they do not
	FailedLatency        SummaryLatency    `json:"failed_latency"`           // latency of failed requests; every other latency is of successful requests
	SLO                  SummarySLO        `json:"slo"`
	JudgedS              float64           `json:"judged_s"` // how long the judged windows sent requests for; below slo.grace_s a break needs the SLO never to hold
	Scenario             string            `json:"scenario,omitempty"`
	Target               string            `json:"target,omitempty"`
	Plan                 string            `json:"plan,omitempty"`
	Simulated            bool              `json:"simulated,omitempty"` // a prediction by flashcrowd simulate: no request was sent
	WindowS              float64           `json:"window_s"`
	DurationS            float64           `json:"duration_s"`
	Requests             uint64            `json:"requests"`
	Failed               uint64            `json:"failed"`
	Unsent               uint64            `json:"unsent"`
	CapacityRPS          float64           `json:"capacity_rps"`  // the highest offered rate that held, in a whole window, before the break
	ServedRPS            *float64          `json:"served_rps"`    // the rate of the mix served while saturated (the band's middle); null when too few windows were saturated to say
	CapacityBand         [2]*float64       `json:"capacity_band"` // [last good or served, first bad]; the top is null when the SLO held
	BreakAtS             *float64          `json:"break_at_s"`
	BreakOfferedRPS      *float64          `json:"break_offered_rps"`
	BreakPhase           string            `json:"break_phase,omitempty"`
	BreakReasons         []string          `json:"break_reasons,omitempty"`
	Breaks               int               `json:"breaks"`
	Scaled               bool              `json:"scaled"`                     // the host served far more later in the break than at its start (autoscaling)
	ScaledToRPS          *float64          `json:"capacity_after_scaling_rps"` // the rate it reached, null unless scaled
	ScaleS               *float64          `json:"scale_time_s"`               // from the break to the SLO holding again above the first capacity, null if it did not
	LostWhileScaling     *uint64           `json:"lost_while_scaling"`         // requests failed or unanswered in the break, null unless scaled
	FirstFailingEndpoint *string           `json:"first_failing_endpoint"`
	FirstFailingClass    *string           `json:"first_failing_class"`
	PeakOfferedRPS       float64           `json:"peak_offered_rps"`
	PeakAchievedRPS      float64           `json:"peak_achieved_rps"`
	PeakP99Ms            float64           `json:"peak_p99_ms"`
	PeakP99AtS           float64           `json:"peak_p99_at_s"`
	PeakErrorRatio       float64           `json:"peak_error_ratio"`
	MaxWindowErrorRatio  float64           `json:"max_window_error_ratio"`
	FellBelowCapacityAtS *float64          `json:"fell_below_capacity_at_s"`
	RecoveredAtS         *float64          `json:"recovered_at_s"`
	RecoveryS            *float64          `json:"recovery_s"`
	MaxSendLagMs         float64           `json:"max_send_lag_ms"`
	GeneratorBehind      bool              `json:"generator_behind"`
	GeneratorBehindAtS   *float64          `json:"generator_behind_at_s"`
	Errors               map[string]uint64 `json:"errors"` // failed requests by kind: "http 503", "http 403", "timeout", "check min_bytes", ...
	Endpoints            []SummarySeries   `json:"endpoints"`
	Classes              []SummarySeries   `json:"classes"`
	Phases               []SummaryPhase    `json:"phases"`
	Warnings             []string          `json:"warnings"`
	CapacitySearch       *Search           `json:"capacity_search,omitempty"` // run --find-capacity's probes, as in find-capacity.json
	Visitors             *VisitorsSummary  `json:"visitors,omitempty"`        // page views, when the arrivals were visitors
}

// SummarySLO is the SLO the run was judged by.
type SummarySLO struct {
	P99Ms         float64 `json:"p99_ms"`
	MaxErrorRatio float64 `json:"max_error_ratio"`
	MinThroughput float64 `json:"min_throughput"`
	GraceS        float64 `json:"grace_s"` // as the SLO states it (story time unless grace_in_run_time)
	GraceRunTime  bool    `json:"grace_in_run_time,omitempty"`
	JudgedGraceS  float64 `json:"judged_grace_s"` // the grace the windows were judged with, in run time (grace_s / compress, at least one window)
}

// SummaryLatency is a latency distribution in summary.json.
type SummaryLatency struct {
	N     uint64  `json:"n"`
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
}

// SummarySeries is an endpoint's or class's line in summary.json.
type SummarySeries struct {
	Name            string   `json:"name"`
	Class           string   `json:"class"`
	Requests        uint64   `json:"requests"`
	Failed          uint64   `json:"failed"`
	ErrorRatio      float64  `json:"error_ratio"`
	P50Ms           *float64 `json:"p50_ms"` // of successful requests: null when none succeeded
	P99Ms           *float64 `json:"p99_ms"`
	MaxMs           *float64 `json:"max_ms"`
	BrokeAtS        *float64 `json:"broke_at_s"`
	BrokeOfferedRPS *float64 `json:"broke_offered_rps"`
	// Errors counts the failed requests by kind, as Summary.Errors does
	// for the run; empty when none failed.
	Errors map[string]uint64 `json:"errors,omitempty"`
}

// SummaryPhase is a phase's line in summary.json.
type SummaryPhase struct {
	Name         string   `json:"name"`
	StartS       float64  `json:"start_s"`
	DurationS    float64  `json:"duration_s"`
	PeakOffered  float64  `json:"peak_offered_rps"`
	PeakAchieved float64  `json:"peak_achieved_rps"`
	Requests     uint64   `json:"requests"`
	Failed       uint64   `json:"failed"`
	P50Ms        *float64 `json:"p50_ms"` // of successful requests: null when none succeeded
	P99Ms        *float64 `json:"p99_ms"`
	State        string   `json:"state"`
	BreakBegan   bool     `json:"break_began,omitempty"` // the break began in this phase
}

func r3(x float64) float64 { return math.Round(x*1000) / 1000 }

// msOf is a latency of n successful requests in milliseconds, nil (null)
// when there were none: a latency of nothing is no 0 ms a script could
// take for fast.
func msOf(d time.Duration, n uint64) *float64 { return opt(ms(d), n > 0) }
func r1(x float64) float64                    { return math.Round(x*10) / 10 }

func opt(x float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	v := r3(x)
	return &v
}

// Summary returns the figures for summary.json.
func (a *Analysis) Summary() Summary {
	ws := a.W
	var ul LoadBreak
	if a.UnderLoad != nil {
		ul = *a.UnderLoad
	}
	s := Summary{
		Verdict: a.Verdict, SLOHeld: a.SLOHeld(), Kind: a.Kind, Gate: a.Gate, Incomplete: a.Incomplete, CapacitySearch: a.Search, Visitors: a.Visitors,
		HostFailedRatio: r3(a.HostFailed), AtHeldRate: a.AtHeldRate, NotOfLoad: a.NotOfLoad, Throttled: a.Throttled, UnderLoadAtS: opt(r1(ul.At), a.UnderLoad != nil), UnderLoadReqS: opt(r1(ul.Offered), a.UnderLoad != nil), FellFromReqS: opt(r1(a.FellFrom), a.FellFrom > 0), DownAtS: opt(a.DownAt, a.DownAt >= 0), CutAtS: opt(a.CutAt, a.CutAt >= 0),
		FailedLatency: SummaryLatency{N: a.Total.FailLatency.N, P50Ms: ms(a.FailedP50), P99Ms: ms(a.FailedP99)},
		SLO: SummarySLO{P99Ms: ms(a.SLO.P99), MaxErrorRatio: a.SLO.MaxErrorRatio, MinThroughput: a.SLO.MinThroughput,
			GraceS: a.SLO.Grace.Seconds(), GraceRunTime: a.SLO.RunGrace, JudgedGraceS: r3(a.Grace.Seconds())},
		WindowS: ws.Width.Seconds(), JudgedS: r3(a.JudgedSecs),
		Requests: a.Total.Requests, Failed: a.Total.Failed(), Unsent: uint64(a.Unsent),
		CapacityRPS: r1(a.Capacity), ServedRPS: opt(a.Served, a.Served > 0), Breaks: len(a.Spans),
		PeakOfferedRPS: r1(a.PeakOffered), PeakAchievedRPS: r1(a.PeakAchieved),
		PeakP99Ms: ms(a.PeakP99), PeakP99AtS: r3(a.PeakP99At),
		PeakErrorRatio: r3(a.PeakErrorRatio), MaxWindowErrorRatio: r3(a.MaxErrorRatio),
		BreakAtS: opt(a.BreakAt, a.Broke), BreakOfferedRPS: opt(a.BreakOffered, a.Broke), BreakPhase: a.BreakPhase, BreakReasons: a.BreakWhy,
		FellBelowCapacityAtS: opt(a.FellBelowAt, a.FellBelowAt >= 0), RecoveredAtS: opt(a.RecoveredAt, a.RecoveredAt >= 0),
		RecoveryS:    opt(a.Recovery, a.Recovery >= 0),
		MaxSendLagMs: ms(a.MaxLag), GeneratorBehind: a.GenBehindAt >= 0, GeneratorBehindAtS: opt(a.GenBehindAt, a.GenBehindAt >= 0),
		Errors:   a.ErrorCounts(),
		Warnings: append([]string{}, a.Warnings...),
	}
	if a.Scaled {
		s.Scaled, s.ScaledToRPS, s.ScaleS = true, opt(a.ScaledTo, true), opt(a.ScaleSecs, a.ScaleSecs >= 0)
		lost := a.LostScaling
		s.LostWhileScaling = &lost
	}
	if len(a.Windows) > 0 {
		s.DurationS = r3(a.Windows[len(a.Windows)-1].Start + ws.Width.Seconds() - a.Windows[0].Start)
	}
	lo := r1(a.CapacityLo)
	if a.Total.Requests > 0 {
		s.CapacityBand[0] = &lo
	}
	if !math.IsInf(a.CapacityHi, 1) {
		hi := r1(a.CapacityHi)
		s.CapacityBand[1] = &hi
	}
	if a.Kind == KindUnreachable {
		// Nothing answered: not a capacity result, so no band, break,
		// scaling or recovery (down_at_s says when it went; capacity_rps
		// stays the highest rate that held before).
		s.CapacityBand = [2]*float64{}
		s.ServedRPS, s.BreakAtS, s.BreakOfferedRPS, s.BreakPhase, s.BreakReasons = nil, nil, nil, "", nil
		s.Gate, s.Scaled, s.ScaledToRPS, s.ScaleS, s.LostWhileScaling = "", false, nil, nil, nil
		s.FellBelowCapacityAtS, s.RecoveredAtS, s.RecoveryS = nil, nil, nil
	}
	if info := ws.Info; info != nil {
		s.Scenario, s.Target, s.Plan, s.Simulated = info.Scenario.Name, info.Target, info.Plan, info.Simulated
	}
	if a.First != nil {
		n := a.First.Name
		s.FirstFailingEndpoint = &n
	}
	if a.FirstCls != nil {
		n := a.FirstCls.Name
		s.FirstFailingClass = &n
	}
	series := func(ss []Series) []SummarySeries {
		out := []SummarySeries{}
		for _, e := range ss {
			if e.Requests == 0 {
				continue
			}
			out = append(out, SummarySeries{Name: e.Name, Class: string(e.Class), Requests: e.Requests, Failed: e.Failed,
				ErrorRatio: r3(e.ErrorRatio), P50Ms: msOf(e.P50, e.Total.Latency.N), P99Ms: msOf(e.P99, e.Total.Latency.N), MaxMs: msOf(e.Max, e.Total.Latency.N),
				BrokeAtS: opt(e.BrokeAt, e.BrokeAt >= 0), BrokeOfferedRPS: opt(e.BrokeOffered, e.BrokeAt >= 0), Errors: e.Total.Kinds()})
		}
		return out
	}
	s.Endpoints, s.Classes = series(a.Endpoints), series(a.Classes)
	s.Phases = []SummaryPhase{}
	for _, p := range a.Phases {
		s.Phases = append(s.Phases, SummaryPhase{Name: p.Name, StartS: r3(p.Start), DurationS: r3(p.Seconds), PeakOffered: r1(p.PeakRPS),
			PeakAchieved: r1(p.Achieved), Requests: p.Requests, Failed: p.Failed, P50Ms: msOf(p.P50, p.Succeeded), P99Ms: msOf(p.P99, p.Succeeded), State: p.State, BreakBegan: p.Began})
	}
	return s
}

// ErrorCounts counts the run's failed requests by kind (Stats.Kinds).
func (a *Analysis) ErrorCounts() map[string]uint64 { return a.Total.Kinds() }

// WriteJSON writes summary.json's content.
func (a *Analysis) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(a.Summary())
}
