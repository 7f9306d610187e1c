package attack

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// A first hit that is already late when the fast engine dispatches it (the
// run's start instant passed while this process was busy) opens a
// connection: with none open, nothing else would take it from the queue
// before the next hit, seconds later on a quiet curve (seen: the first
// request of press-spike compressed 2,000× sent 7 s late).
func TestFastFirstHitLate(t *testing.T) {
	u := server(t, okHandler)
	c := curve(t, "hold 0.25/s for 6s") // hits at 0 s and 4 s
	o := Options{Scenario: &scenarios.Scenario{Name: "t", Curve: c, Endpoints: pressMix(t)}, Target: u,
		StartAt: time.Now().Add(-300 * time.Millisecond), Out: filepath.Join(t.TempDir(), "run"), Timeout: 5 * time.Second, Engine: EngineFast}
	if _, err := Run(context.Background(), context.Background(), o, nil); err != nil {
		t.Fatal(err)
	}
	info, err := scenarios.ReadRunInfo(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readResults(t, filepath.Join(o.Out, ResultsFile)) {
		if lag := r.Timestamp.Sub(info.Start.Add(info.Due(r.Seq))); r.Seq == 0 && lag > 2*time.Second {
			t.Errorf("hit 0 sent %v after it was due: it waited for hit 1 to open a connection", lag)
		}
	}
}
