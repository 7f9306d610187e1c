package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// DefaultWidth is the default window width.
const DefaultWidth = time.Second

// MaxEndpoints bounds the per-endpoint series: past it, new METHOD+path
// pairs fold into their class's "other" series, so a file with millions of
// distinct URLs cannot blow memory.
const MaxEndpoints = 20

// maxSpan bounds the number of windows a Folder keeps (a week of 1 s
// windows); results further from the others are dropped and counted.
const maxSpan = 1 << 20

type epKey struct{ method, path string }

// Folder folds results into windows. It is not safe for concurrent use:
// give each sender its own Folder and Merge them, or serialise calls.
type Folder struct {
	info   *scenarios.RunInfo
	width  time.Duration
	origin time.Time // window k starts at origin + k·width
	plain  bool      // no run.json: origin is the Unix epoch, rebased at the end

	first int // index of w[0]
	w     []Window

	eps     []Endpoint
	byKey   map[epKey]int // method + path (+query for scenario endpoints)
	byPath  map[epKey]int // method + path without query (scenario endpoints)
	other   [3]int        // overflow series per class, -1 until used
	shards  map[int]bool  // shards whose results or windows were merged in
	own     bool          // results of info's own shard were added
	results uint64
	dropped uint64
	sources []string
	warns   []string
	errs    errorCache
}

// NewFolder returns a Folder for results of the run described by info
// (nil for plain vegeta results files), in windows of width (DefaultWidth
// if <= 0).
func NewFolder(info *scenarios.RunInfo, width time.Duration) *Folder {
	if width <= 0 {
		width = DefaultWidth
	}
	f := &Folder{info: info, width: width, byKey: map[epKey]int{}, byPath: map[epKey]int{},
		other: [3]int{-1, -1, -1}, shards: map[int]bool{}, errs: errorCache{}}
	if info == nil || info.Scenario == nil || info.Scenario.Curve == nil {
		f.info = nil
		f.plain = true
		f.origin = time.Unix(0, 0)
		return f
	}
	f.origin = info.Start
	for _, e := range info.Scenario.Endpoints {
		m := strings.ToUpper(e.Method)
		if m == "" {
			m = "GET"
		}
		p, q := splitURL(e.URL)
		cls := e.Class
		if cls == "" {
			cls = classOfPath(p)
		}
		pq := p
		if q != "" {
			pq = p + "?" + q
		}
		k := epKey{m, pq}
		if _, dup := f.byKey[k]; dup {
			continue // same request line: the first name wins
		}
		name := e.Name
		if name == "" {
			name = m + " " + pq
		}
		f.eps = append(f.eps, Endpoint{Name: name, Class: cls, Method: m, Path: pq})
		f.byKey[k] = len(f.eps) - 1
		if _, ok := f.byPath[epKey{m, p}]; !ok {
			f.byPath[epKey{m, p}] = len(f.eps) - 1
		}
	}
	return f
}

// WidthFor is a window width for a run of length d: 1 s up to an hour, then
// wider so that a run keeps at most about 3,600 windows (a busy window with
// a handful of endpoints holds some 27 kB of counts and histograms).
func WidthFor(d time.Duration) time.Duration {
	if d <= time.Hour {
		return time.Second
	}
	return ((d/3600 + time.Second - 1) / time.Second) * time.Second
}

// Width is the window width.
func (f *Folder) Width() time.Duration { return f.width }

// Results is the number of results added.
func (f *Folder) Results() uint64 { return f.results }

// splitURL returns the path and query of a URL or a bare path, without
// allocating.
func splitURL(u string) (path, query string) {
	pq, path := pathQuery(u)
	if len(pq) > len(path) {
		query = pq[len(path)+1:]
	}
	return path, query
}

// pathQuery returns the path?query and the path of a URL or a bare path.
func pathQuery(u string) (pq, path string) {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		j := strings.IndexAny(u, "/?#")
		if j < 0 {
			return "/", ""
		}
		u = u[j:]
	}
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u = u[:i]
	}
	pq, path = u, u
	if i := strings.IndexByte(u, '?'); i >= 0 {
		path = u[:i]
	}
	if path == "" {
		return "/" + pq, "/"
	}
	return pq, path
}

