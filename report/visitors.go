package report

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// Visitors is what a run's visitors added up to: per page and per
// window of the page view's start, and per journey. A real run's are read
// from its visits file (ReadVisitors); a simulation folds its own (Add)
// and saves them with its windows.
type Visitors struct {
	Pages    []*PageVisits        `json:"pages,omitempty"`
	W        map[int]*VisitWindow `json:"windows,omitempty"` // page views, by window Index
	Journeys []*JourneyVisits     `json:"journeys,omitempty"`
	// Interrupted counts the visits a killed run cut short: left out of
	// the rest, since the site did not break them.
	Interrupted uint64 `json:"interrupted,omitempty"`
}

// JourneyVisits is the journeys of one name (a scenario's journey).
type JourneyVisits struct {
	Name      string            `json:"name"`
	Started   uint64            `json:"started"`
	Completed uint64            `json:"completed"`
	FailedAt  map[string]uint64 `json:"failed_at"` // "step N endpoint" where journeys failed first
	// Failures are the failed journeys by step and why that step failed.
	Failures []StepFailure `json:"failures,omitempty"`
	Took     Hist          `json:"took"` // from arrival to the last response, think time included
}

// StepFailure counts the journeys that failed first at one step, for one
// reason.
type StepFailure struct {
	Step     int     `json:"step"`     // from 1
	Endpoint string  `json:"endpoint"` // the step's endpoint
	Why      string  `json:"why"`      // the step's error kind: "http 503", "check min_bytes", "capture order_id", …
	N        uint64  `json:"n"`
	Ratio    float64 `json:"ratio,omitempty"` // of the journeys started (summary.json only)
}

// String is the failure as the journeys table words it: "step 3 checkout
// (capture order_id)".
func (f StepFailure) String() string {
	s := fmt.Sprintf("step %d %s", f.Step, f.Endpoint)
	if f.Why != "" {
		s += " (" + f.Why + ")"
	}
	return s
}

// addFailure counts n journeys failed as f.
func (j *JourneyVisits) addFailure(f StepFailure, n uint64) {
	for i := range j.Failures {
		g := &j.Failures[i]
		if g.Step == f.Step && g.Endpoint == f.Endpoint && g.Why == f.Why {
			g.N += n
			return
		}
	}
	f.N = n
	j.Failures = append(j.Failures, f)
}

// PageVisits is the page views of one page.
type PageVisits struct {
	Name     string            `json:"name"`
	Views    uint64            `json:"views"`
	Complete uint64            `json:"complete"`
	Broken   map[string]uint64 `json:"broken"` // by the part that failed first (an endpoint name)
	Took     Hist              `json:"took"`   // from the visitor's arrival to the last response
}

// VisitWindow is the page views that started in one window.
type VisitWindow struct {
	Views    uint64            `json:"views"`
	Complete uint64            `json:"complete"`
	Broken   map[string]uint64 `json:"broken"`
}

// NewVisitors is an empty fold of visitors.
func NewVisitors() *Visitors { return &Visitors{W: map[int]*VisitWindow{}} }

func (v *Visitors) journey(name string) *JourneyVisits {
	for _, j := range v.Journeys {
		if j.Name == name {
			return j
		}
	}
	j := &JourneyVisits{Name: name, FailedAt: map[string]uint64{}}
	v.Journeys = append(v.Journeys, j)
	return j
}

func (v *Visitors) page(name string) *PageVisits {
	for _, p := range v.Pages {
		if p.Name == name {
			return p
		}
	}
	p := &PageVisits{Name: name, Broken: map[string]uint64{}}
	v.Pages = append(v.Pages, p)
	return p
}

// add adds o's page views to w's.
func (w *VisitWindow) add(o *VisitWindow) {
	w.Views += o.Views
	w.Complete += o.Complete
	for k, n := range o.Broken {
		w.Broken[k] += n
	}
}

func (v *Visitors) window(idx int) *VisitWindow {
	w := v.W[idx]
	if w == nil {
		w = &VisitWindow{Broken: map[string]uint64{}}
		v.W[idx] = w
	}
	return w
}

// Add folds one visit in. A page view counts in the window of width
// that holds its start; shift is the run's start less the windows' origin.
func (v *Visitors) Add(x *scenarios.Visit, shift, width time.Duration) {
	if x.Why == scenarios.Interrupted {
		v.Interrupted++
		return
	}
	if x.Kind == scenarios.JourneyVisit {
		j := v.journey(x.Name)
		j.Started++
		j.Took.Record(x.Took)
		switch {
		case x.OK:
			j.Completed++
		default:
			j.FailedAt[x.FailedAt()]++
			j.addFailure(StepFailure{Step: x.Step + 1, Endpoint: x.Broke, Why: x.Why}, 1)
		}
		return
	}
	p := v.page(x.Name)
	w := v.window(int((x.Start + shift) / width))
	p.Views++
	w.Views++
	p.Took.Record(x.Took)
	if x.OK {
		p.Complete++
		w.Complete++
	} else {
		p.Broken[x.Broke]++
		w.Broken[x.Broke]++
	}
}

