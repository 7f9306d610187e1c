package main

import (
	"encoding/json"
	"fmt"
	"math"
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
}

func runCurve(e *env, fs *pflag.FlagSet, opts any, args []string) error {
	o := opts.(*curveOpts)
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	s, err := o.sf.load(fs)
	if err != nil {
		return err
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
		return enc.Encode(curveJSON{Scenario: s.Name, Source: s.Source, Compress: s.Compress, DurationS: c.Seconds(),
			TotalRequests: c.Total(), RequestsSent: c.Requests(), PeakRPS: c.Peak(), Phases: c.Spans(), Curve: c.String()})
	}
	fmt.Fprintf(e.stdout, "%s — %s\n", s.Name, strings.TrimSpace(s.Description))
	if s.Compress != 1 {
		fmt.Fprintf(e.stdout, "compressed %g× (rates kept, time %g× faster)\n", s.Compress, s.Compress)
	}
	fmt.Fprintln(e.stdout)
	t := tablewriter.NewTable(e.stdout, tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: []tw.Align{tw.AlignRight, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight}}))
	t.Header("#", "phase", "start", "duration", "from → to", "peak", "requests")
	for i, sp := range c.Spans() {
		t.Append(fmt.Sprint(i+1), sp.Name, fmtDur(sp.Start), fmtDur(sp.Seconds),
			report.FormatRate(sp.From)+" → "+report.FormatRate(sp.To), report.FormatRate(sp.Peak), fmtCount(sp.Requests))
	}
	t.Footer("", "total", "", fmtDur(c.Seconds()), "", report.FormatRate(c.Peak()), fmtCount(c.Total()))
	if err := t.Render(); err != nil {
		return err
	}
	return nil
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