// classOfPath is scenarios.ClassOf for a bare path, without allocating on
// the hot path.
func classOfPath(p string) scenarios.Class {
	has := func(prefix string) bool {
		return len(p) >= len(prefix) && strings.EqualFold(p[:len(prefix)], prefix)
	}
	switch {
	case has("/api/") || strings.EqualFold(p, "/api"):
		return scenarios.API
	case has("/img/") || has("/static/") || has("/assets/"):
		return scenarios.Asset
	}
	dot := strings.LastIndexByte(p, '.')
	if dot < 0 || strings.IndexByte(p[dot:], '/') >= 0 {
		return scenarios.Page
	}
	switch ext := p[dot:]; {
	case strings.EqualFold(ext, ".jpg"), strings.EqualFold(ext, ".jpeg"), strings.EqualFold(ext, ".png"),
		strings.EqualFold(ext, ".gif"), strings.EqualFold(ext, ".webp"), strings.EqualFold(ext, ".avif"),
		strings.EqualFold(ext, ".svg"), strings.EqualFold(ext, ".ico"), strings.EqualFold(ext, ".css"),
		strings.EqualFold(ext, ".js"), strings.EqualFold(ext, ".woff"), strings.EqualFold(ext, ".woff2"),
		strings.EqualFold(ext, ".mp4"):
		return scenarios.Asset
	}
	return scenarios.Page
}

func classIndex(c scenarios.Class) int {
	switch c {
	case scenarios.Asset:
		return 1
	case scenarios.API:
		return 2
	}
	return 0
}

// endpoint returns the series index of a result's request.
func (f *Folder) endpoint(method, url string) int {
	if method == "" {
		method = "GET"
	}
	full, p := pathQuery(url)
	if f.plain {
		if i, ok := f.byKey[epKey{method, p}]; ok {
			return i
		}
		if len(f.eps)-f.numOther() < MaxEndpoints {
			m, pc := strings.Clone(method), strings.Clone(p)
			f.eps = append(f.eps, Endpoint{Name: m + " " + pc, Class: classOfPath(pc), Method: m, Path: pc})
			f.byKey[epKey{m, pc}] = len(f.eps) - 1
			return len(f.eps) - 1
		}
		return f.otherOf(classOfPath(p))
	}
	if i, ok := f.byKey[epKey{method, full}]; ok {
		return i
	}
	if i, ok := f.byPath[epKey{method, p}]; ok {
		return i
	}
	return f.otherOf(classOfPath(p))
}

func (f *Folder) numOther() int {
	n := 0
	for _, o := range f.other {
		if o >= 0 {
			n++
		}
	}
	return n
}

func (f *Folder) otherOf(c scenarios.Class) int {
	ci := classIndex(c)
	if f.other[ci] < 0 {
		f.eps = append(f.eps, Endpoint{Name: "other " + string(c), Class: c, Other: true})
		f.other[ci] = len(f.eps) - 1
	}
	return f.other[ci]
}

// index is the window index holding time t.
func (f *Folder) index(t time.Time) int {
	if f.plain {
		return int(floorDiv64(t.UnixNano(), int64(f.width)))
	}
	return int(floorDiv64(int64(t.Sub(f.origin)), int64(f.width)))
}

