package attack

import (
	"math/bits"
	"time"
)

// hist is a small log-bucketed histogram of durations (16 buckets per power
// of two, within ~3% of the true value), enough for live progress and abort
// rules; the report keeps exact HDR histograms of its own.
type hist struct {
	n      uint64
	counts [hbuckets]uint32
	max    time.Duration
}

const hsub = 16 // sub-buckets per power of two

const hbuckets = 64 * hsub

func hindex(v uint64) int {
	if v < 2*hsub {
		return int(v)
	}
	e := bits.Len64(v) - 5 // v>>e in [16, 32)
	return e*hsub + int(v>>uint(e))
}

// hvalue is the middle of bucket i.
func hvalue(i int) uint64 {
	if i < 2*hsub {
		return uint64(i)
	}
	e := i/hsub - 1
	lo := uint64(i-e*hsub) << uint(e)
	return lo + (uint64(1)<<uint(e))/2
}

func (h *hist) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[hindex(uint64(d))]++
	h.n++
	h.max = max(h.max, d)
}

func (h *hist) merge(o *hist) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

func (h *hist) reset() { *h = hist{} }

// quantile is the q-quantile (0 < q ≤ 1), 0 when empty.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			return min(time.Duration(hvalue(i)), h.max)
		}
	}
	return h.max
}
