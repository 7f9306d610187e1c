package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The files WriteComparison writes.
const (
	CompareHTMLFile     = "compare.html"
	CompareMarkdownFile = "compare.md"
	CompareJSONFile     = "compare.json"
	CompareLatencyPNG   = "compare-latency-vs-load.png"
	CompareCapacityPNG  = "compare-capacity.png"
	CompareRatePNG      = "compare-rate.png"
)

// CompareEntry is one run in a comparison: a plan's or a host's run of the
// scenario, judged.
type CompareEntry struct {
	Name string    // what the table calls it: the plan, the target's name, the directory
	Dir  string    // its run directory, for links ("" if none)
	A    *Analysis // the run, analysed exactly as its own report was
	// Cost is the monthly cost in dollars; NaN when unknown.
	Cost float64
}

// CompareRow is one entry's line of the comparison. Its figures come from
// the entry's own Summary (summary.json), so the comparison agrees with the
// single-run reports by construction.
type CompareRow struct {
	Name    string
	Color   color.Color
	Summary Summary
	// Held: the SLO held through the whole curve. Untested: the run cannot
	// say (no results, or the generator fell behind before the break).
	Held, Untested bool
	// Survived is the fraction of the peak the entry held: its capacity
	// over the peak, 1 when it held through. SurvivedLo is the same for the
	// bottom of the capacity band (what it surely held).
	Survived, SurvivedLo float64
	// PeakP99 is the p99 over the windows offered at least 90% of the
	// entry's peak rate: the windows PeakErrorRatio pools.
	PeakP99 time.Duration
	// Lost is the requests that failed or were due and never sent.
	Lost uint64
	// Cost is monthly dollars, CostPer1k dollars a month per 1,000 req/s of
	// capacity (an upper bound when the capacity is); NaN when unknown.
	Cost, CostPer1k float64
}

// Comparison sets runs of one scenario side by side and names the cheapest
// entry that held the SLO.
type Comparison struct {
	Entries []CompareEntry
	Rows    []CompareRow
	// Scenario is the entries' scenario name(s).
	Scenario string
	// Peak is the highest rate offered in any window of any entry (req/s).
	Peak float64
	// Noun is "plan" when every entry ran against a plan, else "host".
	Noun string
	// Best is the index of the cheapest entry (of known cost) that held, -1
	// if none. Top, when none held, is the entry that held the highest rate.
	Best, Top int
	// MoreLo and MoreHi bound the capacity Top lacks, as a ratio of its
	// capacity: the peak over its band's top and bottom, less one.
	MoreLo, MoreHi float64
	// ByLost: no entry held, and Top is the one that lost the fewest
	// requests (ties: the cheaper).
	ByLost   bool
	Verdict  string
	Warnings []string
}

// comparePalette colours the entries, the same in every plot and table.
// Red is left out: it marks the SLO and breaks.
var comparePalette = []color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255},  // blue
	color.RGBA{R: 255, G: 127, B: 14, A: 255},  // orange
	color.RGBA{R: 44, G: 160, B: 44, A: 255},   // green
	color.RGBA{R: 148, G: 103, B: 189, A: 255}, // purple
	color.RGBA{R: 140, G: 86, B: 75, A: 255},   // brown
	color.RGBA{R: 227, G: 119, B: 194, A: 255}, // pink
	color.RGBA{R: 188, G: 189, B: 34, A: 255},  // olive
	color.RGBA{R: 23, G: 190, B: 207, A: 255},  // cyan
	color.RGBA{R: 127, G: 127, B: 127, A: 255}, // grey
}

// CompareColor is the colour of the i-th entry of a comparison.
func CompareColor(i int) color.Color { return comparePalette[i%len(comparePalette)] }

// Compare builds the comparison of entries, in their order.
func Compare(entries []CompareEntry) *Comparison {
	c := &Comparison{Entries: entries, Best: -1, Top: -1, Noun: "plan"}
	var names []string
	seen := map[string]bool{}
	curves := map[string]bool{}
	for i, e := range entries {
		a := e.A
		r := CompareRow{Name: e.Name, Color: CompareColor(i), Summary: a.Summary(), Cost: e.Cost, CostPer1k: math.NaN()}
		// A run that did not cover its whole curve (stopped, cut short,
		// a generator that fell behind) is not ranked: it cannot hold, and
		// where it did not break, it cannot say where it would.
		r.Untested = a.Kind == KindIncomplete
		r.Held = a.SLOHeld()
		r.Lost = a.Total.Failed() + uint64(a.Unsent)
		r.PeakP99 = a.peakP99()
		if r.Held {
			r.Survived, r.SurvivedLo = 1, 1
		} else if a.PeakOffered > 0 {
			// The share of the peak the capacity band covers (a host
			// with a queue can hold a window or two above its band while
			// the queue fills: that is not capacity).
			top, lo := a.Capacity, a.CapacityLo
			if !math.IsInf(a.CapacityHi, 1) && a.CapacityHi > 0 {
				top = a.CapacityHi
			}
			if a.brokeBeforeSaturated() {
				// The SLO failed below what the host serves.
				top, lo = a.SaturatedAt, a.SaturatedAt
			}
			r.Survived = min(top/a.PeakOffered, 1)
			r.SurvivedLo = min(lo/a.PeakOffered, r.Survived)
		}
		if k := a.capacityRate(); k > 0 && !math.IsNaN(e.Cost) {
			r.CostPer1k = e.Cost / (k / 1000)
		}
		c.Rows = append(c.Rows, r)
		c.Peak = max(c.Peak, a.PeakOffered)
		info := a.W.Info
		if info == nil || info.Plan == "" {
			c.Noun = "host"
		}
		name := "(plain vegeta results)"
		if info != nil && info.Scenario != nil {
			name = info.Scenario.Name
			curves[info.Scenario.Curve.String()] = true
		} else {
			curves[""] = true
		}
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
		switch {
		case a.Total.Requests == 0:
			c.Warnings = append(c.Warnings, e.Name+": no results")
		case a.GenBlamed:
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: the generator fell behind its schedule %s into the run, before any break: this run cannot say where %s breaks", e.Name, fmtSec(a.GenBehindAt), e.Name))
		case a.Incomplete != "":
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: %s", e.Name, a.Incomplete))
		}
	}
	c.Scenario = strings.Join(names, ", ")
	if len(curves) > 1 {
		c.Warnings = append(c.Warnings, "the entries did not all run the same curve: compare them with care")
	}
	c.Verdict = c.verdict()
	return c
}

