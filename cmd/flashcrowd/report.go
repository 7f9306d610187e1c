package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

type reportOpts struct {
	slo    string
	out    string
	window string
	json   bool
	quiet  bool
}

func init() {
	register(&command{
		name:    "report",
		order:   20,
		summary: "report a run or vegeta results: break point, capacity, recovery, plots, HTML",
		usage: `flashcrowd report RUN_DIR|FILE|-... [--slo p99=800ms,errors=1%] [--out DIR] [--window 5s] [--json|-q]

Reads a run directory (its saved windows, or its run.json and results file) or
one or more vegeta results files (gob, json or csv, detected; several files are
merged as shards of one run; - reads them from stdin). Prints the verdict, a
phase table and an endpoint table, and writes overview.png/.svg,
latency-vs-load.png, endpoints.png, report.html, report.md and summary.json
into the run directory (for files: the first file's directory; for stdin: the
current directory), or --out. With -q it prints the verdict alone.
Warnings are printed once, in the report text; on stderr instead with --json,
and also there when stdout goes to a file from a terminal.

A run directory whose windows.json.gz is damaged is reported from its run.json
and results file, with a warning. A --window finer than the saved windows, or
not a multiple of them, needs the run's complete results file.

Exit status 3 when the SLO in force (--slo, or else the scenario's own) did
not hold over the whole curve (a break, a run that stopped early or was cut
short, a target that did not answer), so CI can gate on it.

Examples:
  flashcrowd report runs/2026-03-14-press-spike
  flashcrowd report runs/press-spike --slo p99=500ms,errors=0.5% --out /tmp/r
  flashcrowd report shard-0/results.gob shard-1/results.gob
  vegeta attack ... > results.bin && flashcrowd report results.bin --window 5s
  vegeta attack ... | flashcrowd report - --out /tmp/r -q`,
		flags: func(fs *pflag.FlagSet) any {
			o := &reportOpts{}
			fs.StringVar(&o.slo, "slo", "", "judge by this `SLO` (p99=800ms,errors=1%,throughput=95%,grace=10s), over the scenario's; exit 3 if it fails")
			fs.StringVar(&o.out, "out", "", "write the report files to `DIR` (default: the run directory)")
			fs.StringVar(&o.window, "window", "", "window `WIDTH` (default 1s, or the saved windows' width; a multiple of it)")
			fs.BoolVar(&o.json, "json", false, "print summary.json to stdout instead of the tables")
			fs.BoolVarP(&o.quiet, "quiet", "q", false, "print the verdict alone (and errors): no tables, warnings or list of files written")
			return o
		},
		run: runReport,
	})
}

