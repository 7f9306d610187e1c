package attack

import (
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

func pressMix(t testing.TB) []scenarios.Endpoint {
	s, err := scenarios.Builtin("press-spike")
	if err != nil {
		t.Fatal(err)
	}
	return s.Endpoints
}

func index(m *MixTargeter) map[string]int {
	out := map[string]int{}
	for i, t := range m.Targets() {
		out[t.URL] = i
	}
	return out
}

// TestMixTargeterExactOverWindows: over every window of picks, each
// endpoint's count is within 2 of window·weight/total (within 1 of it over
// every prefix), and over the mix's period it is exact.
func TestMixTargeterExactOverWindows(t *testing.T) {
	eps := pressMix(t)
	base, _ := url.Parse("http://127.0.0.1:1/shop")
	m, err := NewMixTargeter(base, eps, nil, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	idx := index(m)
	var total float64
	for _, e := range eps {
		total += e.Weight
	}
	const n = 20000
	seq := make([]int, n)
	prefix := make([][]int, n+1)
	prefix[0] = make([]int, len(eps))
	for i := range n {
		var tg vegeta.Target
		if err := m.Next(&tg); err != nil {
			t.Fatal(err)
		}
		seq[i] = idx[tg.URL]
		prefix[i+1] = append([]int(nil), prefix[i]...)
		prefix[i+1][seq[i]]++
		for k, e := range eps {
			if d := float64(prefix[i+1][k]) - float64(i+1)*e.Weight/total; math.Abs(d) >= 1 {
				t.Fatalf("after %d picks endpoint %q has %d, expected %.2f", i+1, e.Name, prefix[i+1][k], float64(i+1)*e.Weight/total)
			}
		}
	}
	for _, w := range []int{1, 7, 10, 100, 181, 1000} {
		for s := 0; s+w <= n; s += 13 {
			for k, e := range eps {
				got := prefix[s+w][k] - prefix[s][k]
				if d := float64(got) - float64(w)*e.Weight/total; math.Abs(d) >= 2 {
					t.Fatalf("window [%d,%d): %q picked %d times, expected %.2f", s, s+w, e.Name, got, float64(w)*e.Weight/total)
				}
			}
		}
	}
	// 9.05 total weight: 181 picks hold every endpoint exactly weight·20 times.
	for k, e := range eps {
		if got, want := prefix[181][k], int(math.Round(e.Weight*20)); got != want {
			t.Errorf("first 181 picks: %q %d times, want %d", e.Name, got, want)
		}
	}
	if u := m.Targets()[0].URL; u != "http://127.0.0.1:1/shop/p/jacket" {
		t.Errorf("joined URL %q", u)
	}
	if tg := m.Targets()[4]; tg.Method != "POST" || string(tg.Body) == "" || tg.Header.Get("Content-Type") != "application/json" {
		t.Errorf("checkout target %+v lost its method, body or header", tg)
	}
}

// TestMixTargeterShardsInterleave: shard i of n takes global picks i, i+n,
// …, so the shards' picks interleaved are the single sequence.
func TestMixTargeterShardsInterleave(t *testing.T) {
	eps := pressMix(t)
	base, _ := url.Parse("http://127.0.0.1:1")
	pick := func(shard, shards, n int) []string {
		m, err := NewMixTargeter(base, eps, nil, shard, shards)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, n)
		for i := range out {
			var tg vegeta.Target
			m.Next(&tg)
			out[i] = tg.URL
		}
		return out
	}
	single := pick(0, 1, 4000)
	shards := [][]string{pick(0, 4, 1000), pick(1, 4, 1000), pick(2, 4, 1000), pick(3, 4, 1000)}
	for g := range single {
		if got := shards[g%4][g/4]; got != single[g] {
			t.Fatalf("global pick %d: shard %d gave %s, single run %s", g, g%4, got, single[g])
		}
	}
	if _, err := NewMixTargeter(base, eps, nil, 4, 4); err == nil {
		t.Error("shard 4/4 accepted")
	}
}

// TestMixTargeterConcurrent: picks from many goroutines still hold the mix
// exactly, and every pick is counted.
func TestMixTargeterConcurrent(t *testing.T) {
	eps := []scenarios.Endpoint{{Name: "a", URL: "/a", Weight: 1}, {Name: "b", URL: "/b", Weight: 3}}
	base, _ := url.Parse("http://127.0.0.1:1")
	m, _ := NewMixTargeter(base, eps, http.Header{"X-Test": {"1"}}, 0, 1)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				var tg vegeta.Target
				m.Next(&tg)
				if tg.Header.Get("X-Test") != "1" {
					t.Error("extra header missing")
				}
			}
		})
	}
	wg.Wait()
	if p := m.Picks(); p[0] != 2000 || p[1] != 6000 || m.Calls() != 8000 {
		t.Errorf("picks %v, calls %d; want [2000 6000], 8000", p, m.Calls())
	}
}

