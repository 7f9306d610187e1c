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

// Picked numbers each endpoint's picks over the whole sequence: n shards
// together number endpoint k's picks 0, 1, 2, … once each, as one Mix does.
func TestMixPickedNumbersAcrossShards(t *testing.T) {
	eps := []Endpoint{{Name: "a", Weight: 3}, {Name: "b", Weight: 1}, {Name: "c", Weight: 1}}
	for _, n := range []int{1, 2, 3, 4} {
		seen := map[[2]uint64]int{} // endpoint, number
		total := 0
		for i := range n {
			m := NewMix(eps).Shard(i, n)
			for k := 0; k*n+i < 500; k++ {
				e := m.Next()
				seen[[2]uint64{uint64(e), m.Picked(e) - 1}]++
				total++
			}
		}
		counts := map[int]uint64{}
		for key, c := range seen {
			if c != 1 {
				t.Fatalf("%d shards: endpoint %d's pick %d numbered %d times", n, key[0], key[1], c)
			}
			counts[int(key[0])] = max(counts[int(key[0])], key[1]+1)
		}
		if total != 500 || counts[0]+counts[1]+counts[2] != 500 || counts[0] != 300 {
			t.Errorf("%d shards: %d picks numbered up to %v, want 300, 100, 100", n, total, counts)
		}
	}
}
