package attack

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"sort"
	"testing"
	"testing/synctest"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// A spike from 300 a day to 35,000 a second and back, 72 s long, about
// 170,000 requests.
const spike = "quiet: hold 300/d for 30s, climb: exp 300/d to 35000/s over 20s, peak: hold 35000/s for 2s, fall: decay 35000/s half-life 2s for 20s"

// countDue is how many of this pacer's hits are due by t.
func countDue(p *CurvePacer, t time.Duration) uint64 {
	n := p.Hits()
	return uint64(sort.Search(int(n), func(h int) bool {
		d, _ := p.Due(uint64(h))
		return d > t
	}))
}

// TestCurvePacerCountMatchesCurve checks the pacer's schedule against the
// curve at many instants: the number due by t is N(t) rounded, within half
// a request of N(t), at 300/d and at 35,000/s.
func TestCurvePacerCountMatchesCurve(t *testing.T) {
	c := curve(t, spike)
	p := &CurvePacer{Curve: c}
	if got, want := p.Hits(), c.Requests(); got != want {
		t.Fatalf("Hits() = %d, want %d", got, want)
	}
	for ms := 0; ms <= int(c.Seconds()*1000); ms += 7 {
		at := time.Duration(ms) * time.Millisecond
		n := c.N(at.Seconds())
		got := float64(countDue(p, at))
		if math.Abs(got-n) > 0.5+1e-6 {
			t.Fatalf("at %s: %v due, curve says N = %.3f (rate %.4g/s)", at, got, n, c.Rate(at.Seconds()))
		}
	}
	if _, stop := p.Pace(0, p.Hits()); !stop {
		t.Error("Pace past the last hit does not stop")
	}
	if _, stop := p.Pace(0, p.Hits()-1); stop {
		t.Error("Pace stops before the last hit")
	}
	// 300/d: the first request of the quiet stretch is due when it owes
	// half a request (144 s), the second 288 s later.
	q := &CurvePacer{Curve: curve(t, "hold 300/d for 1h")}
	if w, stop := q.Pace(time.Second, 0); stop || w != 143*time.Second {
		t.Errorf("Pace(1s, 0) at 300/d = %v, %v; want 143s, false", w, stop)
	}
	if w, stop := q.Pace(time.Second, 1); stop || w != 431*time.Second {
		t.Errorf("Pace(1s, 1) at 300/d = %v, %v; want 431s, false", w, stop)
	}
	if w, _ := q.Pace(440*time.Second, 1); w != 0 {
		t.Errorf("Pace when behind = %v, want 0 (send at once)", w)
	}
}

// fakeClient answers every request at once, in memory, so a vegeta attack
// runs entirely in synctest's fake time.
func fakeClient() *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Status: "200 OK", Body: io.NopCloser(bytes.NewReader(nil)), Request: r, Header: http.Header{}}, nil
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// attackFake runs vegeta's real Attacker with the pacer in fake time and
// returns each result's send time from the start, by Seq.
func attackFake(t *testing.T, c *scenarios.Curve, shard, shards int) []time.Duration {
	t.Helper()
	var out []time.Duration
	synctest.Test(t, func(t *testing.T) {
		p := &CurvePacer{Curve: c, Shard: shard, Shards: shards}
		stop := make(chan struct{})
		a := vegeta.NewAttacker(vegeta.Client(fakeClient()), vegeta.MaxWorkers(64))
		begin := time.Now()
		out = make([]time.Duration, p.Hits())
		n := 0
		for r := range a.Attack(func(*vegeta.Target) error { return nil }, stoppablePacer{Pacer: p, stop: stop}, 0, "") {
			out[r.Seq] = r.Timestamp.Sub(begin)
			n++
		}
		if uint64(n) != p.Hits() {
			t.Fatalf("shard %d/%d: %d results, want %d", shard, shards, n, p.Hits())
		}
	})
	return out
}

// TestCurvePacerVegetaFakeTime drives vegeta's own attack loop with the
// pacer under testing/synctest: every hit is sent exactly at N⁻¹(Seq + ½),
// and the count sent by any instant is N(t) rounded, from 300/d to
// 35,000/s.
func TestCurvePacerVegetaFakeTime(t *testing.T) {
	c := curve(t, spike)
	sent := attackFake(t, c, 0, 1)
	p := &CurvePacer{Curve: c}
	for h, at := range sent {
		due, _ := p.Due(uint64(h))
		if at != due {
			t.Fatalf("hit %d sent at %s, due at %s", h, at, due)
		}
	}
	for ms := 0; ms <= int(c.Seconds()*1000); ms += 11 {
		at := time.Duration(ms) * time.Millisecond
		got := float64(sort.Search(len(sent), func(i int) bool { return sent[i] > at }))
		if n := c.N(at.Seconds()); math.Abs(got-n) > 0.5+1e-6 {
			t.Fatalf("by %s: %v sent, N = %.3f", at, got, n)
		}
	}
}

