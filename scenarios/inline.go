package scenarios

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Opener opens a file named by a replay segment. Scenario files resolve
// names relative to themselves; built-ins read from the embedded set.
type Opener func(name string) (io.ReadCloser, error)

// item is one segment's text and where it sits in its source.
type item struct {
	text      string
	file      string
	line, col int // of the text's first character
	field     string
}

func (it item) problem(off int, msg string, args ...any) *Problem {
	return &Problem{File: it.file, Line: it.line, Col: it.col + off, Field: it.field, Msg: fmt.Sprintf(msg, args...)}
}

// ParseCurve reads the inline curve syntax: segments separated by commas.
//
//	hold R for D
//	ramp R1 to R2 over D          (linear)
//	exp R1 to R2 over D           (exponential)
//	decay R half-life H for D     (exponential decay)
//	decay R power A [scale S] for D   (R·(1+t/S)^-A, S defaults to 30m)
//	step R1 to R2 by P% every D   (or "by +R": a staircase of holds)
//	replay FILE [scale F]         (CSV of time,rate points)
//
// open resolves replay FILE names (see DirOpener); a FILE starting with
// BuiltinPrefix names a built-in curve, e.g. builtin:curves/hn-2023-tomhummel-hourly.csv.
//
// Any segment may start with a phase name and a colon: "climb: exp ...".
// name is used in error messages (e.g. "--curve").
func ParseCurve(name, spec string, open Opener) (*Curve, error) {
	var items []item
	off := 0
	for _, part := range strings.Split(spec, ",") {
		lead := len(part) - len(strings.TrimLeft(part, " \t\n"))
		items = append(items, item{text: strings.TrimSpace(part), file: name, line: 1, col: off + lead + 1, field: fmt.Sprintf("segment %d", len(items)+1)})
		off += len(part) + 1
	}
	c, ps := parseItems(items, open)
	if len(ps) > 0 {
		return nil, ps
	}
	return c, nil
}

func parseItems(items []item, open Opener) (*Curve, Problems) {
	var (
		segs   []Segment
		phases []Phase
		ps     Problems
	)
	blank := true
	for _, it := range items {
		blank = blank && it.text == ""
	}
	if blank { // no items, or only commas and spaces
		f := item{file: "curve"}
		if len(items) > 0 {
			f = items[0]
			f.field = ""
		}
		return nil, Problems{f.problem(0, "curve is empty: give at least one segment, e.g. \"hold 10/s for 1m\"")}
	}
	for _, it := range items {
		phase := len(phases)
		s, ph, err := parseItem(it, phase, open)
		if err != nil {
			ps = append(ps, err...)
			continue
		}
		segs = append(segs, s...)
		phases = append(phases, ph)
	}
	if len(ps) > 0 {
		return nil, ps
	}
	c, err := NewCurve(segs, phases)
	if err != nil {
		return nil, Problems{items[0].problem(0, "%v", err)}
	}
	if c.Total() == 0 {
		return nil, Problems{items[0].problem(0, "curve sends no requests (every rate is 0)")}
	}
	return c, nil
}

type token struct {
	s   string
	off int
}

func fields(s string) []token {
	var out []token
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			i++
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' {
			j++
		}
		if j > i {
			out = append(out, token{s[i:j], i})
		}
		i = j
	}
	return out
}

// phaseColon finds the colon after a phase name ("climb: exp ..."), passing
// over the one in a built-in replay file's name ("replay builtin:curves/x.csv").
func phaseColon(text string) int {
	for i := 0; i < len(text); i++ {
		if text[i] != ':' {
			continue
		}
		if strings.HasSuffix(text[:i+1], BuiltinPrefix) && i+1 < len(text) && !strings.ContainsRune(" \t\n", rune(text[i+1])) {
			continue
		}
		return i
	}
	return -1
}

