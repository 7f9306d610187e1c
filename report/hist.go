package report

import (
	"math"
	"math/bits"
	"time"
)

// Hist is a sparse log-linear latency histogram in microseconds, bucketed
// like an HdrHistogram with two significant figures (128 linear sub-buckets
// per power of two, so a recorded value is known to within 0.8%). Values
// below 256 µs are exact. Only non-empty buckets are stored, each as one
// uint64 (bucket index in the top 16 bits, count in the low 48), sorted by
// index: a busy window holds a few hundred buckets, a quiet one a handful,
// and two histograms merge by a linear merge of their buckets.
//
// A dense HdrHistogram (github.com/HdrHistogram/hdrhistogram-go) keeps a
// few thousand counters per histogram whatever it holds; with a histogram
// per window and endpoint that would dominate memory, hence this type. Its
// quantiles follow HdrHistogram's rule (the value at rank ⌈q·N⌉, reported as
// the top of its bucket) and are tested against exact ones.
type Hist struct {
	B     []uint64 `json:"b,omitempty"` // idx<<48 | count, sorted by idx
	N     uint64   `json:"n,omitempty"`
	Min   uint64   `json:"min,omitempty"` // µs, exact
	Max   uint64   `json:"max,omitempty"` // µs, exact
	SumUS float64  `json:"sum,omitempty"` // µs, for the mean
}

const (
	histCountBits = 48
	histCountMask = 1<<histCountBits - 1
)

// bucketOf maps a value in µs to its bucket index.
func bucketOf(v uint64) uint64 {
	if v < 256 {
		return v
	}
	e := uint64(bits.Len64(v) - 8)
	return e<<7 + v>>e
}

// bucketHigh is the highest value in bucket idx (HdrHistogram's "highest
// equivalent value").
func bucketHigh(idx uint64) uint64 {
	if idx < 256 {
		return idx
	}
	e := idx>>7 - 1
	m := idx - e<<7
	return (m+1)<<e - 1
}

// bucketLow is the lowest value in bucket idx.
func bucketLow(idx uint64) uint64 {
	if idx < 256 {
		return idx
	}
	e := idx>>7 - 1
	return (idx - e<<7) << e
}

// Record adds one latency.
func (h *Hist) Record(d time.Duration) { h.RecordN(d, 1) }

// RecordN adds n observations of d. Negative durations count as 0.
func (h *Hist) RecordN(d time.Duration, n uint64) {
	if n == 0 {
		return
	}
	v := micros(d)
	if h.N == 0 || v < h.Min {
		h.Min = v
	}
	if v > h.Max {
		h.Max = v
	}
	h.N += n
	h.SumUS += float64(v) * float64(n)
	h.insert(bucketOf(v), n)
}

// micros is d in whole µs, negative durations as 0.
func micros(d time.Duration) uint64 {
	if d > 0 {
		return uint64(d / time.Microsecond)
	}
	return 0
}

// note counts one observation of v µs in N, Min, Max and SumUS only: the
// caller puts it in its bucket (see stage).
func (h *Hist) note(v uint64) {
	if h.N == 0 || v < h.Min {
		h.Min = v
	}
	if v > h.Max {
		h.Max = v
	}
	h.N++
	h.SumUS += float64(v)
}

// insert adds n to bucket idx.
func (h *Hist) insert(idx, n uint64) {
	key := idx << histCountBits
	b := h.B
	// The first bucket whose index is not below idx, by a branch-free
	// binary search (the compiler turns the halving step into a
	// conditional move: latencies are too random for branch prediction).
	i := 0
	if n := len(b); n > 0 {
		for n > 1 {
			half := n >> 1
			if b[i+half] < key {
				i += half
			}
			n -= half
		}
		if b[i] < key {
			i++
		}
	}
	if i < len(b) && b[i]>>histCountBits == idx {
		b[i] += n
		return
	}
	b = append(b, 0)
	copy(b[i+1:], b[i:])
	b[i] = key | n
	h.B = b
}

// Merge adds every observation of o to h.
func (h *Hist) Merge(o *Hist) {
	if o.N == 0 {
		return
	}
	if h.N == 0 || o.Min < h.Min {
		h.Min = o.Min
	}
	h.Max = max(h.Max, o.Max)
	h.N += o.N
	h.SumUS += o.SumUS
	out := make([]uint64, 0, len(h.B)+len(o.B))
	i, j := 0, 0
	for i < len(h.B) && j < len(o.B) {
		a, b := h.B[i], o.B[j]
		switch ai, bi := a>>histCountBits, b>>histCountBits; {
		case ai < bi:
			out = append(out, a)
			i++
		case bi < ai:
			out = append(out, b)
			j++
		default:
			out = append(out, a+b&histCountMask)
			i++
			j++
		}
	}
	out = append(out, h.B[i:]...)
	out = append(out, o.B[j:]...)
	h.B = out
}

// Quantile returns the latency at quantile q in [0, 1]: the highest value
// of the bucket holding it, clamped to the exact min and max. It is 0 for an
// empty histogram.
func (h *Hist) Quantile(q float64) time.Duration {
	if h.N == 0 {
		return 0
	}
	if q <= 0 {
		return time.Duration(h.Min) * time.Microsecond
	}
	if q >= 1 {
		return time.Duration(h.Max) * time.Microsecond
	}
	// HdrHistogram's rule: the smallest value whose cumulative count
	// reaches ceil(q·N).
	rank := uint64(math.Ceil(q * float64(h.N)))
	rank = max(rank, 1)
	var cum uint64
	for _, b := range h.B {
		cum += b & histCountMask
		if cum >= rank {
			v := bucketHigh(b >> histCountBits)
			v = min(max(v, h.Min), h.Max)
			return time.Duration(v) * time.Microsecond
		}
	}
	return time.Duration(h.Max) * time.Microsecond
}

// Mean is the mean latency.
func (h *Hist) Mean() time.Duration {
	if h.N == 0 {
		return 0
	}
	return time.Duration(h.SumUS/float64(h.N)) * time.Microsecond
}

// CountAbove is the number of observations above d (to bucket precision:
// observations in d's own bucket count as not above).
func (h *Hist) CountAbove(d time.Duration) uint64 {
	idx := bucketOf(uint64(max(d, 0) / time.Microsecond))
	var n uint64
	for i := len(h.B) - 1; i >= 0 && h.B[i]>>histCountBits > idx; i-- {
		n += h.B[i] & histCountMask
	}
	return n
}

// addDense adds the counts dense[i] of the buckets i in idx (sorted,
// distinct) to h's buckets, in one backward merge in place.
func (h *Hist) addDense(dense []uint64, idx []uint16) {
	old := len(h.B)
	fresh, j := 0, 0
	for _, x := range idx {
		k := uint64(x)
		for j < old && h.B[j]>>histCountBits < k {
			j++
		}
		if j == old || h.B[j]>>histCountBits != k {
			fresh++
		}
	}
	total := old + fresh
	if cap(h.B) < total {
		b := make([]uint64, total, total+total/4)
		copy(b, h.B)
		h.B = b
	} else {
		h.B = h.B[:total]
	}
	b := h.B
	i, p := old-1, total-1
	for q := len(idx) - 1; q >= 0; q-- {
		k := uint64(idx[q])
		for i >= 0 && b[i]>>histCountBits > k {
			b[p] = b[i]
			i--
			p--
		}
		if i >= 0 && b[i]>>histCountBits == k {
			b[p] = b[i] + dense[k]
			i--
		} else {
			b[p] = k<<histCountBits | dense[k]
		}
		p--
	}
}
