package report

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// ReadVisitors folds a run's visits file, page views by page and window
// and journeys by name; the analysis words them in the verdict and tables.
func TestVisitorsFromVisitsFile(t *testing.T) {
	dir := t.TempDir()
	info := testScenario(t, "hold 10/s for 10s")
	info.Visits = scenarios.VisitsFile
	if err := scenarios.WriteRunInfo(dir, info); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, scenarios.VisitsFile))
	if err != nil {
		t.Fatal(err)
	}
	vw := scenarios.NewVisitWriter(f)
	at := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	for i := range 20 {
		v := &scenarios.Visit{Kind: scenarios.PageView, Name: "home", Seq: uint64(i), Start: at(float64(i) / 2), Took: 100 * time.Millisecond, Sent: 9, OK: i%4 != 0, Step: -1}
		if !v.OK {
			v.Broke, v.Why = "images", "http 503"
		}
		vw.Write(v)
	}
	for i := range 10 {
		v := &scenarios.Visit{Kind: scenarios.JourneyVisit, Name: "buy", Seq: uint64(100 + i), Start: at(float64(i)), Took: 3 * time.Second, Sent: 4, OK: i >= 3, Step: -1}
		if !v.OK {
			v.Broke, v.Why, v.Step, v.Abandoned = "checkout", "http 503", 3, true
		}
		vw.Write(v)
	}
	vw.Write(&scenarios.Visit{Kind: scenarios.JourneyVisit, Name: "browse", Seq: 200, Took: time.Second, Sent: 2, OK: true, Step: -1})
	// Cut short by a killed run: not the site's doing, so not counted.
	vw.Write(&scenarios.Visit{Kind: scenarios.PageView, Name: "home", Seq: 21, Start: at(3), Sent: 4, Broke: "home", Why: scenarios.Interrupted, Step: -1})
	vw.Write(&scenarios.Visit{Kind: scenarios.JourneyVisit, Name: "buy", Seq: 201, Sent: 2, Broke: "cart", Why: scenarios.Interrupted, Step: 1, Abandoned: true})
	if err := vw.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	fo := NewFolder(info, time.Second)
	ws := fo.Windows()
	if ws.Visitors, err = ReadVisitors(ws, []string{dir}); err != nil {
		t.Fatal(err)
	}
	v := ws.Visitors
	if len(v.Pages) != 1 || v.Pages[0].Views != 20 || v.Pages[0].Complete != 15 || v.Pages[0].Broken["images"] != 5 || v.Interrupted != 2 {
		t.Fatalf("pages %+v", v.Pages)
	}
	if w := v.W[3]; w == nil || w.Views != 2 || w.Complete != 2 {
		t.Errorf("window 3 (page views 6 and 7): %+v", w)
	}
	if len(v.Journeys) != 2 || v.Journeys[0].Started != 10 || v.Journeys[0].Completed != 7 || len(v.Journeys[0].Failures) != 1 || v.Journeys[0].Failures[0] != (StepFailure{Step: 4, Endpoint: "checkout", Why: "http 503", N: 3}) || v.Journeys[0].FailedAt["step 4 checkout"] != 3 {
		t.Fatalf("journeys %+v", v.Journeys)
	}
	a := &Analysis{W: ws}
	a.visitors()
	if a.Visitors == nil || a.Visitors.Interrupted != 2 {
		t.Errorf("visitors summary %+v: want the 2 visits cut short counted", a.Visitors)
	}
	got := a.journeysSentence()
	if want := "Journeys: 30% of 10 buy journeys failed, most at step 4 checkout (http 503); every browse journey completed (1)."; got != want {
		t.Errorf("journeys sentence %q, want %q", got, want)
	}
	h, rows := a.JourneyRows()
	if len(h) != 7 || rows[0][0] != "buy" || rows[0][2] != "70%" || rows[0][3] != "3" || rows[0][4] != "step 4 checkout (http 503) 3" || h[3] != "failed" {
		t.Errorf("journey rows %q", rows)
	}
	// The run's results file given alone (report DIR/results.gob) brings
	// its run.json and visits file along.
	info.Results = "results.gob"
	if err := scenarios.WriteRunInfo(dir, info); err != nil {
		t.Fatal(err)
	}
	_, rs := simResults(t, "hold 10/s for 10s")
	writeResults(t, filepath.Join(dir, info.Results), Gob, rs)
	ws, err = Open([]string{filepath.Join(dir, info.Results)}, 0, io.Discard)
	if err != nil || ws.Visitors == nil || len(ws.Visitors.Pages) != 1 || ws.Visitors.Pages[0].Views != 20 {
		t.Errorf("results file alone: %v, visitors %+v", err, ws.Visitors)
	}
	// A damaged line names the file and the line.
	if err := os.WriteFile(filepath.Join(dir, scenarios.VisitsFile), []byte("{\"kind\":\"page view\"}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadVisitors(ws, []string{dir}); err == nil || !strings.Contains(err.Error(), "visits.jsonl:2:") {
		t.Errorf("damaged visits file: %v", err)
	}
}