// Merge adds o's visitors (folded in the same windows) to v's.
func (v *Visitors) Merge(o *Visitors) {
	v.Interrupted += o.Interrupted
	for _, oj := range o.Journeys {
		j := v.journey(oj.Name)
		j.Started += oj.Started
		j.Completed += oj.Completed
		for k, n := range oj.FailedAt {
			j.FailedAt[k] += n
		}
		for _, f := range oj.Failures {
			j.addFailure(f, f.N)
		}
		j.Took.Merge(&oj.Took)
	}
	for _, op := range o.Pages {
		p := v.page(op.Name)
		p.Views += op.Views
		p.Complete += op.Complete
		for k, n := range op.Broken {
			p.Broken[k] += n
		}
		p.Took.Merge(&op.Took)
	}
	for idx, ow := range o.W {
		v.window(idx).add(ow)
	}
}

// rewindow is v with its page views' windows moved from windows of width
// from at origin at to windows of width to at origin origin (a saved run
// read at a coarser --window).
func (v *Visitors) rewindow(from time.Duration, at time.Time, to time.Duration, origin time.Time) *Visitors {
	if from == to && at.Equal(origin) {
		return v
	}
	out := &Visitors{Pages: v.Pages, Journeys: v.Journeys, Interrupted: v.Interrupted, W: map[int]*VisitWindow{}}
	shift := at.Sub(origin)
	for idx, w := range v.W {
		out.window(int((time.Duration(idx)*from + shift) / to)).add(w)
	}
	return out
}

