package report

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// The files WriteAll writes.
const (
	OverviewPNG      = "overview.png"
	OverviewSVG      = "overview.svg"
	LatencyVsLoadPNG = "latency-vs-load.png"
	EndpointsPNG     = "endpoints.png"
	HTMLFile         = "report.html"
	MarkdownFile     = "report.md"
	SummaryFile      = "summary.json"
)

// Rendered is every plot of an analysis, drawn once and shared by the
// files and the page.
type Rendered struct {
	OverviewPNG, OverviewSVG   []byte
	LatencyPNG, LatencySVG     []byte
	EndpointsPNG, EndpointsSVG []byte
}

// Render draws every plot.
func (a *Analysis) Render() (*Rendered, error) {
	panels, err := a.OverviewPanels()
	if err != nil {
		return nil, fmt.Errorf("drawing the overview: %w", err)
	}
	lv, err := a.LatencyVsLoadPlot()
	if err != nil {
		return nil, fmt.Errorf("drawing latency vs load: %w", err)
	}
	ep, err := a.EndpointsPlot()
	if err != nil {
		return nil, fmt.Errorf("drawing endpoints: %w", err)
	}
	var r Rendered
	for _, job := range []struct {
		ps     []*plot.Plot
		size   [2]vg.Length
		format string
		out    *[]byte
	}{
		{panels, OverviewSize, "png", &r.OverviewPNG},
		{panels, OverviewSize, "svg", &r.OverviewSVG},
		{[]*plot.Plot{lv}, PlotSize, "png", &r.LatencyPNG},
		{[]*plot.Plot{lv}, PlotSize, "svg", &r.LatencySVG},
		{[]*plot.Plot{ep}, PlotSize, "png", &r.EndpointsPNG},
		{[]*plot.Plot{ep}, PlotSize, "svg", &r.EndpointsSVG},
	} {
		b, err := Render(job.ps, job.size[0], job.size[1], job.format)
		if err != nil {
			return nil, err
		}
		*job.out = b
	}
	return &r, nil
}

