package report

import (
	"bytes"
	"encoding/json"
	"errors"
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

// writeResults encodes results with vegeta's own encoder for format.
func writeResults(t testing.TB, path string, format Format, rs []vegeta.Result) {
	t.Helper()
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var enc vegeta.Encoder
	switch format {
	case Gob:
		enc = vegeta.NewEncoder(fh)
	case JSON:
		enc = vegeta.NewJSONEncoder(fh)
	case CSV:
		enc = vegeta.NewCSVEncoder(fh)
	}
	for i := range rs {
		if err := enc.Encode(&rs[i]); err != nil {
			t.Fatal(err)
		}
	}
}

func simResults(t testing.TB, curve string) (*scenarios.RunInfo, []vegeta.Result) {
	info := testScenario(t, curve)
	var rs []vegeta.Result
	starvedHost().simulate(info, 1, func(r *vegeta.Result) { rs = append(rs, *r) })
	return info, rs
}

// The three encodings, detected, fold to the same windows.
func TestReadFormats(t *testing.T) {
	_, rs := simResults(t, "ramp 10/s to 300/s over 20s")
	dir := t.TempDir()
	var got []*Windows
	for _, format := range []Format{Gob, JSON, CSV} {
		p := filepath.Join(dir, "results."+string(format))
		writeResults(t, p, format, rs)
		f := NewFolder(nil, time.Second)
		var warn bytes.Buffer
		if err := ReadFiles([]string{p}, f, &warn); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if warn.Len() > 0 {
			t.Errorf("%s: warnings: %s", format, warn.String())
		}
		if f.Results() != uint64(len(rs)) {
			t.Fatalf("%s: read %d results, wrote %d", format, f.Results(), len(rs))
		}
		ws := f.Windows()
		ws.Sources = nil
		got = append(got, ws)
	}
	for i := 1; i < len(got); i++ {
		if !reflect.DeepEqual(got[0], got[i]) {
			t.Errorf("format %d folds differently from gob", i)
		}
	}
}

// A gob file cut mid-record keeps every result before the cut, with a
// warning; a JSON file with garbage in the middle is an error naming the
// file and line.
func TestReadDamaged(t *testing.T) {
	_, rs := simResults(t, "hold 100/s for 10s")
	dir := t.TempDir()
	p := filepath.Join(dir, "results.gob")
	writeResults(t, p, Gob, rs)
	b, _ := os.ReadFile(p)
	cut := filepath.Join(dir, "cut.gob")
	os.WriteFile(cut, b[:len(b)*2/3], 0o644)
	f := NewFolder(nil, time.Second)
	var warn bytes.Buffer
	if err := ReadFiles([]string{cut}, f, &warn); err != nil {
		t.Fatalf("cut gob: %v", err)
	}
	if n := f.Results(); n < uint64(len(rs))*2/3-10 || n >= uint64(len(rs)) {
		t.Errorf("kept %d of %d results from a file cut at 2/3", n, len(rs))
	}
	if !strings.Contains(warn.String(), "cut short after") || !strings.Contains(strings.Join(f.Windows().Warnings, "\n"), "cut short") {
		t.Errorf("no warning for the cut: %q", warn.String())
	}

	jp := filepath.Join(dir, "results.json")
	writeResults(t, jp, JSON, rs[:50])
	jb, _ := os.ReadFile(jp)
	lines := strings.SplitAfter(string(jb), "\n")
	lines[20] = "{this is not json\n"
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o644)
	err := ReadFiles([]string{bad}, NewFolder(nil, time.Second), io.Discard)
	if err == nil || !scenarios.IsInvalid(err) || !strings.Contains(err.Error(), "bad.json:21") {
		t.Errorf("corrupt JSON: %v", err)
	}

	// A JSON file whose last line was cut: keep the rest, warn.
	cutJSON := filepath.Join(dir, "cut.json")
	os.WriteFile(cutJSON, jb[:len(jb)-40], 0o644)
	f = NewFolder(nil, time.Second)
	warn.Reset()
	if err := ReadFiles([]string{cutJSON}, f, &warn); err != nil {
		t.Fatalf("cut JSON: %v", err)
	}
	if f.Results() != 49 || !strings.Contains(warn.String(), "incomplete") && !strings.Contains(warn.String(), "cut short") {
		t.Errorf("cut JSON: %d results, warning %q", f.Results(), warn.String())
	}
	// A cut plain file is reported up to its cut: incomplete there,
	// whatever came after. And the same bytes on a stream (report -).
	for _, stream := range []bool{false, true} {
		f = NewFolder(nil, time.Second)
		warn.Reset()
		if stream {
			err = readResults(StdinName, bytes.NewReader(jb[:len(jb)-40]), f, &warn)
		} else {
			err = ReadFiles([]string{cutJSON}, f, &warn)
		}
		ws := f.Windows()
		if err != nil || f.Results() != 49 || ws.CutAt <= 0 || !strings.Contains(warn.String(), "incomplete line") {
			t.Errorf("cut JSON (stream %v): %v, %d results, cut at %v, warning %q", stream, err, f.Results(), ws.CutAt, warn.String())
		}
		if a := Analyze(ws, scenarios.DefaultSLO); a.CutAt < 0 || a.Summary().CutAtS == nil {
			t.Errorf("cut JSON (stream %v): the analysis does not know the cut: %s", stream, a.Verdict)
		}
	}

	// Not a results file at all.
	junk := filepath.Join(dir, "junk.txt")
	os.WriteFile(junk, []byte("hello\nworld\n"), 0o644)
	if err := ReadFiles([]string{junk}, NewFolder(nil, time.Second), io.Discard); err == nil || !strings.Contains(err.Error(), "junk.txt") {
		t.Errorf("junk: %v", err)
	}
	empty := filepath.Join(dir, "empty.gob")
	os.WriteFile(empty, nil, 0o644)
	warn.Reset()
	if err := ReadFiles([]string{empty}, NewFolder(nil, time.Second), &warn); err != nil || !strings.Contains(warn.String(), "empty") {
		t.Errorf("empty file: %v, %q", err, warn.String())
	}
}

