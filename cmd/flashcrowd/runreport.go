package main

import (
	"fmt"
	"path/filepath"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// liveReport folds a run's results into windows as they arrive and, when the
// run ends, saves the windows and writes the report into the run directory.
// It is what `run` (and `compare`) put behind attack.Run's sink.
type liveReport struct {
	width  time.Duration
	slo    scenarios.SLO
	gate   bool // an SLO was given on the command line (the scenario's is the bar otherwise)
	folder *report.Folder
	last   *report.Analysis // the report finish wrote
}

// newLiveReport prepares the report of a run of s. sloFlag and window are
// the --slo and --window flags ("" for defaults).
func newLiveReport(s *scenarios.Scenario, sloFlag, window string) (*liveReport, error) {
	r := &liveReport{slo: s.SLO, width: report.WidthFor(s.Curve.Duration())}
	if r.slo == (scenarios.SLO{}) {
		r.slo = scenarios.DefaultSLO
	}
	if sloFlag != "" {
		slo, err := scenarios.ParseSLO(sloFlag, r.slo)
		if err != nil {
			return nil, usagef("--slo: %v", err)
		}
		r.slo, r.gate = slo, true
	}
	if window != "" {
		d, err := scenarios.ParseDuration(window)
		if err != nil || d <= 0 {
			return nil, usagef("--window %q: want a duration such as 1s or 5s", window)
		}
		r.width = d
	}
	return r, nil
}

// start is attack.Options.Started: the folder's time origin is the run's.
// Windows older than report.SpillAfter go to a temporary file while the
// run goes on, so that a long run's memory stays flat; without one they
// stay in memory, with a warning in the report.
func (r *liveReport) start(info *scenarios.RunInfo) {
	r.folder = report.NewFolder(info, r.width)
	if err := r.folder.Spill(""); err != nil {
		r.folder.Warn("%v: windows kept in memory", err)
	}
}

// add is attack.Run's sink.
func (r *liveReport) add(res *vegeta.Result) { r.folder.Add(res) }

// finish saves the windows, prints the verdict and tables and writes the
// report files into dir. slo is sloExit's verdict when an SLO was given on
// the command line (nil if it held or none was given); err is a failure to
// write the report.
func (r *liveReport) finish(e *env, dir string) (slo, err error) {
	if r.folder == nil {
		return nil, nil // stopped before the start: nothing to report
	}
	if err := r.folder.Save(dir); err != nil {
		return nil, err
	}
	ws := r.folder.Windows()
	if ws.Visitors, err = report.ReadVisitors(ws, []string{dir}); err != nil {
		return nil, err
	}
	a := report.Analyze(ws, r.slo)
	r.last = a
	if err := a.WriteText(e.stdout); err != nil {
		return nil, err
	}
	if err := report.WriteAll(dir, a); err != nil {
		return nil, err
	}
	fmt.Fprintf(e.stdout, "report: %s (plots, report.md, summary.json beside it)\n", filepath.Join(dir, report.HTMLFile))
	return sloExit(a, r.gate), nil
}
