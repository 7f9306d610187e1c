package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Plot sizes.
var (
	OverviewSize = [2]vg.Length{10 * vg.Inch, 8 * vg.Inch}
	PlotSize     = [2]vg.Length{10 * vg.Inch, 4.5 * vg.Inch}
)

// maxPlotWindows is the most windows a plot draws; longer runs are merged
// into coarser windows for plotting (merging loses nothing but resolution).
const maxPlotWindows = 1500

var (
	colOffered  = color.RGBA{R: 90, G: 90, B: 90, A: 255}
	colAchieved = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	colSent     = color.RGBA{R: 150, G: 190, B: 230, A: 255}
	colBreak    = color.RGBA{R: 200, G: 30, B: 30, A: 255}
	colRecover  = color.RGBA{R: 30, G: 150, B: 60, A: 255}
	colBelow    = color.RGBA{R: 120, G: 120, B: 120, A: 255}
	colSpan     = color.NRGBA{R: 230, G: 60, B: 60, A: 38}
	colBand     = color.NRGBA{R: 255, G: 150, B: 0, A: 70}
	colGen      = color.NRGBA{R: 255, G: 190, B: 40, A: 55}
	colGenText  = color.RGBA{R: 170, G: 110, B: 0, A: 255}
	colSLO      = color.RGBA{R: 200, G: 30, B: 30, A: 255}
	colFailed   = color.RGBA{R: 120, G: 60, B: 130, A: 255} // failed requests' latency (dotted)
	latColors   = []color.Color{
		color.RGBA{R: 31, G: 119, B: 180, A: 255},  // p50
		color.RGBA{R: 44, G: 160, B: 44, A: 255},   // p90
		color.RGBA{R: 255, G: 127, B: 14, A: 255},  // p99
		color.RGBA{R: 150, G: 150, B: 150, A: 255}, // max
	}
	// palette for endpoints (tab10 without its red: red marks the SLO and
	// the break, and an endpoint drawn in it would read as one).
	palette = []color.Color{
		color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 255, G: 127, B: 14, A: 255},
		color.RGBA{R: 44, G: 160, B: 44, A: 255},
		color.RGBA{R: 148, G: 103, B: 189, A: 255}, color.RGBA{R: 140, G: 86, B: 75, A: 255},
		color.RGBA{R: 227, G: 119, B: 194, A: 255}, color.RGBA{R: 127, G: 127, B: 127, A: 255},
		color.RGBA{R: 188, G: 189, B: 34, A: 255}, color.RGBA{R: 23, G: 190, B: 207, A: 255},
	}
)

// errorBand is one band of the stacked errors panel.
type errorBand struct {
	name  string
	color color.Color
	count func(s *Stats) uint64
}

var errorBands = []errorBand{
	{"503", color.RGBA{R: 255, G: 127, B: 14, A: 255}, func(s *Stats) uint64 { return s.S503 }},
	{"504", color.RGBA{R: 214, G: 39, B: 40, A: 255}, func(s *Stats) uint64 { return s.S504 }},
	{"other 5xx", color.RGBA{R: 140, G: 86, B: 75, A: 255}, func(s *Stats) uint64 { return s.Status[5] - s.S503 - s.S504 }},
	{"4xx", color.RGBA{R: 227, G: 119, B: 194, A: 255}, func(s *Stats) uint64 { return s.Status[4] + s.Status[1] + s.Status[6] }},
	{"timeout", color.RGBA{R: 148, G: 103, B: 189, A: 255}, func(s *Stats) uint64 { return s.Errors[Timeout] }},
	{"refused", color.RGBA{R: 31, G: 119, B: 180, A: 255}, func(s *Stats) uint64 { return s.Errors[Refused] }},
	{"reset", color.RGBA{R: 23, G: 190, B: 207, A: 255}, func(s *Stats) uint64 { return s.Errors[Reset] }},
	{"tls", color.RGBA{R: 188, G: 189, B: 34, A: 255}, func(s *Stats) uint64 { return s.Errors[TLS] }},
	{"generator", color.RGBA{R: 60, G: 60, B: 60, A: 255}, func(s *Stats) uint64 { return s.Errors[Generator] }},
	{"dns", color.RGBA{R: 188, G: 143, B: 143, A: 255}, func(s *Stats) uint64 { return s.Errors[DNS] }},
	{"garbage", color.RGBA{R: 255, G: 187, B: 120, A: 255}, func(s *Stats) uint64 { return s.Errors[Garbage] }},
	{"other", color.RGBA{R: 127, G: 127, B: 127, A: 255}, func(s *Stats) uint64 { return s.Errors[OtherError] }},
	{"check", color.RGBA{R: 44, G: 160, B: 44, A: 255}, func(s *Stats) uint64 {
		return s.Errors[CheckStatus] + s.Errors[CheckBytes] + s.Errors[CheckBody] + s.Errors[CheckLatency]
	}},
}

// plotData is the analysis resampled for drawing.
type plotData struct {
	ws     *Windows
	div    float64 // seconds per display unit
	unit   string
	x      []float64 // window middles, display units
	x0, x1 float64
}