// peakP99 is the p99 pooled over the windows offered at least 90% of the
// peak rate (the windows PeakErrorRatio pools).
func (a *Analysis) peakP99() time.Duration {
	var h Hist
	for i, j := range a.Windows {
		if a.PeakOffered > 0 && j.Offered >= 0.9*a.PeakOffered {
			h.Merge(&a.W.W[i].Total.Latency)
		}
	}
	return h.Quantile(0.99)
}

// money prints dollars: $5, $40, $6.67, $0.12.
func money(x float64) string {
	switch {
	case math.IsNaN(x):
		return "?"
	case math.IsInf(x, 1):
		return "∞"
	case x >= 100 || math.Abs(x-math.Round(x)) < 0.005:
		return "$" + num(x)
	}
	return "$" + strconv.FormatFloat(x, 'f', 2, 64)
}

// capText is an entry's capacity for the table: its band, "≥ X" when it held.
func (r *CompareRow) capText(a *Analysis) string {
	if r.Untested {
		return "?"
	}
	if a.Kind == KindUnreachable {
		return "not measured (no answer)"
	}
	if math.IsInf(a.CapacityHi, 1) {
		return "≥ " + rps(a.CapacityLo)
	}
	if a.brokeBeforeSaturated() {
		return "~" + rps(a.SaturatedAt) + " (served saturated)"
	}
	return a.bandText()
}

func (c *Comparison) verdict() string {
	var held, heldCost, broke []int
	for i, r := range c.Rows {
		switch {
		case r.Held:
			held = append(held, i)
			if !math.IsNaN(r.Cost) {
				heldCost = append(heldCost, i)
			}
		case !r.Untested:
			broke = append(broke, i)
		}
	}
	noun := c.Noun
	var b strings.Builder
	// Plans that did not run their whole curve are named first: they are
	// not ranked, and one of them might have been the answer.
	var incomplete []int
	for i, r := range c.Rows {
		if r.Untested {
			incomplete = append(incomplete, i)
		}
	}
	if len(incomplete) > 0 {
		if len(incomplete) == 1 {
			i := incomplete[0]
			fmt.Fprintf(&b, "Incomplete: %s did not run its whole curve (%s), so it is not ranked", c.Rows[i].Name, c.Entries[i].A.Incomplete)
		} else {
			fmt.Fprintf(&b, "Incomplete: %s did not run their whole curve, so they are not ranked", joinNames(c.names(incomplete)))
		}
		if len(incomplete) == len(c.Rows) {
			b.WriteString(": nothing can be concluded.")
			return b.String()
		}
		b.WriteString("; of the rest, ")
	}
	// lead starts the answer: a sentence of its own, or the rest of the
	// incomplete one.
	lead := func(sentence, clause string) {
		if len(incomplete) > 0 {
			b.WriteString(clause)
		} else {
			b.WriteString(sentence)
		}
	}
	switch {
	case len(heldCost) > 0:
		best := heldCost[0]
		for _, i := range heldCost[1:] {
			ri, rb := &c.Rows[i], &c.Rows[best]
			if ri.Cost < rb.Cost || ri.Cost == rb.Cost && c.Entries[i].A.Capacity > c.Entries[best].A.Capacity {
				best = i
			}
		}
		c.Best = best
		a := c.Entries[best].A
		lead(fmt.Sprintf("The cheapest %s that held the SLO through the whole curve is", noun), fmt.Sprintf("the cheapest %s that held the SLO through the whole curve is", noun))
		fmt.Fprintf(&b, " %s (%s/month, capacity ≥ %s", c.Rows[best].Name, money(c.Rows[best].Cost), rps(a.Capacity))
		if a.Capacity >= 0.99*a.PeakOffered {
			b.WriteString(", the peak offered")
		} else {
			fmt.Fprintf(&b, "; above it, up to the peak of %s, it missed the SLO for less than the %s", rps(a.PeakOffered), a.graceText())
		}
		b.WriteString(").")
	case len(held) > 0:
		fmt.Fprintf(&b, "%s held the SLO through the whole curve, at a cost not known (give --cost NAME=DOLLARS to rank them).", joinNames(c.names(held)))
	case len(broke) > 0:
		// None held: what the curve needed is to lose as little as
		// possible. Rank by the share of requests lost (the count, on one
		// curve), then by cost; a host where nothing answered is no
		// capacity result and comes last.
		sort.SliceStable(broke, func(x, y int) bool {
			rx, ry := &c.Rows[broke[x]], &c.Rows[broke[y]]
			ux, uy := c.Entries[broke[x]].A.Kind == KindUnreachable, c.Entries[broke[y]].A.Kind == KindUnreachable
			if ux != uy {
				return !ux
			}
			if lx, ly := c.lostShare(broke[x]), c.lostShare(broke[y]); lx != ly {
				return lx < ly
			}
			if rx.Lost != ry.Lost {
				return rx.Lost < ry.Lost
			}
			return !math.IsNaN(rx.Cost) && (math.IsNaN(ry.Cost) || rx.Cost < ry.Cost)
		})
		top := broke[0]
		c.Top = top
		a := c.Entries[top].A
		switch {
		case len(c.Rows) == 1:
			fmt.Fprintf(&b, "%s did not hold the SLO: ", c.Rows[top].Name)
		case len(broke) == 1:
			lead(fmt.Sprintf("No %s held the SLO: %s ", noun, c.Rows[top].Name), fmt.Sprintf("none held the SLO: %s ", c.Rows[top].Name))
		default:
			lead(fmt.Sprintf("No %s held the SLO; %s lost the fewest: %s%s; it ", noun, c.Rows[top].Name, c.lostText(top), c.costText(top)),
				fmt.Sprintf("none held the SLO; %s lost the fewest: %s%s; it ", c.Rows[top].Name, c.lostText(top), c.costText(top)))
			c.ByLost = true
		}
		if a.Kind == KindUnreachable {
			fmt.Fprintf(&b, "did not answer (%s at %s); the peak is %s.", a.DownWhat, a.targetName(), rps(c.Peak))
			break
		}
		if a.NotOfLoad && a.UnderLoad != nil {
			fmt.Fprintf(&b, "failed at %s by failures that come at any rate, not of load; left aside, it broke under load at %s (capacity %s); the peak is %s.",
				rps(a.BreakOffered), rps(a.UnderLoad.Offered), a.bandText(), rps(c.Peak))
			break
		}
		if a.Capacity <= 0 && a.CapacityLo <= 0 && !a.Scaled {
			fmt.Fprintf(&b, "failed from the start (at %s); the peak is %s.", rps(a.BreakOffered), rps(c.Peak))
			break
		}
		if a.NotOfLoad {
			fmt.Fprintf(&b, "failed at %s by failures that come at any rate, not of load: not its capacity (at least %s); the peak is %s.",
				rps(a.BreakOffered), rps(a.CapacityLo), rps(c.Peak))
			break
		}
		if a.AtHeldRate {
			fmt.Fprintf(&b, "failed at %s, a rate it had held before: an outage or a fault, not its capacity (at least %s); the peak is %s.",
				rps(a.BreakOffered), rps(a.CapacityLo), rps(c.Peak))
			break
		}
		if a.FellFrom > 0 {
			fmt.Fprintf(&b, "failed at %s, a rate it had held for %s, then served %s (capacity %s); the peak is %s.",
				rps(a.BreakOffered), fmtSec(a.HeldSecs), rps(a.Served), a.bandText(), rps(c.Peak))
			break
		}
		if a.brokeBeforeSaturated() {
			fmt.Fprintf(&b, "broke at %s, before it was saturated (it served %s while saturated); the peak is %s.",
				rps(a.BreakOffered), rps(a.SaturatedAt), rps(c.Peak))
			break
		}
		fmt.Fprintf(&b, "broke at %s (capacity %s)", rps(a.BreakOffered), a.bandText())
		// The band, its bottom raised to the highest rate held within it;
		// a rate held above it (while a queue filled) is not capacity.
		hi, lo := a.CapacityHi, a.CapacityLo
		if a.Capacity <= hi {
			lo = max(lo, a.Capacity)
		}
		lo = min(lo, hi)
		if a.Scaled {
			fmt.Fprintf(&b, " and scaled up to about %s", rps(a.ScaledTo))
			if a.ScaledTo >= 0.95*c.Peak && a.LostScaling > 0 {
				// It reached the peak, late: what it lacks is capacity
				// before it scales, not after.
				c.MoreLo, c.MoreHi = c.Peak/hi-1, c.Peak/lo-1
				fmt.Fprintf(&b, ", the peak (%s), but lost %s requests while scaling: it needs the capacity sooner, %s from the start (or a faster scale-up).",
					rps(c.Peak), num(float64(a.LostScaling)), moreText(c.MoreLo, c.MoreHi))
				break
			}
			hi, lo = max(hi, a.ScaledTo), max(lo, a.ScaledTo)
		}
		fmt.Fprintf(&b, "; the peak is %s: ", rps(c.Peak))
		c.MoreLo = c.Peak/hi - 1
		c.MoreHi = c.Peak/lo - 1
		fmt.Fprintf(&b, "%s is needed.", moreText(c.MoreLo, c.MoreHi))
	default:
		b.WriteString("Nothing can be concluded: no run could say where its host breaks.")
	}
	// The others, briefly.
	for _, i := range broke {
		if i == c.Top {
			continue
		}
		a := c.Entries[i].A
		if a.Kind == KindUnreachable {
			fmt.Fprintf(&b, " Nothing answered at %s for %s (%s).", a.targetName(), c.Rows[i].Name, a.DownWhat)
			continue
		}
		if a.Capacity <= 0 {
			fmt.Fprintf(&b, " %s failed the SLO from the start.", c.Rows[i].Name)
			continue
		}
		if a.brokeBeforeSaturated() {
			fmt.Fprintf(&b, " %s broke %s at %s, before it was saturated (it served %s while saturated)", c.Rows[i].Name, a.breakWhen(), rps(a.BreakOffered), rps(a.SaturatedAt))
		} else {
			fmt.Fprintf(&b, " %s broke %s at %s (capacity %s)", c.Rows[i].Name, a.breakWhen(), rps(a.BreakOffered), a.bandText())
		}
		if a.Scaled {
			fmt.Fprintf(&b, ", scaled up to about %s", rps(a.ScaledTo))
			if a.ScaleSecs >= 0 {
				fmt.Fprintf(&b, " in %s", fmtSec(a.ScaleSecs))
			}
		}
		if len(held) == 0 {
			fmt.Fprintf(&b, " and lost %s%s", c.lostText(i), c.costText(i))
		}
		b.WriteString(".")
	}
	var others []int
	for _, i := range held {
		if i != c.Best && c.Best >= 0 {
			others = append(others, i)
		}
	}
	if len(others) > 0 {
		var parts []string
		for _, i := range others {
			parts = append(parts, fmt.Sprintf("%s (%s)", c.Rows[i].Name, money(c.Rows[i].Cost)))
		}
		verb := "held too"
		fmt.Fprintf(&b, " %s %s.", joinNames(parts), verb)
	}
	return b.String()
}