// A run directory reports the same from its saved windows as from its
// results file, and --window re-folds.
func TestOpenRunDir(t *testing.T) {
	info, rs := simResults(t, spikeCurve)
	dir := t.TempDir()
	info.Results = "results.gob"
	if err := scenarios.WriteRunInfo(dir, info); err != nil {
		t.Fatal(err)
	}
	writeResults(t, filepath.Join(dir, "results.gob"), Gob, rs)

	fromResults, err := Open([]string{dir}, 0, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if fromResults.Info == nil || fromResults.Results != uint64(len(rs)) {
		t.Fatalf("run dir: info %v, %d results", fromResults.Info != nil, fromResults.Results)
	}
	// As run would: fold live, save the windows.
	live := NewFolder(info, time.Second)
	for i := range rs {
		live.Add(&rs[i])
	}
	if err := live.Save(dir); err != nil {
		t.Fatal(err)
	}
	os.Rename(filepath.Join(dir, "results.gob"), filepath.Join(dir, "results.gob.away"))
	fromSaved, err := Open([]string{dir}, 0, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	slo := info.Scenario.SLO
	a, b := Analyze(fromResults, slo).Summary(), Analyze(fromSaved, slo).Summary()
	if !reflect.DeepEqual(a, b) {
		ja, _ := json.MarshalIndent(a, "", " ")
		jb, _ := json.MarshalIndent(b, "", " ")
		t.Errorf("saved windows report differently:\n%s", diffLines(string(ja), string(jb)))
	}
	// Coarser windows from the saved ones.
	five, err := Open([]string{dir}, 5*time.Second, io.Discard)
	if err != nil || five.Width != 5*time.Second || five.Results != uint64(len(rs)) {
		t.Fatalf("5 s windows: %v", err)
	}
	if _, err := Open([]string{dir}, 1500*time.Millisecond, io.Discard); err == nil {
		t.Error("1.5 s windows from 1 s saved ones without the results file should fail")
	}
	// The results file given directly finds its run.json.
	os.Rename(filepath.Join(dir, "results.gob.away"), filepath.Join(dir, "results.gob"))
	direct, err := Open([]string{filepath.Join(dir, "results.gob")}, 0, io.Discard)
	if err != nil || direct.Info == nil {
		t.Fatalf("results file in a run dir: %v", err)
	}
	// A bad windows file is rebuilt from the results (TestOpenCorruptWindows).
	os.WriteFile(filepath.Join(dir, WindowsFile), []byte("not gzip"), 0o644)
	if ws, err := Open([]string{dir}, 0, io.Discard); err != nil || ws.Results != uint64(len(rs)) {
		t.Errorf("corrupt windows file: %v", err)
	}
	if _, err := Open([]string{filepath.Join(dir, "nope")}, 0, io.Discard); err == nil || !scenarios.IsInvalid(err) {
		t.Errorf("missing path: %v", err)
	}
}

// Two shards' run directories merge into one report of the whole run.
func TestOpenShards(t *testing.T) {
	whole, rs := simResults(t, spikeCurve)
	var dirs []string
	for k := range 2 {
		dir := t.TempDir()
		info := *whole
		info.Shard, info.Shards, info.Results = k, 2, "results.gob"
		if err := scenarios.WriteRunInfo(dir, &info); err != nil {
			t.Fatal(err)
		}
		var mine []vegeta.Result
		for _, r := range rs {
			if r.Seq%2 == uint64(k) {
				r.Seq /= 2
				mine = append(mine, r)
			}
		}
		writeResults(t, filepath.Join(dir, "results.gob"), Gob, mine)
		dirs = append(dirs, dir)
	}
	ws, err := Open(dirs, 0, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	one := NewFolder(whole, time.Second)
	for i := range rs {
		one.Add(&rs[i])
	}
	a, b := Analyze(ws, whole.Scenario.SLO), Analyze(one.Windows(), whole.Scenario.SLO)
	if a.Verdict != b.Verdict || a.Total.Requests != b.Total.Requests || len(ws.Shards) != 2 {
		t.Errorf("merged shards:\n%s\nwhole run:\n%s", a.Verdict, b.Verdict)
	}
	// Results files of both shards, given as files.
	ws, err = Open([]string{filepath.Join(dirs[0], "results.gob"), filepath.Join(dirs[1], "results.gob")}, 0, io.Discard)
	if err != nil || Analyze(ws, whole.Scenario.SLO).Verdict != b.Verdict {
		t.Errorf("shard files: %v", err)
	}
}

func FuzzReadResults(f *testing.F) {
	_, rs := simResults(f, "hold 20/s for 2s")
	for _, format := range []Format{Gob, JSON, CSV} {
		var buf bytes.Buffer
		p := filepath.Join(f.TempDir(), "r")
		writeResults(f, p, format, rs[:5])
		b, _ := os.ReadFile(p)
		buf.Write(b)
		f.Add(buf.Bytes())
	}
	f.Add([]byte("1,2,3\n"))
	f.Add([]byte("{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "results")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		fo := NewFolder(nil, time.Second)
		_ = ReadFiles([]string{p}, fo, io.Discard) // must not panic
		ws := fo.Windows()
		a := Analyze(ws, scenarios.DefaultSLO)
		if err := a.WriteText(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}

func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, "- "+x, "+ "+y)
		}
	}
	return strings.Join(out, "\n")
}

// The same file (or run) given twice is refused: merged, its results would
// count twice.
func TestOpenSameFileTwice(t *testing.T) {
	_, rs := simResults(t, "hold 20/s for 2s")
	dir := t.TempDir()
	p := filepath.Join(dir, "results.gob")
	writeResults(t, p, Gob, rs)
	other := filepath.Join(dir, "other.gob")
	writeResults(t, other, Gob, rs)
	if _, err := Open([]string{p, other}, 0, io.Discard); err != nil {
		t.Fatalf("two files: %v", err)
	}
	_, err := Open([]string{p, filepath.Join(dir, ".", "results.gob")}, 0, io.Discard)
	var pr *scenarios.Problem
	if !errors.As(err, &pr) || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("the same file twice: %v, want a problem saying it was given twice", err)
	}
}