func (a *Analysis) plotData() *plotData {
	ws := a.W
	if n := len(ws.W); n > maxPlotWindows {
		k := (n + maxPlotWindows - 1) / maxPlotWindows
		if m, err := ws.Rewindow(ws.Width * time.Duration(k)); err == nil {
			ws = m
		}
	}
	d := &plotData{ws: ws}
	span := 0.0
	if len(ws.W) > 0 {
		span = ws.StartSec(len(ws.W)-1) + ws.Width.Seconds()
	}
	d.div, d.unit = TimeUnit(span)
	for i := range ws.W {
		// A window covered only in part is drawn at the middle of what it
		// covers.
		d.x = append(d.x, ws.coveredMid(i)/d.div)
	}
	if len(ws.W) > 0 {
		d.x0, d.x1 = ws.StartSec(0)/d.div, span/d.div
	}
	if d.x1 <= d.x0 {
		d.x1 = d.x0 + 1
	}
	return d
}

// line adds a line through (xs, ys), broken wherever y is NaN, with one
// legend entry.
func line(p *plot.Plot, xs, ys []float64, c color.Color, width vg.Length, dashes []vg.Length, name string) error {
	var seg plotter.XYs
	var first *plotter.Line
	flush := func() error {
		if len(seg) == 0 {
			return nil
		}
		if len(seg) == 1 { // a lone point: draw it as a short tick
			seg = append(seg, seg[0])
		}
		l, err := plotter.NewLine(seg)
		if err != nil {
			return err
		}
		l.Color, l.Width, l.Dashes = c, width, dashes
		p.Add(l)
		if first == nil {
			first = l
		}
		seg = nil
		return nil
	}
	for i := range xs {
		if math.IsNaN(ys[i]) || math.IsInf(ys[i], 0) {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		seg = append(seg, plotter.XY{X: xs[i], Y: ys[i]})
	}
	if err := flush(); err != nil {
		return err
	}
	if name != "" {
		if first == nil { // nothing to draw: still show it in the legend
			l := &plotter.Line{LineStyle: draw.LineStyle{Color: c, Width: width, Dashes: dashes}}
			p.Legend.Add(name, l)
		} else {
			p.Legend.Add(name, first)
		}
	}
	return nil
}

// vline draws a vertical marker at x across [y0, y1], with its label (if
// m is not nil) at the top.
func vline(p *plot.Plot, m *marks, x, y0, y1 float64, c color.Color, dashes []vg.Length, label string) error {
	return vlineAt(p, m, x, y0, y1, c, dashes, label, false)
}

// vlineAt is vline with the label at the top or the bottom.
func vlineAt(p *plot.Plot, m *marks, x, y0, y1 float64, c color.Color, dashes []vg.Length, label string, bottom bool) error {
	l, err := plotter.NewLine(plotter.XYs{{X: x, Y: y0}, {X: x, Y: y1}})
	if err != nil {
		return err
	}
	l.Color, l.Width, l.Dashes = c, vg.Points(1.2), dashes
	p.Add(l)
	if label != "" && m != nil {
		m.labels = append(m.labels, markLabel{x: x, text: label, color: c, bottom: bottom})
	}
	return nil
}

// marks draws a panel's legend, on a pale box, and its marker labels
// ("break 40/s", "recovered"), each on a pale box of its own, laid out so
// that none covers the legend or another label: each label goes at the top
// (or bottom) of its line, on the line's right or, near the right edge, its
// left. Where that spot is taken it moves down (or up) past what is in the
// way, then tries the line's other side, then spots further along; only
// when no spot is free does it take the one it overlaps least. finish adds
// it to a panel last, over the lines, and takes the panel's legend over
// (gonum/plot places its own legend on a canvas padded differently from
// the data's).
type marks struct {
	labels []markLabel
	legend plot.Legend
	// data is what the panel draws, for the legend to keep off: the
	// legend goes in the corner (top left, top right, bottom left, bottom
	// right, in that order of preference) over the fewest points.
	data []trackedSeries
}

// trackedSeries is a series of points drawn on a panel: a line's, or an
// area's top (area: filled down to the axis).
type trackedSeries struct {
	xs, ys []float64
	area   bool
}

// points are the tracked series' points on c.
func (m *marks) points(c draw.Canvas, p *plot.Plot) []vg.Point {
	var out []vg.Point
	for _, sr := range m.data {
		for i := range sr.xs {
			if i >= len(sr.ys) || math.IsNaN(sr.ys[i]) || math.IsInf(sr.ys[i], 0) {
				continue
			}
			out = append(out, vg.Point{X: c.X(p.X.Norm(sr.xs[i])), Y: c.Y(p.Y.Norm(min(max(sr.ys[i], p.Y.Min), p.Y.Max)))})
		}
	}
	return out
}

// track notes a series the panel draws.
func (m *marks) track(xs, ys []float64, area bool) {
	m.data = append(m.data, trackedSeries{xs: xs, ys: ys, area: area})
}

// corner puts the legend in the corner of c whose box covers the fewest
// of the tracked points (it keeps the panel's corner when nothing is
// tracked).
func (m *marks) corner(c draw.Canvas, p *plot.Plot) {
	if len(m.data) == 0 {
		return
	}
	x0, y0 := m.legend.XOffs, m.legend.YOffs // the top-left insets
	if !m.legend.Left {
		x0 = -x0
	}
	if !m.legend.Top {
		y0 = -y0
	}
	pts := make([][]vg.Point, len(m.data)) // each series' points on c
	for j, sr := range m.data {
		pts[j] = (&marks{data: []trackedSeries{sr}}).points(c, p)
	}
	best, bestN := 0, -1
	for k, cn := range []struct{ top, left bool }{{true, true}, {true, false}, {false, true}, {false, false}} {
		l := m.legend
		l.Top, l.Left, l.XOffs, l.YOffs = cn.top, cn.left, x0, y0
		if !cn.left {
			l.XOffs = -x0
		}
		if !cn.top {
			l.YOffs = -y0
		}
		r, ok := legendRect(c, &l)
		if !ok {
			return
		}
		r.Min = r.Min.Sub(vg.Point{X: labelGap, Y: labelGap})
		r.Max = r.Max.Add(vg.Point{X: labelGap, Y: labelGap})
		n := 0
		for j, sr := range m.data {
			for _, q := range pts[j] {
				if q.X >= r.Min.X && q.X <= r.Max.X && q.Y >= r.Min.Y && (q.Y <= r.Max.Y || sr.area) {
					n++
				}
			}
		}
		if bestN < 0 || n < bestN {
			best, bestN = k, n
		}
	}
	cn := []struct{ top, left bool }{{true, true}, {true, false}, {false, true}, {false, false}}[best]
	m.legend.Top, m.legend.Left, m.legend.XOffs, m.legend.YOffs = cn.top, cn.left, x0, y0
	if !cn.left {
		m.legend.XOffs = -x0
	}
	if !cn.top {
		m.legend.YOffs = -y0
	}
}

// finish adds m (a new one if nil) to p, after every other plotter.
func finish(p *plot.Plot, m *marks) {
	if m == nil {
		m = &marks{}
	}
	m.legend = p.Legend
	p.Legend = plot.NewLegend()
	p.Add(m)
}

type markLabel struct {
	x      float64 // in data units
	text   string
	color  color.Color
	bottom bool
}

// labelGap is the space around labels and the legend.
const labelGap = vg.Length(2.5)

// placedLabel is a label where layout put it.
type placedLabel struct {
	at   vg.Point // bottom left
	size vg.Point
	sty  text.Style
	text string
}

func (l placedLabel) box() vg.Rectangle { return vg.Rectangle{Min: l.at, Max: l.at.Add(l.size)} }

// overlap is the area two rectangles share (0 if they only touch).
func overlap(a, b vg.Rectangle) vg.Length {
	w := min(a.Max.X, b.Max.X) - max(a.Min.X, b.Min.X)
	h := min(a.Max.Y, b.Max.Y) - max(a.Min.Y, b.Min.Y)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// spot is where a label of the given size goes on c, clear of taken: the
// first free one of, in order, the columns xs (its line's near side, then
// its far side) at the height y0 or just past one of taken (downwards from
// the top, or upwards from the bottom), then the same heights just right
// or left of one of taken. If none is free, the candidate covering least.
//
// A spot over none of the points (the panel's data, on c) is free; when
// every spot clear of taken covers some, the one covering fewest.
func spot(c draw.Canvas, taken []vg.Rectangle, points []vg.Point, size vg.Point, xs []vg.Length, y0 vg.Length, up bool) vg.Point {
	// Heights: the start, then past each obstacle, nearest first.
	ys := []vg.Length{y0}
	for _, t := range taken {
		if up {
			if y := t.Max.Y + labelGap; y > y0 {
				ys = append(ys, y)
			}
		} else if y := t.Min.Y - labelGap - size.Y; y < y0 {
			ys = append(ys, y)
		}
	}
	sort.Slice(ys, func(i, j int) bool { return abs(ys[i]-y0) < abs(ys[j]-y0) })
	// Columns: the line's sides, then beside each obstacle, nearest first.
	var more []vg.Length
	for _, t := range taken {
		more = append(more, t.Max.X+labelGap, t.Min.X-labelGap-size.X)
	}
	sort.Slice(more, func(i, j int) bool { return abs(more[i]-xs[0]) < abs(more[j]-xs[0]) })
	xs = append(xs[:len(xs):len(xs)], more...)

	inside := func(at vg.Point) bool {
		return at.X >= c.Min.X && at.X+size.X <= c.Max.X && at.Y >= c.Min.Y && at.Y+size.Y <= c.Max.Y
	}
	cover := func(at vg.Point) vg.Length {
		b := vg.Rectangle{Min: at, Max: at.Add(size)}
		var sum vg.Length
		for _, t := range taken {
			sum += overlap(b, t)
		}
		return sum
	}
	onData := func(at vg.Point) int {
		n := 0
		for _, q := range points {
			if q.X >= at.X && q.X <= at.X+size.X && q.Y >= at.Y && q.Y <= at.Y+size.Y {
				n++
			}
		}
		return n
	}
	var best, clear vg.Point
	bestCover := vg.Length(math.Inf(1))
	clearOn := -1
	for i, x := range xs {
		for _, y := range ys {
			at := vg.Point{X: x, Y: y}
			if !inside(at) {
				continue
			}
			cv := cover(at)
			if cv == 0 {
				n := onData(at)
				if n == 0 {
					return at
				}
				if clearOn < 0 || n < clearOn {
					clear, clearOn = at, n
				}
				continue
			}
			if i < 2 && cv < bestCover { // fall back only beside the line
				best, bestCover = at, cv
			}
		}
	}
	if clearOn >= 0 { // clear of the legend and labels, over the fewest points
		return clear
	}
	if math.IsInf(float64(bestCover), 1) { // no room at all: the first choice, pulled inside
		best = vg.Point{X: max(c.Min.X, min(xs[0], c.Max.X-size.X)), Y: max(c.Min.Y, min(y0, c.Max.Y-size.Y))}
	}
	return best
}

func abs(x vg.Length) vg.Length {
	if x < 0 {
		return -x
	}
	return x
}

// place lays out the legend and labels on the data canvas c.
func (m *marks) place(c draw.Canvas, p *plot.Plot) (leg vg.Rectangle, hasLegend bool, labels []placedLabel) {
	xnorm := p.X.Norm
	m.corner(c, p)
	points := m.points(c, p)
	var taken []vg.Rectangle
	leg, hasLegend = legendRect(c, &m.legend)
	if hasLegend {
		taken = append(taken, vg.Rectangle{Min: leg.Min.Sub(vg.Point{X: labelGap, Y: labelGap}), Max: leg.Max.Add(vg.Point{X: labelGap, Y: labelGap})})
	}
	for _, l := range m.labels {
		sty := m.legend.TextStyle
		sty.Color, sty.Font.Size = l.color, vg.Points(8)
		sty.XAlign, sty.YAlign = draw.XLeft, draw.YBottom
		pl := placedLabel{size: sty.Rectangle(l.text).Size(), sty: sty, text: l.text}
		lx := c.X(xnorm(l.x))
		xs := []vg.Length{lx + labelGap, lx - labelGap - pl.size.X}
		if xs[0]+pl.size.X > c.Max.X {
			xs[0], xs[1] = xs[1], xs[0]
		}
		y0 := c.Max.Y - labelGap - pl.size.Y
		if l.bottom {
			y0 = c.Min.Y + labelGap
		}
		pl.at = spot(c, taken, points, pl.size, xs, y0, l.bottom)
		labels = append(labels, pl)
		taken = append(taken, pl.box())
	}
	return leg, hasLegend, labels
}

// Plot implements plot.Plotter.
func (m *marks) Plot(c draw.Canvas, p *plot.Plot) {
	leg, hasLegend, labels := m.place(c, p)
	pale := color.NRGBA{R: 255, G: 255, B: 255, A: 215}
	if hasLegend {
		g := labelGap
		c.FillPolygon(pale, []vg.Point{
			{X: leg.Min.X - g, Y: leg.Min.Y - g}, {X: leg.Max.X + g, Y: leg.Min.Y - g},
			{X: leg.Max.X + g, Y: leg.Max.Y}, {X: leg.Min.X - g, Y: leg.Max.Y},
		})
		m.legend.Draw(c)
	}
	for _, l := range labels {
		// A pale box, inside the gap, so that the lines under a label do
		// not garble it.
		b, g := l.box(), labelGap/2
		c.FillPolygon(pale, []vg.Point{
			{X: b.Min.X - g, Y: b.Min.Y - g}, {X: b.Max.X + g, Y: b.Min.Y - g},
			{X: b.Max.X + g, Y: b.Max.Y + g}, {X: b.Min.X - g, Y: b.Max.Y + g},
		})
		c.FillText(l.sty, l.at, l.text)
	}
}

// legendRect is where l.Draw(c) draws legend l (top or bottom, left or
// right); false if it has no entries.
func legendRect(c draw.Canvas, l *plot.Legend) (vg.Rectangle, bool) {
	r := l.Rectangle(c)
	w, h := r.Max.X-r.Min.X, r.Max.Y-r.Min.Y
	if w <= 0 || h <= 0 {
		return vg.Rectangle{}, false
	}
	descent := l.TextStyle.FontExtents().Descent
	x0 := c.Min.X + l.XOffs
	if !l.Left {
		x0 = c.Max.X - w + l.XOffs
	}
	y1 := c.Max.Y + l.YOffs
	if !l.Top {
		y1 = c.Min.Y + h + descent + l.YOffs
	}
	return vg.Rectangle{Min: vg.Point{X: x0, Y: y1 - h - descent}, Max: vg.Point{X: x0 + w, Y: y1}}, true
}

// swatch is a legend entry's filled square of colour c.
func swatch(c color.Color) plot.Thumbnailer {
	poly, err := plotter.NewPolygon(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		panic(err) // three fixed points cannot fail
	}
	poly.Color = c
	poly.LineStyle.Width = 0
	return poly
}

// box shades x in [x0, x1] across [y0, y1].
func box(p *plot.Plot, x0, x1, y0, y1 float64, c color.Color) error {
	if !(x1 > x0) {
		return nil
	}
	poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
	if err != nil {
		return err
	}
	poly.Color = c
	poly.LineStyle.Width = 0
	p.Add(poly)
	return nil
}

// markers shades the broken stretches and marks the break, the fall below
// capacity and the recovery on a panel whose Y range is [y0, y1], with
// labels laid out by m (none if m is nil).
func (a *Analysis) markers(p *plot.Plot, m *marks, d *plotData, y0, y1 float64) error {
	lab := func(s string) string {
		if m != nil {
			return s
		}
		return ""
	}
	// Where the generator fell behind: amber.
	w := a.W.Width.Seconds()
	labelled := false
	for i := 0; i < len(a.Windows); i++ {
		if !a.Windows[i].GenBehind || a.Windows[i].State == Idle {
			continue
		}
		j := i
		for j+1 < len(a.Windows) && a.Windows[j+1].GenBehind {
			j++
		}
		x0, x1 := a.Windows[i].Start/d.div, (a.Windows[j].Start+w)/d.div
		if err := box(p, x0, x1, y0, y1, colGen); err != nil {
			return err
		}
		if !labelled && m != nil {
			m.labels = append(m.labels, markLabel{x: x0, text: "generator behind", color: colGenText, bottom: true})
			labelled = true
		}
		i = j
	}
	for _, s := range a.Spans {
		end := s.End
		if end < 0 {
			end = d.x1 * d.div
		}
		if err := box(p, s.Start/d.div, end/d.div, y0, y1, colSpan); err != nil {
			return err
		}
	}
	if a.Broke {
		if err := vline(p, m, a.BreakAt/d.div, y0, y1, colBreak, nil, lab("break "+rate(a.BreakOffered)+"/s")); err != nil {
			return err
		}
		if a.FellBelowAt >= 0 && (a.RecoveredAt < 0 || a.FellBelowAt < a.RecoveredAt) {
			if err := vlineAt(p, m, a.FellBelowAt/d.div, y0, y1, colBelow, []vg.Length{vg.Points(3), vg.Points(3)}, lab("below capacity"), true); err != nil {
				return err
			}
		}
		if a.RecoveredAt >= 0 {
			if err := vline(p, m, a.RecoveredAt/d.div, y0, y1, colRecover, []vg.Length{vg.Points(6), vg.Points(3)}, lab("recovered")); err != nil {
				return err
			}
		}
	}
	return nil
}

// noLabels is a ticker that keeps another's ticks but blanks their labels
// (for the upper panels of a stack). A blank, not empty, label keeps a tick
// major, so the grid still draws it.
type noLabels struct{ plot.Ticker }

func (n noLabels) Ticks(min, max float64) []plot.Tick {
	t := n.Ticker.Ticks(min, max)
	for i := range t {
		if t[i].Label != "" {
			t[i].Label = " "
		}
	}
	return t
}

// LatencyTicks marks a log latency axis (in ms) at 1-2-5 steps.
type LatencyTicks struct{}

// Ticks implements plot.Ticker.
func (LatencyTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || max/min < 100 {
				t.Label = fmtLatency(time.Duration(v * 1e6))
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

func newPanel(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.Y.Label.Text = ylabel
	p.Legend.Top, p.Legend.Left = true, true
	// Inset from the frame, so that the first entry clears the top grid
	// line.
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(4), -vg.Points(4)
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Legend.ThumbnailWidth = vg.Points(14)
	p.Y.Tick.Marker = shortTicks{plot.DefaultTicks{}}
	p.Add(plotter.NewGrid())
	return p
}

// shortTicks labels a ticker's ticks with the fewest digits that say
// them: gonum's default ticks read "500.00" for 500 on some steps.
type shortTicks struct{ plot.Ticker }

// Ticks implements plot.Ticker.
func (t shortTicks) Ticks(min, max float64) []plot.Tick {
	ts := t.Ticker.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', -1, 64)
		}
	}
	return ts
}

func logRange(vals ...[]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), 0
	for _, vs := range vals {
		for _, v := range vs {
			if v > 0 && !math.IsInf(v, 0) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return 1, 10
	}
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi = math.Pow(10, math.Ceil(math.Log10(hi*1.05)))
	if hi <= lo {
		hi = lo * 10
	}
	return lo, hi
}

// latencyRange is logRange for latencies (ms): zeros (a 503 answered at
// once) are left out, so that they do not drag the axis down to 1 µs, and
// the floor is at most six decades under the top.
func latencyRange(vals ...[]float64) (lo, hi float64) {
	lo, hi = logRange(vals...)
	return max(lo, hi/1e6), hi
}

// onFloor is vs with each value under lo (a zero latency, a rate below
// the axis) raised to lo, for a log axis; NaN (no data) stays NaN. It sets
// *floored if it raised any.
func onFloor(vs []float64, lo float64, floored *bool) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = v
		if v < lo {
			out[i], *floored = lo, true
		}
	}
	return out
}

