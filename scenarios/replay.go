package scenarios

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// maxProblems caps how many problems one file reports.
const maxProblems = 50

// ReadPoints reads a replay CSV: rows of time,rate. A header row is allowed
// (a first row whose time is not a time and whose rate is not a rate either)
// and lines starting with # are comments. time is seconds from any origin, a
// duration (90s, 1h30m) or an RFC 3339 timestamp; rate is requests per
// second or carries a unit (20/m). Times must increase strictly. The
// returned points start at T = 0.
func ReadPoints(name string, r io.Reader) ([]Point, error) {
	var (
		pts   []Point
		ps    Problems
		kind  = -1 // 0 offsets, 1 timestamps
		sc    = bufio.NewScanner(r)
		line  int
		first = true
	)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	add := func(col int, field, msg string, args ...any) {
		if len(ps) < maxProblems {
			ps = append(ps, &Problem{File: name, Line: line, Col: col, Field: field, Msg: fmt.Sprintf(msg, args...)})
		}
	}
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		trimmed := strings.TrimSpace(text)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		cells := strings.Split(text, ",")
		if len(cells) != 2 {
			add(1, "", "want 2 columns (time,rate), found %d", len(cells))
			continue
		}
		tcell, rcell := strings.TrimSpace(cells[0]), strings.TrimSpace(cells[1])
		rcol := len(cells[0]) + 2
		t, abs, terr := parseTime(tcell)
		if first {
			first = false
			if terr != nil && !looksLikeRate(rcell) {
				continue // a header row: neither field is a value
			}
		}
		if terr != nil {
			add(1, "time", "%v", terr)
			continue
		}
		k := 0
		if abs {
			k = 1
		}
		if kind >= 0 && k != kind {
			add(1, "time", "mixes timestamps and offsets")
			continue
		}
		kind = k
		var v float64
		if strings.Contains(rcell, "/") {
			rv, err := ParseRate(rcell)
			if err != nil {
				add(rcol, "rate", "%v", err)
				continue
			}
			v = float64(rv)
		} else {
			f, err := strconv.ParseFloat(rcell, 64)
			switch {
			case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
				add(rcol, "rate", "%q is not a number", rcell)
				continue
			case f < 0:
				add(rcol, "rate", "must be >= 0, found %s", rcell)
				continue
			case f > MaxRate:
				add(rcol, "rate", "%s/s is above %s (a typo?)", rcell, Rate(MaxRate))
				continue
			}
			v = f
		}
		if math.IsNaN(t) || math.IsInf(t, 0) {
			add(1, "time", "%q is not a finite time", tcell)
			continue
		}
		if n := len(pts); n > 0 && t <= pts[n-1].T {
			add(1, "time", "times must increase: %s is not after the previous row's time", tcell)
			continue
		}
		pts = append(pts, Point{T: t, Rate: v})
	}
	if err := sc.Err(); err != nil {
		add(0, "", "reading: %v", err)
	}
	if len(ps) == 0 && len(pts) < 2 {
		ps = append(ps, &Problem{File: name, Line: line, Msg: fmt.Sprintf("a replay needs at least 2 points, found %d", len(pts))})
	}
	if len(ps) > 0 {
		return nil, ps
	}
	t0 := pts[0].T
	for i := range pts {
		pts[i].T -= t0
	}
	if pts[len(pts)-1].T > 366*86400 {
		return nil, Problems{{File: name, Line: line, Field: "time", Msg: "replay spans more than a year"}}
	}
	return pts, nil
}

// looksLikeRate tells a rate cell (a number, bare or with a unit such as
// 600/m, even a bad one such as -5/s) from a column name such as "rate" or
// "req/s".
func looksLikeRate(s string) bool {
	num, _, _ := strings.Cut(s, "/")
	num = strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(num), "_", ""), ",", "")
	_, err := strconv.ParseFloat(num, 64)
	return err == nil
}
