package report

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// runDir writes a run directory as run would: run.json, results.gob and
// the windows saved at width.
func runDir(t *testing.T, width time.Duration) (dir string, info *scenarios.RunInfo, rs []vegeta.Result) {
	t.Helper()
	info, rs = simResults(t, spikeCurve)
	dir = t.TempDir()
	info.Results = "results.gob"
	if err := scenarios.WriteRunInfo(dir, info); err != nil {
		t.Fatal(err)
	}
	writeResults(t, filepath.Join(dir, "results.gob"), Gob, rs)
	live := NewFolder(info, width)
	for i := range rs {
		live.Add(&rs[i])
	}
	if err := live.Save(dir); err != nil {
		t.Fatal(err)
	}
	return dir, info, rs
}

// TestOpenCorruptWindows: a run directory whose windows.json.gz is damaged
// (not gzip, or cut short) reports from run.json and the results file,
// with a warning on stderr and in the report; the report is the one the
// results give. Without a results file holding every result it is bad
// input naming the windows file.
func TestOpenCorruptWindows(t *testing.T) {
	dir, info, rs := runDir(t, time.Second)
	good, err := os.ReadFile(filepath.Join(dir, WindowsFile))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Open([]string{filepath.Join(dir, "results.gob")}, 0, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{"not gzip": []byte("not gzip"), "cut short": good[:len(good)/2]} {
		os.WriteFile(filepath.Join(dir, WindowsFile), bad, 0o644)
		var warn bytes.Buffer
		ws, err := Open([]string{dir}, 0, &warn)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		note := filepath.Join(dir, WindowsFile) + " is unreadable"
		if !strings.Contains(warn.String(), "warning: "+note) || !strings.Contains(warn.String(), "rebuilt from run.json and results.gob") {
			t.Errorf("%s: stderr %q", name, warn.String())
		}
		a, b := Analyze(ws, info.Scenario.SLO), Analyze(want, info.Scenario.SLO)
		if ws.Results != uint64(len(rs)) || a.Verdict != b.Verdict {
			t.Errorf("%s: %d results (want %d), verdict %q, from the results %q", name, ws.Results, len(rs), a.Verdict, b.Verdict)
		}
		found := false
		for _, w := range a.Warnings {
			found = found || strings.Contains(w, note)
		}
		if !found {
			t.Errorf("%s: the report's warnings do not say it: %q", name, a.Warnings)
		}
	}

	// Sampled results cannot stand in for the windows.
	sampled := *info
	sampled.ResultsKept = "1 in 100 (seq a multiple of 100)"
	scenarios.WriteRunInfo(dir, &sampled)
	_, err = Open([]string{dir}, 0, io.Discard)
	if !scenarios.IsInvalid(err) || !strings.Contains(err.Error(), filepath.Join(dir, WindowsFile)+": unreadable") || !strings.Contains(err.Error(), "keeps only some results") {
		t.Errorf("sampled results: %v", err)
	}
	// No results file: bad input, naming the file.
	scenarios.WriteRunInfo(dir, info)
	os.Remove(filepath.Join(dir, "results.gob"))
	_, err = Open([]string{dir}, 0, io.Discard)
	if !scenarios.IsInvalid(err) || !strings.Contains(err.Error(), filepath.Join(dir, WindowsFile)+": unreadable") || !strings.Contains(err.Error(), "results file results.gob is missing") {
		t.Errorf("no results file: %v", err)
	}
}

// TestOpenWindowWidth: a --window finer than the saved windows, or not a
// multiple of them, refolds the results file when it holds every result,
// and is bad input otherwise, saying the saved width and what to give.
func TestOpenWindowWidth(t *testing.T) {
	dir, info, rs := runDir(t, time.Second)
	for _, w := range []time.Duration{2 * time.Second, 5 * time.Second} {
		if ws, err := Open([]string{dir}, w, io.Discard); err != nil || ws.Width != w || ws.Results != uint64(len(rs)) {
			t.Errorf("%s from saved 1s windows: %v", w, err)
		}
	}
	// Complete results: refolded at the width asked for.
	for _, w := range []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond} {
		ws, err := Open([]string{dir}, w, io.Discard)
		if err != nil || ws.Width != w || ws.Results != uint64(len(rs)) {
			t.Errorf("%s refolded from the results: %v", w, err)
		}
	}
	// Sampled results, or none: refused.
	sampled := *info
	sampled.ResultsKept = "1 in 100 (seq a multiple of 100)"
	scenarios.WriteRunInfo(dir, &sampled)
	_, err := Open([]string{dir}, 500*time.Millisecond, io.Discard)
	if !scenarios.IsInvalid(err) || !strings.Contains(err.Error(), "the saved windows are 1s wide") ||
		!strings.Contains(err.Error(), "keeps only some results") || !strings.Contains(err.Error(), "give --window 1s or a multiple of it") {
		t.Errorf("500ms, sampled results: %v", err)
	}
	scenarios.WriteRunInfo(dir, info)
	os.Remove(filepath.Join(dir, "results.gob"))
	for _, w := range []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond} {
		_, err := Open([]string{dir}, w, io.Discard)
		if !scenarios.IsInvalid(err) || !strings.Contains(err.Error(), "--window "+w.String()) || !strings.Contains(err.Error(), "the saved windows are 1s wide") ||
			!strings.Contains(err.Error(), "give --window 1s or a multiple of it") {
			t.Errorf("%s, no results: %v", w, err)
		}
	}
	// Two runs whose saved widths do not fit one window.
	other, _, _ := runDir(t, 2*time.Second)
	os.Remove(filepath.Join(other, "results.gob"))
	_, err = Open([]string{dir, other}, 0, io.Discard)
	if !scenarios.IsInvalid(err) || !strings.Contains(err.Error(), "saved windows of this run are 2s wide") {
		t.Errorf("1s and 2s runs: %v", err)
	}
}

// TestOpenStdin: "-" reads a results stream in any of vegeta's encodings,
// folded as the same results read from a file.
func TestOpenStdin(t *testing.T) {
	_, rs := simResults(t, "ramp 10/s to 300/s over 20s")
	dir := t.TempDir()
	for _, format := range []Format{Gob, JSON, CSV} {
		p := filepath.Join(dir, "results."+string(format))
		writeResults(t, p, format, rs)
		want, err := Open([]string{p}, 0, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		var warn bytes.Buffer
		got, err := OpenStdin([]string{"-"}, bytes.NewReader(b), 0, &warn)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if got.Results != uint64(len(rs)) || warn.Len() > 0 || !reflect.DeepEqual(got.Sources, []string{"stdin"}) {
			t.Errorf("%s: %d results of %d, sources %q, warnings %q", format, got.Results, len(rs), got.Sources, warn.String())
		}
		got.Sources, want.Sources = nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: stdin folds differently from the file", format)
		}
	}
	if _, err := OpenStdin([]string{"-", "-"}, strings.NewReader(""), 0, io.Discard); !scenarios.IsInvalid(err) {
		t.Errorf("- twice: %v", err)
	}
	if _, err := Open([]string{"-"}, 0, io.Discard); !scenarios.IsInvalid(err) {
		t.Errorf("- without stdin: %v", err)
	}
	if _, err := OpenStdin([]string{"-"}, strings.NewReader("garbage\n"), 0, io.Discard); !scenarios.IsInvalid(err) || !strings.Contains(err.Error(), "stdin") {
		t.Errorf("garbage on stdin: %v", err)
	}
}
