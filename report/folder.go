package report

import (
	"cmp"
	"fmt"
	"slices"
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
	// recent remembers the series of the last few request lines seen: a
	// run sends a handful of endpoints whose Method and URL strings are
	// shared by every result, so most look-ups end here without hashing.
	recent     [8]recentEP
	recentNext int
	// noLag: the results are a simulation's, sent exactly when due.
	noLag bool
	// [lo, lo+width) is window lo/width: most results fall in the same
	// window as the one before, which spares a division.
	lo  int64
	loK int
	st  stage
	// When origin has no monotonic clock reading (a time read back from
	// run.json, or rounded), t.Sub(origin) is a difference of wall
	// clocks, worked out here from origin's Unix seconds and nanoseconds,
	// which is cheaper.
	wall     bool
	wallSec  int64
	wallNsec int64
	// sp, once Spill is called, holds the windows moved to disk.
	sp *spill
	// For plain files, when requests were sent (offsets from the time
	// base, ns): the first and last send added here and their number,
	// and the stretches of the folders and windows merged in.
	sendLo, sendHi int64
	sends          uint64
	sending        []Interval
	// lastOff is the latest send offset added (ns from origin); cutAt,
	// once the results are known to end before the run did, is where they
	// end (0: not cut).
	lastOff int64
	cutAt   time.Duration
}

// markCut records that the results added end before the run did: a file
// cut short, or a run that never wrote its end. Windows from just past the
// last result on are not judged.
func (f *Folder) markCut() {
	at := time.Duration(f.lastOff) + 1
	if f.cutAt == 0 || at < f.cutAt {
		f.cutAt = at
	}
}

// mergeCut keeps the earliest cut of two folds: past it, some shard's
// results are missing.
func (f *Folder) mergeCut(at time.Duration) {
	if at > 0 && (f.cutAt == 0 || at < f.cutAt) {
		f.cutAt = at
	}
}

// stage holds the latencies of the newest window in dense counters by
// bucket, which costs an increment where a sparse Hist costs a binary
// search; they move into the window's histograms when a result for a
// later window arrives, and before anything reads the windows (Windows,
// Merge, AddWindows). Results for earlier windows (stragglers of a real
// run, in completion order) go straight to their histograms. The
// histograms' N, Min, Max and SumUS are kept up to date as results come.
type stage struct {
	k     int // the window staged
	on    bool
	hists []stageHist // [0] Total, [1] Lag, [2+e] endpoint e
}

type stageHist struct {
	n       []uint64 // by bucket index, stageBuckets long once used
	touched []uint16 // buckets with n > 0, in order of first use
}

// stageBuckets covers latencies up to 2^38 µs (76 h); longer ones go
// straight to the histogram.
const stageBuckets = 4096

// staging reports whether results sent in window k are staged, moving the
// stage on to k if k is later than the staged window.
func (f *Folder) staging(k int) bool {
	switch {
	case f.sp != nil && f.sp.n > 0 && k < f.first:
		return false // a straggler's window of its own (see spill)
	case f.st.on && k == f.st.k:
		return true
	case f.st.on && k < f.st.k:
		return false
	}
	f.flush()
	f.st.k, f.st.on = k, true
	return true
}

// record adds latency d to h, the histogram of series slot in the staged
// window.
func (f *Folder) record(h *Hist, slot int, d time.Duration) {
	v := micros(d)
	idx := bucketOf(v)
	if idx >= stageBuckets {
		h.RecordN(d, 1)
		return
	}
	h.note(v)
	for len(f.st.hists) <= slot {
		f.st.hists = append(f.st.hists, stageHist{})
	}
	sh := &f.st.hists[slot]
	if sh.n == nil {
		sh.n = make([]uint64, stageBuckets)
	}
	if sh.n[idx] == 0 {
		sh.touched = append(sh.touched, uint16(idx))
	}
	sh.n[idx]++
}

