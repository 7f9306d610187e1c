package report

import (
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// TestFoldFailedChecks: a 2xx or 3xx response that failed a check is a
// failure of its check's kind, keeps its status class, and its latency
// counts with the failures; any other 2xx error text stays a success (as
// vegeta's own files judge by status).
func TestFoldFailedChecks(t *testing.T) {
	f := NewFolder(nil, time.Second)
	u := "http://127.0.0.1:8080/"
	for _, r := range []*vegeta.Result{
		res(100*time.Millisecond, 10*time.Millisecond, 200, "", u),
		res(200*time.Millisecond, 10*time.Millisecond, 200, scenarios.CheckError(scenarios.CheckBodyContains, "text not found in the body"), u),
		res(300*time.Millisecond, 10*time.Millisecond, 200, scenarios.CheckError(scenarios.CheckBodyContains, "text not found in the body"), u),
		res(400*time.Millisecond, 10*time.Millisecond, 304, scenarios.CheckError(scenarios.CheckStatus, "304 not in [200]"), u),
		res(500*time.Millisecond, 10*time.Millisecond, 200, scenarios.CheckError(scenarios.CheckMinBytes, "body under 9 bytes"), u),
		res(600*time.Millisecond, 3*time.Second, 200, scenarios.CheckError(scenarios.CheckMaxLatency, "slower than 2s"), u),
		res(700*time.Millisecond, 10*time.Millisecond, 200, "something else", u),
	} {
		f.Add(r)
	}
	w := &f.Windows().W[0].Total
	want := [numErrorKinds]uint64{CheckBody: 2, CheckStatus: 1, CheckBytes: 1, CheckLatency: 1}
	if w.Requests != 7 || w.OK != 2 || w.Failed() != 5 || w.Status[2] != 6 || w.Status[3] != 1 || w.Errors != want {
		t.Errorf("window: %+v", w)
	}
	if w.Latency.N != 2 || w.FailLatency.N != 5 {
		t.Errorf("latencies: %d ok, %d failed; want 2, 5", w.Latency.N, w.FailLatency.N)
	}
	a := &Analysis{Total: *w}
	got := a.ErrorCounts()
	if got["check body_contains"] != 2 || got["check status"] != 1 || got["check min_bytes"] != 1 || got["check max_latency"] != 1 || len(got) != 4 {
		t.Errorf("ErrorCounts %v", got)
	}
	var band uint64
	for _, b := range errorBands {
		if b.name == "check" {
			band = b.count(w)
		}
	}
	if band != 5 {
		t.Errorf("the check band of the errors plot counts %d, want 5", band)
	}
}
