package hosting

import (
	"context"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

func visitScenario(t *testing.T, yaml string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse("test.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// simulateVisits runs SimulateVisits and keeps every result and visit.
func simulateVisits(t *testing.T, p *Plan, s *scenarios.Scenario, o SimOptions) ([]vegeta.Result, []scenarios.Visit, SimStats) {
	t.Helper()
	var rs []vegeta.Result
	var vs []scenarios.Visit
	st, err := SimulateVisits(context.Background(), p, s, o, func(r *vegeta.Result) { rs = append(rs, *r) }, func(v *scenarios.Visit) { vs = append(vs, *v) })
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(rs); i++ {
		if rs[i].Timestamp.Before(rs[i-1].Timestamp) {
			t.Fatalf("result %d sent at %v, before result %d at %v", i, rs[i].Timestamp, i-1, rs[i-1].Timestamp)
		}
	}
	return rs, vs, st
}

func builtinPlan(t *testing.T, name string) *Plan {
	t.Helper()
	p, err := LoadPlan(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const pageViewYAML = `name: pv
curve: "%s"
endpoints:
  - {name: product page, path: /p/jacket, class: page, weight: 1, assets: [hero image, product photos×4, thumbnails×3]}
  - {name: hero image, path: /img/hero.jpg, class: asset}
  - {name: product photos, path: /img/jacket-1.jpg, class: asset}
  - {name: thumbnails, path: /img/thumbs.jpg, class: asset}
slo: {p99: 1s, errors: 1%}
`

// One connection per visitor: each asset leaves when the one before it
// has answered, so a page view's time is exactly the sum of its nine
// latencies, and the visits' times add up to the results' latencies.
func TestSimulateVisitsOneConnection(t *testing.T) {
	s := visitScenario(t, strings.Replace(pageViewYAML, "%s", "hold 20/s for 10s", 1))
	for _, conns := range []int{1, 6} {
		rs, vs, st := simulateVisits(t, builtinPlan(t, "shared"), s, SimOptions{ConnectionsPerVisitor: conns, Seed: 3})
		if len(vs) != 200 || len(rs) != 200*9 || st.Requests != 200*9 || st.OK != st.Requests {
			t.Fatalf("%d connections: %d visits, %d results, %+v: want 200 page views of 9 requests, all OK", conns, len(vs), len(rs), st)
		}
		var took, lat time.Duration
		pages := uint64(0)
		for _, r := range rs {
			lat += r.Latency
			if r.Seq < scenarios.AssetSeq {
				if r.Seq != pages || r.URL != "http://127.0.0.1/p/jacket" {
					t.Fatalf("page %d: seq %d, %s", pages, r.Seq, r.URL)
				}
				pages++
			}
		}
		for _, v := range vs {
			took += v.Took
			if !v.OK || v.Sent != 9 || v.Kind != scenarios.PageView || v.Name != "product page" || v.Step != -1 {
				t.Fatalf("%d connections: %+v", conns, v)
			}
		}
		switch {
		case conns == 1 && took != lat:
			t.Errorf("one connection: page views took %v in all, their requests %v", took, lat)
		case conns == 6 && !(took < lat*3/4):
			t.Errorf("six connections: page views took %v in all, their requests %v: the assets did not overlap", took, lat)
		}
	}
}

// At 1.5 times what the shared plan's asset pool holds, its queue turns
// images away at once (503) while pages still load: every broken page
// view is broken by an image's 503, and the failed images add up.
func TestSimulateVisitsImagesBreakPages(t *testing.T) {
	s := visitScenario(t, strings.Replace(pageViewYAML, "%s", "hold 130/s for 15s", 1))
	rs, vs, _ := simulateVisits(t, builtinPlan(t, "shared"), s, SimOptions{})
	var failedAssets, failedPages int
	for _, r := range rs {
		if r.Code != 200 {
			if r.Seq < scenarios.AssetSeq {
				failedPages++
			} else {
				failedAssets++
			}
		}
	}
	var broken int
	for _, v := range vs {
		if v.OK {
			continue
		}
		broken++
		if v.Broke == "product page" || v.Why != "http 503" {
			t.Fatalf("broken by %q (%s), want an image's 503", v.Broke, v.Why)
		}
	}
	t.Logf("%d of %d page views broken; %d images and %d pages failed", broken, len(vs), failedAssets, failedPages)
	if failedPages != 0 || broken == 0 || broken == len(vs) || failedAssets < broken || failedAssets > 8*broken {
		t.Errorf("%d of %d page views broken by %d failed images (%d pages failed)", broken, len(vs), failedAssets, failedPages)
	}
}

// Journeys against a plan whose database pool holds 50 requests a second:
// browsing never fails, buying fails only at the api steps and only once
// the ramp passes the pool (as attack's TestJourneysCheckoutFailsWhenAPIPoolSaturates
// sees against the live host), and with a fixed think time the journeys'
// times add up to their requests' latencies plus the thinking.
func TestSimulateVisitsJourneys(t *testing.T) {
	plan, err := LoadPlan("../testdata/plans/shop-db.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := visitScenario(t, `name: shop
curve: "ramp 5/s to 100/s over 10s"
endpoints:
  - {name: home, path: /}
  - {name: product, path: /p/jacket}
  - {name: cart, method: POST, path: /api/cart}
  - {name: checkout, method: POST, path: /api/checkout}
  - {name: order, path: "/api/orders/{{order_id}}"}
journeys:
  browse: {weight: 3, think: 5ms, steps: [home, product]}
  buy:
    weight: 1
    think: 5ms
    steps: [home, product, cart, {endpoint: checkout, capture: {order_id: "json:$.id"}}, order]
`)
	rs, vs, _ := simulateVisits(t, plan, s, SimOptions{Seed: 1})
	var lat time.Duration
	for _, r := range rs {
		lat += r.Latency
	}
	var took, thinking time.Duration
	var browse, buy, buyFailed, early, sent int
	for _, v := range vs {
		took += v.Took
		sent += v.Sent
		thinking += time.Duration(v.Sent-1) * 5 * time.Millisecond
		switch v.Name {
		case "browse":
			browse++
			if !v.OK || v.Sent != 2 {
				t.Errorf("a browse journey failed: %+v", v)
			}
		case "buy":
			buy++
			if v.OK {
				if v.Sent != 5 {
					t.Errorf("a buy journey completed with %d steps", v.Sent)
				}
				continue
			}
			buyFailed++
			if v.Broke != "cart" && v.Broke != "checkout" && v.Broke != "order" || v.Step != v.Sent-1 || !v.Abandoned {
				t.Errorf("a buy journey failed at %q (step %d of %d sent, abandoned %v, %s), not at an api step", v.Broke, v.Step, v.Sent, v.Abandoned, v.Why)
			}
			if v.Start < 3*time.Second {
				early++
			}
		}
	}
	t.Logf("%d browse journeys, %d buy journeys, %d failed (%d in the first 3 s)", browse, buy, buyFailed, early)
	if browse+buy != int(s.Curve.Requests()) || buyFailed == 0 || early > 0 || sent != len(rs) {
		t.Errorf("%d journeys of %d, %d requests of %d; %d buy journeys failed, %d of them in the first 3 s: want failures, none early",
			browse+buy, s.Curve.Requests(), sent, len(rs), buyFailed, early)
	}
	if took != lat+thinking {
		t.Errorf("journeys took %v in all; their requests %v and thinking %v", took, lat, thinking)
	}
}

// Shards split the visitors as they split requests: the same page views,
// each on 1/n of the host; a scenario of requests is refused.
func TestSimulateVisitsShardsAndRefusals(t *testing.T) {
	s := visitScenario(t, strings.Replace(pageViewYAML, "%s", "hold 40/s for 5s", 1))
	var views int
	for k := range 2 {
		_, vs, _ := simulateVisits(t, builtinPlan(t, "vps"), s, SimOptions{Shard: k, Shards: 2})
		seen := map[uint64]bool{}
		for _, v := range vs {
			if v.Seq >= 100 || seen[v.Seq] {
				t.Errorf("shard %d: visit seq %d out of range or twice", k, v.Seq)
			}
			seen[v.Seq] = true
		}
		views += len(vs)
	}
	if views != 200 {
		t.Errorf("2 shards: %d page views, want 200", views)
	}
	plain := visitScenario(t, "name: plain\ncurve: \"hold 10/s for 1s\"\n")
	if _, err := SimulateVisits(context.Background(), builtinPlan(t, "vps"), plain, SimOptions{}, func(*vegeta.Result) {}, func(*scenarios.Visit) {}); err == nil {
		t.Error("a scenario without visitors was simulated as visitors")
	}
}

// A journey's step that is a page with assets is simulated as a page view
// of its own inside the journey: with one connection per visitor and a
// fixed think time, the journeys' times add up to all their requests'
// latencies plus the thinking, and the page views' to their pages' and
// assets' latencies.
func TestSimulateVisitsJourneyPageViews(t *testing.T) {
	s := visitScenario(t, `name: shop
curve: "hold 20/s for 5s"
endpoints:
  - {name: product page, path: /p/jacket, class: page, assets: [hero×1, photo×3]}
  - {name: hero, path: /img/hero.jpg, class: asset}
  - {name: photo, path: /img/p.jpg, class: asset}
  - {name: cart, method: POST, path: /api/cart}
  - {name: checkout, method: POST, path: /api/checkout}
journeys:
  browse: {weight: 1, steps: [product page]}
  buy: {weight: 1, think: 5ms, steps: [product page, cart, checkout]}
`)
	rs, vs, _ := simulateVisits(t, builtinPlan(t, "vps"), s, SimOptions{ConnectionsPerVisitor: 1})
	var lat, pageLat time.Duration
	for _, r := range rs {
		lat += r.Latency
		if !strings.Contains(r.URL, "/api/") {
			pageLat += r.Latency
		}
	}
	var journeyTook, pageTook, thinking time.Duration
	var journeys, pages, sent int
	for _, v := range vs {
		if !v.OK {
			t.Errorf("a visit failed on an idle vps: %+v", v)
		}
		switch v.Kind {
		case scenarios.PageView:
			pages++
			pageTook += v.Took
			if v.Sent != 5 {
				t.Errorf("page view sent %d requests, want 5", v.Sent)
			}
		case scenarios.JourneyVisit:
			journeys++
			journeyTook += v.Took
			sent += v.Sent
			if v.Name == "buy" {
				thinking += 10 * time.Millisecond
			}
		}
	}
	if journeys != 100 || pages != 100 || sent != len(rs) {
		t.Errorf("%d journeys, %d page views, journeys sent %d of %d requests", journeys, pages, sent, len(rs))
	}
	if journeyTook != lat+thinking || pageTook != pageLat {
		t.Errorf("journeys took %v (requests %v + thinking %v); page views %v (their requests %v)", journeyTook, lat, thinking, pageTook, pageLat)
	}
}