// ReadVisitors folds the visits files of the run directories dirs into
// windows of ws; nil when none of them holds visitors. A damaged line is
// an error naming the file and line; a last line cut short (a killed run)
// is left out.
func ReadVisitors(ws *Windows, dirs []string) (*Visitors, error) {
	var v *Visitors
	for _, dir := range dirs {
		info, err := scenarios.ReadRunInfo(dir)
		if err != nil || info.Visits == "" {
			continue
		}
		path := filepath.Join(dir, info.Visits)
		f, err := os.Open(path)
		if os.IsNotExist(err) {
			continue // a run directory copied without it: no visitors section
		}
		if err != nil {
			return nil, err
		}
		if v == nil {
			v = NewVisitors()
		}
		shift := info.Start.Sub(ws.Origin)
		err = scenarios.ReadVisits(path, f, func(x *scenarios.Visit) error {
			v.Add(x, shift, ws.Width)
			return nil
		})
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return v, nil
}

// VisitorsSummary is the visitors' part of an analysis.
type VisitorsSummary struct {
	Views     uint64  `json:"page_views"`
	Complete  uint64  `json:"complete"`
	Broken    uint64  `json:"broken"`
	BrokenBy  []Count `json:"broken_by"` // by the part that failed first, most first
	P50Ms     float64 `json:"p50_ms"`    // a whole page view's time, arrival to last response
	P99Ms     float64 `json:"p99_ms"`
	PeakFromS float64 `json:"peak_from_s"` // the windows offered at least 90% of the peak rate
	PeakToS   float64 `json:"peak_to_s"`
	PeakViews uint64  `json:"peak_page_views"`
	// PeakBrokenRatio is the share of page views broken at the peak, and
	// PeakBrokenBy what broke them there.
	PeakBrokenRatio float64      `json:"peak_broken_ratio"`
	PeakBrokenBy    []Count      `json:"peak_broken_by"`
	Pages           []PageRow    `json:"pages"`
	Journeys        []JourneyRow `json:"journeys,omitempty"`
	// Interrupted counts the visits the run's stop cut short: in none of
	// the figures above.
	Interrupted uint64 `json:"interrupted"`
}

// JourneyRow is one journey's line of the journeys table. Started is
// Completed + Failed: a failed journey stops at the step that failed first
// (it is abandoned there); the journeys the run's stop cut short are in
// VisitorsSummary.Interrupted only.
type JourneyRow struct {
	Name      string  `json:"name"`
	Started   uint64  `json:"started"`
	Completed uint64  `json:"completed"`
	Failed    uint64  `json:"failed"`
	FailedAt  []Count `json:"failed_at"` // "step N endpoint" where journeys failed first, most first
	// FailedBy is the failed journeys by step and why it failed, most first.
	FailedBy []StepFailure `json:"failed_by"`
	P50Ms    float64       `json:"p50_ms"` // arrival to the last response, think time included
	P99Ms    float64       `json:"p99_ms"`
}

// Count is a named count.
type Count struct {
	Name  string  `json:"name"`
	N     uint64  `json:"n"`
	Ratio float64 `json:"ratio"` // of the page views it is counted among
}

// PageRow is one page's line of the visitors table.
type PageRow struct {
	Name     string  `json:"name"`
	Views    uint64  `json:"page_views"`
	Complete uint64  `json:"complete"`
	BrokenBy []Count `json:"broken_by"`
	P50Ms    float64 `json:"p50_ms"`
	P99Ms    float64 `json:"p99_ms"`
}

func counts(m map[string]uint64, of uint64) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{Name: k, N: n, Ratio: r3(float64(n) / float64(max(of, 1)))})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// visitors sums ws.Visitors: totals, per page, and at the peak (the
// windows offered at least 90% of the highest rate offered).
func (a *Analysis) visitors() {
	v := a.W.Visitors
	if v == nil {
		return
	}
	s := &VisitorsSummary{Interrupted: v.Interrupted}
	for _, j := range v.Journeys {
		by := make([]StepFailure, 0, len(j.Failures))
		for _, f := range j.Failures {
			f.Ratio = r3(float64(f.N) / float64(max(j.Started, 1)))
			by = append(by, f)
		}
		sort.Slice(by, func(a, b int) bool {
			if by[a].N != by[b].N {
				return by[a].N > by[b].N
			}
			return by[a].String() < by[b].String()
		})
		s.Journeys = append(s.Journeys, JourneyRow{Name: j.Name, Started: j.Started, Completed: j.Completed,
			Failed: j.Started - j.Completed, FailedAt: counts(j.FailedAt, j.Started), FailedBy: by, P50Ms: ms(j.Took.Quantile(.5)), P99Ms: ms(j.Took.Quantile(.99))})
	}
	var all Hist
	broken := map[string]uint64{}
	for _, p := range v.Pages {
		s.Views += p.Views
		s.Complete += p.Complete
		for k, n := range p.Broken {
			broken[k] += n
		}
		all.Merge(&p.Took)
		s.Pages = append(s.Pages, PageRow{Name: p.Name, Views: p.Views, Complete: p.Complete, BrokenBy: counts(p.Broken, p.Views),
			P50Ms: ms(p.Took.Quantile(.5)), P99Ms: ms(p.Took.Quantile(.99))})
	}
	if s.Views == 0 {
		if len(s.Journeys) > 0 || s.Interrupted > 0 {
			a.Visitors = s
		}
		return
	}
	s.Broken = s.Views - s.Complete
	s.BrokenBy = counts(broken, s.Views)
	s.P50Ms, s.P99Ms = ms(all.Quantile(.5)), ms(all.Quantile(.99))
	peak := 0.0
	for _, j := range a.Windows {
		peak = max(peak, j.Offered)
	}
	s.PeakFromS = -1
	peakBroken := map[string]uint64{}
	var peakComplete uint64
	for i, j := range a.Windows {
		w := v.W[a.W.W[i].Index]
		if w == nil || peak <= 0 || j.Offered < 0.9*peak {
			continue
		}
		if s.PeakFromS < 0 {
			s.PeakFromS = j.Start
		}
		s.PeakToS = j.Start + a.W.Width.Seconds()
		s.PeakViews += w.Views
		peakComplete += w.Complete
		for k, n := range w.Broken {
			peakBroken[k] += n
		}
	}
	if s.PeakViews > 0 {
		s.PeakBrokenRatio = r3(float64(s.PeakViews-peakComplete) / float64(s.PeakViews))
		s.PeakBrokenBy = counts(peakBroken, s.PeakViews)
	} else {
		s.PeakFromS = 0
	}
	a.Visitors = s
}

// visitorsSentence is the verdict's sentence about visitors: the share
// who got a broken page at the peak, and what broke it.
func (a *Analysis) visitorsSentence() string {
	s := a.Visitors
	if s == nil {
		return ""
	}
	return strings.TrimSpace(a.pageViewsSentence() + " " + a.journeysSentence())
}

