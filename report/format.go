package report

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// num prints x rounded to an integer with thousands separators: 1,180.
func num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "∞"
	}
	s := strconv.FormatFloat(math.Abs(math.Round(x)), 'f', 0, 64)
	var b strings.Builder
	if x < 0 && math.Round(x) != 0 {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// rate prints a rate in req/s with the precision that reads: 1,180, 42, 2.5, 0.03.
func rate(r float64) string {
	switch {
	case r >= 100 || r == 0:
		return num(r)
	case r >= 10:
		return strconv.FormatFloat(math.Round(r), 'f', -1, 64)
	case r >= 1:
		return strconv.FormatFloat(math.Round(r*10)/10, 'f', -1, 64)
	}
	return strconv.FormatFloat(r, 'g', 2, 64)
}

// rps prints a rate with its unit: "1,180 req/s".
func rps(r float64) string { return rate(r) + " req/s" }

// pct prints a ratio as a percentage: 12%, 1.2%, 0.04%.
func pct(x float64) string {
	p := x * 100
	switch {
	case p == 0:
		return "0%"
	case p >= 99 && p < 100:
		// Never "100%" for what is not all: 99.8% of visitors broken
		// means some saw the whole page.
		return strconv.FormatFloat(math.Min(math.Round(p*10)/10, 99.9), 'f', -1, 64) + "%"
	case p >= 10:
		return strconv.FormatFloat(math.Round(p), 'f', -1, 64) + "%"
	case p >= 1:
		return strconv.FormatFloat(math.Round(p*10)/10, 'f', -1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'g', 1, 64) + "%"
}

// fmtLatency prints a latency: 0.4 ms, 310 ms, 4.2 s, 1 m 30 s.
func fmtLatency(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 ms"
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'g', 1, 64) + " ms"
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(math.Round(float64(d)/1e5)/10, 'f', -1, 64) + " ms"
	case d < time.Second:
		return strconv.FormatFloat(math.Round(float64(d)/1e6), 'f', -1, 64) + " ms"
	case d < 10*time.Second:
		return strconv.FormatFloat(math.Round(d.Seconds()*10)/10, 'f', -1, 64) + " s"
	}
	return fmtSec(d.Seconds())
}

// fmtSec prints seconds as a span of time: 41 s, 2 m 10 s, 1 h 5 m.
func fmtSec(s float64) string {
	if s < 0 {
		return "-" + fmtSec(-s)
	}
	if s < 10 {
		return strconv.FormatFloat(math.Round(s*10)/10, 'f', -1, 64) + " s"
	}
	t := int64(math.Round(s))
	h, m, sec := t/3600, t/60%60, t%60
	switch {
	case h > 0 && m > 0:
		return strconv.FormatInt(h, 10) + " h " + strconv.FormatInt(m, 10) + " m"
	case h > 0:
		return strconv.FormatInt(h, 10) + " h"
	case m > 0 && sec > 0:
		return strconv.FormatInt(m, 10) + " m " + strconv.FormatInt(sec, 10) + " s"
	case m > 0:
		return strconv.FormatInt(m, 10) + " m"
	}
	return strconv.FormatInt(sec, 10) + " s"
}

// ms is a duration in milliseconds, for JSON.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// cmpLatency prints a latency and the limit it is compared with, adding
// digits until they differ, so that "p99 1.001 s > 1 s" never reads
// "p99 1 s > 1 s".
func cmpLatency(v, limit time.Duration) (string, string) {
	a, b := fmtLatency(v), fmtLatency(limit)
	if a != b || v == limit {
		return a, b
	}
	unit, name := float64(time.Millisecond), " ms"
	if limit >= time.Second || v >= time.Second {
		unit, name = float64(time.Second), " s"
	}
	for prec := 1; prec <= 9 && a == b; prec++ {
		a = trimDecimals(strconv.FormatFloat(float64(v)/unit, 'f', prec, 64)) + name
		b = trimDecimals(strconv.FormatFloat(float64(limit)/unit, 'f', prec, 64)) + name
	}
	return a, b
}

// cmpPct prints a ratio and the limit it is compared with as percentages
// that differ when the ratios do: "errors 1.04% > 1%".
func cmpPct(x, limit float64) (string, string) {
	a, b := pct(x), pct(limit)
	for prec := 1; prec <= 9 && a == b && x != limit; prec++ {
		a = trimDecimals(strconv.FormatFloat(x*100, 'f', prec, 64)) + "%"
		b = trimDecimals(strconv.FormatFloat(limit*100, 'f', prec, 64)) + "%"
	}
	return a, b
}

// trimDecimals drops trailing zeros after a decimal point: "1.500" → "1.5", "1.000" → "1".
func trimDecimals(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}
