package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxRate is the highest rate a curve may reach. Anything above it is taken
// for a typo (a missing unit, an extra zero) rather than a plan.
const MaxRate = 10_000_000

// Rate is a request rate in requests per second. It parses and prints with
// units: 300/d, 20/m, 5/h, 35000/s.
type Rate float64

var rateUnits = []struct {
	suffix string
	per    float64 // seconds in the unit
}{
	{"/s", 1}, {"/sec", 1}, {"/m", 60}, {"/min", 60}, {"/h", 3600}, {"/d", 86400}, {"/day", 86400},
}

// ParseRate reads a rate such as "35000/s", "20/m", "300/d" or "2.5/h".
// A bare number is not accepted: the unit is what makes 300 a day differ
// from 300 a second.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexByte(s, '/')
	if i < 0 {
		return 0, fmt.Errorf("rate %q has no unit (write it as 300/d, 20/m, 5/h or 35000/s)", s)
	}
	num, unit := strings.TrimSpace(s[:i]), strings.ToLower(strings.TrimSpace(s[i:]))
	num = strings.ReplaceAll(num, "_", "")
	num = strings.ReplaceAll(num, ",", "")
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("rate %q: %q is not a number", s, num)
	}
	for _, u := range rateUnits {
		if unit == u.suffix {
			r := v / u.per
			if r < 0 {
				return 0, fmt.Errorf("rate %q is negative", s)
			}
			if r > MaxRate {
				return 0, fmt.Errorf("rate %q is above %s (a typo?)", s, Rate(MaxRate))
			}
			return Rate(r), nil
		}
	}
	// Allow vegeta's "50/1s" form.
	if d, err := time.ParseDuration(strings.TrimPrefix(unit, "/")); err == nil && d > 0 {
		r := v / d.Seconds()
		if r < 0 || r > MaxRate {
			return 0, fmt.Errorf("rate %q is out of range [0, %s]", s, Rate(MaxRate))
		}
		return Rate(r), nil
	}
	return 0, fmt.Errorf("rate %q: unknown unit %q (use /s, /m, /h or /d)", s, unit)
}

// String prints the rate in the unit that reads best: per second at 1/s and
// above, else per minute, hour or day.
func (r Rate) String() string {
	v := float64(r)
	switch {
	case v == 0:
		return "0/s"
	case v >= 1:
		return trimFloat(v) + "/s"
	case v*60 >= 1:
		return trimFloat(v*60) + "/m"
	case v*3600 >= 1:
		return trimFloat(v*3600) + "/h"
	default:
		return trimFloat(v*86400) + "/d"
	}
}

// Set and Type make *Rate a flag value (pflag.Value).
func (r *Rate) Set(s string) error {
	v, err := ParseRate(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Type names the flag placeholder.
func (r *Rate) Type() string { return "rate" }

func trimFloat(v float64) string {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// ParseDuration is time.ParseDuration plus a day unit: "2h", "90s", "1d12h",
// "1.5d". Durations are never negative: "-5s" and "1d-23h" are errors.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if strings.Contains(s, "-") {
		return 0, fmt.Errorf("duration %q is negative or has a negative part: durations must be >= 0", s)
	}
	var days float64
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		v, err := strconv.ParseFloat(s[:i], 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return 0, fmt.Errorf("duration %q: bad day count", s)
		}
		days = v
		s = s[i+1:]
		if s == "" {
			if days > 365 {
				return 0, fmt.Errorf("duration %dd is longer than a year", int(days))
			}
			return time.Duration(days * 24 * float64(time.Hour)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: use Go form (90s, 2h30m) or days (1d, 1d6h)", s)
	}
	if days > 365 {
		return 0, fmt.Errorf("duration is longer than a year")
	}
	return d + time.Duration(days*24*float64(time.Hour)), nil
}

// FormatDuration prints a duration compactly, to two units at most:
// 850ms, 41s, 2m10s, 47h46m (hours up to three days), 4d6h. A person reads
// "47h46m" at a glance where "1d23h45m36s" needs working out.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	if d < time.Minute {
		return strconv.FormatFloat(math.Round(d.Seconds()*10)/10, 'f', -1, 64) + "s"
	}
	two := func(hi, lo time.Duration, a, b string) string {
		d = d.Round(lo)
		x, y := d/hi, (d%hi)/lo
		if y == 0 {
			return fmt.Sprintf("%d%s", x, a)
		}
		return fmt.Sprintf("%d%s%d%s", x, a, y, b)
	}
	switch {
	case d < time.Hour-time.Second/2:
		return two(time.Minute, time.Second, "m", "s")
	case d < 72*time.Hour-time.Minute/2:
		return two(time.Hour, time.Minute, "h", "m")
	}
	return two(24*time.Hour, time.Hour, "d", "h")
}
