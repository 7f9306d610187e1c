package attack

import "testing"

// The progress line's rates read as a person says them: whole numbers at
// a glance, under one a second in the unit that gives a number, to two
// digits.
func TestFmtRate(t *testing.T) {
	for r, want := range map[float64]string{
		35000:          "35,000/s",
		1200:           "1,200/s",
		12.345:         "12.3/s",
		300.0 / 86400:  "13/h", // 12.5 an hour
		10.286 / 86400: "10/d",
		2.594 / 3600:   "2.6/h",
		2.0 / 3600:     "2/h",
		0.5 / 60:       "30/h",
		0.3:            "18/m",
		0:              "0/s",
	} {
		if got := fmtRate(r); got != want {
			t.Errorf("fmtRate(%g) = %q, want %q", r, got, want)
		}
	}
}
