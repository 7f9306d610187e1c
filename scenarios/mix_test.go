package scenarios

import "testing"

// n sharded Mixes together pick the single sequence: shard i's k-th pick
// is the sequence's pick k·n + i.
func TestMixShards(t *testing.T) {
	eps := []Endpoint{{Name: "a", Weight: 5}, {Name: "b", Weight: 2}, {Name: "c", Weight: 0.5}, {Name: "d"}}
	one := NewMix(eps)
	seq := make([]int, 1000)
	for k := range seq {
		seq[k] = one.Next()
	}
	for _, n := range []int{1, 2, 3, 7} {
		for i := range n {
			m := NewMix(eps).Shard(i, n)
			for k := 0; k*n+i < len(seq); k++ {
				if got := m.Next(); got != seq[k*n+i] {
					t.Fatalf("shard %d of %d: pick %d is %d, want the sequence's pick %d, %d", i, n, k, got, k*n+i, seq[k*n+i])
				}
			}
		}
	}
	counts := map[int]int{}
	for _, k := range seq {
		counts[k]++
	}
	// Exact to within one pick: 666.7, 266.7, 66.7 and none.
	if counts[0] < 666 || counts[0] > 667 || counts[1] < 266 || counts[1] > 267 || counts[2] < 66 || counts[2] > 67 || counts[3] != 0 {
		t.Errorf("1,000 picks of weights 5, 2, 0.5, 0: %v", counts)
	}
}
