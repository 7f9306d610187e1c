package attack

import (
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// CurvePacer paces an attack along a curve: this shard's hit h is global
// request g = h·Shards + Shard, due at N⁻¹(g + ½) seconds after the start
// (scenarios.Curve.Due). The number of requests due by any instant t is
// N(t) rounded over all shards (at most the curve's Requests), so what is
// sent never strays more than half a request from the curve, however low
// or high the rate.
type CurvePacer struct {
	Curve  *scenarios.Curve
	Shard  int // this shard's index, 0 ≤ Shard < Shards
	Shards int // number of shards; 0 or 1 when not sharded
	// Offset is how far the attack's clock started after t = 0 of the
	// curve (a --start-at instant): elapsed time is shifted by it.
	Offset time.Duration
	// PerArrival is the requests a hit sends: 1 (or 0) for a request, the
	// mean requests of a page view when hits are visitors
	// (scenarios.Scenario.RequestsPerArrival). Pacing is by hits; the
	// request counts shown live are scaled by it.
	PerArrival float64
}

func (p *CurvePacer) perArrival() float64 { return max(p.PerArrival, 1) }

// requests is the requests that hits hits send, rounded.
func (p *CurvePacer) requests(hits uint64) uint64 {
	if p.PerArrival <= 1 {
		return hits
	}
	return uint64(math.Round(float64(hits) * p.PerArrival))
}

var _ vegeta.Pacer = (*CurvePacer)(nil)

func (p *CurvePacer) shards() uint64 { return uint64(max(p.Shards, 1)) }

// Due is the time, from t = 0 of the curve, at which this shard's hit h is
// due; ok is false past the end of the curve.
func (p *CurvePacer) Due(h uint64) (due time.Duration, ok bool) {
	g := h*p.shards() + uint64(p.Shard)
	if g >= p.Curve.Requests() {
		return 0, false
	}
	t := p.Curve.Due(g)
	if math.IsInf(t, 0) || math.IsNaN(t) {
		return 0, false
	}
	return time.Duration(math.Round(t * 1e9)), true
}

// Hits is the number of hits this shard sends over the whole curve.
func (p *CurvePacer) Hits() uint64 {
	return ShardHits(p.Curve.Requests(), p.Shard, int(p.shards()))
}

// ShardHits is how many of total global requests shard i of n sends: the
// indices g < total with g ≡ i (mod n).
func ShardHits(total uint64, i, n int) uint64 {
	if n <= 1 {
		return total
	}
	if uint64(i) >= total {
		return 0
	}
	return (total-uint64(i)-1)/uint64(n) + 1
}

// Pace returns how long to wait before hit number hits is due, 0 if it is
// already due (the attack is behind and catches up), and stop once the
// curve has no more requests for this shard.
func (p *CurvePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	due, ok := p.Due(hits)
	if !ok {
		return 0, true
	}
	if wait := due - (elapsed + p.Offset); wait > 0 {
		return wait, false
	}
	return 0, false
}

// Rate is this shard's share of the curve's rate at elapsed, in hits per
// second.
func (p *CurvePacer) Rate(elapsed time.Duration) float64 {
	return p.Curve.Rate((elapsed + p.Offset).Seconds()) / float64(p.shards())
}

// stoppablePacer blocks inside Pace for long waits, so that a stop is seen
// at once even in a quiet stretch where the next request is minutes away:
// vegeta sleeps for whatever Pace returns and then sends, so a long wait
// cannot be handed to it and cut short later.
type stoppablePacer struct {
	vegeta.Pacer
	stop <-chan struct{}
}

// blockAbove is the wait above which Pace blocks itself instead of letting
// vegeta sleep.
const blockAbove = 20 * time.Millisecond

func (s stoppablePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	select {
	case <-s.stop:
		return 0, true
	default:
	}
	wait, stop := s.Pacer.Pace(elapsed, hits)
	if stop || wait <= blockAbove {
		return wait, stop
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-s.stop:
		return 0, true
	case <-t.C:
		return 0, false
	}
}