// lostShare is row i's requests lost over those due.
func (c *Comparison) lostShare(i int) float64 {
	a := c.Entries[i].A
	due := float64(a.Total.Requests) + a.Unsent
	if due <= 0 {
		return 1
	}
	return float64(c.Rows[i].Lost) / due
}

// lostText is row i's requests lost, with their share of those due:
// "780,922 requests (8.6%".
func (c *Comparison) lostText(i int) string {
	a := c.Entries[i].A
	due := float64(a.Total.Requests) + a.Unsent
	if due <= 0 {
		return num(float64(c.Rows[i].Lost)) + " requests ("
	}
	return fmt.Sprintf("%s requests (%s", num(float64(c.Rows[i].Lost)), pct(float64(c.Rows[i].Lost)/due))
}

// costText ends lostText: ", at $60/month)", or ")" when the cost is
// unknown.
func (c *Comparison) costText(i int) string {
	if math.IsNaN(c.Rows[i].Cost) {
		return ")"
	}
	return ", at " + money(c.Rows[i].Cost) + "/month)"
}

// moreText says how much more capacity is needed, from the band's two
// ends: "about 10% more capacity", "10–40% more capacity", "2.3–14 times
// the capacity".
func moreText(lo, hi float64) string {
	lo, hi = max(lo, 0), max(hi, 0)
	if hi < 1 {
		l, h := math.Round(lo*100), math.Round(hi*100)
		if l == h {
			return fmt.Sprintf("about %s%% more capacity", num(h))
		}
		return fmt.Sprintf("%s–%s%% more capacity", num(l), num(h))
	}
	f := func(x float64) string {
		if x >= 10 {
			return num(x)
		}
		return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64)
	}
	l, h := f(lo+1), f(hi+1)
	if l == h {
		return "about " + h + " times the capacity"
	}
	return l + "–" + h + " times the capacity"
}

