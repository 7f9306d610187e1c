package scenarios

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const journeyEndpoints = `curve: "hold 1/s for 1s"
endpoints:
  - {name: home, path: /}
  - {name: cart, method: POST, path: /api/cart, body: "{{sku}}"}
  - {name: checkout, method: POST, path: /api/checkout}
  - {name: order, path: "/api/orders/{{order_id}}"}
`

func parseJourneys(t *testing.T, text string) (*Scenario, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "skus.csv"), []byte("sku,qty\njacket,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return Parse("j.yaml", []byte(journeyEndpoints+text), DirOpener(dir))
}

func TestJourneysParse(t *testing.T) {
	s, err := parseJourneys(t, `journeys:
  browse: {weight: 3, think: exp 2s, steps: [home]}
  buy:
    think: 500ms
    feeder: skus.csv
    steps: [home, cart, {endpoint: checkout, capture: {order_id: "json:$.order.items[0].id"}}, order]
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Journeys) != 2 || !s.HasJourneys() || !s.Visitors() || s.PageViews() {
		t.Fatalf("journeys %+v", s.Journeys)
	}
	b := s.Journeys[1]
	if b.Weight != 1 || b.Think.Mean != 500e6 || b.Think.Exponential || !s.Journeys[0].Think.Exponential || len(b.Steps) != 4 ||
		b.Steps[2].Capture[0] != (Capture{Var: "order_id", From: "json:$.order.items[0].id"}) || b.Feeder.Row(7)["sku"] != "jacket" {
		t.Errorf("buy %+v", b)
	}
	// 3 arrivals browse 1 step, 1 buys 4: 7/4 requests an arrival.
	if k := s.RequestsPerArrival(); math.Abs(k-7.0/4) > 1e-12 {
		t.Errorf("requests per arrival %g", k)
	}
	mix := s.RequestMix()
	if mix[0].Weight != 4 || mix[1].Weight != 1 || mix[3].Weight != 1 {
		t.Errorf("request mix %v", mix)
	}
	if got := Expand("/api/orders/{{order_id}}?q={{ x }}", map[string]string{"order_id": "42", "x": "y"}); got != "/api/orders/42?q=y" {
		t.Errorf("expand: %q", got)
	}
	b2, err := MarshalResolved(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := parseResolved("r.json", b2, nil)
	if err != nil || len(back.Journeys) != 2 || back.Journeys[1].Feeder.Rows[0][0] != "jacket" {
		t.Errorf("resolved: %v %+v", err, back)
	}
}

func TestJourneyProblems(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"no endpoint", "journeys:\n  buy: {steps: [home, crat]}\n", `j.yaml:8:23: journeys.buy.steps[1]: no endpoint "crat" (endpoints: home, cart, checkout, order)`},
		{"undefined var", "journeys:\n  buy: {steps: [home, order]}\n", `j.yaml:8:23: journeys.buy.steps[1]: endpoint "order" uses {{order_id}}, which no feeder column or earlier capture of journey "buy" defines`},
		{"feeder column", "journeys:\n  buy: {feeder: skus.csv, steps: [home, order]}\n", `j.yaml:8:41: journeys.buy.steps[1]: endpoint "order" uses {{order_id}}: feeder skus.csv has no column "order_id" (columns: sku, qty) and no earlier step of journey "buy" captures it`},
		{"feeder missing", "journeys:\n  buy: {feeder: nope.csv, steps: [home]}\n", `j.yaml:8:17: journeys.buy.feeder: open`},
		{"think", "journeys:\n  buy: {think: soon, steps: [home]}\n", `j.yaml:8:16: journeys.buy.think: "soon": want a duration (2s) or an exponential mean (exp 2s)`},
		{"capture", "journeys:\n  buy: {steps: [{endpoint: checkout, capture: {id: \"json:id\"}}]}\n", `journeys.buy.steps[0].capture.id: "json:id": a JSON path starts with $`},
		{"regex group", "journeys:\n  buy: {steps: [{endpoint: checkout, capture: {id: \"regex:order-\\\\d+\"}}]}\n", `the expression needs a group`},
		{"weight", "journeys:\n  buy: {weight: 0, steps: [home]}\n", `j.yaml:8:17: journeys.buy.weight: must be > 0`},
		{"no steps", "journeys:\n  buy: {weight: 1}\n", `journeys.buy.steps: missing: a journey needs at least one step`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseJourneys(t, c.text)
			var ps Problems
			if !errors.As(err, &ps) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got\n%v\nwant\n%s", err, c.want)
			}
		})
	}
}

// A journey's step may be a page view: the page with its assets. The
// requests an arrival sends and the request mix count the assets; a page
// with assets that no journey walks would never load, and is refused
// where it is written.
func TestJourneysWithPageViews(t *testing.T) {
	const text = `name: shop
curve: "hold 10/s for 10s"
endpoints:
  - {name: home, path: /, assets: [logo, photo×4]}
  - {name: logo, path: /logo.png, class: asset}
  - {name: photo, path: /p.jpg, class: asset}
  - {name: cart, method: POST, path: /api/cart}
journeys:
  browse: {weight: 3, steps: [home]}
  buy: {weight: 1, steps: [home, cart]}
`
	s, err := Parse("shop.yaml", []byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.HasJourneys() || !s.PageViews() || !s.Visitors() {
		t.Fatalf("journeys %v, page views %v", s.HasJourneys(), s.PageViews())
	}
	// browse sends 6 requests, buy 7: (3·6 + 7) / 4.
	if got, want := s.RequestsPerArrival(), 25.0/4; math.Abs(got-want) > 1e-12 {
		t.Errorf("requests per arrival %g, want %g", got, want)
	}
	w := map[string]float64{}
	for _, e := range s.RequestMix() {
		w[e.Name] = e.Weight
		if len(e.Assets) > 0 {
			t.Errorf("request mix endpoint %s keeps its assets", e.Name)
		}
	}
	if w["home"] != 4 || w["logo"] != 4 || w["photo"] != 16 || w["cart"] != 1 {
		t.Errorf("request mix weights %v, want home 4, logo 4, photo 16, cart 1", w)
	}
	bad := strings.Replace(text, "browse: {weight: 3, steps: [home]}", "browse: {weight: 3, steps: [cart]}", 1)
	bad = strings.Replace(bad, "buy: {weight: 1, steps: [home, cart]}", "buy: {weight: 1, steps: [cart]}", 1)
	_, err = Parse("shop.yaml", []byte(bad), nil)
	if want := `shop.yaml:4:35: endpoints[0].assets: page "home" lists assets but no journey walks it`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}
}

// A feeder whose header names a column twice would silently lose one of
// them: an error naming the file, line 1 and both columns.
func TestFeederDuplicateColumn(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dup.csv"), []byte("sku,qty,sku\njacket,1,boots\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Parse("j.yaml", []byte(journeyEndpoints+`journeys:
  buy: {feeder: dup.csv, steps: [home, cart]}
`), DirOpener(dir))
	if err == nil || !strings.Contains(err.Error(), `dup.csv:1: column 3, "sku", repeats column 1`) || !strings.Contains(err.Error(), "j.yaml:") {
		t.Errorf("duplicate feeder column: %v", err)
	}
}

// A feeder that cannot be read (a ragged row) is reported once: the steps
// using its columns are not reported again as using values no feeder
// column defines.
func TestUnreadableFeederReportedOnce(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ragged.csv"), []byte("sku,qty\njacket,1\nhat\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Parse("j.yaml", []byte(journeyEndpoints+`journeys:
  buy: {feeder: ragged.csv, steps: [home, cart]}
`), DirOpener(dir))
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 1 || !strings.Contains(err.Error(), "ragged.csv: record on line 3: wrong number of fields") {
		t.Errorf("want one problem, the feeder's: %v", err)
	}
}

// An empty list of steps says so, not "want a list".
func TestEmptyJourney(t *testing.T) {
	_, err := Parse("j.yaml", []byte(journeyEndpoints+`journeys:
  buy: {steps: []}
`), nil)
	if err == nil || !strings.Contains(err.Error(), "journeys.buy.steps: empty: a journey needs at least one step") {
		t.Errorf("empty steps: %v", err)
	}
}

// A malformed capture is reported once, where it is written: the later
// steps that use its variable are not reported again as using a value
// no capture defines.
func TestMalformedCaptureReportedOnce(t *testing.T) {
	for _, c := range []struct{ name, journey, want string }{
		{"expression", `{steps: [home, {endpoint: checkout, capture: {order_id: "json:id"}}, order, order]}`,
			`j.yaml:8:65: journeys.buy.steps[1].capture.order_id: "json:id": a JSON path starts with $`},
		{"not a map", `{steps: [home, {endpoint: checkout, capture: "json:$.id"}, order]}`,
			`j.yaml:8:54: journeys.buy.steps[1].capture: want a map of VAR`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "j.yaml")
			if err := os.WriteFile(file, []byte(journeyEndpoints+"journeys:\n  buy: "+c.journey+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(file)
			var ps Problems
			if !errors.As(err, &ps) || len(ps) != 1 || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %d problems:\n%v\nwant only\n%s", len(ps), err, c.want)
			}
		})
	}
	// A step that uses the variable before the malformed capture is still wrong.
	dir := t.TempDir()
	file := filepath.Join(dir, "j.yaml")
	if err := os.WriteFile(file, []byte(journeyEndpoints+"journeys:\n  buy: {steps: [order, {endpoint: checkout, capture: {order_id: \"json:id\"}}]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(file); err == nil || !strings.Contains(err.Error(), `journeys.buy.steps[0]: endpoint "order" uses {{order_id}}`) {
		t.Errorf("use before a malformed capture: %v", err)
	}
}

// {{name}} is filled in only by a journey: in an endpoint sent outside
// any journey (the plain mix, a page view's page or asset) it would go
// out as written (/api/orders/{{id}}, a 404), so it is refused at load
// where it is written. An endpoint only journeys send may use it, and so
// may one no journey walks (with journeys, it is never sent).
func TestVarsOutsideJourneys(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "skus.csv"), []byte("sku,qty\njacket,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func(t *testing.T, text string) (string, error) {
		t.Helper()
		file := filepath.Join(dir, "v.yaml")
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(file)
		return file, err
	}
	const mix = `curve: "hold 1/s for 1m"
endpoints:
  - {name: home, path: /}
  - {name: order, path: "/api/orders/{{id}}", weight: 2}
  - name: cart
    method: POST
    path: /api/cart
    headers: {X-Sku: "{{sku}}"}
    body: '{"sku":"{{sku}}","n":{{ qty }}}'
    expect: {body_contains: "{{sku}}"}
`
	file, err := load(t, mix)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 5 {
		t.Fatalf("got %d problems, want 5:\n%v", len(ps), err)
	}
	for _, want := range []string{
		file + `:4:26: endpoints[1].path: {{id}} is filled in only in journeys (a capture or feeder column), but endpoint "order" is sent on its own, by the mix (the scenario has no journeys), where {{id}} would go out as written`,
		file + `:8:23: endpoints[2].headers.X-Sku: {{sku}} is filled in only in journeys`,
		file + `:9:12: endpoints[2].body: {{sku}} is filled in only in journeys`,
		file + `:9:12: endpoints[2].body: {{qty}} is filled in only in journeys`,
		file + `:10:30: endpoints[2].expect.body_contains: {{sku}} is filled in only in journeys (a capture or feeder column), but endpoint "cart" is sent on its own, by the mix (the scenario has no journeys), where {{sku}} would be looked for as written`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks\n%s\ngot\n%v", want, err)
		}
	}

	// With journeys, the arrivals are journeys: order and cart are sent
	// only as steps, with their values; an endpoint no journey walks is
	// never sent.
	walked := mix + `  - {name: unused, path: "/u/{{nothing}}"}
journeys:
  browse: {weight: 5, steps: [home]}
  buy: {feeder: skus.csv, steps: [home, cart, {endpoint: home, capture: {id: "header:X-Order"}}, order]}
`
	if _, err := load(t, walked); err != nil {
		t.Errorf("endpoints sent only in journeys: %v", err)
	}

	// A page view's assets are sent without the journey's values, and
	// in a scenario without journeys a page view is no journey either.
	const views = `curve: "hold 1/s for 1m"
endpoints:
  - {name: product, path: "/p/{{sku}}", assets: [photo]}
  - {name: photo, path: "/img/{{sku}}.jpg"}
`
	file, err = load(t, views)
	for _, want := range []string{
		file + `:3:28: endpoints[0].path: {{sku}} is filled in only in journeys (a capture or feeder column), but endpoint "product" is sent on its own, as a page view's page (the scenario has no journeys)`,
		file + `:4:26: endpoints[1].path: {{sku}} is filled in only in journeys (a capture or feeder column), but endpoint "photo" is sent on its own, as an asset of page "product" (a page view's assets get no journey's values)`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks\n%s\ngot\n%v", want, err)
		}
	}
	file, err = load(t, views+"journeys:\n  buy: {feeder: skus.csv, steps: [product]}\n")
	if !errors.As(err, &ps) || len(ps) != 1 || !strings.Contains(err.Error(), file+`:4:26: endpoints[1].path: {{sku}} is filled in only in journeys`) {
		t.Errorf("an asset of a journey's page: got\n%v", err)
	}
	// An endpoint both a step and an asset is sent on its own too.
	both := views + "journeys:\n  buy: {feeder: skus.csv, steps: [product, photo]}\n"
	if _, err := load(t, both); err == nil || !strings.Contains(err.Error(), `endpoint "photo" is also sent on its own, as an asset of page "product"`) {
		t.Errorf("a step that is also an asset: got\n%v", err)
	}
}

// A "{{" that opens no {{name}} (unclosed, or not a name) would go out as
// written (/product/%7B%7Bsku, a 404 on every journey): refused where it
// is written. {{ name }} with spaces and a JSON body's "}}" are fine.
func TestMalformedVarRefs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "skus.csv"), []byte("sku\njacket\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "m.yaml")
	text := `curve: "hold 1/s for 1m"
endpoints:
  - {name: product, path: "/product/{{sku"}
  - {name: p2, path: "/product/{{ sku }}", body: '{"a":{"b":"{{sku}}"}}'}
  - {name: p3, path: "/p/{{order-id}}", headers: {X-A: "{{ sku"}}
journeys:
  buy: {feeder: skus.csv, steps: [product, p2, p3]}
`
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(file)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 3 {
		t.Fatalf("got %d problems, want 3:\n%v", len(ps), err)
	}
	for _, want := range []string{
		file + `:3:28: endpoints[0].path: "{{sku" is no {{name}} reference`,
		file + `:5:23: endpoints[2].path: "{{order-id}}" is no {{name}} reference`,
		file + `:5:57: endpoints[2].headers.X-A: "{{ sku" is no {{name}} reference`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks\n%s\ngot\n%v", want, err)
		}
	}
}
