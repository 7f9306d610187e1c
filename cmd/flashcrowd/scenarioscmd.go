package main

import (
	"fmt"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/pflag"

	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

type scenariosOpts struct{ show string }

func init() {
	register(&command{
		name:    "scenarios",
		order:   1,
		summary: "list the built-in scenarios (or print one's YAML with --show)",
		usage: `flashcrowd scenarios [--show NAME]

Examples:
  flashcrowd scenarios
  flashcrowd scenarios --show press-spike > my-spike.yaml   # a starting point for your own
  flashcrowd scenarios --show hn-2023 > my.yaml && flashcrowd curve --scenario my.yaml

The replay built-ins read their measured curve with
"replay builtin:curves/NAME.csv": the builtin: prefix resolves from the
curves built into flashcrowd, so --show's YAML loads as-is from any
directory. Other replay files are relative to the scenario file.`,
		flags: func(fs *pflag.FlagSet) any {
			o := &scenariosOpts{}
			fs.StringVar(&o.show, "show", "", "print the YAML of built-in `NAME`")
			return o
		},
		run: func(e *env, fs *pflag.FlagSet, opts any, args []string) error {
			o := opts.(*scenariosOpts)
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			if o.show != "" {
				b, err := scenarios.BuiltinSource(o.show)
				if err != nil {
					return usagef("no built-in scenario %q (built-ins: %s)", o.show, strings.Join(scenarios.BuiltinNames(), ", "))
				}
				_, err = e.stdout.Write(b)
				return err
			}
			t := tablewriter.NewTable(e.stdout)
			t.Header("name", "peak", "duration", "requests", "description")
			for _, n := range scenarios.BuiltinNames() {
				s, err := scenarios.Builtin(n)
				if err != nil {
					return err
				}
				c := s.Curve
				// The requests a run sends (as run and curve count them).
				peak, total := report.FormatRate(c.Peak()), fmtCount(float64(c.Requests()))
				if k := s.RequestsPerArrival(); s.Visitors() {
					// Arrivals are visitors: show requests, as for the rest.
					peak = report.FormatRate(c.Peak()*k) + " (" + report.FormatRate(c.Peak()) + " visitors)"
					total = fmtCount(float64(aboutRequests(c.Requests(), k)))
				}
				t.Append(n, peak, fmtDur(c.Seconds()), total, firstSentence(s.Description))
			}
			if err := t.Render(); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "\nShow one: flashcrowd curve --scenario NAME --png NAME.png")
			return nil
		},
	})
}

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= 64 {
		return s
	}
	cut := strings.LastIndexByte(s[:62], ' ')
	if cut < 30 {
		cut = 62
	}
	return strings.TrimRight(s[:cut], ",;:") + "…"
}