func floorDiv64(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// window returns the window with index k, growing the slice as needed; nil
// if that would make the span longer than maxSpan.
func (f *Folder) window(k int) *Window {
	if len(f.w) == 0 {
		f.first = k
		f.w = append(f.w, Window{Index: k})
		return &f.w[0]
	}
	switch last := f.first + len(f.w) - 1; {
	case k >= f.first && k <= last:
		return &f.w[k-f.first]
	case k > last:
		if k-f.first >= maxSpan {
			return nil
		}
		for j := last + 1; j <= k; j++ {
			f.w = append(f.w, Window{Index: j})
		}
		return &f.w[len(f.w)-1]
	default: // k < f.first: results may come out of order
		if last-k >= maxSpan {
			return nil
		}
		n := f.first - k
		grown := make([]Window, n+len(f.w), n+cap(f.w))
		copy(grown[n:], f.w)
		for j := 0; j < n; j++ {
			grown[j] = Window{Index: k + j}
		}
		f.w, f.first = grown, k
		return &f.w[0]
	}
}

// Add folds one result. In steady state (windows and endpoints already
// seen) it does not allocate.
func (f *Folder) Add(r *vegeta.Result) {
	f.results++
	f.own = true
	ep := f.endpoint(r.Method, r.URL)
	w := f.window(f.index(r.Timestamp))
	if w == nil {
		f.dropped++
		return
	}
	kind := OtherError
	if r.Code == 0 {
		kind = f.errs.kind(r.Error)
	}
	w.Total.add(r, kind)
	w.ep(ep).add(r, kind)
	if f.info != nil {
		if due := f.info.Due(r.Seq); due >= 0 {
			w.Lag.Record(r.Timestamp.Sub(f.info.Start.Add(due)))
		}
	}
	// w may move when the slice grows: finish with it first.
	d := f.window(f.index(r.Timestamp.Add(r.Latency)))
	if d == nil {
		return
	}
	d.Total.Done++
	s := d.ep(ep)
	s.Done++
	if r.Code >= 200 && r.Code < 400 {
		d.Total.DoneOK++
		s.DoneOK++
	}
}

// shardSet is the shards f holds results of.
func (f *Folder) shardSet() map[int]bool {
	m := map[int]bool{}
	for s := range f.shards {
		m[s] = true
	}
	if f.own && f.info != nil {
		m[f.info.Shard] = true
	}
	return m
}

// Warn records a warning to show in the report.
func (f *Folder) Warn(format string, args ...any) {
	f.warns = append(f.warns, fmt.Sprintf(format, args...))
}

// Merge adds g's windows to f: shards of one run (each with its own
// run.json shard index), or files of one plain vegeta attack. Both must
// have the same width and time base.
func (f *Folder) Merge(g *Folder) error {
	if g.width != f.width {
		return fmt.Errorf("merging windows of %s into windows of %s", g.width, f.width)
	}
	if f.plain != g.plain {
		return fmt.Errorf("merging results with and without run.json")
	}
	if !f.plain && !g.origin.Equal(f.origin) {
		return fmt.Errorf("merging shards that started at different times (%s and %s): give every shard the same --start-at",
			g.origin.Format(time.RFC3339Nano), f.origin.Format(time.RFC3339Nano))
	}
	// Map g's endpoints onto f's.
	m := make([]int, len(g.eps))
	for i, e := range g.eps {
		m[i] = f.adopt(e)
	}
	for i := range g.w {
		gw := &g.w[i]
		w := f.window(gw.Index)
		if w == nil {
			f.dropped += gw.Total.Requests
			continue
		}
		w.Total.Merge(&gw.Total)
		w.Lag.Merge(&gw.Lag)
		for j := range gw.Endpoints {
			w.ep(m[j]).Merge(&gw.Endpoints[j])
		}
	}
	mine := f.shardSet()
	for s := range g.shardSet() {
		if mine[s] && !f.plain {
			f.Warn("shard %d given twice: its results are counted twice", s)
		}
		f.shards[s] = true
	}
	f.results += g.results
	f.dropped += g.dropped
	f.sources = append(f.sources, g.sources...)
	f.warns = append(f.warns, g.warns...)
	return nil
}

// adopt returns f's series index for endpoint e of another folder.
func (f *Folder) adopt(e Endpoint) int {
	if e.Other {
		return f.otherOf(e.Class)
	}
	for i, x := range f.eps {
		if !x.Other && x.Method == e.Method && x.Path == e.Path && x.Name == e.Name {
			return i
		}
	}
	if f.plain && len(f.eps)-f.numOther() >= MaxEndpoints {
		return f.otherOf(e.Class)
	}
	f.eps = append(f.eps, e)
	k := epKey{e.Method, e.Path}
	if _, ok := f.byKey[k]; !ok {
		f.byKey[k] = len(f.eps) - 1
	}
	return len(f.eps) - 1
}

// Windows finishes the fold: it fills in each window's offered count and,
// for plain vegeta files, rebases time so t = 0 is the start of the first
// window. The result shares the counts and histograms with the Folder (a
// run's windows are not copied): Add after Windows changes them.
func (f *Folder) Windows() *Windows {
	ws := &Windows{Info: f.info, Width: f.width, Origin: f.origin, Results: f.results, Dropped: f.dropped,
		Sources: append([]string(nil), f.sources...), Warnings: append([]string(nil), f.warns...)}
	ws.Endpoints = append([]Endpoint(nil), f.eps...)
	for s := range f.shardSet() {
		ws.Shards = append(ws.Shards, s)
	}
	sort.Ints(ws.Shards)
	ws.W = make([]Window, len(f.w), len(f.w)+1)
	copy(ws.W, f.w) // shallow: indexes and offered counts are per copy
	if f.plain && len(ws.W) > 0 {
		base := ws.W[0].Index
		ws.Origin = time.Unix(0, 0).Add(time.Duration(base) * f.width)
		for i := range ws.W {
			ws.W[i].Index -= base
		}
	}
	ws.fillOffered()
	return ws
}

// fillOffered sets each window's Offered: the curve's due count for the
// shards present, or (plain files) the number of requests sent.
func (ws *Windows) fillOffered() {
	if ws.Info == nil {
		for i := range ws.W {
			ws.W[i].Offered = float64(ws.W[i].Total.Requests)
		}
		return
	}
	// Extend the windows to the end of the curve so that traffic that was
	// due but never sent (a generator that fell behind, a run cut short)
	// still shows as offered.
	end := ws.Info.Scenario.Curve.Seconds()
	if len(ws.W) > 0 && ws.Info.Stopped == "" {
		for last := ws.W[len(ws.W)-1].Index; float64(last+1)*ws.Width.Seconds() < end && last-ws.W[0].Index < maxSpan; last++ {
			ws.W = append(ws.W, Window{Index: last + 1})
		}
	}
	n := float64(max(len(ws.Shards), 1))
	w := ws.Width.Seconds()
	for i := range ws.W {
		t0 := float64(ws.W[i].Index) * w
		ws.W[i].Offered = ws.Info.Offered(t0, t0+w) * n
	}
}