// floorTicks is t, with the bottom tick's label prefixed "≤" when values
// under the axis are drawn on it (floored).
func floorTicks(t plot.Ticker, floored bool) plot.Ticker {
	if !floored {
		return t
	}
	return floorTicker{t}
}

type floorTicker struct{ plot.Ticker }

func (f floorTicker) Ticks(min, max float64) []plot.Tick {
	t := f.Ticker.Ticks(min, max)
	for i := range t {
		if t[i].Label != "" && math.Abs(t[i].Value-min) <= min*1e-9 {
			t[i].Label = "≤ " + t[i].Label
		}
	}
	return t
}

// OverviewPanels returns the overview's three panels on one time axis:
// offered against achieved rate, latency percentiles with the SLO, and
// errors by kind; the broken stretches, break and recovery are marked on
// each. Only the bottom panel has time labels. Draw them with StackPNG or
// StackSVG.
func (a *Analysis) OverviewPanels() ([]*plot.Plot, error) {
	d := a.plotData()
	ws := d.ws
	n := len(ws.W)
	offered, achieved, sent := make([]float64, n), make([]float64, n), make([]float64, n)
	lat := [4][]float64{make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)}
	failed := make([]float64, n) // p99 of the failed requests, apart
	anyFailed := false
	for i := range ws.W {
		s := &ws.W[i].Total
		offered[i], achieved[i], sent[i] = ws.rateOf(i, offeredOf), ws.rateOf(i, achievedOf), ws.rateOf(i, sentOf)
		for k, q := range []float64{.5, .9, .99, 1} {
			lat[k][i] = math.NaN()
			if s.Latency.N > 0 {
				lat[k][i] = float64(s.Latency.Quantile(q)) / 1e6
			}
		}
		failed[i] = math.NaN()
		if s.FailLatency.N > 0 {
			failed[i], anyFailed = float64(s.FailLatency.Quantile(.99))/1e6, true
		}
	}

	// Rates, log scale: zero rates sit on the floor while the curve offers
	// load; where it offers none (after its end, while the last replies
	// drain), a rate of zero is not drawn rather than drawn as a fall.
	pr := newPanel(a.simulated()+"Request rate: offered vs achieved (log)", "req/s")
	lo, hi := logRange(offered, achieved, sent)
	clamp := func(vs []float64) []float64 {
		out := make([]float64, len(vs))
		for i, v := range vs {
			out[i] = max(v, lo)
			if v == 0 && offered[i] == 0 {
				out[i] = math.NaN()
			}
		}
		return out
	}
	pr.Y.Scale, pr.Y.Tick.Marker = plot.LogScale{}, RateTicks{}
	pr.Y.Min, pr.Y.Max = lo, hi
	mr := &marks{}
	if err := a.markers(pr, mr, d, lo, hi); err != nil {
		return nil, err
	}
	if ws.Info != nil {
		if err := line(pr, d.x, clamp(sent), colSent, vg.Points(1), []vg.Length{vg.Points(2), vg.Points(2)}, "sent"); err != nil {
			return nil, err
		}
	}
	if err := line(pr, d.x, clamp(offered), colOffered, vg.Points(1.5), nil, "offered"); err != nil {
		return nil, err
	}
	if err := line(pr, d.x, clamp(achieved), colAchieved, vg.Points(1.5), nil, "achieved (2xx/3xx done)"); err != nil {
		return nil, err
	}
	mr.track(d.x, clamp(offered), false)
	mr.track(d.x, clamp(achieved), false)
	mr.track(d.x, clamp(sent), false)

	// Latency, log scale, with the SLO.
	pl := newPanel("Latency of successful requests (log)", "latency")
	lo, hi = latencyRange(lat[0], lat[3], []float64{float64(a.SLO.P99) / 1e6}, failed)
	floored := false
	for k := range lat {
		lat[k] = onFloor(lat[k], lo, &floored)
	}
	failed = onFloor(failed, lo, &floored)
	pl.Y.Scale, pl.Y.Tick.Marker = plot.LogScale{}, floorTicks(LatencyTicks{}, floored)
	pl.Y.Min, pl.Y.Max = lo, hi
	ml := &marks{} // no labels here: the rate panel's say where the lines are
	if err := a.markers(pl, nil, d, lo, hi); err != nil {
		return nil, err
	}
	for k := range lat {
		ml.track(d.x, lat[k], false)
	}
	ml.track(d.x, failed, false)
	for k, name := range []string{"p50", "p90", "p99", "max"} {
		width := vg.Points(1.3)
		var dash []vg.Length
		if k == 3 {
			width, dash = vg.Points(0.8), []vg.Length{vg.Points(1), vg.Points(2)}
		}
		if err := line(pl, d.x, lat[k], latColors[k], width, dash, name); err != nil {
			return nil, err
		}
	}
	if anyFailed {
		// Failed requests' latency, dotted: a 503 in 0 ms is not a fast
		// answer, so it is kept out of the percentiles above.
		if err := line(pl, d.x, failed, colFailed, vg.Points(1), []vg.Length{vg.Points(1), vg.Points(1.5)}, "p99 of failed requests"); err != nil {
			return nil, err
		}
	}
	if a.SLO.P99 > 0 {
		y := float64(a.SLO.P99) / 1e6
		if err := line(pl, []float64{d.x0, d.x1}, []float64{y, y}, colSLO, vg.Points(1), []vg.Length{vg.Points(5), vg.Points(3)}, "SLO p99 "+fmtLatency(a.SLO.P99)); err != nil {
			return nil, err
		}
	}
	if ws.Info != nil && a.MaxLag > 10*time.Millisecond {
		// How late sends went out: high values mean the generator, not
		// the host, is the bottleneck.
		lag := make([]float64, n)
		for i := range ws.W {
			lag[i] = math.NaN()
			if ws.W[i].Lag.N > 0 {
				lag[i] = max(float64(ws.W[i].Lag.Quantile(.9))/1e6, lo)
			}
		}
		if err := line(pl, d.x, lag, colGenText, vg.Points(1), []vg.Length{vg.Points(2), vg.Points(2)}, "send lag p90"); err != nil {
			return nil, err
		}
	}

	// Errors by kind, stacked, per second.
	pe := newPanel("Errors by kind (stacked)", "errors/s")
	cum := make([]float64, n)
	type band struct {
		b        errorBand
		lo, high []float64
	}
	var bands []band
	top := 0.0
	for _, eb := range errorBands {
		var total uint64
		for i := range ws.W {
			total += eb.count(&ws.W[i].Total)
		}
		if total == 0 {
			continue
		}
		lo := append([]float64(nil), cum...)
		for i := range ws.W {
			cum[i] += ws.rateOf(i, func(w *Window) float64 { return float64(eb.count(&w.Total)) })
			top = max(top, cum[i])
		}
		bands = append(bands, band{eb, lo, append([]float64(nil), cum...)})
	}
	if top == 0 {
		top = 1
	}
	pe.Y.Min, pe.Y.Max = 0, top*1.1
	me := &marks{}
	if err := a.markers(pe, nil, d, 0, top*1.1); err != nil {
		return nil, err
	}
	me.track(d.x, cum, true)
	for _, b := range bands {
		var pts plotter.XYs
		for i := range d.x {
			pts = append(pts, plotter.XY{X: d.x[i], Y: b.high[i]})
		}
		for i := len(d.x) - 1; i >= 0; i-- {
			pts = append(pts, plotter.XY{X: d.x[i], Y: b.lo[i]})
		}
		poly, err := plotter.NewPolygon(pts)
		if err != nil {
			return nil, err
		}
		poly.Color = b.b.color
		poly.LineStyle.Width = 0
		pe.Add(poly)
		pe.Legend.Add(b.b.name, poly)
	}
	if len(bands) == 0 {
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: (d.x0 + d.x1) / 2, Y: top * 0.55}}, Labels: []string{"no errors"}})
		if err != nil {
			return nil, err
		}
		lb.TextStyle[0].XAlign = draw.XCenter
		pe.Add(lb)
	}

	finish(pr, mr)
	finish(pl, ml)
	finish(pe, me)
	panels := []*plot.Plot{pr, pl, pe}
	for i, p := range panels {
		p.X.Min, p.X.Max = d.x0, d.x1
		p.X.Tick.Marker = TimeTicks{}
		if i < len(panels)-1 {
			p.X.Tick.Marker = noLabels{TimeTicks{}}
			p.X.Tick.Label.Font.Size = vg.Points(1)
		} else {
			p.X.Label.Text = "time (" + d.unit + ")"
		}
	}
	return panels, nil
}

