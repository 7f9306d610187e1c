// Package report turns results into answers: it folds vegeta results into
// fixed time windows (counts by status and error kind, bytes, achieved and
// offered rate, a latency histogram, per endpoint and overall), judges each
// window against an SLO, finds the break point, capacity, recovery and the
// first endpoint to fail, and renders the verdict as terminal tables, plots
// (PNG/SVG), a self-contained HTML page, Markdown and JSON.
//
// Memory is bounded by the number of windows, never by the number of
// results: a results file is streamed through a Folder, and a run directory
// keeps its folded windows (windows.json.gz) so a report can be re-rendered
// with another SLO without the raw results.
//
//	f := report.NewFolder(info, time.Second)
//	for each result: f.Add(r)
//	a := report.Analyze(f.Windows(), slo)
//	a.WriteText(os.Stdout)
//	report.WriteAll(dir, a)
package report