func (c *Comparison) names(idx []int) []string {
	var out []string
	for _, i := range idx {
		out = append(out, c.Rows[i].Name)
	}
	return out
}

func joinNames(ns []string) string {
	switch len(ns) {
	case 0:
		return ""
	case 1:
		return ns[0]
	}
	return strings.Join(ns[:len(ns)-1], ", ") + " and " + ns[len(ns)-1]
}

// TableRows are the comparison table's header and rows as text.
func (c *Comparison) TableRows() (head []string, rows [][]string) {
	head = []string{c.Noun, "SLO", "capacity", "scaled to", "break", "survives", "p99 at peak", "errors at peak", "lost", "recovery", "first to fail", "$/month", "$/month per 1k req/s"}
	for i, r := range c.Rows {
		a := c.Entries[i].A
		slo := "broke"
		switch {
		case r.Untested:
			slo = "incomplete"
		case a.Kind == KindUnreachable:
			slo = "no answer"
		case r.Held:
			slo = "held"
		}
		brk, rec, first := "-", "-", "-"
		if a.Broke && a.Kind != KindUnreachable { // nothing answered: no break, no recovery
			brk = fmtSec(a.BreakAt)
			if a.BreakPhase != "" {
				brk = fmtSec(a.BreakInPhase) + " into " + a.BreakPhase
			}
			brk += " @ " + rps(a.BreakOffered)
			switch {
			case a.RecoveredAt >= 0 && a.FellBelowAt >= 0 && a.RecoveredAt < a.FellBelowAt:
				rec = "at " + fmtSec(a.RecoveredAt) + ", still above capacity"
			case a.Recovery >= 0:
				rec = fmtSec(a.Recovery)
			case a.FellBelowAt < 0:
				rec = "traffic stayed above capacity"
			default:
				rec = "not by the end"
			}
		}
		if a.First != nil {
			first = a.First.Name
		}
		per := money(r.CostPer1k)
		if r.Held && !math.IsNaN(r.CostPer1k) {
			per = "≤ " + per
		}
		if a.capacityRate() <= 0 && !math.IsNaN(r.Cost) && !r.Untested {
			per = "- (no rate held)"
		}
		peakP99 := "-"
		if a.PeakOffered > 0 && a.Total.Latency.N > 0 {
			peakP99 = fmtLatency(r.PeakP99)
		}
		survived := pct(r.Survived)
		if lo := pct(r.SurvivedLo); r.SurvivedLo < r.Survived && lo != survived {
			survived = lo + "–" + survived // the capacity band, as a share of the peak
		}
		if r.Untested {
			// A run that did not cover its curve says nothing of either.
			survived, per = "?", "?"
		}
		if a.Kind == KindUnreachable {
			survived, per = "-", "-" // not a capacity result
		}
		scaled := "-"
		if a.Scaled {
			scaled = "≈ " + rps(a.ScaledTo)
			if a.ScaleSecs >= 0 {
				scaled += " in " + fmtSec(a.ScaleSecs)
			}
		}
		rows = append(rows, []string{r.Name, slo, r.capText(a), scaled, brk, survived, peakP99, pct(a.PeakErrorRatio),
			num(float64(r.Lost)), rec, first, money(r.Cost), per})
	}
	// Runs of page views: what share of visitors got a broken page at
	// the peak, after the requests' errors.
	visitors := false
	for _, en := range c.Entries {
		visitors = visitors || en.A.Visitors != nil
	}
	if visitors {
		const at = 8 // after "errors at peak"
		head = append(head[:at:at], append([]string{"page views broken at peak"}, head[at:]...)...)
		for i := range rows {
			cell := "-"
			if v := c.Entries[i].A.Visitors; v != nil && v.PeakViews > 0 {
				cell = pct(v.PeakBrokenRatio)
			}
			rows[i] = append(rows[i][:at:at], append([]string{cell}, rows[i][at:]...)...)
		}
		// Runs of journeys: what share of each journey failed (the
		// shop's question: how many checkouts failed?).
		journeys := false
		for _, en := range c.Entries {
			journeys = journeys || en.A.Visitors != nil && len(en.A.Visitors.Journeys) > 0
		}
		if journeys {
			const at = 9 // after "page views broken at peak"
			head = append(head[:at:at], append([]string{"journeys failed"}, head[at:]...)...)
			for i := range rows {
				cell := "-"
				if v := c.Entries[i].A.Visitors; v != nil && len(v.Journeys) > 0 {
					var parts []string
					for _, j := range v.Journeys {
						if j.Started > 0 {
							parts = append(parts, j.Name+" "+pct(float64(j.Failed)/float64(j.Started)))
						}
					}
					cell = strings.Join(parts, ", ")
				}
				rows[i] = append(rows[i][:at:at], append([]string{cell}, rows[i][at:]...)...)
			}
		}
	}
	return head, rows
}

// WriteText writes the verdict and the table for a terminal.
func (c *Comparison) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s\n\n", wrap(c.Verdict, 78))
	fmt.Fprintf(bw, "scenario %s, peak %s\n", c.Scenario, rps(c.Peak))
	head, rows := c.TableRows()
	right := make([]bool, len(head))
	for i := range right {
		right[i] = i >= 5 && head[i] != "recovery" && head[i] != "first to fail" // numbers right, text left
	}
	if err := table(bw, head, rows, right); err != nil {
		return err
	}
	for _, s := range c.Warnings {
		fmt.Fprintf(bw, "warning: %s\n", s)
	}
	return bw.Flush()
}

// CompareJSON is compare.json.
type CompareJSON struct {
	Verdict  string `json:"verdict"`
	Scenario string `json:"scenario"`
	// PeakOfferedRPS is the highest rate offered in any window of any entry.
	PeakOfferedRPS float64 `json:"peak_offered_rps"`
	// Best is the cheapest entry that held the SLO; null if none did.
	Best *string `json:"best"`
	// Top is, when none held, the entry that lost the fewest requests
	// (ties: the cheaper); and MoreCapacity the capacity it lacks, [low,
	// high] as a ratio of its own, after scaling if it scaled (0.1: 10%
	// more).
	Top          *string            `json:"top"`
	MoreCapacity *[2]float64        `json:"more_capacity"`
	Entries      []CompareEntryJSON `json:"entries"`
	Warnings     []string           `json:"warnings"`
}