// journeysSentence says how many journeys of each kind failed, and where.
func (a *Analysis) journeysSentence() string {
	var parts []string
	for _, j := range a.Visitors.Journeys {
		if j.Started == 0 {
			continue
		}
		if j.Failed == 0 {
			parts = append(parts, fmt.Sprintf("every %s journey completed (%s)", j.Name, num(float64(j.Started))))
			continue
		}
		where := ""
		switch {
		case len(j.FailedBy) > 0:
			where = fmt.Sprintf(", most at %s", j.FailedBy[0])
		case len(j.FailedAt) > 0:
			where = fmt.Sprintf(", most at %s", j.FailedAt[0].Name)
		}
		parts = append(parts, fmt.Sprintf("%s of %s %s journeys failed%s", pct(float64(j.Failed)/float64(j.Started)), num(float64(j.Started)), j.Name, where))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Journeys: " + strings.Join(parts, "; ") + "."
}

// pageViewsSentence is the share of visitors who got a broken page at the
// peak, and what broke it.
func (a *Analysis) pageViewsSentence() string {
	s := a.Visitors
	if s.PeakViews == 0 {
		return ""
	}
	if s.PeakBrokenRatio == 0 {
		return fmt.Sprintf("At the peak every visitor got the whole page (%s page views).", num(float64(s.PeakViews)))
	}
	var parts []string
	for _, c := range s.PeakBrokenBy {
		if len(parts) == 2 {
			break
		}
		parts = append(parts, a.brokeBy(c))
	}
	return fmt.Sprintf("At the peak %s of visitors got a broken page: %s.", pct(s.PeakBrokenRatio), strings.Join(parts, "; "))
}

// brokeBy words one cause of broken page views.
func (a *Analysis) brokeBy(c Count) string {
	for _, p := range a.Visitors.Pages {
		if p.Name == c.Name {
			return fmt.Sprintf("%s got no page (%s failed)", pct(c.Ratio), c.Name)
		}
	}
	return fmt.Sprintf("%s got the page without its %s", pct(c.Ratio), c.Name)
}

// topCounts lists the first three counts as "NAME FIGURE", "…" past
// them, "-" for none.
func topCounts(cs []Count, figure func(Count) string) string {
	var out []string
	for _, c := range cs {
		if len(out) == 3 {
			out = append(out, "…")
			break
		}
		out = append(out, c.Name+" "+figure(c))
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ", ")
}

// JourneyRows is the journeys table: one row per journey. Its "failed
// first at" cell lists the commonest steps journeys failed at, with why,
// separated by "; ": "step 3 checkout (capture order_id) 194".
func (a *Analysis) JourneyRows() (head []string, rows [][]string) {
	head = []string{"journey", "started", "completed", "failed", "failed first at (why)", "p50", "p99"}
	for _, j := range a.Visitors.Journeys {
		var at []string
		for _, f := range j.FailedBy {
			if len(at) == 3 {
				at = append(at, "…")
				break
			}
			at = append(at, f.String()+" "+num(float64(f.N)))
		}
		if len(at) == 0 { // folded before failures were kept: steps only
			at = append(at, topCounts(j.FailedAt, func(c Count) string { return num(float64(c.N)) }))
		}
		rows = append(rows, []string{j.Name, num(float64(j.Started)), pct(float64(j.Completed) / float64(max(j.Started, 1))),
			num(float64(j.Failed)), strings.Join(at, "; "),
			fmtLatency(time.Duration(j.P50Ms * 1e6)), fmtLatency(time.Duration(j.P99Ms * 1e6))})
	}
	return head, rows
}

// VisitorRows is the visitors table: one row per page.
func (a *Analysis) VisitorRows() (head []string, rows [][]string) {
	head = []string{"page", "page views", "complete", "broken", "broken by (first failed)", "p50 page view", "p99 page view"}
	for _, p := range a.Visitors.Pages {
		by := topCounts(p.BrokenBy, func(c Count) string { return pct(c.Ratio) })
		rows = append(rows, []string{p.Name, num(float64(p.Views)), pct(float64(p.Complete) / float64(max(p.Views, 1))),
			pct(float64(p.Views-p.Complete) / float64(max(p.Views, 1))), by,
			fmtLatency(time.Duration(p.P50Ms * 1e6)), fmtLatency(time.Duration(p.P99Ms * 1e6))})
	}
	return head, rows
}

// pageViews says whether the run's arrivals were page views: its offered
// requests are then the mix's mean, not a schedule of requests (a failed
// page sends no assets).
func (ws *Windows) pageViews() bool {
	return ws.Info != nil && ws.Info.Scenario != nil && ws.Info.Scenario.Visitors()
}

// slack is how many requests a window's successes may fall short of
// MinThroughput·offered before it counts: throughputSlack, or for page
// views two page views' requests (a page view's requests cross a window
// boundary together, so small windows jitter by a whole page view).
func (a *Analysis) slack() float64 {
	if a.W.pageViews() {
		return max(throughputSlack, 2*a.W.Info.Scenario.RequestsPerArrival())
	}
	return throughputSlack
}
