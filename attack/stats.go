package attack

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// second holds what completed in one second of a run.
type second struct {
	at   int64 // which second, from the start; -1 when unused
	n    uint64
	ok   uint64
	lat  hist
	lag  hist
	done bool // evaluated by the abort rules
}

const ringSize = 16

// stats folds results as they arrive: whole-run totals for the summary and
// a ring of recent seconds for the progress line and the abort rules.
type stats struct {
	start    time.Time
	ring     [ringSize]second
	lat, lag hist
	n, ok    uint64
	errors   map[string]uint64
	bytesIn  uint64
	bytesOut uint64

	rules []ruleState
}

type ruleState struct {
	rule  scenarios.AbortRule
	since int64 // first second of the current run of violations; -1 none
}

func newStats(start time.Time, rules []scenarios.AbortRule) *stats {
	s := &stats{start: start, errors: map[string]uint64{}}
	for i := range s.ring {
		s.ring[i].at = -1
	}
	for _, r := range rules {
		s.rules = append(s.rules, ruleState{rule: r, since: -1})
	}
	return s
}

func (s *stats) slot(sec int64) *second {
	b := &s.ring[sec%ringSize]
	if b.at != sec {
		lat, lag := &b.lat, &b.lag
		lat.reset()
		lag.reset()
		b.at, b.n, b.ok, b.done = sec, 0, 0, false
	}
	return b
}

// add folds r and returns its scenarios.ErrorKind.
// A result without a schedule of its own (a page view's asset: hasLag
// false) adds no send lag.
func (s *stats) add(r *vegeta.Result, lag time.Duration, hasLag bool) string {
	sec := int64(max(r.End().Sub(s.start), 0) / time.Second)
	b := s.slot(sec)
	b.n++
	s.n++
	if hasLag {
		b.lag.add(lag)
		s.lag.add(lag)
	}
	s.bytesIn += r.BytesIn
	s.bytesOut += r.BytesOut
	k := scenarios.ErrorKind(r.Code, r.Error)
	if k != "" {
		s.errors[k]++
	} else {
		// Latency is of successful requests, as the report's: a 503 in
		// 0 ms is not a fast answer.
		b.lat.add(r.Latency)
		s.lat.add(r.Latency)
		b.ok++
		s.ok++
	}
	return k
}

// window merges the complete seconds in [from, to).
func (s *stats) window(from, to int64) (n, ok uint64, lat, lag hist) {
	for sec := max(from, to-ringSize+1, 0); sec < to; sec++ {
		b := &s.ring[sec%ringSize]
		if b.at != sec {
			continue
		}
		n += b.n
		ok += b.ok
		lat.merge(&b.lat)
		lag.merge(&b.lag)
	}
	return
}

// evaluate applies the abort rules to every complete second before upTo
// not yet seen, and returns the first rule that fired.
func (s *stats) evaluate(upTo int64) *scenarios.AbortRule {
	for sec := max(upTo-ringSize+1, 0); sec < upTo; sec++ {
		b := s.slot(sec)
		if b.done {
			continue
		}
		b.done = true
		if b.n == 0 {
			continue // no evidence either way
		}
		for i := range s.rules {
			rs := &s.rules[i]
			var v float64
			switch rs.rule.Metric {
			case "errors":
				v = float64(b.n-b.ok) / float64(b.n)
			case "p99":
				v = b.lat.quantile(0.99).Seconds()
			default:
				continue
			}
			if v <= rs.rule.Threshold {
				rs.since = -1
				continue
			}
			if rs.since < 0 {
				rs.since = sec
			}
			if time.Duration(sec+1-rs.since)*time.Second >= rs.rule.For {
				return &rs.rule
			}
		}
	}
	return nil
}

// Quantiles are a latency distribution's landmarks.
type Quantiles struct {
	P50 time.Duration `json:"p50"`
	P90 time.Duration `json:"p90"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
}

func quantiles(h *hist) Quantiles {
	return Quantiles{P50: h.quantile(0.5), P90: h.quantile(0.9), P99: h.quantile(0.99), Max: h.max}
}

// fmtCount prints n with thousands separators.
func fmtCount[T ~int | ~int64 | ~uint64](n T) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtRate prints a rate in requests per second, compactly.
func fmtRate(r float64) string {
	switch {
	case r >= 100:
		return fmtCount(int64(r+0.5)) + "/s"
	case r >= 1:
		return fmt.Sprintf("%.1f/s", r)
	case r > 0:
		// Under one a second, in the unit a person reads at that rate,
		// to two significant digits: 10/d, 2.6/h, 0.5/m.
		v, unit := r*86400, "/d"
		switch {
		case r*60 >= 1:
			v, unit = r*60, "/m"
		case r*3600 >= 1:
			v, unit = r*3600, "/h"
		}
		if v >= 10 {
			return strconv.FormatFloat(math.Round(v), 'f', -1, 64) + unit
		}
		return strconv.FormatFloat(v, 'g', 2, 64) + unit
	}
	return "0/s"
}

// fmtLatency prints a duration with three significant digits.
func fmtLatency(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