// CompareEntryJSON is an entry's line of compare.json. The fields it
// shares with summary.json have its names and values.
type CompareEntryJSON struct {
	Name                 string      `json:"name"`
	Dir                  string      `json:"dir,omitempty"`
	Plan                 string      `json:"plan,omitempty"`
	Target               string      `json:"target,omitempty"`
	Simulated            bool        `json:"simulated"`
	Verdict              string      `json:"verdict"`
	SLOHeld              bool        `json:"slo_held"`
	Untested             bool        `json:"untested"`
	CapacityRPS          float64     `json:"capacity_rps"`
	ServedRPS            *float64    `json:"served_rps"`
	CapacityBand         [2]*float64 `json:"capacity_band"`
	BreakAtS             *float64    `json:"break_at_s"`
	BreakOfferedRPS      *float64    `json:"break_offered_rps"`
	BreakPhase           string      `json:"break_phase,omitempty"`
	PeakOfferedRPS       float64     `json:"peak_offered_rps"`
	SurvivedFraction     float64     `json:"survived_fraction"`
	SurvivedFractionLow  float64     `json:"survived_fraction_low"` // the capacity band's bottom over the peak
	PeakWindowP99Ms      float64     `json:"peak_window_p99_ms"`    // p99 over the windows offered ≥ 90% of the peak
	PeakP99Ms            float64     `json:"peak_p99_ms"`           // the worst window's p99, as in summary.json
	PeakErrorRatio       float64     `json:"peak_error_ratio"`
	Requests             uint64      `json:"requests"`
	Failed               uint64      `json:"failed"`
	Unsent               uint64      `json:"unsent"`
	RequestsLost         uint64      `json:"requests_lost"`
	RecoveryS            *float64    `json:"recovery_s"`
	Scaled               bool        `json:"scaled"`
	ScaledToRPS          *float64    `json:"capacity_after_scaling_rps"`
	ScaleS               *float64    `json:"scale_time_s"`
	LostWhileScaling     *uint64     `json:"lost_while_scaling"`
	FirstFailingEndpoint *string     `json:"first_failing_endpoint"`
	MonthlyCost          *float64    `json:"monthly_cost"`
	CostPer1kRPS         *float64    `json:"cost_per_1k_rps"`
	// Journeys is each journey's started, completed and failed counts
	// (as summary.json's visitors.journeys), when the arrivals were
	// journeys.
	Journeys []JourneyRow `json:"journeys,omitempty"`
}

func optNum(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	v := math.Round(x*100) / 100
	return &v
}

// JSON returns compare.json's content.
func (c *Comparison) JSON() CompareJSON {
	out := CompareJSON{Verdict: c.Verdict, Scenario: c.Scenario, PeakOfferedRPS: r1(c.Peak), Warnings: append([]string{}, c.Warnings...)}
	if c.Best >= 0 {
		out.Best = &c.Rows[c.Best].Name
	}
	if c.Top >= 0 {
		out.Top = &c.Rows[c.Top].Name
		if c.Entries[c.Top].A.Capacity > 0 {
			out.MoreCapacity = &[2]float64{r3(max(c.MoreLo, 0)), r3(max(c.MoreHi, 0))}
		}
	}
	out.Entries = []CompareEntryJSON{}
	for i, r := range c.Rows {
		s := r.Summary
		e := CompareEntryJSON{Name: r.Name, Dir: c.Entries[i].Dir, Plan: s.Plan, Target: s.Target, Verdict: s.Verdict,
			SLOHeld: s.SLOHeld, Untested: r.Untested, CapacityRPS: s.CapacityRPS, ServedRPS: s.ServedRPS, CapacityBand: s.CapacityBand,
			BreakAtS: s.BreakAtS, BreakOfferedRPS: s.BreakOfferedRPS, BreakPhase: s.BreakPhase, PeakOfferedRPS: s.PeakOfferedRPS,
			SurvivedFraction: r3(r.Survived), SurvivedFractionLow: r3(r.SurvivedLo), PeakWindowP99Ms: ms(r.PeakP99), PeakP99Ms: s.PeakP99Ms, PeakErrorRatio: s.PeakErrorRatio,
			Requests: s.Requests, Failed: s.Failed, Unsent: s.Unsent, RequestsLost: r.Lost, RecoveryS: s.RecoveryS,
			Scaled: s.Scaled, ScaledToRPS: s.ScaledToRPS, ScaleS: s.ScaleS, LostWhileScaling: s.LostWhileScaling,
			FirstFailingEndpoint: s.FirstFailingEndpoint, MonthlyCost: optNum(r.Cost), CostPer1kRPS: optNum(r.CostPer1k)}
		if info := c.Entries[i].A.W.Info; info != nil {
			e.Simulated = info.Simulated
		}
		if v := c.Entries[i].A.Visitors; v != nil {
			e.Journeys = v.Journeys
		}
		out.Entries = append(out.Entries, e)
	}
	return out
}

// WriteJSON writes compare.json.
func (c *Comparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(c.JSON())
}

// LatencyVsLoadPlot draws every entry's windows, p99 against the offered
// rate, on one chart, with the SLO. The rate axis is log when the peak is
// far above the lowest knee (loadAxis).
func (c *Comparison) LatencyVsLoadPlot() (*plot.Plot, error) {
	p := newPanel(c.simulated()+"Latency vs load: p99 of each window, by "+c.Noun, "p99 latency (log)")
	var xs, ys []float64
	n := make([]int, len(c.Entries)) // each entry's count of xs
	var slo time.Duration
	knee := math.Inf(1)
	for k, e := range c.Entries {
		a := e.A
		slo = max(slo, a.SLO.P99)
		kn := a.Capacity
		if a.bandKnown() {
			kn = a.CapacityHi
		}
		if kn > 0 {
			knee = min(knee, kn)
		}
		for i, j := range a.Windows {
			if j.Requests == 0 || a.W.W[i].Offered <= 0 {
				continue
			}
			x := j.Offered
			if a.W.Info == nil {
				x = j.Sent
			}
			xs = append(xs, x)
			ys = append(ys, float64(j.P99)/1e6)
			n[k]++
		}
	}
	lo, hi := latencyRange(ys, []float64{float64(slo) / 1e6})
	floored := false
	ys = onFloor(ys, lo, &floored)
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, floorTicks(LatencyTicks{}, floored)
	p.Y.Min, p.Y.Max = lo, hi
	xs, ax := loadAxis(p, xs, knee, 0)
	if slo > 0 {
		y := float64(slo) / 1e6
		if err := line(p, []float64{ax.min, ax.max}, []float64{y, y}, colSLO, vg.Points(1), []vg.Length{vg.Points(5), vg.Points(3)}, "SLO p99 "+fmtLatency(slo)); err != nil {
			return nil, err
		}
	}
	from := 0
	for k := range c.Entries {
		if n[k] == 0 {
			continue
		}
		pts := make(plotter.XYs, n[k])
		for i := range pts {
			pts[i] = plotter.XY{X: xs[from+i], Y: ys[from+i]}
		}
		from += n[k]
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle.Color = c.Rows[k].Color
		s.GlyphStyle.Radius = vg.Points(2)
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(s)
		p.Legend.Add(c.Rows[k].Name, s)
	}
	finish(p, nil)
	return p, nil
}