// TestShardUnionFakeTime: four shards, each run alone by vegeta in fake
// time, together send exactly the single run's schedule.
func TestShardUnionFakeTime(t *testing.T) {
	c := curve(t, "hold 1/s for 5s, ramp 1/s to 3000/s over 3s, decay 3000/s half-life 1s for 4s")
	single := attackFake(t, c, 0, 1)
	var union []time.Duration
	for i := range 4 {
		union = append(union, attackFake(t, c, i, 4)...)
	}
	slicesSort(union)
	if len(union) != len(single) {
		t.Fatalf("shards sent %d in all, single run %d", len(union), len(single))
	}
	for i := range single {
		if union[i] != single[i] {
			t.Fatalf("request %d: shards sent it at %s, single run at %s", i, union[i], single[i])
		}
	}
}

func slicesSort(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }

// TestShardHits: the shards' hit counts add up to the curve's requests, and
// shard i's hit h is global request h·n+i.
func TestShardHits(t *testing.T) {
	for _, total := range []uint64{0, 1, 2, 3, 4, 5, 7, 1000, 1001, 1003} {
		for n := 1; n <= 5; n++ {
			var sum uint64
			for i := range n {
				h := ShardHits(total, i, n)
				sum += h
				if h > 0 && (h-1)*uint64(n)+uint64(i) >= total {
					t.Errorf("ShardHits(%d, %d, %d) = %d: last index past the end", total, i, n, h)
				}
			}
			if sum != total {
				t.Errorf("ShardHits over %d shards of %d = %d", n, total, sum)
			}
		}
	}
	c := curve(t, "ramp 10/s to 100/s over 10s")
	p := &CurvePacer{Curve: c, Shard: 2, Shards: 3}
	d, _ := p.Due(5)
	if want := c.Inv(5*3 + 2 + 0.5); math.Abs(d.Seconds()-want) > 1e-9 {
		t.Errorf("shard 2/3 hit 5 due at %s, want N⁻¹(17.5) = %gs", d, want)
	}
	ri := scenarios.RunInfo{Scenario: &scenarios.Scenario{Curve: c}, Shard: 2, Shards: 3}
	if ri.Due(5) != d {
		t.Errorf("RunInfo.Due(5) = %s, pacer says %s", ri.Due(5), d)
	}
}

// TestStoppablePacerStopsInQuietStretch: a stop during a long wait ends
// the attack at once, without sending the hit that was waited for.
func TestStoppablePacerStopsInQuietStretch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &CurvePacer{Curve: curve(t, "hold 300/d for 1h")}
		stop := make(chan struct{})
		a := vegeta.NewAttacker(vegeta.Client(fakeClient()))
		begin := time.Now()
		res := a.Attack(func(*vegeta.Target) error { return nil }, stoppablePacer{Pacer: p, stop: stop}, 0, "")
		go func() { time.Sleep(200 * time.Second); close(stop) }()
		n := 0
		for range res {
			n++
		}
		if n != 1 {
			t.Errorf("%d hits sent, want 1 (the one due at 144 s)", n)
		}
		if el := time.Since(begin); el != 200*time.Second {
			t.Errorf("attack ended %s after the start, want 200s (when stopped), not at the next hit (432s)", el)
		}
	})
}

// TestCurvePacerSendsTheIntegral checks that a curve whose integral is a
// whole number sends exactly that many requests (100/s for 1m is 6,000, as
// vegeta sends), and a fractional one its ceiling, the first at t = 0.
func TestCurvePacerSendsTheIntegral(t *testing.T) {
	for _, tc := range []struct {
		curve string
		want  uint64
	}{
		{"hold 100/s for 1m", 6000},
		{"hold 35000/s for 10s", 350000},
		{"ramp 0/s to 10/s over 1m", 300},
		{"hold 300/d for 1h", 13}, // 12.5 due: requests 0..12
	} {
		c := curve(t, tc.curve)
		p := &CurvePacer{Curve: c}
		if got := p.Hits(); got != tc.want {
			t.Errorf("%s: Hits() = %d, want %d", tc.curve, got, tc.want)
		}
		if _, stop := p.Pace(c.Duration()+time.Hour, tc.want); !stop {
			t.Errorf("%s: Pace does not stop after %d hits", tc.curve, tc.want)
		}
		if d, ok := p.Due(tc.want - 1); !ok || d > c.Duration() {
			t.Errorf("%s: last hit %d due at %v, %v; want within the curve", tc.curve, tc.want-1, d, ok)
		}
		// Shards together send the same number.
		var sum uint64
		for i := range 4 {
			sum += (&CurvePacer{Curve: c, Shard: i, Shards: 4}).Hits()
		}
		if sum != tc.want {
			t.Errorf("%s: 4 shards send %d, want %d", tc.curve, sum, tc.want)
		}
	}
}
