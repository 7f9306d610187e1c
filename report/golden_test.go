package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/flashcrowd/flashcrowd/internal/golden"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// goldenCases are the runs whose text and JSON reports are pinned.
func goldenCases(t testing.TB) map[string]*Analysis {
	out := map[string]*Analysis{}
	run := func(name string, h *simHost, curve string, plain bool) {
		info := testScenario(t, curve)
		var f *Folder
		if plain {
			f = NewFolder(nil, time.Second)
		} else {
			f = NewFolder(info, time.Second)
		}
		h.simulate(info, 1, f.Add)
		if plain {
			f.sources = []string{"results.bin"}
		}
		out[name] = Analyze(f.Windows(), info.Scenario.SLO)
	}
	run("break", starvedHost(), spikeCurve, false)
	run("held", ampleHost(), spikeCurve, false)
	lag := ampleHost()
	lag.genLagFrom, lag.genLagBy = 60*time.Second, 2*time.Second
	run("generator", lag, spikeCurve, false)
	run("plain-vegeta", starvedHost(), spikeCurve, true)
	return out
}

func TestGolden(t *testing.T) {
	for name, a := range goldenCases(t) {
		var txt, js bytes.Buffer
		if err := a.WriteText(&txt); err != nil {
			t.Fatal(err)
		}
		if err := a.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", name+".txt.golden"), txt.Bytes())
		// report.md reads as text: no HTML entities.
		var md bytes.Buffer
		if err := a.WriteMarkdown(&md); err != nil {
			t.Fatal(err)
		}
		for _, ent := range []string{"&lt;", "&gt;", "&amp;", "&quot;"} {
			if bytes.Contains(md.Bytes(), []byte(ent)) {
				t.Errorf("%s: report.md holds %s", name, ent)
			}
		}
		if name == "break" && !bytes.Contains(md.Bytes(), []byte(`achieved 93% \< 95% of offered`)) {
			t.Errorf("%s: report.md does not escape < as \\<:\n%s", name, md.String())
		}
		golden.Check(t, filepath.Join("testdata", name+".json.golden"), js.Bytes())

		// summary.json carries the fields CI reads.
		var m map[string]any
		if err := json.Unmarshal(js.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"capacity_rps", "capacity_band", "break_at_s", "break_offered_rps", "first_failing_endpoint",
			"peak_p99_ms", "peak_error_ratio", "recovery_s", "requests", "slo_held"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: summary.json lacks %s", name, k)
			}
		}
	}
}

// Re-judging the same windows under a stricter SLO breaks earlier.
func TestSLOOverride(t *testing.T) {
	info := testScenario(t, spikeCurve)
	f := NewFolder(info, time.Second)
	starvedHost().simulate(info, 1, f.Add)
	ws := f.Windows()
	loose := Analyze(ws, info.Scenario.SLO)
	strict, err := scenarios.ParseSLO("p99=30ms", info.Scenario.SLO)
	if err != nil {
		t.Fatal(err)
	}
	s := Analyze(ws, strict)
	if !s.Broke || s.BreakAt >= loose.BreakAt {
		t.Errorf("p99=30ms breaks at %v, the default SLO at %v", s.BreakAt, loose.BreakAt)
	}
}