// simulated prefixes the plot titles of a comparison of simulated runs
// (naming them when only some were), as a simulated run's own plots are.
func (c *Comparison) simulated() string {
	sim := c.simulatedNames()
	switch {
	case len(sim) == 0:
		return ""
	case len(sim) == len(c.Entries):
		return "SIMULATED: "
	}
	return "PARTLY SIMULATED (" + strings.Join(sim, ", ") + "): "
}

// simulatedNames is the names of the entries that were simulated.
func (c *Comparison) simulatedNames() []string {
	var sim []string
	for i, e := range c.Entries {
		if info := e.A.W.Info; info != nil && info.Simulated {
			sim = append(sim, c.Rows[i].Name)
		}
	}
	return sim
}

// title heads compare.html and compare.md: the scenario, and "simulated"
// when the entries (or which of them) were predictions by the simulator.
func (c *Comparison) title() string {
	title := "flashcrowd compare: " + c.Scenario
	sim := c.simulatedNames()
	switch {
	case len(sim) == 0:
	case len(sim) == len(c.Entries):
		title += " (simulated: no request was sent)"
	default:
		title += " (simulated: " + strings.Join(sim, ", ") + ")"
	}
	return title
}

// capacityRate is the one figure a comparison gives as a plan's capacity
// (its bar, and what its cost per 1k req/s divides by): the rate of the
// mix it served while saturated when known (the middle of its band), else
// the highest offered rate that held (for a plan that held, the peak: a
// lower bound).
func (a *Analysis) capacityRate() float64 {
	if a.Served > 0 {
		return a.Served
	}
	if a.brokeBeforeSaturated() {
		return a.SaturatedAt
	}
	return a.Capacity
}

// CapacityPlot draws each entry's capacity as a bar (capacityRate), its band as a whisker, and the peak as a line. A bar that held
// through the curve is a lower bound, marked "≥".
func (c *Comparison) CapacityPlot() (*plot.Plot, error) {
	// The bar is the capacity (capacityRate); a lighter bar above it, the
	// rate a plan that scaled up reached.
	capOf := (*Analysis).capacityRate
	top, bottom := c.Peak, math.Inf(1)
	anyScaled := false
	for _, e := range c.Entries {
		a := e.A
		if !math.IsInf(a.CapacityHi, 1) {
			top = max(top, a.CapacityHi)
		}
		top = max(top, capOf(a), a.ScaledTo)
		for _, v := range []float64{capOf(a), a.CapacityLo} {
			if v > 0 {
				bottom = min(bottom, v)
			}
		}
		anyScaled = anyScaled || a.Scaled
	}
	if top <= 0 {
		top = 1
	}
	title := c.simulated() + "Capacity by " + c.Noun + " (bar: capacity; whisker: band"
	if anyScaled {
		title += "; light bar: reached after scaling"
	}
	// Plans a hundred times apart: a log axis keeps the small ones visible.
	logY := !math.IsInf(bottom, 1) && top/bottom > 10
	if logY {
		title += "; log scale"
	}
	p := newPanel(title+")", "req/s")
	ymin, ymax := 0.0, top*1.18
	if logY {
		ymin = math.Pow(10, math.Floor(math.Log10(bottom/2)))
		ymax = top * 2.2
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, RateTicks{}
	} else {
		p.Y.Tick.Marker = TimeTicks{}
	}
	p.Y.Min, p.Y.Max = ymin, ymax
	above := func(y float64) float64 { // a label's place just above y
		if logY {
			return y * 1.08
		}
		return y + ymax*0.015
	}
	n := len(c.Entries)
	names := make([]string, n)
	var labels plotter.XYLabels
	for k, e := range c.Entries {
		a, r := e.A, &c.Rows[k]
		names[k] = r.Name
		x := float64(k)
		v := capOf(a)
		if v > ymin {
			if err := box(p, x-0.3, x+0.3, ymin, v, r.Color); err != nil {
				return nil, err
			}
		}
		if a.Scaled && a.ScaledTo > v {
			cr, cg, cb, _ := r.Color.RGBA()
			light := color.NRGBA{R: uint8(cr >> 8), G: uint8(cg >> 8), B: uint8(cb >> 8), A: 90}
			if err := box(p, x-0.3, x+0.3, max(v, ymin), a.ScaledTo, light); err != nil {
				return nil, err
			}
		}
		label := r.capText(a)
		ly := max(v, a.ScaledTo)
		if a.bandKnown() && !r.Untested && a.CapacityLo > 0 {
			// The whisker: the band from bottom to top.
			for _, seg := range [][2]plotter.XY{
				{{X: x, Y: a.CapacityLo}, {X: x, Y: a.CapacityHi}},
				{{X: x - 0.08, Y: a.CapacityLo}, {X: x + 0.08, Y: a.CapacityLo}},
				{{X: x - 0.08, Y: a.CapacityHi}, {X: x + 0.08, Y: a.CapacityHi}},
			} {
				l, err := plotter.NewLine(plotter.XYs{seg[0], seg[1]})
				if err != nil {
					return nil, err
				}
				l.Color, l.Width = color.Black, vg.Points(1.2)
				p.Add(l)
			}
			ly = max(ly, a.CapacityHi)
		}
		if a.Scaled {
			label += ", then ≈ " + rps(a.ScaledTo)
		}
		if r.Held {
			label += " (held)"
		}
		labels.XYs = append(labels.XYs, plotter.XY{X: x, Y: above(max(ly, ymin))})
		labels.Labels = append(labels.Labels, label)
	}
	if c.Peak > 0 {
		if err := line(p, []float64{-0.5, float64(n) - 0.5}, []float64{c.Peak, c.Peak}, colSLO, vg.Points(1.2), []vg.Length{vg.Points(5), vg.Points(3)}, "peak offered "+rps(c.Peak)); err != nil {
			return nil, err
		}
	}
	lb, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].XAlign = draw.XCenter
		lb.TextStyle[i].YAlign = draw.YBottom
		lb.TextStyle[i].Font.Size = vg.Points(9)
	}
	p.Add(lb)
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.Legend.Top, p.Legend.Left = true, false
	finish(p, nil)
	return p, nil
}

