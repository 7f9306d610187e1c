package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/pflag"
	"gonum.org/v1/plot/vg"

	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

type curveOpts struct {
	sf       scenarioFlags
	png, svg string
	json     bool
}

func init() {
	register(&command{
		name:    "curve",
		order:   2,
		summary: "show a scenario's traffic curve: phases, totals and a plot",
		usage: `flashcrowd curve [--scenario NAME|FILE | --curve CURVE] [--compress K] [--peak RATE] [--png FILE] [--svg FILE] [--json]

Examples:
  flashcrowd curve --scenario press-spike --png press-spike.png
  flashcrowd curve --scenario press-spike --compress 60 --json
  flashcrowd curve --curve 'hold 300/d for 2h, exp 300/d to 2000/s over 20m, decay 2000/s half-life 30m for 3h'
  flashcrowd curve --scenario my-launch.yaml --peak 500/s --svg launch.svg
  flashcrowd curve --curve 'replay traffic.csv scale 10'       # a CSV of time,rate rows, relative to here
  flashcrowd curve --curve 'replay builtin:curves/hn-2023-tomhummel-hourly.csv' --peak 500/s

In a scenario file, "replay FILE" is relative to the file; in --curve, to the
current directory. "replay builtin:curves/NAME.csv" reads a curve built into
flashcrowd (see flashcrowd scenarios -h).`,
		flags: func(fs *pflag.FlagSet) any {
			o := &curveOpts{}
			o.sf.add(fs, "press-spike")
			o.sf.addMaxRate(fs)
			fs.StringVar(&o.png, "png", "", "write a plot of the curve to `FILE` (PNG)")
			fs.StringVar(&o.svg, "svg", "", "write a plot of the curve to `FILE` (SVG)")
			fs.BoolVar(&o.json, "json", false, "print the phases and totals as JSON")
			return o
		},
		run: runCurve,
	})
}

// curveJSON is what `curve --json` prints.
// For page views and journeys the curve's rates and counts (total_requests,
// requests_sent, peak_rps, the phases') are of arrivals, as Arrivals says:
// each sends about RequestsPerArrival requests, AboutRequests in all.
type curveJSON struct {
	Scenario      string                `json:"scenario"`
	Source        string                `json:"source"`
	Compress      float64               `json:"compress"`
	DurationS     float64               `json:"duration_s"`
	TotalRequests float64               `json:"total_requests"` // ∫r over the curve
	RequestsSent  uint64                `json:"requests_sent"`  // what a run sends: one at each N⁻¹(i + ½)
	PeakRPS       float64               `json:"peak_rps"`
	Phases        []scenarios.PhaseSpan `json:"phases"`
	Curve         string                `json:"curve"`
	// Arrivals is what the curve counts: "requests", "page views" or "journeys".
	Arrivals           string  `json:"arrivals"`
	RequestsPerArrival float64 `json:"requests_per_arrival,omitempty"` // page views and journeys
	AboutRequests      uint64  `json:"about_requests,omitempty"`       // requests_sent × requests_per_arrival, rounded
}