// LatencyVsLoadPlot draws p50 and p99 of each window against its offered
// rate (the knee), with the capacity band shaded and the SLO drawn. The
// rate axis is log when the top rate is far above the knee (loadAxis).
func (a *Analysis) LatencyVsLoadPlot() (*plot.Plot, error) {
	ws := a.W
	p := newPanel(a.simulated()+"Latency of successful requests vs load: each dot is one window", "latency (log)")
	var xs, y50, y99 []float64
	for i, j := range a.Windows {
		if ws.W[i].Total.Latency.N == 0 || ws.W[i].Offered <= 0 {
			continue // no successes: no latency to show
		}
		x := j.Offered
		if ws.Info == nil {
			x = j.Sent
		}
		xs = append(xs, x)
		y50 = append(y50, float64(j.P50)/1e6)
		y99 = append(y99, float64(j.P99)/1e6)
	}
	lo, hi := latencyRange(y50, y99, []float64{float64(a.SLO.P99) / 1e6})
	floored := false
	y50, y99 = onFloor(y50, lo, &floored), onFloor(y99, lo, &floored)
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, floorTicks(LatencyTicks{}, floored)
	p.Y.Min, p.Y.Max = lo, hi
	knee, top := a.Capacity, a.Capacity
	if a.bandKnown() {
		knee, top = a.CapacityHi, a.CapacityHi
	}
	xs, ax := loadAxis(p, xs, knee, top)
	m := &marks{}
	if a.bandKnown() {
		if err := box(p, max(a.CapacityLo, ax.min), ax.minWidth(max(a.CapacityLo, ax.min), a.CapacityHi), lo, hi, colBand); err != nil {
			return nil, err
		}
		p.Legend.Add("capacity band "+a.bandText(), swatch(colBand))
		if err := vline(p, m, a.CapacityHi, lo, hi, colBreak, []vg.Length{vg.Points(3), vg.Points(3)}, "capacity "+a.bandText()); err != nil {
			return nil, err
		}
	} else if a.Capacity > 0 {
		if err := vline(p, m, a.Capacity, lo, hi, colRecover, []vg.Length{vg.Points(3), vg.Points(3)}, "held up to "+rps(a.Capacity)); err != nil {
			return nil, err
		}
	}
	if a.SLO.P99 > 0 {
		y := float64(a.SLO.P99) / 1e6
		if err := line(p, []float64{ax.min, ax.max}, []float64{y, y}, colSLO, vg.Points(1), []vg.Length{vg.Points(5), vg.Points(3)}, "SLO p99 "+fmtLatency(a.SLO.P99)); err != nil {
			return nil, err
		}
	}
	for k, ys := range [][]float64{y50, y99} {
		if len(ys) == 0 {
			continue
		}
		pts := make(plotter.XYs, len(ys))
		for i := range ys {
			pts[i] = plotter.XY{X: xs[i], Y: ys[i]}
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle.Color = latColors[2*k]
		s.GlyphStyle.Radius = vg.Points(1.8)
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(s)
		p.Legend.Add([]string{"p50", "p99"}[k], s)
	}
	finish(p, m)
	return p, nil
}

// loadRange is an offered-rate axis as loadAxis set it.
type loadRange struct {
	min, max float64
	log      bool
}

// minWidth is x1, or more if [x0, x1] would be too thin to see: a
// four-hundredth of the axis.
func (r loadRange) minWidth(x0, x1 float64) float64 {
	if r.log {
		return max(x1, x0*math.Pow(r.max/r.min, 1.0/400))
	}
	return max(x1, x0+(r.max-r.min)/400)
}

// loadAxis sets p's X axis for the offered rates xs (req/s) and returns
// xs placed on it. The axis is linear from 0 unless the top rate is more
// than ten times the knee (the lowest capacity marked, or the lowest rate
// when none is), where a linear axis would squash the knee against its
// left edge; then it is log with RateTicks, from two decades below the
// knee (or the lowest rate, if higher), and rates below that are drawn on
// the floor, labelled "≤". top is the highest rate marked (a capacity), so
// that it shows too.
func loadAxis(p *plot.Plot, xs []float64, knee, top float64) ([]float64, loadRange) {
	xmin, xmax := math.Inf(1), 0.0
	for _, x := range xs {
		if x > 0 && !math.IsInf(x, 0) {
			xmin, xmax = min(xmin, x), max(xmax, x)
		}
	}
	if top > 0 && !math.IsInf(top, 0) {
		xmax = max(xmax, top)
	}
	ref := knee
	if !(ref > 0) || math.IsInf(ref, 0) {
		ref = xmin
	}
	if xmax == 0 || math.IsInf(ref, 0) || xmax <= 10*ref {
		r := loadRange{min: 0, max: max(xmax, 1) * 1.05}
		p.X.Min, p.X.Max = r.min, r.max
		p.X.Tick.Marker = TimeTicks{} // round linear steps
		p.X.Label.Text = "offered rate (req/s)"
		return xs, r
	}
	r := loadRange{min: math.Pow(10, math.Floor(math.Log10(max(xmin, ref/100)))), max: xmax * 1.15, log: true}
	floored := false
	xs = onFloor(xs, r.min, &floored)
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, floorTicks(RateTicks{}, floored)
	p.X.Min, p.X.Max = r.min, r.max
	p.X.Label.Text = "offered rate (req/s, log)"
	return xs, r
}

// EndpointsPlot draws each endpoint's error ratio over time.
func (a *Analysis) EndpointsPlot() (*plot.Plot, error) {
	d := a.plotData()
	ws := d.ws
	p := newPanel(a.simulated()+"Error ratio by endpoint", "failed (%)")
	p.X.Label.Text = "time (" + d.unit + ")"
	p.X.Min, p.X.Max = d.x0, d.x1
	p.X.Tick.Marker = TimeTicks{}
	p.Y.Min, p.Y.Max = 0, 105
	m := &marks{}
	if err := a.markers(p, m, d, 0, 105); err != nil {
		return nil, err
	}
	if a.SLO.MaxErrorRatio > 0 {
		y := a.SLO.MaxErrorRatio * 100
		if err := line(p, []float64{d.x0, d.x1}, []float64{y, y}, colSLO, vg.Points(0.8), []vg.Length{vg.Points(5), vg.Points(3)}, "SLO errors "+pct(a.SLO.MaxErrorRatio)); err != nil {
			return nil, err
		}
	}
	k := 0
	for ei, e := range ws.Endpoints {
		var total uint64
		for i := range ws.W {
			if ei < len(ws.W[i].Endpoints) {
				total += ws.W[i].Endpoints[ei].Requests
			}
		}
		if total == 0 {
			continue
		}
		ys := make([]float64, len(ws.W))
		for i := range ws.W {
			ys[i] = math.NaN()
			if ei < len(ws.W[i].Endpoints) && ws.W[i].Endpoints[ei].Requests > 0 {
				ys[i] = ws.W[i].Endpoints[ei].ErrorRatio() * 100
			}
		}
		var dash []vg.Length
		if k >= len(palette) {
			dash = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		name := e.Name
		if len(name) > 40 {
			name = name[:39] + "…"
		}
		if err := line(p, d.x, ys, palette[k%len(palette)], vg.Points(1.4), dash, name); err != nil {
			return nil, err
		}
		k++
	}
	if v := ws.Visitors; v != nil {
		// What visitors saw: the share of page views broken, by the
		// window they started in.
		ys := make([]float64, len(ws.W))
		any := false
		for i := range ws.W {
			ys[i] = math.NaN()
			if w := v.W[ws.W[i].Index]; w != nil && w.Views > 0 {
				ys[i] = float64(w.Views-w.Complete) / float64(w.Views) * 100
				any = true
			}
		}
		if any {
			p.Title.Text = a.simulated() + "Error ratio by endpoint, and page views broken"
			if err := line(p, d.x, ys, color.Black, vg.Points(2.2), nil, "page views broken"); err != nil {
				return nil, err
			}
		}
	}
	finish(p, m)
	return p, nil
}

// StackTo draws panels stacked on one canvas, aligned on one time axis.
func StackTo(c draw.Canvas, panels []*plot.Plot) {
	rows := make([][]*plot.Plot, len(panels))
	for i, p := range panels {
		rows[i] = []*plot.Plot{p}
	}
	cs := plot.Align(rows, draw.Tiles{Rows: len(panels), Cols: 1, PadY: vg.Millimeter * 2, PadTop: vg.Millimeter,
		PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter * 3}, c)
	for i, p := range panels {
		p.Draw(cs[i][0])
	}
}

// Render draws panels (one plot, or a stack) as "png" or "svg".
func Render(panels []*plot.Plot, w, h vg.Length, format string) ([]byte, error) {
	var buf bytes.Buffer
	switch format {
	case "png":
		c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110), vgimg.UseBackgroundColor(color.White))
		StackTo(draw.New(c), panels)
		if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
			return nil, err
		}
	case "svg":
		c := vgsvg.New(w, h)
		StackTo(draw.New(c), panels)
		if _, err := c.WriteTo(&buf); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown plot format %q", format)
	}
	return buf.Bytes(), nil
}

// inlineSVG strips the XML prolog so the SVG can sit inside HTML, and
// makes it scale to its container.
func inlineSVG(b []byte) string {
	s := string(b)
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	// Width and height in pt fix the size; let CSS size it from the viewBox.
	if i := strings.Index(s, ">"); i >= 0 {
		head := s[:i]
		for _, attr := range []string{"width", "height"} {
			if j := strings.Index(head, attr+`="`); j >= 0 {
				k := strings.IndexByte(head[j+len(attr)+2:], '"')
				head = head[:j] + head[j+len(attr)+2+k+1:]
			}
		}
		s = head + ` preserveAspectRatio="xMidYMid meet" style="width:100%;height:auto"` + s[i:]
	}
	return s
}

// simulated prefixes plot titles of a simulated run, so that a plot seen
// on its own still says it is a prediction.
func (a *Analysis) simulated() string {
	if a.W.Info != nil && a.W.Info.Simulated {
		return "SIMULATED (" + a.W.Info.Plan + " plan): "
	}
	return ""
}
