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
}

// NewMix returns a mix over eps in declared order. Endpoints with a weight
// that is not positive are never picked; with none positive, every pick is 0.
func NewMix(eps []Endpoint) *Mix {
	m := &Mix{weight: make([]float64, len(eps)), current: make([]float64, len(eps))}
	for i, e := range eps {
		if e.Weight > 0 {
			m.weight[i] = e.Weight
			m.total += e.Weight
		}
	}
	return m
}

// Next returns the index of the next endpoint.
func (m *Mix) Next() int {
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
	return best
}
