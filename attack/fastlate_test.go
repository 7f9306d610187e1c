package attack

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
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

// A target that stops answering for 1.5 s (a stall: every request waits)
// holds every connection, and the average latency the pool is sized by
// learns nothing until one comes back: the fast engine counts how long
// hits have waited for a connection as the latency, and the new
// connections take the oldest waiting hits, so the open model keeps
// sending through the stall (before: sends lagged 1.3–2.3 s behind the
// schedule and the run read "the generator fell behind").
func TestFastKeepsSendingThroughAStall(t *testing.T) {
	var stallFrom time.Time
	began := make(chan struct{})
	var once sync.Once
	u := server(t, func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { stallFrom = time.Now().Add(time.Second); close(began) })
		<-began
		if now := time.Now(); now.After(stallFrom) && now.Before(stallFrom.Add(1500*time.Millisecond)) {
			time.Sleep(time.Until(stallFrom.Add(1500 * time.Millisecond)))
		}
		w.Write([]byte("ok"))
	})
	c := curve(t, "hold 300/s for 4s")
	o := Options{Scenario: &scenarios.Scenario{Name: "t", Curve: c, Endpoints: pressMix(t)}, Target: u,
		Out: filepath.Join(t.TempDir(), "run"), Timeout: 5 * time.Second, Engine: EngineFast}
	if _, err := Run(context.Background(), context.Background(), o, nil); err != nil {
		t.Fatal(err)
	}
	info, err := scenarios.ReadRunInfo(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	late := 0
	rs := readResults(t, filepath.Join(o.Out, ResultsFile))
	for _, r := range rs {
		if r.Timestamp.Sub(info.Start.Add(info.Due(r.Seq))) > 500*time.Millisecond {
			late++
		}
	}
	// 450 hits fall due in the stall; each waits for a connection that
	// comes back only when it ends, unless new ones are opened.
	if late > 20 || len(rs) != int(c.Requests()) {
		t.Errorf("%d of %d hits sent over 500 ms late through a 1.5 s stall at the target", late, len(rs))
	}
}
