package hosting

import (
	"context"
	"hash/fnv"
	"math"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

func curveOf(t testing.TB, spec string) *scenarios.Curve {
	t.Helper()
	c, err := scenarios.ParseCurve("test", spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// simulate runs a simulation and keeps every result.
func simulate(t testing.TB, p *Plan, curve string, mix []scenarios.Endpoint, o SimOptions) ([]vegeta.Result, SimStats) {
	t.Helper()
	var rs []vegeta.Result
	st, err := Simulate(context.Background(), p, curveOf(t, curve), mix, o, func(r *vegeta.Result) { rs = append(rs, *r) })
	if err != nil {
		t.Fatal(err)
	}
	return rs, st
}

// c workers, constant s: below c/s nothing fails and every latency is s;
// above it the rejected fraction is 1 − (c/s)/rate, up to the c + q
// requests the workers and queue hold at the end.
func TestSimulateKnownCapacity(t *testing.T) {
	p := testPlan(t, 4, 20*time.Millisecond, 8, 512)
	rs, st := simulate(t, p, "hold 100/s for 10s", nil, SimOptions{})
	if st.Requests != 1000 || st.OK != 1000 {
		t.Errorf("below capacity: %+v, want 1000 requests all OK", st)
	}
	for _, r := range rs {
		if r.Latency != 20*time.Millisecond || r.Code != 200 || r.BytesIn != 512 {
			t.Fatalf("below capacity: %+v, want 200 in 20ms", r)
		}
	}
	for _, rate := range []float64{250, 400, 1000} {
		rs, st := simulate(t, p, "hold "+scenarios.Rate(rate).String()+" for 10s", nil, SimOptions{})
		got := float64(st.Rejected) / float64(st.Requests)
		want := 1 - 200/rate
		slack := 12 / float64(st.Requests) // the c + q held at the end
		if got > want+1e-9 || got < want-slack-1.0/float64(st.Requests) {
			t.Errorf("at %g/s: rejected %.4f, want %.4f (−%.4f)", rate, got, want, slack)
		}
		if st.OK+st.Rejected != st.Requests || len(rs) != int(st.Requests) {
			t.Errorf("at %g/s: %+v", rate, st)
		}
	}
}

// Erlang: Poisson arrivals and exponential service on c workers (M/M/c)
// give a mean wait of C(c,a)/(cμ−λ); with a finite queue (M/M/c/K) the
// blocked fraction is P_K.
func TestSimulateErlang(t *testing.T) {
	const c, mu, lambda = 4, 50.0, 150.0 // a = 3, ρ = 0.75
	a := lambda / mu
	// Erlang C.
	var sum, term float64 = 0, 1
	for k := 0; k < c; k++ {
		if k > 0 {
			term *= a / float64(k)
		}
		sum += term
	}
	top := term * a / float64(c) / (1 - a/float64(c))
	erlangC := top / (sum + top)
	wantLatency := erlangC/(float64(c)*mu-lambda) + 1/mu

	p := testPlan(t, c, 20*time.Millisecond, 1_000_000, 0)
	pc := p.Classes[scenarios.Page]
	pc.Service = Dist{Kind: Exponential, Mean: 20 * time.Millisecond}
	p.Classes[scenarios.Page] = pc
	var total time.Duration
	var n int
	_, err := Simulate(context.Background(), p, curveOf(t, "hold 150/s for 2000s"), nil, SimOptions{Poisson: true, Seed: 7},
		func(r *vegeta.Result) { total += r.Latency; n++ })
	if err != nil {
		t.Fatal(err)
	}
	got := total.Seconds() / float64(n)
	// 300,000 requests; the mean latency's standard error, with the
	// autocorrelation of a queue at ρ = 0.75, is well under 1%: 3% is a
	// safe bound that a wrong queue discipline would still break (M/M/4
	// with no queueing gives 0.020 s; Erlang C gives 0.0301 s).
	if math.Abs(got-wantLatency)/wantLatency > 0.03 {
		t.Errorf("M/M/4 mean latency %.5fs over %d requests, want %.5fs (Erlang C)", got, n, wantLatency)
	}

	// M/M/c/K with K = c + q: P_K = (a^K / (c!·c^(K−c))) / Σ_k P_k.
	const q = 4
	p.Pools[0].Queue = q
	var probs []float64
	term, sum = 1, 0
	for k := 0; k <= c+q; k++ {
		if k > 0 {
			term *= a / float64(min(k, c))
		}
		probs = append(probs, term)
		sum += term
	}
	wantBlocked := probs[c+q] / sum
	_, st := simulate(t, p, "hold 150/s for 2000s", nil, SimOptions{Poisson: true, Seed: 8})
	blocked := float64(st.Rejected) / float64(st.Requests)
	if math.Abs(blocked-wantBlocked)/wantBlocked > 0.05 {
		t.Errorf("M/M/4/8 blocked %.4f, want %.4f", blocked, wantBlocked)
	}
	t.Logf("M/M/4: latency %.5f (Erlang C %.5f); M/M/4/8 blocked %.4f (want %.4f)", got, wantLatency, blocked, wantBlocked)
}

// The link's bandwidth caps bytes per second; the host timeout turns long
// waits into 504s at exactly the timeout.
func TestSimulateBandwidthAndTimeout(t *testing.T) {
	p := testPlan(t, 64, 0, 64, 100_000)
	p.Bandwidth = 2_000_000
	rs, _ := simulate(t, p, "hold 40/s for 60s", nil, SimOptions{})
	var bytes uint64
	var last time.Time
	for _, r := range rs {
		bytes += r.BytesIn * uint64(b2i(r.Code == 200))
		if r.End().After(last) {
			last = r.End()
		}
	}
	got := float64(bytes) / last.Sub(rs[0].Timestamp).Seconds()
	if math.Abs(got-2e6)/2e6 > 0.01 {
		t.Errorf("simulated link carried %.0f B/s, want 2,000,000", got)
	}

	p = testPlan(t, 1, 100*time.Millisecond, 100, 10)
	p.HostTimeout = 250 * time.Millisecond
	rs, st := simulate(t, p, "hold 20/s for 10s", nil, SimOptions{})
	if st.TimedOut == 0 || st.OK == 0 {
		t.Fatalf("want both 200s and 504s: %+v", st)
	}
	for _, r := range rs {
		switch r.Code {
		case 504:
			if r.Latency != 250*time.Millisecond || r.Error != "504 Gateway Timeout" {
				t.Fatalf("504 %+v, want latency 250ms", r)
			}
		case 200:
			if r.Latency > 350*time.Millisecond {
				t.Fatalf("served after waiting %s, past the host timeout", r.Latency-100*time.Millisecond)
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Autoscaling adds capacity only after its lag.
func TestSimulateAutoscaleLag(t *testing.T) {
	p := testPlan(t, 1, 100*time.Millisecond, 5, 10)
	p.Pools[0].Autoscale = &Autoscale{Min: 1, Max: 4, Step: 1, Lag: 2 * time.Second, Target: 0.5, Every: 500 * time.Millisecond}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	rs, st := simulate(t, p, "hold 30/s for 8s", nil, SimOptions{})
	perSec := make([]int, 8)
	for _, r := range rs {
		if s := int(r.Timestamp.Sub(rs[0].Timestamp).Seconds()); r.Code == 200 && s < 8 {
			perSec[s]++
		}
	}
	// One worker serves 10/s; the first order (at 533 ms) lands at 2.53 s.
	for s := 0; s < 2; s++ {
		if perSec[s] > 10+6 { // 10/s, plus at most the queue's 5 and the one in service
			t.Errorf("second %d: %d served before any worker could arrive, want ≤ 16", s, perSec[s])
		}
	}
	if perSec[6] < 29 || st.PeakWorkers != 4 {
		t.Errorf("second 6: %d served (want all 30), peak %d workers (want 4)", perSec[6], st.PeakWorkers)
	}
	t.Logf("200s per second: %v", perSec)
}

// The simulation and the live host agree request for request when driven
// by the same arrivals: fake time (synctest) makes the live host exact.
func TestSimulateMatchesLiveHost(t *testing.T) {
	// 20.001 ms keeps service ends off the 2.5 ms arrival grid, so no
	// arrival and release fall on the same instant.
	p := testPlan(t, 4, 20*time.Millisecond+time.Microsecond, 8, 100)
	curve := curveOf(t, "hold 400/s for 1s")
	sim := make([]uint16, curve.Requests())
	if _, err := Simulate(context.Background(), p, curve, nil, SimOptions{}, func(r *vegeta.Result) { sim[r.Seq] = r.Code }); err != nil {
		t.Fatal(err)
	}
	live := make([]uint16, curve.Requests())
	synctest.Test(t, func(t *testing.T) {
		h := NewHost(p)
		defer h.Close()
		t0 := time.Now()
		var wg sync.WaitGroup
		for i := range live {
			due := time.Duration(math.Round(curve.Inv(float64(i)) * 1e9))
			time.Sleep(due - time.Since(t0))
			wg.Go(func() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/p/x", nil))
				live[i] = uint16(w.Code)
			})
		}
		wg.Wait()
	})
	diff, ok := 0, 0
	for i := range sim {
		if sim[i] != live[i] {
			diff++
		}
		if sim[i] == 200 {
			ok++
		}
	}
	if diff != 0 || ok < 150 || ok > 250 {
		t.Errorf("%d of %d requests differ between simulation and live host (%d served)", diff, len(sim), ok)
	}
}

// Request i hits the endpoint scenarios.Mix picks for i, sharded or not;
// results come out in timestamp order, repeatably for a seed.
func TestSimulateMixShardsAndSeed(t *testing.T) {
	p, err := LoadPlan("shared")
	if err != nil {
		t.Fatal(err)
	}
	mix := pressMix(t)
	m := scenarios.NewMix(mix)
	const curve = "ramp 10/s to 2000/s over 20s"
	rs, st := simulate(t, p, curve, mix, SimOptions{Seed: 1, Target: "http://127.0.0.1:8080"})
	for i, r := range rs {
		k := m.Next()
		if want := "http://127.0.0.1:8080" + mix[k].URL; r.URL != want || r.Method != mix[k].Method || r.Seq != uint64(i) {
			t.Fatalf("request %d: %s %s seq %d, want %s %s", i, r.Method, r.URL, r.Seq, mix[k].Method, want)
		}
		if i > 0 && r.Timestamp.Before(rs[i-1].Timestamp) {
			t.Fatalf("request %d out of timestamp order", i)
		}
	}
	if st.Rejected == 0 || st.OK == 0 {
		t.Errorf("ramp to 2000/s against shared should break it: %+v", st)
	}
	// Shards stripe the requests (the shared plan allows 2 shards: vps,
	// whose smallest pool has 4 workers, is split 3 ways).
	vps, err := LoadPlan("vps")
	if err != nil {
		t.Fatal(err)
	}
	for k := range 3 {
		part, _ := simulate(t, vps, curve, mix, SimOptions{Seed: 1, Shard: k, Shards: 3, Target: "http://127.0.0.1:8080"})
		for j, r := range part {
			g := j*3 + k
			if r.URL != rs[g].URL || r.Timestamp != rs[g].Timestamp || r.Seq != uint64(j) {
				t.Fatalf("shard %d/3 request %d: %s at %s, want request %d's %s at %s", k, j, r.URL, r.Timestamp, g, rs[g].URL, rs[g].Timestamp)
			}
		}
	}
	digest := func(seed int64) uint64 {
		h := fnv.New64a()
		rs, _ := simulate(t, p, curve, mix, SimOptions{Seed: seed})
		for _, r := range rs {
			h.Write([]byte(r.Timestamp.String() + r.Latency.String() + r.Error))
		}
		return h.Sum64()
	}
	if a, b, c := digest(5), digest(5), digest(6); a != b || a == c {
		t.Errorf("seeded runs: same seed %x %x, other seed %x; want equal, then different", a, b, c)
	}
}

// A shard needs one of each pool's workers, autoscale step and (if the
// pool has a queue) queue places: MaxShards says how many the plan allows,
// and Simulate refuses more rather than give shards workers the plan does
// not have (which made shared's 2 static workers 8 at 8 shards).
func TestMaxShards(t *testing.T) {
	for _, c := range []struct {
		plan  string
		want  int
		limit string
	}{
		{"shared", 2, "pool static: 2 workers"},
		{"vps", 4, "pool static: 4 workers"},
		{"cloud", 4, "pool static: 4 workers"}, // min 4, step 4
		{"cdn", 24, "pool main: 24 workers"},   // the edge has no queue: no limit from it
	} {
		p, err := LoadPlan(c.plan)
		if err != nil {
			t.Fatal(err)
		}
		if n, limit := p.MaxShards(); n != c.want || limit != c.limit {
			t.Errorf("%s: MaxShards %d (%s), want %d (%s)", c.plan, n, limit, c.want, c.limit)
		}
	}
	p := testPlan(t, 8, time.Millisecond, 3, 10)
	if n, limit := p.MaxShards(); n != 3 || limit != "pool main: 3 queue places" {
		t.Errorf("queue 3: MaxShards %d (%s), want 3", n, limit)
	}
	p.Pools[0].Autoscale = &Autoscale{Min: 8, Max: 16, Step: 2, Target: 0.7, Every: time.Second}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if n, limit := p.MaxShards(); n != 2 || limit != "pool main: autoscale step 2" {
		t.Errorf("step 2: MaxShards %d (%s), want 2", n, limit)
	}
	shared, err := LoadPlan("shared")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Simulate(context.Background(), shared, curveOf(t, "hold 10/s for 1s"), nil, SimOptions{Shard: 0, Shards: 3}, func(*vegeta.Result) {})
	if err == nil || !strings.Contains(err.Error(), "3 shards is more than plan shared allows (2: pool static: 2 workers)") {
		t.Errorf("3 shards of shared: %v, want refused", err)
	}
}

// Errors read as Go's client writes them.
func TestSimulateErrorStrings(t *testing.T) {
	p := testPlan(t, 1, time.Second, 0, 10)
	mix := []scenarios.Endpoint{{Method: "POST", URL: "/api/buy", Weight: 1, Body: "{}"}}
	for _, c := range []struct {
		mode FullMode
		re   string
	}{
		{FullRefuse, "^" + regexp.QuoteMeta(`Post "http://127.0.0.1:9/api/buy": `) + `dial tcp 127\.0\.0\.1:9: connect: connection refused$`},
		{FullReset, "^" + regexp.QuoteMeta(`Post "http://127.0.0.1:9/api/buy": `) + `read tcp 127\.0\.0\.1:\d+->127\.0\.0\.1:9: read: connection reset by peer$`},
		{Full503, `^503 Service Unavailable$`},
	} {
		p.WhenFull = c.mode
		rs, _ := simulate(t, p, "hold 10/s for 1s", mix, SimOptions{Target: "http://127.0.0.1:9"})
		if r := rs[1]; !regexp.MustCompile(c.re).MatchString(r.Error) || r.BytesOut != 2 {
			t.Errorf("%s: %q (%d bytes out), want %s", c.mode, r.Error, r.BytesOut, c.re)
		}
	}
	p.WhenFull = Full503
	rs, st := simulate(t, testPlan(t, 1, time.Second, 100, 10), "hold 10/s for 1s", nil, SimOptions{ClientTimeout: 1500 * time.Millisecond})
	r := rs[2] // waits 1.8 s for the worker
	if r.Code != 0 || r.Latency != 1500*time.Millisecond || r.Error != `Get "http://127.0.0.1/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` || st.ClientTimeouts == 0 {
		t.Errorf("client timeout: %+v", r)
	}
	// The live host's garbage matches the simulated error text.
	live := testPlan(t, 1, 0, 1, 10)
	live.Faults = Faults{Garbage: 1}
	srv := httptest.NewServer(Handler(live))
	defer srv.Close()
	got := attack(t, srv.URL+"/", 5, 200*time.Millisecond)
	rs, _ = simulate(t, live, "hold 5/s for 1s", nil, SimOptions{Target: srv.URL})
	if got[0].Error != rs[0].Error || !strings.Contains(rs[0].Error, "malformed HTTP") {
		t.Errorf("garbage: live %q, simulated %q", got[0].Error, rs[0].Error)
	}
}

func TestSimulateInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	st, err := Simulate(ctx, testPlan(t, 4, time.Millisecond, 4, 10), curveOf(t, "hold 10000/s for 1h"), nil, SimOptions{},
		func(r *vegeta.Result) {
			if n++; n == 100_000 {
				cancel()
			}
		})
	if err != context.Canceled || st.Requests < 100_000 || st.Requests > 200_000 || uint64(n) != st.Requests {
		t.Errorf("interrupted: %v after %d results (%+v)", err, n, st)
	}
}

// The arrival cursor agrees with Curve.Inv.
func TestArrivals(t *testing.T) {
	c := curveOf(t, "hold 300/d for 2h, exp 300/d to 35000/s over 3h, hold 35000/s for 2h, decay 35000/s half-life 90m for 10h, ramp 5/s to 1/s over 1h, decay 1/s power 1.5 scale 10m for 1h")
	a := newArrivals(c)
	for x := 0.0; x <= c.Total(); x = x*1.37 + 0.7 {
		got, want := a.at(x), c.Inv(x)
		if math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Fatalf("N⁻¹(%g) = %.12g, want %.12g", x, got, want)
		}
	}
}

// On the default rehearsal (press-spike compressed to 3 minutes, peak
// 3,000 req/s) the four built-in plans end differently: shared breaks
// hardest, vps breaks through the peak, cloud breaks and recovers after its
// lag (before the vps does), cdn holds.
func TestBuiltinPlansOnCompressedSpike(t *testing.T) {
	s, err := scenarios.Builtin("press-spike")
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Curve.Compress(340)
	if err == nil {
		c, err = c.ScalePeak(3000)
	}
	if err != nil {
		t.Fatal(err)
	}
	ok := map[string]float64{}
	lastErr := map[string]float64{} // scheduled time of the last failure
	for _, n := range BuiltinPlanNames() {
		p, _ := LoadPlan(n)
		st, err := Simulate(context.Background(), p, c, s.Endpoints, SimOptions{Seed: 1, ClientTimeout: 30 * time.Second}, func(r *vegeta.Result) {
			if r.Code != 200 {
				lastErr[n] = r.Timestamp.Sub(time.Time{}).Seconds()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		ok[n] = float64(st.OK) / float64(st.Requests)
	}
	t.Logf("answered: %v; last failure at %v s", ok, lastErr)
	// cloud loses about 1.3% (its breaks until the new workers arrive);
	// before the link was reserved at arrival (see Simulate) a queued
	// request's future start pushed later bodies back and cloud lost over
	// 5%, which the live host does not (cmd/flashcrowd TestSimulationTrust).
	if !(ok["shared"] < 0.5 && ok["shared"] < ok["vps"] && ok["vps"] < ok["cloud"] && ok["cloud"] < 0.99 && ok["cdn"] == 1) {
		t.Errorf("answered fractions %v: want shared < vps < cloud < cdn = 1, shared < 0.5, cloud < 0.99", ok)
	}
	if !(lastErr["cloud"] < lastErr["vps"] && lastErr["vps"] < lastErr["shared"]) {
		t.Errorf("last failures %v: want cloud (after its lag) before vps before shared", lastErr)
	}
}

// Workers ordered by autoscaling take the queue the moment they arrive,
// in the simulation as on the live host: a request queued after the order
// starts at the order's arrival, not when a present worker frees up.
func TestSimulateAutoscaleServesQueue(t *testing.T) {
	const svc = time.Second + time.Microsecond
	p := testPlan(t, 1, svc, 100, 10)
	p.Pools[0].Autoscale = &Autoscale{Min: 1, Max: 5, Step: 4, Lag: 250 * time.Millisecond, Target: 0.5, Every: 100 * time.Millisecond}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	rs, st := simulate(t, p, "hold 10/s for 1s", nil, SimOptions{})
	// Request 0 (t = 0) takes the only worker. Request 1 (0.1 s) sees it
	// busy and orders 4 workers, due at 0.35 s; requests 1–3 wait for
	// them; request 4 (0.4 s) finds one free; 5 and 6 wait for request 0's
	// worker (1.000001 s) and then the first of the new ones (1.350001 s).
	ms := time.Millisecond
	want := []time.Duration{svc, 250*ms + svc, 150*ms + svc, 50*ms + svc, svc, 500*ms + time.Microsecond + svc, 750*ms + time.Microsecond + svc}
	for i, w := range want {
		if rs[i].Latency != w || rs[i].Code != 200 {
			t.Errorf("request %d: %d after %v, want 200 after %v", i, rs[i].Code, rs[i].Latency, w)
		}
	}
	if st.PeakWorkers != 5 {
		t.Errorf("peak %d workers, want 5", st.PeakWorkers)
	}
}

// autoscaledPlan is a 2-worker pool that scales to 8, 2 at a time, after
// a lag of about 100 ms.
func autoscaledPlan(t *testing.T) *Plan {
	p := testPlan(t, 2, 20*time.Millisecond+time.Microsecond, 8, 100)
	p.Pools[0].Autoscale = &Autoscale{Min: 2, Max: 8, Step: 2, Lag: 100*time.Millisecond + 300*time.Microsecond, Target: 0.7, Every: 50 * time.Millisecond}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// simAndLive runs curve through the simulator and, in fake time, against
// the live host (during runs beside the requests, with the host), and
// checks that every request gets the same status both ways and that the
// total time waited is the same; it returns how many were served.
func simAndLive(t *testing.T, p *Plan, curve *scenarios.Curve, during func(t *testing.T, h *Host)) int {
	t.Helper()
	n := curve.Requests()
	sim, simLat := make([]uint16, n), make([]time.Duration, n)
	if _, err := Simulate(context.Background(), p, curve, nil, SimOptions{}, func(r *vegeta.Result) {
		sim[r.Seq], simLat[r.Seq] = r.Code, r.Latency
	}); err != nil {
		t.Fatal(err)
	}
	live, liveLat := make([]uint16, n), make([]time.Duration, n)
	synctest.Test(t, func(t *testing.T) {
		h := NewHost(p)
		defer h.Close()
		t0 := time.Now()
		var wg sync.WaitGroup
		if during != nil {
			wg.Go(func() { during(t, h) })
		}
		for i := range live {
			due := time.Duration(math.Round(curve.Inv(float64(i)) * 1e9))
			time.Sleep(due - time.Since(t0))
			wg.Go(func() {
				s := time.Now()
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/p/x", nil))
				live[i], liveLat[i] = uint16(w.Code), time.Since(s)
			})
		}
		wg.Wait()
	})
	diff, ok := 0, 0
	var sumSim, sumLive time.Duration
	for i := range sim {
		if sim[i] != live[i] {
			diff++
		}
		if sim[i] == 200 {
			ok++
		}
		sumSim += simLat[i]
		sumLive += liveLat[i]
	}
	if diff != 0 || ok == int(n) {
		t.Errorf("%d of %d requests differ between simulation and live host (%d served)", diff, n, ok)
	}
	if d := sumSim - sumLive; d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("total latency: simulated %v, live %v", sumSim, sumLive)
	}
	t.Logf("%d of %d served; total latency %v", ok, n, sumSim)
	return ok
}

// With autoscaling too, the simulation and the live host agree request
// for request on the outcome, and on the total time waited (the same
// starts, handed out in a slightly different order: see advance).
func TestSimulateAutoscaleMatchesLiveHost(t *testing.T) {
	if ok := simAndLive(t, autoscaledPlan(t), curveOf(t, "hold 400/s for 1s"), nil); ok < 250 {
		t.Errorf("%d served, want at least 250 (the pool scaled out)", ok)
	}
}

// An autoscaled pool that no request reaches scales down on a timer: an
// idle host no longer keeps its scaled-out workers for ever. The live host
// shows its minimum again during a quiet spell, and the simulator makes
// the same checks at the same instants: the same status for every request
// of a curve with a quiet gap, and the same total latency.
func TestAutoscaleIdleScaleDown(t *testing.T) {
	var busyWorkers, quietWorkers, quietPending int
	simAndLive(t, autoscaledPlan(t), curveOf(t, "hold 400/s for 1s, hold 0/s for 2s, hold 400/s for 500ms"), func(t *testing.T, h *Host) {
		time.Sleep(990 * time.Millisecond)
		busyWorkers = h.Stats().Workers
		time.Sleep(2 * time.Second) // 2.99 s: the end of the quiet spell
		st := h.Stats()
		quietWorkers, quietPending = st.Workers, st.Pools[0].Pending
		// Once back at its minimum (the burst after the gap over) the pool
		// arms no timer: nothing is left running for an unclosed host.
		time.Sleep(1500 * time.Millisecond)
		pl := h.pools[0]
		pl.mu.Lock()
		wanted := pl.idleWanted
		pl.mu.Unlock()
		if wanted {
			t.Errorf("idle at the minimum, the pool still wants its check timer")
		}
	})
	if busyWorkers <= 2 || quietWorkers != 2 || quietPending != 0 {
		t.Errorf("workers: %d at the end of the burst (want > 2), %d (%d on order) after 2 s of quiet (want the minimum 2, none)", busyWorkers, quietWorkers, quietPending)
	}
}
