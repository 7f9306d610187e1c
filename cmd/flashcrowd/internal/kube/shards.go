package kube

import (
	"fmt"
	"math"
	"strings"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// PodRate is the requests a second one pod of one core sends, measured
// with small responses (the fast engine holds about 35,000/s a core).
const PodRate = 35000

// DefaultPodBandwidth is what one pod is assumed to receive, in bits a
// second (--pod-bandwidth): a node's network card is shared with its
// other pods and rarely gives one pod more.
const DefaultPodBandwidth = 1e9

// DefaultSizes are the response sizes assumed for endpoints whose scenario
// states none, by class.
var DefaultSizes = map[scenarios.Class]int64{
	scenarios.Page:  50_000,
	scenarios.Asset: 100_000,
	scenarios.API:   2_000,
}

// Sizing is how --shards auto chose the number of pods: enough for the
// curve's peak at PodRate requests a second each, and enough for the
// bytes the peak brings back at PodBandwidth each.
type Sizing struct {
	Peak         float64 // requests a second at the curve's peak
	PodRate      float64 // requests a second one pod sends
	PodBandwidth float64 // bits a second one pod receives
	MeanBytes    float64 // expected response bytes per request over the mix
	Assumed      []string
	ByRate       int
	ByBandwidth  int
	Shards       int
	// Wanted is what the figures ask for when Cap lowered Shards to the
	// curve's count of arrivals (0 when not capped).
	Wanted int
	// Arrivals is that count and Word what they are (requests, journeys,
	// page views), for the explanation.
	Arrivals uint64
	Word     string
}

// Cap lowers Shards to n, the arrivals (requests, journeys or page views,
// as word says) the curve starts: a pod with none would send nothing.
func (s *Sizing) Cap(n uint64, word string) {
	n = max(n, 1)
	if uint64(s.Shards) <= n {
		return
	}
	s.Wanted, s.Shards, s.Arrivals, s.Word = s.Shards, int(n), n, word
}

// Size sizes a rehearsal of peak requests a second over mix eps. Endpoint
// sizes the scenario does not state come from size (by class).
func Size(peak float64, eps []scenarios.Endpoint, podRate, podBandwidth float64, size func(scenarios.Class) int64) Sizing {
	s := Sizing{Peak: peak, PodRate: podRate, PodBandwidth: podBandwidth}
	var w float64
	for _, e := range eps {
		w += e.Weight
	}
	for _, e := range eps {
		b := e.Size
		if b == 0 {
			b = size(e.Class)
			s.Assumed = append(s.Assumed, fmt.Sprintf("%s %s (%s)", e.Name, fmtBytes(float64(b)), e.Class))
		}
		if w > 0 {
			s.MeanBytes += e.Weight / w * float64(b)
		}
	}
	s.ByRate = int(math.Ceil(peak / podRate))
	s.ByBandwidth = int(math.Ceil(peak * s.MeanBytes * 8 / podBandwidth))
	s.Shards = max(s.ByRate, s.ByBandwidth, 1)
	return s
}

// String explains the figure.
func (s Sizing) String() string {
	var b strings.Builder
	pods := "pods"
	if s.Shards == 1 {
		pods = "pod"
	}
	if s.Wanted > 0 {
		fmt.Fprintf(&b, "--shards auto: %d %s for a peak of %s/s, capped at the %d %s the curve starts (the figures below ask for %d; a pod with none would send nothing)\n",
			s.Shards, pods, fmtNum(s.Peak), s.Arrivals, s.Word, s.Wanted)
	} else {
		fmt.Fprintf(&b, "--shards auto: %d %s for a peak of %s/s\n", s.Shards, pods, fmtNum(s.Peak))
	}
	fmt.Fprintf(&b, "  requests:  %s/s ÷ %s/s a pod (one core)          = %d\n", fmtNum(s.Peak), fmtNum(s.PodRate), s.ByRate)
	fmt.Fprintf(&b, "  bandwidth: %s/s × %s a response = %s ÷ %s a pod = %d\n",
		fmtNum(s.Peak), fmtBytes(s.MeanBytes), fmtBits(s.Peak*s.MeanBytes*8), fmtBits(s.PodBandwidth), s.ByBandwidth)
	if len(s.Assumed) > 0 {
		fmt.Fprintf(&b, "  sizes assumed (give endpoints a size: in the scenario to state them): %s\n", strings.Join(s.Assumed, ", "))
	}
	return b.String()
}

func fmtNum(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

func fmtBytes(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.3g GB", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.3g MB", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3g KB", v/1e3)
	}
	return fmt.Sprintf("%.0f B", v)
}

func fmtBits(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.3g Gbit/s", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.3g Mbit/s", v/1e6)
	}
	return fmt.Sprintf("%.3g kbit/s", v/1e3)
}