// RatePlot overlays each entry's achieved rate over time on the offered
// rate (the first entry's), log scale.
func (c *Comparison) RatePlot() (*plot.Plot, error) {
	p := newPanel(c.simulated()+"Achieved rate over time, by "+c.Noun+" (log)", "req/s")
	type series struct{ x, offered, achieved []float64 }
	ss := make([]series, len(c.Entries))
	span := 0.0
	var all [][]float64
	for k, e := range c.Entries {
		d := e.A.plotData()
		for i := range d.ws.W {
			ss[k].x = append(ss[k].x, d.x[i]*d.div)
			ss[k].offered = append(ss[k].offered, d.ws.rateOf(i, offeredOf))
		}
		ss[k].achieved = smoothedAchieved(d.ws)
		span = max(span, d.x1*d.div)
		all = append(all, ss[k].offered, ss[k].achieved)
	}
	div, unit := TimeUnit(span)
	lo, hi := logRange(all...)
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, RateTicks{}
	p.Y.Min, p.Y.Max = lo, hi
	p.X.Min, p.X.Max = 0, max(span/div, 1e-9)
	p.X.Tick.Marker = TimeTicks{}
	p.X.Label.Text = "time (" + unit + ")"
	scale := func(vs []float64, f float64) []float64 {
		out := make([]float64, len(vs))
		for i, v := range vs {
			out[i] = v / f
		}
		return out
	}
	clamp := func(vs []float64) []float64 {
		out := make([]float64, len(vs))
		for i, v := range vs {
			out[i] = max(v, lo)
		}
		return out
	}
	if len(ss) > 0 {
		if err := line(p, scale(ss[0].x, div), clamp(ss[0].offered), colOffered, vg.Points(2.5), []vg.Length{vg.Points(4), vg.Points(3)}, "offered"); err != nil {
			return nil, err
		}
	}
	for k := range ss {
		if err := line(p, scale(ss[k].x, div), clamp(ss[k].achieved), c.Rows[k].Color, vg.Points(1.4), nil, c.Rows[k].Name); err != nil {
			return nil, err
		}
	}
	finish(p, nil)
	return p, nil
}

// smoothedAchieved is each window's achieved rate. Where a window was
// offered fewer than minCount requests it is averaged with up to maxSpan
// neighbours each side until they were offered minCount; where even that
// falls short it is NaN (not drawn): a rate from a handful of requests is
// a comb of 0 and 1 per window, and the offered curve shows the quiet
// stretch anyway.
func smoothedAchieved(ws *Windows) []float64 {
	const minCount, maxSpan = 10, 3
	out := make([]float64, len(ws.W))
	for i := range ws.W {
		offered, done := ws.W[i].Offered, float64(ws.W[i].Total.DoneOK)
		secs := ws.Secs(i)
		lo, hi := i, i
		for offered < minCount && (i-lo < maxSpan && lo > 0 || hi-i < maxSpan && hi < len(ws.W)-1) {
			if i-lo < maxSpan && lo > 0 {
				lo--
				offered += ws.W[lo].Offered
				done += float64(ws.W[lo].Total.DoneOK)
				secs += ws.Secs(lo)
			}
			if hi-i < maxSpan && hi < len(ws.W)-1 {
				hi++
				offered += ws.W[hi].Offered
				done += float64(ws.W[hi].Total.DoneOK)
				secs += ws.Secs(hi)
			}
		}
		out[i] = math.NaN()
		if offered >= minCount {
			out[i] = done / secs
		}
	}
	return out
}

// CompareRendered is every plot of a comparison, drawn once.
type CompareRendered struct {
	LatencyPNG, LatencySVG   []byte
	CapacityPNG, CapacitySVG []byte
	RatePNG, RateSVG         []byte
}

// Render draws every plot.
func (c *Comparison) Render() (*CompareRendered, error) {
	lv, err := c.LatencyVsLoadPlot()
	if err != nil {
		return nil, fmt.Errorf("drawing latency vs load: %w", err)
	}
	cp, err := c.CapacityPlot()
	if err != nil {
		return nil, fmt.Errorf("drawing capacities: %w", err)
	}
	rp, err := c.RatePlot()
	if err != nil {
		return nil, fmt.Errorf("drawing rates: %w", err)
	}
	var r CompareRendered
	for _, job := range []struct {
		p      *plot.Plot
		format string
		out    *[]byte
	}{
		{lv, "png", &r.LatencyPNG}, {lv, "svg", &r.LatencySVG},
		{cp, "png", &r.CapacityPNG}, {cp, "svg", &r.CapacitySVG},
		{rp, "png", &r.RatePNG}, {rp, "svg", &r.RateSVG},
	} {
		b, err := Render([]*plot.Plot{job.p}, PlotSize[0], PlotSize[1], job.format)
		if err != nil {
			return nil, err
		}
		*job.out = b
	}
	return &r, nil
}

