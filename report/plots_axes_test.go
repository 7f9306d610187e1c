package report

import (
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"
)

// Offered rates reaching far past the knee go on a log axis (RateTicks),
// from under the capacity band, which is shaded on it; a curve whose peak
// is near the knee keeps a linear axis from 0.
func TestLatencyVsLoadLogAxis(t *testing.T) {
	for _, tc := range []struct {
		curve string
		log   bool
	}{
		{"quiet: hold 2/s for 20s, climb: ramp 2/s to 6000/s over 60s, hold: hold 6000/s for 5s", true},
		{spikeCurve, false},
	} {
		a, _ := analyzeSim(t, starvedHost(), tc.curve, 1)
		if !a.Broke {
			t.Fatalf("%s: want a break: %s", tc.curve, a.Verdict)
		}
		p, err := a.LatencyVsLoadPlot()
		if err != nil {
			t.Fatal(err)
		}
		_, isLog := p.X.Scale.(plot.LogScale)
		if isLog != tc.log {
			t.Errorf("%s: log x axis %v, want %v (x %g–%g, capacity %g–%g)", tc.curve, isLog, tc.log, p.X.Min, p.X.Max, a.CapacityLo, a.CapacityHi)
		}
		if tc.log {
			if !(p.X.Min > 0 && p.X.Min <= a.CapacityHi/10) || p.X.Max < a.PeakOffered {
				t.Errorf("%s: log x axis %g–%g does not span the knee %g to the peak %g", tc.curve, p.X.Min, p.X.Max, a.CapacityHi, a.PeakOffered)
			}
			if _, ok := p.X.Tick.Marker.(RateTicks); !ok {
				if _, ok := p.X.Tick.Marker.(floorTicker); !ok {
					t.Errorf("%s: x ticks %T, want RateTicks", tc.curve, p.X.Tick.Marker)
				}
			}
		} else if p.X.Min != 0 {
			t.Errorf("%s: linear x axis from %g, want 0", tc.curve, p.X.Min)
		}
		if _, err := Render([]*plot.Plot{p}, PlotSize[0], PlotSize[1], "png"); err != nil {
			t.Fatalf("%s: %v", tc.curve, err)
		}
	}
}

// 503s answered in 0 ms are not in the latency percentiles (those are of
// successful requests), and on the overview's dotted failed-latency line
// they do not drag the axis down to 1 µs: the floor comes from the
// non-zero latencies, the zeros are drawn on it and it is labelled "≤".
func TestZeroLatencyFloor(t *testing.T) {
	rs := attack(t0, 40, 640, mix, func(i int) (uint16, time.Duration, string) {
		if i >= 200 && i < 440 && i%3 != 0 {
			return 503, 0, ""
		}
		return 200, 20 * time.Millisecond, ""
	})
	a := Analyze(fold(time.Second, rs), mustSLO(t, "p99=800ms,errors=1%,grace=0s"))
	panels, err := a.OverviewPanels()
	if err != nil {
		t.Fatal(err)
	}
	lv, err := a.LatencyVsLoadPlot()
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*plot.Plot{"overview latency": panels[1], "latency vs load": lv} {
		if p.Y.Min != 10 {
			t.Errorf("%s: floor %g ms, want 10 ms (a decade under the 20 ms answers)", name, p.Y.Min)
		}
		ticks := p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max)
		// Only the overview draws the failed requests (at 0 ms, on the floor).
		if floored := len(ticks) > 0 && strings.HasPrefix(ticks[0].Label, "≤ "); floored != (name == "overview latency") {
			t.Errorf("%s: the floor tick %v marked as holding lower values: %v", name, ticks, floored)
		}
	}
	// Every window's p50 and p99 are the successes' 20 ms.
	for _, j := range a.Windows {
		if j.Requests > 0 && (j.P50 < 19*time.Millisecond || j.P99 > 21*time.Millisecond) {
			t.Errorf("window at %v s: p50 %v, p99 %v: failed requests counted in the latency", j.Start, j.P50, j.P99)
		}
	}
	if _, err := Render([]*plot.Plot{lv}, PlotSize[0], PlotSize[1], "png"); err != nil {
		t.Fatal(err)
	}
	if _, err := Render(panels, OverviewSize[0], OverviewSize[1], "svg"); err != nil {
		t.Fatal(err)
	}
	// Without zeros the floor tick reads as it is.
	a = Analyze(fold(time.Second, attack(t0, 40, 200, mix, ok)), mustSLO(t, "p99=800ms"))
	panels, err = a.OverviewPanels()
	if err != nil {
		t.Fatal(err)
	}
	if ticks := panels[1].Y.Tick.Marker.Ticks(panels[1].Y.Min, panels[1].Y.Max); strings.HasPrefix(ticks[0].Label, "≤") {
		t.Errorf("no zeros, yet the floor tick reads %q", ticks[0].Label)
	}
}

// No endpoint is drawn in the red that marks the SLO and the break.
func TestEndpointColoursNotRed(t *testing.T) {
	for i, c := range palette {
		r, g, b, _ := c.RGBA()
		if r>>8 > 180 && g>>8 < 90 && b>>8 < 90 {
			t.Errorf("palette[%d] %v is red, as the SLO and break lines are", i, c)
		}
	}
}