// parseItem parses one segment's text into primitive segments.
func parseItem(it item, phase int, open Opener) ([]Segment, Phase, Problems) {
	toks := fields(it.text)
	ph := Phase{Source: it.text}
	if i := phaseColon(it.text); i > 0 {
		// "phase name: segment"
		ph.Name = strings.TrimSpace(it.text[:i])
		toks = toks[:0]
		for _, t := range fields(it.text[i+1:]) {
			toks = append(toks, token{t.s, t.off + i + 1})
		}
	}
	if len(toks) == 0 {
		return nil, ph, Problems{it.problem(0, "empty segment")}
	}
	var ps Problems
	bad := func(t token, msg string, args ...any) { ps = append(ps, it.problem(t.off, msg, args...)) }
	end := token{off: len(it.text)}
	at := func(i int) token {
		if i < len(toks) {
			return toks[i]
		}
		return end
	}
	rate := func(i int) float64 {
		t := at(i)
		if t.s == "" {
			bad(t, "missing rate")
			return 0
		}
		r, err := ParseRate(t.s)
		if err != nil {
			bad(t, "%v", err)
		}
		return float64(r)
	}
	dur := func(i int) float64 {
		t := at(i)
		if t.s == "" {
			bad(t, "missing duration")
			return 1
		}
		d, err := ParseDuration(t.s)
		if err != nil {
			bad(t, "%v", err)
			return 1
		}
		if d <= 0 {
			bad(t, "duration must be > 0")
			return 1
		}
		return d.Seconds()
	}
	word := func(i int, w ...string) bool {
		t := at(i)
		for _, x := range w {
			if strings.EqualFold(t.s, x) {
				return true
			}
		}
		if t.s == "" {
			bad(t, "expected %q after %q", w[0], at(i-1).s)
		} else {
			bad(t, "expected %q, found %q", w[0], t.s)
		}
		return false
	}
	extra := func(n int) {
		if len(toks) > n {
			bad(toks[n], "unexpected %q at end of %s segment", toks[n].s, toks[0].s)
		}
	}
	kind := strings.ToLower(toks[0].s)
	ph.Kind = kind
	if ph.Name == "" {
		ph.Name = kind
	}
	var segs []Segment
	switch kind {
	case "hold":
		// hold R for D
		r := rate(1)
		if word(2, "for") {
			segs = []Segment{{Kind: Hold, From: r, Dur: dur(3)}}
		}
		extra(4)
	case "ramp", "exp":
		// ramp R1 to R2 over D
		r1 := rate(1)
		word(2, "to")
		r2 := rate(3)
		word(4, "over", "for")
		d := dur(5)
		extra(6)
		k := Ramp
		if kind == "exp" {
			k = Exp
			if len(ps) == 0 && (r1 <= 0 || r2 <= 0) {
				bad(toks[1], "exp needs both rates > 0 (an exponential never leaves 0; start from e.g. 300/d)")
			}
		}
		segs = []Segment{{Kind: k, From: r1, To: r2, Dur: d}}
	case "decay":
		r := rate(1)
		switch strings.ToLower(at(2).s) {
		case "half-life", "halflife":
			h := dur(3)
			word(4, "for")
			segs = []Segment{{Kind: Decay, From: r, HalfLife: h, Dur: dur(5)}}
			extra(6)
		case "power":
			a, err := strconv.ParseFloat(at(3).s, 64)
			if err != nil || !(a > 0) || a > 10 {
				bad(at(3), "power exponent must be a number in (0, 10], found %q", at(3).s)
			}
			scale, i := 1800.0, 4
			if strings.EqualFold(at(4).s, "scale") {
				scale = dur(5)
				i = 6
			}
			word(i, "for")
			segs = []Segment{{Kind: Power, From: r, Exponent: a, Scale: scale, Dur: dur(i + 1)}}
			extra(i + 2)
		default:
			bad(at(2), "expected \"half-life\" or \"power\" after the decay rate")
		}
	case "step":
		// step R1 to R2 by P% every D
		r1 := rate(1)
		word(2, "to")
		r2 := rate(3)
		word(4, "by")
		byTok := at(5)
		every := 1.0
		if word(6, "every") {
			every = dur(7)
		}
		extra(8)
		if len(ps) > 0 {
			break
		}
		var next func(float64) float64
		switch {
		case strings.HasSuffix(byTok.s, "%"):
			p, err := strconv.ParseFloat(strings.TrimSuffix(byTok.s, "%"), 64)
			if err != nil || !(p > 0) || p > 1000 {
				bad(byTok, "step size %q must be a percentage in (0, 1000]", byTok.s)
				break
			}
			if r1 <= 0 {
				bad(toks[1], "a percentage staircase needs a start rate > 0")
				break
			}
			next = func(r float64) float64 { return r * (1 + p/100) }
		case strings.HasPrefix(byTok.s, "+"):
			d, err := ParseRate(byTok.s[1:])
			if err != nil || d <= 0 {
				bad(byTok, "step size %q must be +RATE, e.g. +50/s", byTok.s)
				break
			}
			next = func(r float64) float64 { return r + float64(d) }
		default:
			bad(byTok, "step size %q: write a percentage (10%%) or an increment (+50/s)", byTok.s)
		}
		if next == nil {
			break
		}
		if r2 < r1 {
			bad(toks[3], "staircase must climb: %s is below %s", Rate(r2), Rate(r1))
			break
		}
		for r := r1; ; r = next(r) {
			if r > r2*(1+1e-9) {
				r = r2 // the top step is the rate asked for
			}
			segs = append(segs, Segment{Kind: Hold, From: r, Dur: every})
			if r >= r2*(1-1e-9) {
				break
			}
			if len(segs) > 10000 {
				bad(byTok, "staircase has more than 10,000 steps")
				break
			}
		}
	case "replay":
		if at(1).s == "" {
			bad(at(1), "replay needs a CSV file name")
			break
		}
		scale := 1.0
		if len(toks) > 2 {
			if strings.EqualFold(toks[2].s, "scale") {
				v, err := strconv.ParseFloat(at(3).s, 64)
				if err != nil || !(v > 0) || math.IsInf(v, 0) {
					bad(at(3), "replay scale must be a number > 0, found %q", at(3).s)
				}
				scale = v
				extra(4)
			} else {
				extra(2)
			}
		}
		if len(ps) > 0 {
			break
		}
		if open == nil {
			bad(toks[1], "replay files are not available here")
			break
		}
		name := toks[1].s
		f, err := open(name)
		if err != nil {
			bad(toks[1], "opening replay file: %v", err)
			break
		}
		pts, err := ReadPoints(name, f)
		f.Close()
		if err != nil {
			ps = append(ps, &Problem{File: it.file, Line: it.line, Col: it.col + toks[1].off, Field: it.field, Msg: err.Error()})
			break
		}
		segs = pointsToSegments(pts, scale)
		ph.Source = name
	default:
		bad(toks[0], "unknown segment %q (want hold, ramp, exp, decay, step or replay)", toks[0].s)
	}
	for i := range segs {
		segs[i].Phase = phase
		if len(ps) == 0 {
			if err := segs[i].check(); err != nil {
				ps = append(ps, it.problem(0, "%v", err))
				break
			}
		}
	}
	return segs, ph, ps
}

// Point is one measured (time, rate) sample of a replayed curve.
type Point struct {
	T    float64 // seconds from the first point
	Rate float64 // requests per second
}

func pointsToSegments(pts []Point, scale float64) []Segment {
	segs := make([]Segment, 0, len(pts)-1)
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		segs = append(segs, Segment{Kind: Ramp, From: a.Rate * scale, To: b.Rate * scale, Dur: b.T - a.T})
	}
	return segs
}

// parseTime reads a CSV time cell: seconds (offset), a Go duration, or an
// RFC 3339 timestamp. It returns seconds; abs tells a timestamp.
func parseTime(s string) (v float64, abs bool, err error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, false, nil
	}
	if d, err := ParseDuration(strings.TrimPrefix(s, "-")); err == nil {
		if strings.HasPrefix(s, "-") {
			return -d.Seconds(), false, nil // an offset before the origin
		}
		return d.Seconds(), false, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return float64(t.UnixNano()) / 1e9, true, nil
		}
	}
	return 0, false, fmt.Errorf("time %q is not seconds, a duration or an RFC 3339 timestamp", s)
}
