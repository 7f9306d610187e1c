package report

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		v := uint64(math.Exp(rng.Float64() * 40))
		idx := bucketOf(v)
		lo, hi := bucketLow(idx), bucketHigh(idx)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d = [%d, %d]", v, idx, lo, hi)
		}
		if v >= 256 && float64(hi-lo+1)/float64(lo) > 1.0/128+1e-12 {
			t.Fatalf("bucket %d = [%d, %d] wider than 1/128", idx, lo, hi)
		}
		if idx > 0 && bucketHigh(idx-1)+1 != lo {
			t.Fatalf("bucket %d does not follow bucket %d", idx, idx-1)
		}
	}
	if got := bucketOf(math.MaxUint64); got >= 1<<16 {
		t.Fatalf("largest bucket index %d does not fit 16 bits", got)
	}
}

// Quantiles agree with the exact quantile of the recorded values (the
// value at rank ceil(q·N), HdrHistogram's rule) to within one bucket.
func TestHistQuantilesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, dist := range []struct {
		name string
		gen  func() time.Duration
	}{
		{"lognormal 20ms", func() time.Duration { return time.Duration(math.Exp(rng.NormFloat64()*0.8) * 20e6) }},
		{"bimodal", func() time.Duration {
			if rng.Float64() < 0.97 {
				return time.Duration(5e6 + rng.Float64()*5e6)
			}
			return time.Duration(2e9 + rng.Float64()*3e9)
		}},
		{"sub-ms", func() time.Duration { return time.Duration(rng.Float64() * 900e3) }},
		{"few", func() time.Duration { return time.Duration(rng.IntN(5)+1) * time.Second }},
	} {
		var h Hist
		var all []uint64
		n := 50000
		if dist.name == "few" {
			n = 7
		}
		for range n {
			d := dist.gen()
			h.Record(d)
			all = append(all, uint64(d/time.Microsecond))
		}
		slices.Sort(all)
		for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
			rank := max(int(math.Ceil(q*float64(len(all)))), 1)
			want := all[rank-1]
			got := uint64(h.Quantile(q) / time.Microsecond)
			if got < want || float64(got) > float64(want)*(1+1.0/128)+1 {
				t.Errorf("%s: p%g = %d µs, exact %d µs", dist.name, q*100, got, want)
			}
		}
		if h.N != uint64(len(all)) || h.Max != all[len(all)-1] || h.Min != all[0] {
			t.Errorf("%s: n/min/max %d/%d/%d, want %d/%d/%d", dist.name, h.N, h.Min, h.Max, len(all), all[0], all[len(all)-1])
		}
	}
}

// Merging histograms equals recording everything into one.
func TestHistMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var all, a, b Hist
	for i := range 20000 {
		d := time.Duration(rng.ExpFloat64() * 50e6)
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	if len(a.B) != len(all.B) || a.N != all.N || a.Min != all.Min || a.Max != all.Max {
		t.Fatalf("merged %d buckets n=%d, want %d n=%d", len(a.B), a.N, len(all.B), all.N)
	}
	for i := range a.B {
		if a.B[i] != all.B[i] {
			t.Fatalf("bucket %d differs", i)
		}
	}
	var empty Hist
	empty.Merge(&all)
	if empty.Quantile(.99) != all.Quantile(.99) {
		t.Fatal("merging into an empty histogram changed it")
	}
	if got := (&Hist{}).Quantile(.5); got != 0 {
		t.Fatalf("empty quantile = %v", got)
	}
}

func TestHistNoAllocs(t *testing.T) {
	var h Hist
	for i := range 10000 {
		h.Record(time.Duration(i%500) * time.Millisecond)
	}
	d := 0
	allocs := testing.AllocsPerRun(1000, func() {
		h.Record(time.Duration(d%500) * time.Millisecond)
		d += 7
	})
	if allocs != 0 {
		t.Fatalf("Record allocates %v times per call in steady state", allocs)
	}
}
