package scenarios

import (
	"errors"
	"math"
	"strings"
	"testing"
)

const pageViewYAML = `name: shop
curve: "hold 10/s for 1m"
endpoints:
  - {name: home, path: /, weight: 3, assets: [hero, thumb×8, "css x1"]}
  - {name: product, path: /p/1, weight: 1, assets: {thumb: 4, hero: 1}}
  - {name: hero, path: /img/hero.jpg}
  - {name: thumb, path: /img/t.jpg}
  - {name: css, path: /static/site.css}
  - {name: search, path: /api/search, weight: 1}
`

func TestPageViewAssetsParse(t *testing.T) {
	s, err := Parse("shop.yaml", []byte(pageViewYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.PageViews() {
		t.Fatal("no page views")
	}
	want := []AssetRef{{"hero", 1}, {"thumb", 8}, {"css", 1}}
	if got := s.Endpoints[0].Assets; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("home's assets %v, want %v", got, want)
	}
	if got := s.Endpoints[1].Assets; len(got) != 2 || got[0] != (AssetRef{"thumb", 4}) || got[1] != (AssetRef{"hero", 1}) {
		t.Errorf("product's assets %v", got)
	}
	// Arrivals: home 3, product 1, search 1; requests 11, 6 and 1.
	if k, want := s.RequestsPerArrival(), (3*11+6+1)/5.0; math.Abs(k-want) > 1e-12 {
		t.Errorf("requests per arrival %g, want %g", k, want)
	}
	arr := ArrivalEndpoints(s.Endpoints)
	for i, w := range []float64{3, 1, 0, 0, 0, 1} {
		if arr[i].Weight != w {
			t.Errorf("arrival weight of %s = %g, want %g", arr[i].Name, arr[i].Weight, w)
		}
	}
	// In requests: hero 3+1, thumb 24+4, css 3.
	mix := s.RequestMix()
	for i, w := range []float64{3, 1, 4, 28, 3, 1} {
		if mix[i].Weight != w || mix[i].Assets != nil {
			t.Errorf("request weight of %s = %g (assets %v), want %g", mix[i].Name, mix[i].Weight, mix[i].Assets, w)
		}
	}
	r, err := s.AsRequests()
	if err != nil {
		t.Fatal(err)
	}
	if r.PageViews() || math.Abs(r.Curve.Total()-s.Curve.Total()*s.RequestsPerArrival()) > 1e-6 {
		t.Errorf("as requests: page views %v, %g requests, want %g", r.PageViews(), r.Curve.Total(), s.Curve.Total()*s.RequestsPerArrival())
	}
	// A run's offered requests follow the mix.
	info := &RunInfo{Scenario: s, Shards: 1}
	if got := info.Offered(0, 60); math.Abs(got-600*s.RequestsPerArrival()) > 1e-6 {
		t.Errorf("offered %g requests in the minute, want %g", got, 600*s.RequestsPerArrival())
	}
	if d := info.Due(AssetSeq + 5); d != -1 {
		t.Errorf("an asset's result has a due time %v", d)
	}
	// The resolved scenario (a Kubernetes ConfigMap) keeps the page views.
	b, err := MarshalResolved(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := parseResolved("resolved.json", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if back.RequestsPerArrival() != s.RequestsPerArrival() {
		t.Errorf("resolved: %g requests per arrival, want %g", back.RequestsPerArrival(), s.RequestsPerArrival())
	}
}

func TestPageViewAssetProblems(t *testing.T) {
	for _, c := range []struct {
		name, eps, want string
	}{
		{"unknown asset", `  - {name: home, path: /, assets: [hero, thumbs×8]}
  - {name: hero, path: /img/h.jpg}
`, `x.yaml:4:42: endpoints[0].assets: no endpoint "thumbs" (endpoints: home, hero)`},
		{"bad count", `  - {name: home, path: /, assets: ["hero x lots"]}
  - {name: hero, path: /img/h.jpg}
`, `x.yaml:4:37: endpoints[0].assets[0]: "hero x lots": the count after "x" is not a whole number`},
		{"zero count", `  - {name: home, path: /, assets: {hero: 0}}
  - {name: hero, path: /img/h.jpg}
`, `x.yaml:4:36: endpoints[0].assets.hero: asset "hero": count must be 1 to 1000, found 0`},
		{"weighted asset", `  - {name: home, path: /, assets: [hero]}
  - {name: hero, path: /img/h.jpg, weight: 2}
`, `x.yaml:5:44: endpoints[1].weight: "hero" is an asset of page "home": it is sent with its page, not on its own (drop its weight)`},
		{"itself", `  - {name: home, path: /, assets: [home]}
`, `x.yaml:4:36: endpoints[0].assets: "home" lists itself as an asset`},
		{"nested", `  - {name: home, path: /, assets: [p]}
  - {name: p, path: /p/1, assets: [hero]}
  - {name: hero, path: /img/h.jpg}
`, `x.yaml:4:36: endpoints[0].assets: "p" is a page with assets of its own: a page view loads one page`},
		{"not a page", `  - {name: api, path: /api/x, assets: [hero]}
  - {name: hero, path: /img/h.jpg}
`, `x.yaml:4:40: endpoints[0].assets: "api" is of class api: only a page lists assets (give class: page)`},
		{"twice", `  - {name: home, path: /, assets: [hero, hero×2]}
  - {name: hero, path: /img/h.jpg}
`, `x.yaml:4:42: endpoints[0].assets: asset "hero" listed twice: give one count (hero×N)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte("curve: \"hold 1/s for 1s\"\nslo: {p99: 1s}\nendpoints:\n"+c.eps), nil)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("got %v, want problems", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got\n%v\nwant a line\n%s", err, c.want)
			}
		})
	}
}
