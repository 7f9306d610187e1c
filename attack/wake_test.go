package attack

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// wakePlan replays the fast engine's dispatcher on p without a clock: it
// wakes when wakeFor says, sends every hit due by then, and returns the
// number of wake-ups and the least and greatest send lag.
func wakePlan(p *CurvePacer) (wakes int, minLag, maxLag time.Duration) {
	e := &fastEngine{curve: p}
	now := time.Duration(math.MinInt64)
	minLag = time.Hour
	for h := uint64(0); h < p.Hits(); {
		due, ok := p.Due(h)
		if !ok {
			break
		}
		due -= p.Offset // the dispatcher's clock
		if due > now {
			now = e.wakeFor(h, due)
			wakes++
		}
		for ; h < p.Hits(); h++ {
			d, _ := p.Due(h)
			if d -= p.Offset; d > now {
				break
			}
			minLag, maxLag = min(minLag, now-d), max(maxLag, now-d)
		}
	}
	return wakes, minLag, maxLag
}

// TestWakeAtBatches checks when the dispatcher wakes: at a low rate once a
// hit and on time (no idle grid), at higher rates once per batch of hits
// due within batchWait, every hit sent, none early and none later than
// batchWait.
func TestWakeAtBatches(t *testing.T) {
	for _, tc := range []struct {
		rate     float64
		maxWakes float64 // per second
	}{
		{10, 10},
		{300, 300},
		{1000, 1000},
		{5000, 5000 / 2},   // 200 µs apart: 2 hits within 250 µs
		{20000, 20000 / 6}, // 50 µs apart: 6 hits within 250 µs
		{35000, 35000 / batchHits},
	} {
		t.Run(fmt.Sprint(tc.rate), func(t *testing.T) {
			p := &CurvePacer{Curve: curve(t, fmt.Sprintf("hold %g/s for 4s", tc.rate))}
			wakes, minLag, maxLag := wakePlan(p)
			perSec := float64(wakes) / 4
			t.Logf("%g/s: %.0f wake-ups a second, %.1f hits each, lag %s to %s", tc.rate, perSec, float64(p.Hits())/float64(wakes), minLag, maxLag)
			if perSec > tc.maxWakes+1 {
				t.Errorf("%.0f wake-ups a second, want at most %.0f", perSec, tc.maxWakes)
			}
			if minLag < 0 {
				t.Errorf("a hit was sent %s early", -minLag)
			}
			if w := batchWait(tc.rate); maxLag > w {
				t.Errorf("a hit waited %s for its batch, more than %s", maxLag, w)
			}
			if tc.rate*maxBatchWait.Seconds() < 1 && maxLag != 0 {
				t.Errorf("at %g/s hits are further apart than %s, yet one waited %s", tc.rate, maxBatchWait, maxLag)
			}
		})
	}
}

// TestWakeAtSpike runs the batching over a spike from 300 a day to
// 35,000 a second: at most one wake-up per hit, never more than one per
// batchWait at the peak, no hit early or more than maxBatchWait late.
func TestWakeAtSpike(t *testing.T) {
	p := &CurvePacer{Curve: curve(t, spike)}
	wakes, minLag, maxLag := wakePlan(p)
	t.Logf("%d hits, %d wake-ups, lag %s to %s", p.Hits(), wakes, minLag, maxLag)
	if uint64(wakes) > p.Hits() {
		t.Errorf("%d wake-ups for %d hits", wakes, p.Hits())
	}
	if limit := p.Curve.Seconds() / batchWait(35000).Seconds(); float64(wakes) > limit {
		t.Errorf("%d wake-ups over %.0f s, more than one per batch wait (%.0f)", wakes, p.Curve.Seconds(), limit)
	}
	if minLag < 0 || maxLag > maxBatchWait {
		t.Errorf("lag %s to %s, want within [0, %s]", minLag, maxLag, maxBatchWait)
	}
}

// TestWakeAtSharded checks that a shard batches its own hits (every
// n-th global request) on its own clock offset.
func TestWakeAtSharded(t *testing.T) {
	c := curve(t, "hold 20000/s for 2s")
	for i := range 3 {
		p := &CurvePacer{Curve: c, Shard: i, Shards: 3, Offset: 3 * time.Millisecond}
		wakes, minLag, maxLag := wakePlan(p)
		if minLag < 0 || maxLag > batchWait(20000.0/3) {
			t.Errorf("shard %d: lag %s to %s, want within [0, %s]", i, minLag, maxLag, batchWait(20000.0/3))
		}
		if float64(wakes) > math.Ceil(float64(p.Hits())/2) { // 150 µs apart: 2 hits a wake-up
			t.Errorf("shard %d: %d wake-ups for %d hits", i, wakes, p.Hits())
		}
	}
}

// TestSleeperNotEarly checks that the sleeper never returns before its
// time (it may return late on a busy machine; that is not checked).
func TestSleeperNotEarly(t *testing.T) {
	sl := newSleeper()
	defer sl.close()
	for _, d := range []time.Duration{0, time.Microsecond, 50 * time.Microsecond, 300 * time.Microsecond, 2 * time.Millisecond, 6 * time.Millisecond} {
		for range 20 {
			t0 := time.Now()
			sl.sleep(d)
			if got := time.Since(t0); got < d {
				t.Fatalf("sleep(%s) returned after %s", d, got)
			}
		}
	}
}
