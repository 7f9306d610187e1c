package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// TimeUnit picks the unit a time axis of total length sec reads best in.
func TimeUnit(sec float64) (div float64, name string) {
	switch {
	case sec <= 180:
		return 1, "s"
	case sec <= 3*3600:
		return 60, "min"
	default:
		return 3600, "h"
	}
}

// RateTicks marks a logarithmic rate axis at each decade with units that
// read at a glance: 0.01/s, 1/s, 100/s, 10k/s.
type RateTicks struct{}

// Ticks implements plot.Ticker.
func (RateTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 {
		min = 1e-6
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		v := math.Pow(10, e)
		if v >= min*(1-1e-9) && v <= max*(1+1e-9) {
			label := FormatRate(v)
			if v < 1 {
				label = strings.TrimRight(fmt.Sprintf("%.6f", v), "0") + "/s"
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: label})
		}
		for _, m := range []float64{2, 5} {
			if w := v * m; w > min && w < max {
				ticks = append(ticks, plot.Tick{Value: w})
			}
		}
	}
	return ticks
}

// TimeTicks marks a linear time axis at a round step giving 6-12 labels.
type TimeTicks struct{}

// Ticks implements plot.Ticker.
func (TimeTicks) Ticks(min, max float64) []plot.Tick {
	span := max - min
	if !(span > 0) {
		return nil
	}
	step := 1.0
	for _, mag := range []float64{0.01, 0.1, 1, 10, 100, 1000, 1e4, 1e5} {
		found := false
		for _, m := range []float64{1, 2, 3, 5} {
			if span/(m*mag) <= 12 {
				step, found = m*mag, true
				break
			}
		}
		if found {
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max+step*1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		for k := 1; k < 5 && step >= 2; k++ {
			if w := v + step*float64(k)/5; w < max {
				ticks = append(ticks, plot.Tick{Value: w})
			}
		}
	}
	return ticks
}

// FormatRate prints a request rate compactly for axes and tables.
func FormatRate(v float64) string {
	switch {
	case v >= 1e6:
		return trim(v/1e6) + "M/s"
	case v >= 1e3:
		return trim(v/1e3) + "k/s"
	case v >= 1 || v == 0:
		return trim(v) + "/s"
	case v*60 >= 1:
		return trim(v*60) + "/min"
	case v*3600 >= 1:
		return trim(v*3600) + "/h"
	}
	return trim(v*86400) + "/d"
}

func trim(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	if v >= 100 {
		s = fmt.Sprintf("%.0f", v)
	} else if v >= 10 {
		s = fmt.Sprintf("%.1f", v)
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// sampleCurve returns (t, r) points tracing c exactly at every segment
// boundary (so steps stay square) and at n points in between.
func sampleCurve(c *scenarios.Curve, n int) plotter.XYs {
	D := c.Seconds()
	var xys plotter.XYs
	start := 0.0
	for i := range c.Segments {
		s := &c.Segments[i]
		k := max(2, int(float64(n)*s.Dur/D))
		for j := 0; j <= k; j++ {
			u := s.Dur * float64(j) / float64(k)
			xys = append(xys, plotter.XY{X: start + u, Y: s.Rate(u)})
		}
		start += s.Dur
	}
	return xys
}

// CurvePlot draws a curve's rate over time on a log rate axis, each phase on
// its own shaded band with its name.
func CurvePlot(c *scenarios.Curve, title string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	div, unit := TimeUnit(c.Seconds())
	p.X.Label.Text = "time (" + unit + ")"
	p.X.Tick.Marker = TimeTicks{}
	p.Y.Label.Text = "request rate (log)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = RateTicks{}

	pts := sampleCurve(c, 2000)
	floor := math.Inf(1)
	for _, q := range pts {
		if q.Y > 0 {
			floor = math.Min(floor, q.Y)
		}
	}
	floor = math.Pow(10, math.Floor(math.Log10(floor)))
	top := math.Pow(10, math.Ceil(math.Log10(c.Peak()*1.01)))
	for i := range pts {
		pts[i].X /= div
		pts[i].Y = math.Max(pts[i].Y, floor) // log scale: zero rates sit on the floor
	}

	spans := c.Spans()
	var labels plotter.XYLabels
	for i, sp := range spans {
		x0, x1 := sp.Start/div, (sp.Start+sp.Seconds)/div
		if i%2 == 0 {
			band, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: floor}, {X: x1, Y: floor}, {X: x1, Y: top}, {X: x0, Y: top}})
			if err != nil {
				return nil, err
			}
			band.Color = color.RGBA{R: 238, G: 242, B: 248, A: 255}
			band.LineStyle.Width = 0
			p.Add(band)
		}
		labels.XYs = append(labels.XYs, plotter.XY{X: x0, Y: top / math.Pow(top/floor, 0.04*float64(1+i%3))})
		name := fmt.Sprintf(" %d. %s", i+1, sp.Name)
		if sp.Seconds/c.Seconds() < 0.006*float64(len(name)) {
			name = fmt.Sprintf(" %d", i+1) // too narrow for its name
		}
		labels.Labels = append(labels.Labels, name)
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return nil, err
	}
	line.Color = color.RGBA{R: 200, G: 40, B: 40, A: 255}
	line.Width = vg.Points(1.5)
	p.Add(line)
	if len(spans) > 1 || spans[0].Name != spans[0].Kind {
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Font.Size = vg.Points(8)
			l.TextStyle[i].Color = color.Gray{Y: 70}
		}
		p.Add(l)
	}
	p.X.Min, p.X.Max = 0, c.Seconds()/div
	p.Y.Min, p.Y.Max = floor, top
	p.Add(plotter.NewGrid())
	return p, nil
}

// SavePlot writes p to path in the format its extension names (.png,
// .svg or .pdf; gonum/plot's .eps, .jpg, .tif and .tex too). An extension
// it cannot write is a *scenarios.Problem naming path (bad input: exit 2),
// found before the file is touched; otherwise the plot is drawn first and
// written through a temporary file renamed into place, so path is never
// left half-written or emptied.
func SavePlot(p *plot.Plot, w, h vg.Length, path string) error {
	ext := filepath.Ext(path)
	c, err := p.WriterTo(w, h, strings.ToLower(strings.TrimPrefix(ext, ".")))
	if err != nil {
		what := "no extension"
		if ext != "" {
			what = "extension " + strconv.Quote(ext)
		}
		return &scenarios.Problem{File: path, Msg: "cannot write a plot with " + what + ": give a file ending in .png, .svg or .pdf"}
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return writeFileAtomic(path, buf.Bytes())
}

var _ plot.Ticker = RateTicks{}