// flush moves the staged latencies into their window's histograms.
func (f *Folder) flush() {
	if !f.st.on {
		return
	}
	f.st.on = false
	w := &f.w[f.st.k-f.first]
	for slot := range f.st.hists {
		sh := &f.st.hists[slot]
		if len(sh.touched) == 0 {
			continue
		}
		var h *Hist
		switch slot {
		case 0:
			h = &w.Total.Latency
		case 1:
			h = &w.Lag
		default:
			h = &w.ep(slot - 2).Latency
		}
		slices.Sort(sh.touched)
		h.addDense(sh.n, sh.touched)
		for _, i := range sh.touched {
			sh.n[i] = 0
		}
		sh.touched = sh.touched[:0]
	}
}

type recentEP struct {
	method, url string
	ep          int
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
	f.forget()
	if info == nil || info.Scenario == nil || info.Scenario.Curve == nil {
		f.info = nil
		f.plain = true
		f.origin = time.Unix(0, 0)
		return f
	}
	f.origin = info.Start
	f.noLag = info.Simulated
	if f.origin == f.origin.Round(0) {
		f.wall, f.wallSec, f.wallNsec = true, f.origin.Unix(), int64(f.origin.Nanosecond())
	}
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
	for i := range f.recent {
		if c := &f.recent[i]; c.url == url && c.method == method && c.ep >= 0 {
			return c.ep
		}
	}
	ep := f.lookup(method, url)
	f.recent[f.recentNext] = recentEP{method, url, ep}
	f.recentNext = (f.recentNext + 1) % len(f.recent)
	return ep
}

// forget empties the recent cache (when the series change under it).
func (f *Folder) forget() {
	for i := range f.recent {
		f.recent[i] = recentEP{ep: -1}
	}
}

