package report

import (
	"bytes"
	"strings"
	"testing"
)

// A comparison of simulated runs says so in its page heading, compare.md
// and every plot's title, as a simulated run's own report does; one of real
// runs does not, and a mixed one names the simulated entries.
func TestCompareSaysSimulated(t *testing.T) {
	entries := func(sim ...bool) *Comparison {
		var es []CompareEntry
		for i, s := range sim {
			name := []string{"shared", "vps"}[i]
			e := compareEntry(t, name, starvedHost(), 5)
			e.A.W.Info.Simulated = s
			es = append(es, e)
		}
		return Compare(es)
	}
	for _, tc := range []struct {
		sim         []bool
		head, title string
	}{
		{[]bool{true, true}, "flashcrowd compare: test-spike (simulated: no request was sent)", "SIMULATED: "},
		{[]bool{false, false}, "flashcrowd compare: test-spike", ""},
		{[]bool{true, false}, "flashcrowd compare: test-spike (simulated: shared)", "PARTLY SIMULATED (shared): "},
	} {
		c := entries(tc.sim...)
		var md, html bytes.Buffer
		if err := c.WriteMarkdown(&md, t.TempDir()); err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(md.String(), "\n"); first != "## "+tc.head {
			t.Errorf("%v: compare.md starts %q, want %q", tc.sim, first, "## "+tc.head)
		}
		r, err := c.Render()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.WriteHTML(&html, r, t.TempDir()); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(html.String(), "<h1>"+tc.head+"</h1>") || !strings.Contains(html.String(), "<title>"+tc.head+"</title>") {
			t.Errorf("%v: compare.html's heading and title are not %q", tc.sim, tc.head)
		}
		lv, _ := c.LatencyVsLoadPlot()
		cp, _ := c.CapacityPlot()
		rp, _ := c.RatePlot()
		for _, s := range []string{lv.Title.Text, cp.Title.Text, rp.Title.Text} {
			if tc.title == "" && strings.Contains(strings.ToUpper(s), "SIMULATED") || tc.title != "" && !strings.HasPrefix(s, tc.title) {
				t.Errorf("%v: plot title %q, want it to start %q", tc.sim, s, tc.title)
			}
		}
	}
}
