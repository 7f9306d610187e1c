package report

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Marker labels never cover one another or the legend, and stay on the
// panel, whichever markers coincide (break with recovery, with the fall
// below capacity, with the generator's shading) and wherever they fall:
// under the legend, mid-panel or at the right edge, on a full-size plot
// and on an overview panel a third as tall.
func TestMarkLabelsNeverOverlap(t *testing.T) {
	texts := []struct {
		text   string
		bottom bool
	}{
		{"break 1.4/s", false}, {"recovered", false}, {"below capacity", true},
		{"generator behind", true}, {"capacity 707–771 req/s", false},
	}
	sizes := map[string][2]vg.Length{
		"plot":     PlotSize,
		"overview": {OverviewSize[0], OverviewSize[1] / 3},
	}
	for sname, size := range sizes {
		for _, at := range []float64{0, 0.5, 3, 50, 97, 100} {
			for _, nleg := range []int{0, 3, 6, 12} {
				for nlab := 2; nlab <= len(texts); nlab++ {
					name := fmt.Sprintf("%s/x=%g/%d entries/%d labels", sname, at, nleg, nlab)
					p := newPanel("rates", "req/s")
					p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 100, 0, 100
					for i := 0; i < nleg; i++ {
						if err := line(p, []float64{0, 100}, []float64{50, 50}, palette[i%len(palette)], 1, nil, fmt.Sprintf("endpoint number %d", i)); err != nil {
							t.Fatal(err)
						}
					}
					m := &marks{}
					for _, l := range texts[:nlab] {
						// The first two at exactly one x, the rest a hair off.
						x := at
						if len(m.labels) >= 2 {
							x += 0.2
						}
						m.labels = append(m.labels, markLabel{x: x, text: l.text, color: colBreak, bottom: l.bottom})
					}
					finish(p, m)
					checkPlacement(t, name, p, m, size)
				}
			}
		}
	}
}

// checkPlacement lays m out on p drawn at size and checks that no two of
// the legend and labels overlap and that every label is on the panel.
func checkPlacement(t *testing.T, name string, p *plot.Plot, m *marks, size [2]vg.Length) {
	t.Helper()
	c := draw.New(vgimg.New(size[0], size[1]))
	dc := p.DataCanvas(c)
	leg, hasLegend, placed := m.place(dc, p)
	var boxes []vg.Rectangle
	if hasLegend {
		boxes = append(boxes, leg)
	}
	for _, l := range placed {
		b := l.box()
		if b.Min.X < dc.Min.X || b.Max.X > dc.Max.X || b.Min.Y < dc.Min.Y || b.Max.Y > dc.Max.Y {
			t.Errorf("%s: label %q at %v is off the panel %v", name, l.text, b, dc.Rectangle)
		}
		boxes = append(boxes, b)
	}
	for i := range boxes {
		for j := i + 1; j < len(boxes); j++ {
			if overlap(boxes[i], boxes[j]) > 0 {
				t.Errorf("%s: boxes %d and %d overlap: %v %v", name, i, j, boxes[i], boxes[j])
			}
		}
	}
}

// The labels of an analysis whose break and recovery coincide are stacked
// apart on the overview's rate panel and on the endpoints plot.
func TestCoincidentMarkersReadApart(t *testing.T) {
	a := Analyze(fold(time.Second, attack(t0, 40, 640, mix, func(i int) (uint16, time.Duration, string) {
		if i < 320 {
			return halfFail(i)
		}
		return ok(i)
	})), mustSLO(t, "p99=800ms,errors=1%,grace=0s"))
	if !a.Broke || a.RecoveredAt < 0 {
		t.Fatalf("want a break and a recovery: %s", a.Verdict)
	}
	// Put the recovery on the break, as in a run that breaks for one window.
	a.RecoveredAt, a.FellBelowAt = a.BreakAt, a.BreakAt
	d := a.plotData()
	for _, size := range [][2]vg.Length{PlotSize, {OverviewSize[0], OverviewSize[1] / 3}} {
		p := newPanel("rates", "req/s")
		m := &marks{}
		if err := a.markers(p, m, d, 1, 100); err != nil {
			t.Fatal(err)
		}
		if len(m.labels) < 2 {
			t.Fatalf("want break and recovery labels, got %v", m.labels)
		}
		for _, n := range []string{"offered", "achieved (2xx/3xx done)", "sent"} {
			if err := line(p, d.x, d.x, colOffered, 1, nil, n); err != nil {
				t.Fatal(err)
			}
		}
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = d.x0, d.x1, 1, 100
		finish(p, m)
		checkPlacement(t, fmt.Sprint("coincident ", size), p, m, size)
	}
}

// The linear panels label their ticks with the fewest digits: 500, not
// "500.00" (gonum's default on a 250 step), and 0.5 where it is 0.5.
func TestShortTicks(t *testing.T) {
	for _, c := range []struct{ min, max float64 }{{0, 520}, {0, 1000}, {0, 1.3}, {0, 47}} {
		for _, tk := range (shortTicks{plot.DefaultTicks{}}).Ticks(c.min, c.max) {
			if tk.Label == "" {
				continue
			}
			if tk.Label != strconv.FormatFloat(tk.Value, 'f', -1, 64) || strings.HasSuffix(tk.Label, ".00") {
				t.Errorf("%g–%g: tick %g labelled %q", c.min, c.max, tk.Value, tk.Label)
			}
		}
	}
	// The stock ticker does write "500.00" on 0–520 (so the wrapper is
	// doing something).
	var stock []string
	for _, tk := range (plot.DefaultTicks{}).Ticks(0, 520) {
		if tk.Label != "" {
			stock = append(stock, tk.Label)
		}
	}
	t.Logf("gonum's labels on 0–520: %v", stock)
}

// The legend goes to the corner over the fewest of the panel's points,
// and a marker's label keeps off the lines when it can: on a panel whose
// line is high on the left (a ramp that breaks there) and low on the
// right, the legend moves to the top right, and the break's label covers
// none of the line's points.
func TestLegendAndLabelsKeepOffTheData(t *testing.T) {
	p := newPanel("rates", "req/s")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 100, 0, 100
	var xs, ys []float64
	for x := 0.0; x <= 100; x++ {
		xs = append(xs, x)
		ys = append(ys, max(95-x, 5)) // high at the top left, on the floor at the right
	}
	m := &marks{}
	for _, name := range []string{"offered", "achieved"} {
		if err := line(p, xs, ys, colOffered, 1, nil, name); err != nil {
			t.Fatal(err)
		}
	}
	m.track(xs, ys, false)
	m.labels = append(m.labels, markLabel{x: 8, text: "break 1,207/s", color: colBreak})
	finish(p, m)
	c := draw.New(vgimg.New(OverviewSize[0], OverviewSize[1]/3))
	dc := p.DataCanvas(c)
	leg, ok, placed := m.place(dc, p)
	if !ok || m.legend.Left || !m.legend.Top {
		t.Errorf("legend left %v top %v at %v: want the top right", m.legend.Left, m.legend.Top, leg)
	}
	pts := m.points(dc, p)
	for _, l := range placed {
		b := l.box()
		for _, q := range pts {
			if q.X >= b.Min.X && q.X <= b.Max.X && q.Y >= b.Min.Y && q.Y <= b.Max.Y {
				t.Errorf("label %q at %v covers the point %v", l.text, b, q)
				break
			}
		}
	}
	checkPlacement(t, "ramp", p, m, [2]vg.Length{OverviewSize[0], OverviewSize[1] / 3})
}