// lookup finds (or adds) the series of a request line.
func (f *Folder) lookup(method, url string) int {
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

// slot is the index of the window holding offset off.
func (f *Folder) slot(off int64) int {
	if off-f.lo >= 0 && off-f.lo < int64(f.width) {
		return f.loK
	}
	k := floorDiv64(off, int64(f.width))
	f.lo, f.loK = k*int64(f.width), int(k)
	return f.loK
}

// offset is t's distance from the time base in ns.
func (f *Folder) offset(t time.Time) int64 {
	if f.plain {
		return t.UnixNano()
	}
	if f.wall {
		// Within ±136 years, as Sub's int64 of ns cannot saturate.
		if ds := t.Unix() - f.wallSec; ds > -1<<32 && ds < 1<<32 {
			return ds*1e9 + int64(t.Nanosecond()) - f.wallNsec
		}
	}
	return int64(t.Sub(f.origin))
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
	if f.sp != nil && f.sp.n > 0 && k < f.first {
		return f.lateWindow(k)
	}
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
		f.seal(k)
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
	off := f.offset(r.Timestamp)
	if f.results == 1 || off > f.lastOff {
		f.lastOff = off
	}
	if f.plain {
		if f.sends == 0 || off < f.sendLo {
			f.sendLo = off
		}
		if f.sends == 0 || off > f.sendHi {
			f.sendHi = off
		}
		f.sends++
	}
	w := f.window(f.slot(off))
	if w == nil {
		f.dropped++
		return
	}
	// A response that failed a check (a 2xx or 3xx with an error text)
	// fails; any other 2xx or 3xx succeeds.
	kind, ok := OtherError, r.Code >= 200 && r.Code < 400
	switch {
	case r.Code == 0:
		kind = f.errs.kind(r.Error)
	case ok && r.Error != "":
		if k, failed := checkErrorKind(r.Error); failed {
			kind, ok = k, false
		}
	}
	s := w.ep(ep)
	w.Total.count(r, kind, ok)
	s.count(r, kind, ok)
	lag, hasLag := time.Duration(0), f.noLag
	if f.info != nil && !f.noLag {
		if due := f.info.Due(r.Seq); due >= 0 {
			lag, hasLag = r.Timestamp.Sub(f.info.Start.Add(due)), true
		}
	}
	switch {
	case f.staging(w.Index):
		if ok {
			f.record(&w.Total.Latency, 0, r.Latency)
			f.record(&s.Latency, 2+ep, r.Latency)
		}
		if hasLag {
			f.record(&w.Lag, 1, lag)
		}
	default:
		if ok {
			w.Total.Latency.Record(r.Latency)
			s.Latency.Record(r.Latency)
		}
		if hasLag {
			w.Lag.Record(lag)
		}
	}
	if !ok {
		// Failures are fewer than successes but for an overloaded host;
		// their histograms take them directly.
		w.Total.FailLatency.Record(r.Latency)
		s.FailLatency.Record(r.Latency)
	}
	// w may move when the slice grows: finish with it first. The send
	// time plus the latency is the time the response completed.
	d := f.window(f.slot(off + int64(r.Latency)))
	if d == nil {
		return
	}
	d.Total.Done++
	ds := d.ep(ep)
	ds.Done++
	if ok {
		d.Total.DoneOK++
		ds.DoneOK++
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
		return fmt.Errorf("merging shards that started at different times (%s and %s): give every shard the same absolute --start-at (one RFC 3339 time: +DURATION is each process's own clock)",
			g.origin.Format(time.RFC3339Nano), f.origin.Format(time.RFC3339Nano))
	}
	f.unspill()
	g.unspill()
	f.flush()
	g.flush()
	// Map g's endpoints onto f's.
	f.forget()
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
	f.mergeCut(g.cutAt)
	f.sources = append(f.sources, g.sources...)
	f.warns = append(f.warns, g.warns...)
	f.sending = append(f.sending, g.sendingSpans()...)
	return nil
}

// sendingSpans are the stretches in which the requests of a plain file
// were sent, as offsets from the Unix epoch: those merged in, and one from
// the first to the last send added here widened by half the mean gap
// between sends each side (each request stands for the gap around it), or
// by half a window for a lone request.
func (f *Folder) sendingSpans() []Interval {
	out := append([]Interval(nil), f.sending...)
	if f.sends > 0 {
		half := int64(f.width) / 2
		if f.sends > 1 {
			half = (f.sendHi - f.sendLo) / int64(f.sends-1) / 2
		}
		out = append(out, Interval{From: time.Duration(f.sendLo - half), To: time.Duration(f.sendHi + half)})
	}
	return out
}

// unionOf sorts ivs and joins the ones that overlap.
func unionOf(ivs []Interval) []Interval {
	slices.SortFunc(ivs, func(a, b Interval) int { return cmp.Compare(a.From, b.From) })
	var out []Interval
	for _, iv := range ivs {
		if n := len(out); n > 0 && iv.From <= out[n-1].To {
			out[n-1].To = max(out[n-1].To, iv.To)
			continue
		}
		out = append(out, iv)
	}
	return out
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
	f.unspill()
	f.flush()
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
		ws.Sending = unionOf(f.sendingSpans())
		for i := range ws.Sending {
			ws.Sending[i].From -= time.Duration(base) * f.width
			ws.Sending[i].To -= time.Duration(base) * f.width
		}
	}
	switch {
	case f.info != nil:
		ws.CutAt = f.cutAt
	case f.plain && f.cutAt > 0 && len(ws.W) > 0:
		// A plain file cut short: what came after the cut is unknown, so
		// the run is incomplete from there (on the rebased clock).
		ws.CutAt = max(f.cutAt-ws.Origin.Sub(time.Unix(0, 0)), 1)
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
	sentTo, stopped := ws.sendEnd()
	for i := range ws.W {
		t0 := float64(ws.W[i].Index) * w
		t1 := t0 + w
		if stopped && t0 < sentTo.Seconds() {
			// The window sending ended in offered only up to the end
			// (its rate is over that part: Covered).
			t1 = min(t1, sentTo.Seconds())
		}
		ws.W[i].Offered = ws.Info.Offered(t0, t1) * n
	}
}