// WriteAll writes the report into dir: overview.png and .svg,
// latency-vs-load.png, endpoints.png, report.html (self-contained),
// report.md and summary.json. Each file is written to a temporary name and
// renamed, so none is ever half-written.
func WriteAll(dir string, a *Analysis) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	r, err := a.Render()
	if err != nil {
		return err
	}
	var html, md, js bytes.Buffer
	if err := a.WriteHTML(&html, r); err != nil {
		return err
	}
	if err := a.WriteMarkdown(&md); err != nil {
		return err
	}
	if err := a.WriteJSON(&js); err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{OverviewPNG, r.OverviewPNG}, {OverviewSVG, r.OverviewSVG}, {LatencyVsLoadPNG, r.LatencyPNG},
		{EndpointsPNG, r.EndpointsPNG}, {HTMLFile, html.Bytes()}, {MarkdownFile, md.Bytes()}, {SummaryFile, js.Bytes()},
	}
	var errs []error
	for _, f := range files {
		errs = append(errs, writeFileAtomic(filepath.Join(dir, f.name), f.data))
	}
	return errors.Join(errs...)
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WriteMarkdown writes report.md: the verdict, key figures and tables, for
// pasting into a ticket (plots are referenced by file name).
func (a *Analysis) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	title := a.title()
	fmt.Fprintf(&b, "## %s\n\n**%s**\n\n", title, mdEscape(a.Verdict))
	for _, f := range a.Facts() {
		fmt.Fprintf(&b, "- **%s:** %s\n", f[0], mdEscape(f[1]))
	}
	b.WriteString("\n![overview](" + OverviewPNG + ")\n\n")
	if a.Visitors != nil && len(a.Visitors.Pages) > 0 {
		b.WriteString("### Visitors (page views)\n\n")
		h, rows := a.VisitorRows()
		mdTable(&b, h, rows)
		b.WriteString("\n")
	}
	if a.Visitors != nil && len(a.Visitors.Journeys) > 0 {
		b.WriteString("### Journeys\n\n")
		h, rows := a.JourneyRows()
		mdTable(&b, h, rows)
		b.WriteString("\n")
	}
	b.WriteString("### Phases\n\n")
	h, rows := a.PhaseRows()
	mdTable(&b, h, rows)
	b.WriteString("\n### Endpoints\n\n")
	h, rows = a.EndpointRows()
	mdTable(&b, h, rows)
	if h, rows = a.FailureRows(); len(rows) > 0 {
		b.WriteString("\n### Failed requests, by kind\n\n")
		mdTable(&b, h, rows)
	}
	if a.Search != nil {
		fmt.Fprintf(&b, "\n### Capacity search\n\n%s\n\n", mdEscape(a.Search.Heading()))
		h, rows = a.Search.Rows()
		mdTable(&b, h, rows)
		fmt.Fprintf(&b, "\n**%s**\n", mdEscape(a.Search.Statement))
	}
	if len(a.Warnings) > 0 {
		b.WriteString("\n### Warnings\n\n")
		for _, s := range a.Warnings {
			fmt.Fprintf(&b, "- %s\n", mdEscape(s))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string {
	// Backslash escapes, not HTML entities: report.md is read as text
	// too, where "&lt;" is noise (CommonMark escapes any ASCII punctuation).
	r := strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "<", `\<`, ">", `\>`, "&", `\&`, "`", "\\`", "[", `\[`, "]", `\]`)
	return r.Replace(s)
}

func mdTable(b *strings.Builder, head []string, rows [][]string) {
	b.WriteString("| " + strings.Join(head, " | ") + " |\n|")
	for range head {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = mdEscape(c)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}

// WriteHTML writes report.html: one self-contained page (inline SVG, inline
// CSS, no scripts, no network) with the verdict, plots and tables.
func (a *Analysis) WriteHTML(w io.Writer, r *Rendered) error {
	ph, prows := a.PhaseRows()
	eh, erows := a.EndpointRows()
	fh, frows := a.FailureRows()
	title := a.title()
	// Green only for a run that held its whole curve.
	state := "generator" // amber: incomplete
	switch a.Kind {
	case KindHeld:
		state = "held"
	case KindBroke, KindUnreachable:
		state = "broke"
	}
	data := map[string]any{
		"Title":     title,
		"Verdict":   a.Verdict,
		"State":     state,
		"Facts":     a.Facts(),
		"Warnings":  a.Warnings,
		"Overview":  template.HTML(inlineSVG(r.OverviewSVG)),
		"Latency":   template.HTML(inlineSVG(r.LatencySVG)),
		"Endpoints": template.HTML(inlineSVG(r.EndpointsSVG)),
		"PH":        ph, "PRows": prows,
		"EH": eh, "ERows": erows,
		"FH": fh, "FRows": frows,
	}
	if a.Visitors != nil && len(a.Visitors.Pages) > 0 {
		data["VH"], data["VRows"] = a.VisitorRows()
	}
	if a.Visitors != nil && len(a.Visitors.Journeys) > 0 {
		data["JH"], data["JRows"] = a.JourneyRows()
	}
	if a.Search != nil {
		sh, srows := a.Search.Rows()
		data["Search"], data["SH"], data["SRows"] = a.Search, sh, srows
	}
	return pageTmpl.Execute(w, data)
}

// pageCSS is the style of the report pages (report.html, compare.html).
const pageCSS = `body { font-family: system-ui, -apple-system, "Segoe UI", "Liberation Sans", sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.3rem; color: #555; font-weight: 600; }
h2 { font-size: 1.1rem; margin-top: 2rem; }
.verdict { font-size: 1.35rem; line-height: 1.45; padding: 1rem 1.2rem; border-left: 6px solid; border-radius: 4px; }
.verdict.broke { border-color: #c81e1e; background: #fdf0f0; }
.verdict.held { border-color: #1e9632; background: #f0faf2; }
.verdict.generator { border-color: #c88a1e; background: #fdf7ec; }
table { border-collapse: collapse; font-size: .9rem; margin: .5rem 0; }
td, th { padding: .3rem .6rem; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
td:first-child, th:first-child { text-align: left; }
th { background: #f4f4f4; }
table.facts td { text-align: left; white-space: normal; }
table.facts td:first-child { font-weight: 600; width: 9rem; }
.warn { background: #fff7e0; border-left: 4px solid #e0a800; padding: .5rem 1rem; }
figure { margin: 1rem 0; }
figure svg { display: block; max-width: 100%; border: 1px solid #eee; }
figcaption { color: #666; font-size: .85rem; }
#failures td:last-child, #failures th:last-child, #journeys td:nth-child(5), #journeys th:nth-child(5) { text-align: left; white-space: normal; }
`

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
` + pageCSS + `</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="verdict {{.State}}" id="verdict">{{.Verdict}}</p>
<table class="facts">
{{range .Facts}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td></tr>
{{end}}</table>
{{if .Warnings}}<div class="warn">{{range .Warnings}}<p>⚠ {{.}}</p>{{end}}</div>{{end}}
{{if .VH}}<h2>Visitors</h2>
<table id="visitors"><tr>{{range .VH}}<th>{{.}}</th>{{end}}</tr>
{{range .VRows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
<p class="note">A page view is complete when its page and every asset succeeded within the SLO's p99; "broken by" names the part that failed first.</p>{{end}}
{{if .JH}}<h2>Journeys</h2>
<table id="journeys"><tr>{{range .JH}}<th>{{.}}</th>{{end}}</tr>
{{range .JRows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
<p class="note">A journey completes when every step succeeded; one that failed stops (is abandoned) at the step that failed first, named with why it failed. Started = completed + failed.</p>{{end}}
<h2>Overview</h2>
<figure id="overview">{{.Overview}}
<figcaption>Offered vs achieved rate, latency percentiles and errors on one time axis. Shaded: the SLO was broken; red line: the break; green: recovery.</figcaption></figure>
<h2>Latency vs load</h2>
<figure id="latency-vs-load">{{.Latency}}
<figcaption>Each window's p50 and p99 against the rate offered in it: the knee is where the host runs out of capacity. Shaded: the capacity band.</figcaption></figure>
<h2>Endpoints</h2>
<figure id="endpoints">{{.Endpoints}}
<figcaption>Share of each endpoint's requests that failed, over time{{if .VH}}, and (black) the share of page views broken, by when they started{{end}}.</figcaption></figure>
<h2>Phases</h2>
<table id="phases"><tr>{{range .PH}}<th>{{.}}</th>{{end}}</tr>
{{range .PRows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
<h2>Endpoints</h2>
<table id="endpoint-table"><tr>{{range .EH}}<th>{{.}}</th>{{end}}</tr>
{{range .ERows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
<p class="note">Latencies are of successful requests ("-": none succeeded).</p>
{{if .FRows}}<h3>Failed requests, by kind</h3>
<table id="failures"><tr>{{range .FH}}<th>{{.}}</th>{{end}}</tr>
{{range .FRows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>{{end}}
{{if .Search}}<h2>Capacity search</h2>
<p>{{.Search.Heading}}</p>
<table id="capacity-search"><tr>{{range .SH}}<th>{{.}}</th>{{end}}</tr>
{{range .SRows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
<p><strong>{{.Search.Statement}}</strong> The probes are runs of their own in find-capacity/.</p>
{{end}}<p style="color:#888;font-size:.8rem">Made by flashcrowd. Windows are judged one by one against the SLO; the break is the start of the first run of failing windows longer than the grace period.</p>
</body>
</html>
`))

// title heads the page and report.md: the scenario, and "simulated" for
// a prediction by flashcrowd simulate.
func (a *Analysis) title() string {
	title := "flashcrowd report"
	if info := a.W.Info; info != nil {
		title += ": " + info.Scenario.Name
		if info.Simulated {
			title += " (simulated: no request was sent)"
		}
	}
	return title
}
