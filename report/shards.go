package report

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// MaxSkew is the spread of the shards' start instants above which merging
// them warns: windows are aligned on the shared t = 0, each by its own
// shard's clock, so a larger spread blurs per-second rates.
const MaxSkew = 50 * time.Millisecond

// missingNoted reports whether warnings hold a note naming shards missing
// ("incomplete: shard 1 of 3 missing …").
func missingNoted(warnings []string) bool {
	return slices.ContainsFunc(warnings, func(w string) bool {
		return strings.HasPrefix(w, incompletePrefix+"shard ") && strings.Contains(w, " missing (")
	})
}

// shardNotes are the warnings about the shards of one run merged into a
// report: shards missing from the merged windows (holding the shards in
// have), shards that stopped early or were killed, and how far apart the
// shards given by their run.json (infos) started.
func shardNotes(infos []*scenarios.RunInfo, have []int) []string {
	if len(infos) == 0 || infos[0].Shards <= 1 {
		return nil
	}
	n := infos[0].Shards
	in := map[int]bool{}
	for _, i := range have {
		in[i] = true
	}
	var notes, missing []string
	for i := range n {
		if !in[i] {
			missing = append(missing, fmt.Sprint(i))
		}
	}
	if len(missing) > 0 {
		notes = append(notes, fmt.Sprintf(incompletePrefix+"shard %s of %d missing (not given, or its pod failed before it could write results; shards count from 0): the figures cover %d of %d shards",
			strings.Join(missing, ", "), n, n-len(missing), n))
	}
	got := map[int]*scenarios.RunInfo{}
	for _, ri := range infos {
		if ri != nil && ri.Shards == n {
			got[ri.Shard] = ri
		}
	}
	idx := make([]int, 0, len(got))
	for i := range got {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		// The first shard's own stop is the run's (the analysis says it).
		switch s := got[i].Stopped; {
		case s != "" && got[i] != infos[0]:
			notes = append(notes, fmt.Sprintf("shard %d stopped early: %s", i, s))
		case s == "" && got[i].End.IsZero() && got[i].Engine != "" && !got[i].Simulated:
			// flashcrowd run (which records its engine) writes its end
			// time however it ends, unless it is killed.
			notes = append(notes, fmt.Sprintf(incompletePrefix+"shard %d did not finish (its run.json has no end time: its pod was killed, or is still running): its results stop where it stopped", i))
		}
	}
	if len(idx) < 2 {
		return notes
	}
	lo, hi := got[idx[0]].StartSkew, got[idx[0]].StartSkew
	for _, i := range idx {
		lo, hi = min(lo, got[i].StartSkew), max(hi, got[i].StartSkew)
	}
	if hi-lo > MaxSkew {
		var each []string
		for _, i := range idx {
			each = append(each, fmt.Sprintf("%d: %+dms", i, got[i].StartSkew.Milliseconds()))
		}
		ref := "by each shard's own clock"
		if got[idx[0]].ClockRef != "" {
			ref = "against the " + got[idx[0]].ClockRef + "'s clock"
		}
		notes = append(notes, fmt.Sprintf("the shards started up to %dms apart (%s; over %dms): per-second rates are blurred by that much (start skew by shard %s); check the nodes' clock sync (NTP)",
			(hi-lo).Milliseconds(), ref, MaxSkew.Milliseconds(), strings.Join(each, ", ")))
	}
	return notes
}

// emptyRunDir tells whether dir is a run directory a run created but never
// started: no run.json, no saved windows, and no results file or an empty
// one.
func emptyRunDir(dir string) bool {
	for _, f := range []string{scenarios.RunInfoFile, WindowsFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return false
		}
	}
	st, err := os.Stat(filepath.Join(dir, "results.gob"))
	return err != nil || st.Size() == 0
}

// incompletePrefix starts the notes of shardNotes that make a merged
// report incomplete.
const incompletePrefix = "incomplete: "

// incomplete says why a merged report is incomplete (shards missing or
// killed), "" when it is not: such a report never reads as held.
func (a *Analysis) incomplete() string {
	if a.W == nil {
		return ""
	}
	var why []string
	for _, w := range a.W.Warnings {
		if r, ok := strings.CutPrefix(w, incompletePrefix); ok {
			if i := strings.Index(r, " ("); i > 0 {
				r = r[:i]
			}
			why = append(why, r)
		}
	}
	return strings.Join(why, "; ")
}

// incompleteVerdict leads verdict v with what makes the report incomplete,
// if anything: a report with shards missing never reads as held.
func (a *Analysis) incompleteVerdict(v string) string {
	inc := a.incomplete()
	switch {
	case inc == "" || a.Total.Requests == 0:
		return v
	case !a.Broke:
		return fmt.Sprintf("Incomplete, so not held: %s. The shards given held the SLO (peak %s, p99 ≤ %s), but the missing requests were never judged.",
			inc, rps(a.PeakOffered), fmtLatency(a.PeakP99))
	}
	if ws := a.W; ws.Info != nil && ws.Info.Shards > 1 && len(ws.Shards) < ws.Info.Shards {
		// The host got every shard's load; the rates here are of the
		// shards given.
		inc += fmt.Sprintf("; rates are of the %d of %d shards given, not all the host got", len(ws.Shards), ws.Info.Shards)
	}
	return "Incomplete (" + inc + "): " + v
}
