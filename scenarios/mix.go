package scenarios

// Mix picks endpoints in proportion to their weights by smooth weighted
// round-robin (nginx's algorithm), so the mix is exact over any window of
// picks, not merely on average, and every picker given the same endpoints
// picks the same sequence: the attack's targeter and the simulated host agree
// request for request.
//
// Each pick adds every weight to its endpoint's current value, chooses the
// endpoint with the highest current value (the first in declared order on a
// tie) and subtracts the total weight from it.
//
// A Mix is not safe for concurrent use.
type Mix struct {
	weight  []float64
	current []float64
	total   float64
	picked  []uint64 // picks of each endpoint so far, the other shards' included
	// Shard: picks shard, shard+shards, … of the sequence.
	shard, shards int
	primed        bool
}

// NewMix returns a mix over eps in declared order. Endpoints with a weight
// that is not positive are never picked; with none positive, every pick is 0.
func NewMix(eps []Endpoint) *Mix {
	m := &Mix{weight: make([]float64, len(eps)), current: make([]float64, len(eps)), picked: make([]uint64, len(eps))}
	for i, e := range eps {
		if e.Weight > 0 {
			m.weight[i] = e.Weight
			m.total += e.Weight
		}
	}
	return m
}

// Next returns the index of the next endpoint (of this shard's picks,
// when the Mix is sharded).
func (m *Mix) Next() int {
	if m.shards > 1 {
		return m.next()
	}
	return m.pick()
}

// pick is the sequence's next pick.
func (m *Mix) pick() int {
	if m.total == 0 {
		return 0
	}
	best := -1
	for i, w := range m.weight {
		if w == 0 {
			continue
		}
		m.current[i] += w
		if best < 0 || m.current[i] > m.current[best] {
			best = i
		}
	}
	m.current[best] -= m.total
	m.picked[best]++
	return best
}

// Picked is how many times the sequence has picked endpoint k so far,
// counting the picks a sharded Mix skips for the other shards: after
// Next returns k, Picked(k)-1 is that pick's number among k's picks of the
// whole sequence, the same whatever the sharding.
func (m *Mix) Picked(k int) uint64 {
	if k < 0 || k >= len(m.picked) {
		return 0
	}
	return m.picked[k]
}

// Shard makes m pick shard i of n's share of its one sequence: picks i,
// i+n, i+2n, …, so that n shards together pick what a single run does.
// Call it before the first Next; n <= 1 leaves m as it is.
func (m *Mix) Shard(i, n int) *Mix {
	if n > 1 {
		m.shard, m.shards = i, n
	}
	return m
}

// next is Next on a sharded Mix: the shard's next pick of the sequence.
func (m *Mix) next() int {
	skip := m.shards
	if !m.primed {
		skip, m.primed = m.shard+1, true
	}
	var k int
	for range skip {
		k = m.pick()
	}
	return k
}