// WriteMarkdown writes compare.md: the verdict, the table, the plots by
// file name and each entry's own verdict, linked to its report relative to
// dir, where the file is written.
func (c *Comparison) WriteMarkdown(w io.Writer, dir string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n**%s**\n\n", mdEscape(c.title()), mdEscape(c.Verdict))
	fmt.Fprintf(&b, "Peak offered: %s.\n\n", rps(c.Peak))
	h, rows := c.TableRows()
	mdTable(&b, h, rows)
	b.WriteString("\n![latency vs load](" + CompareLatencyPNG + ")\n\n![capacity](" + CompareCapacityPNG + ")\n\n![achieved rate](" + CompareRatePNG + ")\n\n")
	b.WriteString("### Each " + c.Noun + "\n\n")
	for i, e := range c.Entries {
		fmt.Fprintf(&b, "- **%s:** %s", mdEscape(c.Rows[i].Name), mdEscape(e.A.Verdict))
		if link := reportLink(dir, e.Dir); link != "" {
			fmt.Fprintf(&b, " ([report](%s))", link)
		}
		b.WriteString("\n")
	}
	if len(c.Warnings) > 0 {
		b.WriteString("\n### Warnings\n\n")
		for _, s := range c.Warnings {
			fmt.Fprintf(&b, "- %s\n", mdEscape(s))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteHTML writes compare.html: one self-contained page (inline SVG and
// CSS, no scripts, no network). Links to the entries' own reports are
// relative to dir, where the page is written.
func (c *Comparison) WriteHTML(w io.Writer, r *CompareRendered, dir string) error {
	h, rows := c.TableRows()
	type entry struct {
		Name, Color, Verdict, Link string
	}
	var es []entry
	var swatches []string
	for i, e := range c.Entries {
		col := hexColor(c.Rows[i].Color)
		swatches = append(swatches, col)
		es = append(es, entry{Name: c.Rows[i].Name, Color: col, Verdict: e.A.Verdict, Link: reportLink(dir, e.Dir)})
	}
	state := "broke"
	if c.Best >= 0 {
		state = "held"
	}
	data := map[string]any{
		"Title":    c.title(),
		"Verdict":  c.Verdict,
		"State":    state,
		"Peak":     rps(c.Peak),
		"Head":     h,
		"Rows":     rows,
		"Swatches": swatches,
		"Entries":  es,
		"Warnings": c.Warnings,
		"Noun":     c.Noun,
		"Latency":  template.HTML(inlineSVG(r.LatencySVG)),
		"Capacity": template.HTML(inlineSVG(r.CapacitySVG)),
		"Rate":     template.HTML(inlineSVG(r.RateSVG)),
	}
	return compareTmpl.Execute(w, data)
}

// reportLink is the path of run directory run's report.html relative to
// dir, "" when there is none.
func reportLink(dir, run string) string {
	if run == "" {
		return ""
	}
	target := filepath.Join(run, HTMLFile)
	if da, err := filepath.Abs(dir); err == nil {
		if ta, err := filepath.Abs(target); err == nil {
			if rel, err := filepath.Rel(da, ta); err == nil {
				return filepath.ToSlash(rel)
			}
		}
	}
	return filepath.ToSlash(target)
}

func hexColor(c color.Color) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
}

var compareTmpl = template.Must(template.New("compare").Funcs(template.FuncMap{
	"css": func(s string) template.CSS { return template.CSS(s) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
` + pageCSS + `body { max-width: 1300px; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .4rem; vertical-align: -1px; }
table#compare td:nth-child(2) { text-align: left; }
table#compare td, table#compare th { white-space: normal; }
table#compare td:first-child, table#compare td:nth-child(3), table#compare td:nth-child(11), table#compare td:nth-child(12) { white-space: nowrap; }
td.held { color: #1e7d2e; font-weight: 600; }
td.broke { color: #b01e1e; font-weight: 600; }
ul.entries li { margin: .4rem 0; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="verdict {{.State}}" id="verdict">{{.Verdict}}</p>
<p>Peak offered: {{.Peak}}. Every {{.Noun}} ran the same curve and endpoint mix; each is judged by its own report's SLO.</p>
<table id="compare"><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range $i, $r := .Rows}}<tr>{{range $j, $c := $r}}{{if eq $j 0}}<td><span class="swatch" style="background: {{css (index $.Swatches $i)}}"></span>{{$c}}</td>{{else if eq $j 1}}<td class="{{$c}}">{{$c}}</td>{{else}}<td>{{$c}}</td>{{end}}{{end}}</tr>
{{end}}</table>
{{if .Warnings}}<div class="warn">{{range .Warnings}}<p>⚠ {{.}}</p>{{end}}</div>{{end}}
<h2>Capacity</h2>
<figure id="capacity">{{.Capacity}}
<figcaption>Bar: the capacity: the rate of the mix served while saturated, or else the highest offered rate that held the SLO (a lighter bar above it: the rate an autoscaled {{.Noun}} reached); whisker: the capacity band (from a lower bound on what the saturated host served to the first rate that broke). A {{.Noun}} that held through the curve has no upper bound. Dashed: the peak offered.</figcaption></figure>
<h2>Latency vs load</h2>
<figure id="latency-vs-load">{{.Latency}}
<figcaption>Each dot is one window's p99 against the rate offered in it, coloured by {{.Noun}}: the knee is where a {{.Noun}} runs out of capacity.</figcaption></figure>
<h2>Achieved rate over time</h2>
<figure id="rate">{{.Rate}}
<figcaption>Successful responses per second for each {{.Noun}}, over the offered rate (dashed grey). Where a line falls below the offered curve, requests were failing or waiting. Windows offered only a handful of requests are averaged with their neighbours, or left out.</figcaption></figure>
<h2>Each {{.Noun}}</h2>
<ul class="entries">
{{range .Entries}}<li><span class="swatch" style="background: {{css .Color}}"></span><b>{{.Name}}:</b> {{.Verdict}}{{if .Link}} (<a href="{{.Link}}">full report</a>){{end}}</li>
{{end}}</ul>
<p style="color:#888;font-size:.8rem">Made by flashcrowd. Capacity is the rate of the mix a plan served while saturated (the middle of its band), or, where that is not known, the highest offered rate that held the SLO before the break; $/month per 1k req/s is the monthly cost over that capacity in thousands of req/s (an upper bound, marked ≤, when the capacity is a lower bound).</p>
</body>
</html>
`))

// WriteComparison writes compare.html, compare.md, compare.json and the
// plots (compare-latency-vs-load.png, compare-capacity.png,
// compare-rate.png) into dir, each atomically.
func WriteComparison(dir string, c *Comparison) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing the comparison: %w", err)
	}
	r, err := c.Render()
	if err != nil {
		return err
	}
	var html, md, js bytes.Buffer
	if err := c.WriteHTML(&html, r, dir); err != nil {
		return err
	}
	if err := c.WriteMarkdown(&md, dir); err != nil {
		return err
	}
	if err := c.WriteJSON(&js); err != nil {
		return err
	}
	var errs []error
	for _, f := range []struct {
		name string
		data []byte
	}{
		{CompareLatencyPNG, r.LatencyPNG}, {CompareCapacityPNG, r.CapacityPNG}, {CompareRatePNG, r.RatePNG},
		{CompareHTMLFile, html.Bytes()}, {CompareMarkdownFile, md.Bytes()}, {CompareJSONFile, js.Bytes()},
	} {
		errs = append(errs, writeFileAtomic(filepath.Join(dir, f.name), f.data))
	}
	return errors.Join(errs...)
}