func TestReadTargets(t *testing.T) {
	dir := t.TempDir()
	body := filepath.Join(dir, "body.json")
	os.WriteFile(body, []byte(`{"sku":1}`), 0o644)
	httpFile := filepath.Join(dir, "targets.txt")
	os.WriteFile(httpFile, []byte("# comment\nGET http://127.0.0.1:8080/p/1\nX-A: 1\n\nPOST http://127.0.0.1:8080/api/buy\nContent-Type: application/json\n@"+body+"\n\nGET http://127.0.0.1:8080/img/a.jpg\n"), 0o644)
	eps, err := ReadTargets(httpFile, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 3 || eps[0].Header.Get("X-A") != "1" || eps[1].Method != "POST" || eps[1].Body != `{"sku":1}` ||
		eps[1].Class != scenarios.API || eps[2].Class != scenarios.Asset || eps[0].Weight != 1 {
		t.Errorf("http targets read as %+v", eps)
	}
	jsonFile := filepath.Join(dir, "targets.json")
	os.WriteFile(jsonFile, []byte(`{"method":"GET","url":"http://127.0.0.1:8080/a"}
{"method":"POST","url":"http://127.0.0.1:8080/b","body":"aGk=","header":{"X-B":["2"]}}
`), 0o644)
	eps, err = ReadTargets(jsonFile, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 || eps[1].Body != "hi" || eps[1].Header.Get("X-B") != "2" {
		t.Errorf("json targets read as %+v", eps)
	}
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("FETCH me\n"), 0o644)
	if _, err := ReadTargets(bad, ""); err == nil || !strings.Contains(err.Error(), bad) || !scenarios.IsInvalid(err) {
		t.Errorf("bad targets file: err %v, want an invalid-input error naming the file", err)
	}
	if _, err := ReadTargets(httpFile, "yaml"); err == nil {
		t.Error("unknown format accepted")
	}
}

// FuzzReadTargets: any targets file is read or refused with an error,
// never a panic, and what is read has http(s) URLs.
func FuzzReadTargets(f *testing.F) {
	f.Add([]byte("GET http://127.0.0.1/\n"))
	f.Add([]byte("POST http://127.0.0.1/a\nX: y\n@/nonexistent\n"))
	f.Add([]byte(`{"method":"GET","url":"http://127.0.0.1/"}`))
	f.Add([]byte(`{"method":"GET","url":"ftp://x/"}`))
	f.Add([]byte("GET /relative\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "t")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Skip()
		}
		eps, err := ReadTargets(p, "")
		if err != nil {
			return
		}
		for _, e := range eps {
			if !strings.HasPrefix(e.URL, "http://") && !strings.HasPrefix(e.URL, "https://") {
				t.Errorf("endpoint URL %q", e.URL)
			}
		}
	})
}

func TestConfirm(t *testing.T) {
	for _, h := range []string{"localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "app.localhost"} {
		if !IsLoopback(h) {
			t.Errorf("IsLoopback(%q) = false", h)
		}
	}
	for _, h := range []string{"example.com", "10.0.0.1", "0.0.0.0", "192.168.1.1", "localhost.example.com", ""} {
		if IsLoopback(h) {
			t.Errorf("IsLoopback(%q) = true", h)
		}
	}
	if err := CheckConfirmed([]string{"127.0.0.1", "shop.example"}, nil); err == nil || !strings.Contains(err.Error(), "--confirm shop.example") {
		t.Errorf("unconfirmed host: %v", err)
	}
	if err := CheckConfirmed([]string{"127.0.0.1", "shop.example", "cdn.example"}, []string{"SHOP.example", "cdn.example"}); err != nil {
		t.Errorf("confirmed hosts refused: %v", err)
	}
}

// TestEndpointURL: paths join the target's path; "/" is the target itself
// (the default mix against --target http://h/ok sends GET /ok, not /ok/).
func TestEndpointURL(t *testing.T) {
	for _, tc := range []struct{ base, path, want string }{
		{"http://127.0.0.1:8080", "/", "http://127.0.0.1:8080/"},
		{"http://127.0.0.1:8080/", "/", "http://127.0.0.1:8080/"},
		{"http://127.0.0.1:8080/ok", "/", "http://127.0.0.1:8080/ok"},
		{"http://127.0.0.1:8080/search?q=x", "/", "http://127.0.0.1:8080/search?q=x"},
		{"http://127.0.0.1:8080/?q=x", "/", "http://127.0.0.1:8080/?q=x"},
		{"http://127.0.0.1:8080/shop/", "/p/jacket", "http://127.0.0.1:8080/shop/p/jacket"},
		{"http://127.0.0.1:8080/shop?utm=1", "/p/jacket?size=m", "http://127.0.0.1:8080/shop/p/jacket?size=m"},
		{"http://127.0.0.1:8080/shop", "http://[::1]:9/x", "http://[::1]:9/x"},
	} {
		base, err := url.Parse(tc.base)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := EndpointURL(base, tc.path); err != nil || got != tc.want {
			t.Errorf("EndpointURL(%q, %q) = %q, %v; want %q", tc.base, tc.path, got, err, tc.want)
		}
	}
}
