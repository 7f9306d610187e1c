package report

import (
	"strings"
	"testing"
	"time"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

func TestShardNotes(t *testing.T) {
	start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	shard := func(i int, skew time.Duration, stopped string) *scenarios.RunInfo {
		return &scenarios.RunInfo{Tool: "flashcrowd", Engine: "fast", Shard: i, Shards: 4, Start: start, End: start.Add(time.Minute), StartSkew: skew, ClockRef: "results volume", Stopped: stopped}
	}
	for _, c := range []struct {
		name  string
		infos []*scenarios.RunInfo
		have  []int    // shards in the merged windows; nil: those of infos
		want  []string // substrings of the notes, joined
		not   []string
	}{
		{"all there, close", []*scenarios.RunInfo{shard(0, 2*time.Millisecond, ""), shard(1, 0, ""), shard(2, 40*time.Millisecond, ""), shard(3, 10*time.Millisecond, "")},
			nil, nil, []string{"incomplete", "apart"}},
		{"one missing", []*scenarios.RunInfo{shard(0, 0, ""), shard(1, 0, ""), shard(3, 0, "")},
			nil, []string{"incomplete: shard 2 of 4", "cover 3 of 4"}, []string{"apart"}},
		{"skewed", []*scenarios.RunInfo{shard(0, -5*time.Millisecond, ""), shard(1, 0, ""), shard(2, 70*time.Millisecond, ""), shard(3, 0, "")},
			nil, []string{"up to 75ms apart", "results volume", "2: +70ms", "0: -5ms"}, []string{"incomplete"}},
		{"stopped early", []*scenarios.RunInfo{shard(0, 0, ""), shard(1, 0, "interrupted"), shard(2, 0, ""), shard(3, 0, "")},
			nil, []string{"shard 1 stopped early: interrupted"}, nil},
		{"killed", []*scenarios.RunInfo{shard(0, 0, ""), shard(1, 0, ""), {Tool: "flashcrowd", Engine: "fast", Shard: 2, Shards: 4, Start: start}, shard(3, 0, "")},
			nil, []string{"incomplete: shard 2 did not finish"}, []string{"shard 1", "missing"}},
		{"simulated in shards, one run.json", []*scenarios.RunInfo{{Tool: "flashcrowd", Simulated: true, Shards: 4}}, []int{0, 1, 2, 3}, nil, []string{"incomplete"}},
		{"not sharded", []*scenarios.RunInfo{{Shards: 1}}, nil, nil, []string{"shard"}},
	} {
		have := c.have
		if have == nil {
			for _, ri := range c.infos {
				have = append(have, ri.Shard)
			}
		}
		got := strings.Join(shardNotes(c.infos, have), "\n")
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: notes %q lack %q", c.name, got, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(got, w) {
				t.Errorf("%s: notes %q say %q", c.name, got, w)
			}
		}
	}
}

// TestIncompleteVerdict: a merged report with a shard missing or killed
// never reads as held, and says why first.
func TestIncompleteVerdict(t *testing.T) {
	notes := shardNotes([]*scenarios.RunInfo{
		{Shard: 0, Shards: 3, End: time.Unix(1, 0)},
		{Tool: "flashcrowd", Engine: "fast", Shard: 2, Shards: 3},
	}, []int{0, 2})
	a := &Analysis{W: &Windows{Warnings: notes}, Kind: KindIncomplete}
	a.Total.Requests = 100
	v := a.incompleteVerdict("The host held the SLO through the whole curve.")
	if !strings.HasPrefix(v, "Incomplete, so not held: shard 1 of 3 missing; shard 2 did not finish.") || a.SLOHeld() {
		t.Errorf("verdict %q, SLO held %v", v, a.SLOHeld())
	}
	a.Broke = true
	if v := a.incompleteVerdict("The host broke at 118 req/s."); v != "Incomplete (shard 1 of 3 missing; shard 2 did not finish): The host broke at 118 req/s." {
		t.Errorf("verdict %q", v)
	}
	// The rates of a merge missing a shard are of the shards given.
	a.W.Info, a.W.Shards = &scenarios.RunInfo{Shards: 3}, []int{0, 2}
	if v := a.incompleteVerdict("The host broke at 118 req/s."); !strings.Contains(v, "; rates are of the 2 of 3 shards given, not all the host got): The host broke") {
		t.Errorf("verdict %q", v)
	}
	a = &Analysis{W: &Windows{}, Kind: KindHeld}
	a.Total.Requests = 100
	if v := a.incompleteVerdict("held."); v != "held." || !a.SLOHeld() {
		t.Errorf("complete: verdict %q, SLO held %v", v, a.SLOHeld())
	}
}
