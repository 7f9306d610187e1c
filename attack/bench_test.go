package attack

import (
	"io"
	"net/url"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkCurvePacer: one Pace call (an N⁻¹ evaluation) per hit, on the
// spike curve; at 35,000/s the pacer has under 30 µs per hit in all.
func BenchmarkCurvePacer(b *testing.B) {
	c := curve(b, spike)
	p := &CurvePacer{Curve: c}
	n := p.Hits()
	b.ReportAllocs()
	var h uint64
	for b.Loop() {
		due, _ := p.Due(h)
		p.Pace(due, h)
		if h++; h == n {
			h = 0
		}
	}
}

// BenchmarkMixTargeter: one pick from the press-spike mix, contended by
// all procs as vegeta's workers contend for it.
func BenchmarkMixTargeter(b *testing.B) {
	base, _ := url.Parse("http://127.0.0.1:8080")
	m, err := NewMixTargeter(base, pressMix(b), nil, 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var t vegeta.Target
		for pb.Next() {
			m.Next(&t)
		}
	})
}

// BenchmarkResultEncode: one result in vegeta's gob encoding, as Run
// writes it (no body, no headers).
func BenchmarkResultEncode(b *testing.B) {
	r := &vegeta.Result{Seq: 1, Code: 200, Timestamp: time.Now(), Latency: 3 * time.Millisecond,
		BytesIn: 25000, Method: "GET", URL: "http://127.0.0.1:8080/img/jacket-1.jpg"}
	cw := &countWriter{}
	enc := vegeta.NewEncoder(cw)
	b.ReportAllocs()
	for b.Loop() {
		r.Seq++
		if err := enc.Encode(r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cw.n)/float64(b.N), "bytes/result")
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