func runCurve(e *env, fs *pflag.FlagSet, opts any, args []string) error {
	o := opts.(*curveOpts)
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	// curve sends nothing: a scenario's ${ENV:NAME} variables need no
	// values here, so it lints where the secrets are not set (CI).
	o.sf.unresolved = true
	s, err := o.sf.load(fs)
	if err != nil {
		return err
	}
	var unset []string
	for _, n := range s.EnvNames() {
		if v, ok := os.LookupEnv(n); !ok || v == "" {
			unset = append(unset, "${ENV:"+n+"}")
		}
	}
	if len(unset) > 0 {
		fmt.Fprintf(e.stderr, "note: %s not set (or empty): curve sends nothing and needs no values; run needs them\n", strings.Join(unset, ", "))
	}
	c := s.Curve
	title := s.Name
	if s.Compress != 1 {
		title += fmt.Sprintf(" (compressed %g×)", s.Compress)
	}
	for _, out := range []string{o.png, o.svg} {
		if out == "" {
			continue
		}
		p, err := report.CurvePlot(c, title)
		if err != nil {
			return fmt.Errorf("plotting the curve: %w", err)
		}
		if err := report.SavePlot(p, 22*vg.Centimeter, 11*vg.Centimeter, out); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote %s\n", filepath.Clean(out))
	}
	if o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		j := curveJSON{Scenario: s.Name, Source: s.Source, Compress: s.Compress, DurationS: c.Seconds(),
			TotalRequests: c.Total(), RequestsSent: c.Requests(), PeakRPS: c.Peak(), Phases: c.Spans(), Curve: c.String(),
			Arrivals: s.Arrivals()}
		if s.Visitors() {
			j.RequestsPerArrival = s.RequestsPerArrival()
			j.AboutRequests = aboutRequests(c.Requests(), j.RequestsPerArrival)
		}
		return enc.Encode(j)
	}
	if d := strings.TrimSpace(s.Description); d != "" {
		fmt.Fprintf(e.stdout, "%s — %s\n", s.Name, d)
	} else {
		fmt.Fprintln(e.stdout, s.Name)
	}
	if s.Compress != 1 {
		fmt.Fprintf(e.stdout, "compressed %g× (rates kept, time %g× faster)\n", s.Compress, s.Compress)
	}
	spans := c.Spans()
	// Counts are the requests a run sends (due in each phase), so the rows
	// add up to the total and to what run plans.
	if !s.Visitors() {
		fmt.Fprintln(e.stdout)
		t := newCurveTable(e, "requests")
		for i, sp := range spans {
			t.Append(curveRow(i, sp, fmtCount(float64(sp.Sent))))
		}
		t.Footer("", "total", "", fmtDur(c.Seconds()), "", report.FormatRate(c.Peak()), fmtCount(float64(c.Requests())))
		return t.Render()
	}
	// Page views and journeys: the curve's rates and counts are of
	// arrivals; the last column is about how many requests they send
	// (run's "about N requests"), rounded so that the rows add up.
	what, k := s.Arrivals(), s.RequestsPerArrival()
	fmt.Fprintf(e.stdout, "\nRates and counts are of %s, each about %.3g requests (the requests column, rounded): peak %s %s, about %s requests.\n\n",
		what, k, report.FormatRate(c.Peak()), what, report.FormatRate(c.Peak()*k))
	t := newCurveTable(e, what, "requests")
	var sent uint64
	for i, sp := range spans {
		before := sent
		sent += sp.Sent
		t.Append(append(curveRow(i, sp, fmtCount(float64(sp.Sent))),
			fmtCount(float64(aboutRequests(sent, k)-aboutRequests(before, k)))))
	}
	t.Footer("", "total", "", fmtDur(c.Seconds()), "", report.FormatRate(c.Peak()),
		fmtCount(float64(c.Requests())), fmtCount(float64(aboutRequests(c.Requests(), k))))
	return t.Render()
}

// newCurveTable starts curve's table of phases; counts names its count
// columns.
func newCurveTable(e *env, counts ...string) *tablewriter.Table {
	align := []tw.Align{tw.AlignRight, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight}
	for range counts {
		align = append(align, tw.AlignRight)
	}
	t := tablewriter.NewTable(e.stdout, tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}))
	t.Header(append([]string{"#", "phase", "start", "duration", "from → to", "peak"}, counts...))
	return t
}

// curveRow is phase i's row up to and including its count.
func curveRow(i int, sp scenarios.PhaseSpan, count string) []string {
	return []string{fmt.Sprint(i + 1), sp.Name, fmtDur(sp.Start), fmtDur(sp.Seconds),
		report.FormatRate(sp.From) + " → " + report.FormatRate(sp.To), report.FormatRate(sp.Peak), count}
}

// aboutRequests is about how many requests n arrivals of k requests each
// send, as run prints it.
func aboutRequests(n uint64, k float64) uint64 {
	return uint64(math.Round(float64(n) * k))
}

// fmtCount prints a count with thousands separators: 545,425,779.
func fmtCount(v float64) string {
	if v > 0 && v < 10 && v != math.Trunc(v) {
		return fmt.Sprintf("%.2g", v)
	}
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
