package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// scenarioFlags are the flags every command that takes a scenario shares:
// which scenario or curve, and how to compress or scale it.
type scenarioFlags struct {
	scenario string
	curve    string
	rate     scenarios.Rate
	duration string
	compress float64
	peak     scenarios.Rate
	maxRate  scenarios.Rate
	// unresolved loads the scenario to look at, not to send: a
	// ${ENV:NAME} variable left unset is no problem (curve).
	unresolved bool
}

func (f *scenarioFlags) add(fs *pflag.FlagSet, defaultScenario string) {
	fs.StringVar(&f.scenario, "scenario", defaultScenario, "built-in scenario `NAME` or scenario FILE (see flashcrowd scenarios)")
	fs.StringVar(&f.curve, "curve", "", "inline `CURVE`, e.g. 'hold 300/d for 2h, exp 1/s to 2000/s over 20m' or 'replay FILE.csv' (FILE relative to the current directory, or builtin:curves/NAME.csv); endpoints from --scenario if given, else GET /")
	fs.Var(&f.rate, "rate", "constant `RATE` (e.g. 500/s), with --duration: short for --curve 'hold RATE for DURATION'")
	fs.StringVar(&f.duration, "duration", "", "`DURATION` of a --rate run (e.g. 2m)")
	fs.Float64Var(&f.compress, "compress", 0, "replay the curve `K` times faster, keeping its rates (overrides the scenario's compress)")
	fs.Var(&f.peak, "peak", "scale the curve so its peak is `RATE` (rehearse a smaller spike)")
	noDefault(fs, "rate", "peak") // unset, not "0/s"
}

// noDefault keeps -h from printing a default for flags whose zero value
// means "not given" but prints as one ("(default 0/s)").
func noDefault(fs *pflag.FlagSet, names ...string) {
	for _, n := range names {
		fs.Lookup(n).DefValue = ""
	}
}

func (f *scenarioFlags) addMaxRate(fs *pflag.FlagSet) {
	fs.Var(&f.maxRate, "max-rate", "cap the curve at `RATE`")
	noDefault(fs, "max-rate")
}

// load resolves the flags to a scenario whose Curve is the one to run
// (compressed, scaled and capped); Compress records the factor used.
func (f *scenarioFlags) load(fs *pflag.FlagSet) (*scenarios.Scenario, error) {
	// A flag given as 0 or "" is a mistake, not a request for the default:
	// check before the default scenario is picked.
	if fs.Changed("curve") && strings.Trim(f.curve, ", \t\n") == "" {
		return nil, usagef("--curve is empty: give at least one segment, e.g. --curve 'hold 10/s for 1m'")
	}
	if fs.Changed("rate") && !(f.rate > 0) {
		return nil, usagef("--rate must be > 0, found %s", f.rate)
	}
	if fs.Changed("peak") && !(f.peak > 0) {
		return nil, usagef("--peak must be > 0, found %s", f.peak)
	}
	if fs.Changed("max-rate") && !(f.maxRate > 0) {
		return nil, usagef("--max-rate must be > 0, found %s", f.maxRate)
	}
	var s *scenarios.Scenario
	if f.scenario != "" && (fs.Changed("scenario") || (f.curve == "" && f.rate == 0)) {
		var err error
		// ${ENV:NAME} in the scenario file reads this process's environment.
		load := scenarios.LoadEnv
		if f.unresolved {
			load = scenarios.LoadUnresolved
		}
		if s, err = load(f.scenario, os.LookupEnv); err != nil {
			return nil, err
		}
	}
	if f.rate > 0 || f.duration != "" {
		if f.curve != "" {
			return nil, usagef("give --curve or --rate/--duration, not both")
		}
		if f.rate <= 0 || f.duration == "" {
			return nil, usagef("--rate and --duration go together")
		}
		d, err := scenarios.ParseDuration(f.duration)
		if err != nil {
			return nil, usagef("--duration: %v", err)
		}
		f.curve = fmt.Sprintf("hold %s for %s", f.rate, d)
	}
	if f.curve != "" {
		// Replay files in an inline curve are relative to the current directory.
		c, err := scenarios.ParseCurve("--curve", f.curve, scenarios.DirOpener("."))
		if err != nil {
			return nil, err
		}
		if s == nil {
			s = &scenarios.Scenario{Name: "inline", Description: f.curve, Compress: 1, Endpoints: scenarios.DefaultEndpoints(),
				SLO: scenarios.DefaultSLO, Abort: scenarios.DefaultAbort}
		}
		s.Source, s.Curve, s.Compress, s.Resolved = "--curve", c, 1, false
	}
	if s == nil {
		return nil, usagef("give --scenario, --curve or --rate and --duration")
	}
	if s.Resolved {
		// A resolved scenario (flashcrowd kubernetes's ConfigMap) holds the
		// curve to send: transforming it again would change the schedule.
		for _, n := range []string{"compress", "peak", "max-rate"} {
			if fs.Lookup(n) != nil && fs.Changed(n) {
				return nil, usagef("--%s: %s is a resolved scenario, its curve already the one to send", n, f.scenario)
			}
		}
		return s, nil
	}
	if fs.Changed("compress") {
		if !(f.compress > 0) {
			return nil, usagef("--compress must be > 0")
		}
		s.Compress = f.compress
	}
	c := s.Curve
	var err error
	if s.Compress > 0 && s.Compress != 1 {
		if c, err = c.Compress(s.Compress); err != nil {
			return nil, usagef("--compress: %v", err)
		}
	}
	if f.peak > 0 {
		if c, err = c.ScalePeak(float64(f.peak)); err != nil {
			return nil, usagef("--peak: %v", err)
		}
	}
	if f.maxRate > 0 {
		if c, err = c.Cap(float64(f.maxRate)); err != nil {
			return nil, usagef("--max-rate: %v", err)
		}
	}
	s.Curve = c
	return s, nil
}

// fmtDur prints a curve duration for tables.
func fmtDur(sec float64) string {
	return scenarios.FormatDuration(time.Duration(sec * float64(time.Second)))
}

// describe names the scenario as sent: "press-spike (compressed 1400×, peak
// scaled to 2500/s)".
func (f *scenarioFlags) describe(s *scenarios.Scenario) string {
	var how []string
	if s.Compress != 1 {
		how = append(how, fmt.Sprintf("compressed %g×", s.Compress))
	}
	if f.peak > 0 {
		how = append(how, "peak scaled to "+f.peak.String())
	}
	if f.maxRate > 0 {
		how = append(how, "capped at "+f.maxRate.String())
	}
	if len(how) == 0 {
		return s.Name
	}
	return s.Name + " (" + strings.Join(how, ", ") + ")"
}