func runReport(e *env, fs *pflag.FlagSet, opts any, args []string) error {
	o := opts.(*reportOpts)
	if len(args) == 0 {
		return usagef("give a run directory or results files (- for stdin)")
	}
	if o.json && o.quiet {
		return usagef("--json prints summary.json and --quiet the verdict alone: give one of them")
	}
	for _, a := range args {
		if a == report.StdinName && isTerminal(e.stdin) {
			return usagef("- reads results from stdin, which is a terminal: pipe them in (vegeta attack … | flashcrowd report -)")
		}
	}
	var width time.Duration
	if o.window != "" {
		d, err := scenarios.ParseDuration(o.window)
		if err != nil || d <= 0 {
			return usagef("--window %q: want a duration such as 1s or 5s", o.window)
		}
		width = d
	}
	args, err := expandArgs(args)
	if err != nil {
		return err
	}
	// Warnings go into the report (its text, summary.json, report.md) and
	// are printed once, below, where they are read.
	ws, err := report.OpenStdin(args, e.stdin, width, io.Discard)
	if err != nil {
		return err
	}
	slo := scenarios.DefaultSLO
	if ws.Info != nil && ws.Info.Scenario != nil {
		slo = ws.Info.Scenario.SLO
	}
	if o.slo != "" {
		if slo, err = scenarios.ParseSLO(o.slo, slo); err != nil {
			return usagef("--slo: %v", err)
		}
	}
	a := report.Analyze(ws, slo)
	if len(args) == 1 {
		// A run that searched its capacity (run --find-capacity) keeps
		// the search beside it; its probes were judged when they ran.
		if st, err := os.Stat(args[0]); err == nil && st.IsDir() {
			if a.Search, err = report.ReadSearch(args[0]); err != nil {
				a.Warnings = append(a.Warnings, fmt.Sprintf("%v: the capacity search is left out", err))
			}
		}
	}
	// The text on stdout holds the warnings: in a terminal, or a Job's
	// log where stdout and stderr meet, once is enough. On stderr too
	// when the text is not read there: with --json (a program reads
	// stdout), or stdout sent to a file from a terminal. -q prints none.
	if !o.quiet && (o.json || !isTerminal(e.stdout) && isTerminal(e.stderr)) {
		for _, w := range a.Warnings {
			fmt.Fprintf(e.stderr, "warning: %s\n", w)
		}
	}
	out := o.out
	if out == "" {
		out = args[0]
		if out == report.StdinName {
			out = "."
		} else if st, err := os.Stat(out); err == nil && !st.IsDir() {
			out = filepath.Dir(out)
		}
	}
	switch {
	case o.quiet:
		fmt.Fprintln(e.stdout, a.Verdict)
	case o.json:
		if err := a.WriteJSON(e.stdout); err != nil {
			return err
		}
	default:
		if err := a.WriteText(e.stdout); err != nil {
			return err
		}
	}
	if err := report.WriteAll(out, a); err != nil {
		return err
	}
	if !o.quiet {
		fmt.Fprintf(e.stderr, "wrote %s (and the plots, report.md, summary.json)\n", filepath.Join(out, report.HTMLFile))
	}
	return sloExit(a, o.slo != "")
}

// sloExit is the exit status of a judged run: nil when the SLO in force
// held over the whole curve, exit 3 otherwise (a break, a run that did not
// cover its curve, a target that did not answer), as k6 fails a run whose
// thresholds fail. The SLO in force is --slo's when given (flag), the
// scenario's otherwise; the message, printed last, says which and why.
func sloExit(a *report.Analysis, flag bool) error {
	if a.SLOHeld() {
		return nil
	}
	src := "the scenario's SLO"
	switch {
	case flag:
		src = "the --slo SLO"
	case a.W.Info == nil || a.W.Info.Scenario == nil:
		src = "the default SLO" // plain vegeta files: no scenario
	}
	var why string
	switch a.Kind {
	case report.KindBroke:
		why = fmt.Sprintf("%s failed %s into the run, at %s offered", src, scenarios.FormatDuration(time.Duration(a.BreakAt*float64(time.Second))), report.FormatRate(a.BreakOffered))
		if a.Gate == report.GateShare {
			why += fmt.Sprintf(" (%.3g%% of all requests failed)", 100*a.HostFailed)
		}
	case report.KindUnreachable:
		why = fmt.Sprintf("%s failed: the target did not answer (%s)", src, a.DownWhat)
	default:
		why = fmt.Sprintf("%s was not shown to hold: %s", src, a.Incomplete)
	}
	return exitError{code: exitSLO, msg: why + " (exit 3)"}
}

// expandArgs expands glob patterns such as /results/run/shard-* that name
// no file as they are (a container without a shell passes them on
// unexpanded), in natural order: shard-2 before shard-10.
func expandArgs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if !strings.ContainsAny(a, "*?[") {
			out = append(out, a)
			continue
		}
		if _, err := os.Stat(a); err == nil {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(a)
		if err != nil {
			return nil, usagef("%q: %v", a, err)
		}
		if len(m) == 0 {
			return nil, &scenarios.Problem{File: a, Msg: "no run directory or results file matches"}
		}
		sort.SliceStable(m, func(i, j int) bool { return naturalLess(m[i], m[j]) })
		out = append(out, m...)
	}
	return out, nil
}

// naturalLess orders strings with their digit runs compared as numbers.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
