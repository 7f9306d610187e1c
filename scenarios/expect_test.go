package scenarios

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExpectParses(t *testing.T) {
	src := `curve: hold 1/s for 1m
endpoints:
  - name: home
    path: /
    expect: {status: [200, 304], body_contains: "Add to cart", max_latency: 2s, min_bytes: 1KB}
  - {name: one, path: /one, expect: {status: 200}}
  - {name: none, path: /none, expect: {}}
`
	s, err := Parse("e.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	x := s.Endpoints[0].Expect
	if x == nil || len(x.Status) != 2 || x.Status[1] != 304 || x.BodyContains != "Add to cart" || x.MaxLatency != 2*time.Second || x.MinBytes != 1000 {
		t.Fatalf("expect %+v", x)
	}
	if got := x.String(); got != `{status: [200, 304], min_bytes: 1000, body_contains: "Add to cart", max_latency: 2s}` {
		t.Errorf("String() = %s", got)
	}
	if !x.AllowsStatus(304) || x.AllowsStatus(201) {
		t.Error("AllowsStatus")
	}
	if y := s.Endpoints[1].Expect; y == nil || len(y.Status) != 1 || y.Status[0] != 200 {
		t.Errorf("single status: %+v", y)
	}
	if s.Endpoints[2].Expect != nil {
		t.Errorf("empty expect gives checks: %+v", s.Endpoints[2].Expect)
	}
	// Checks survive a resolved scenario file (the pods of a Kubernetes Job).
	b, err := MarshalResolved(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"max_latency": "2s"`) {
		t.Errorf("max_latency not written as a duration:\n%s", b)
	}
	r, err := parseResolved("r.json", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Endpoints[0].Expect.String() != x.String() {
		t.Errorf("round trip: %s, want %s", r.Endpoints[0].Expect, x)
	}
}

func TestBadExpectNamesTheField(t *testing.T) {
	src := `curve: hold 1/s for 1m
endpoints:
  - path: /a
    expect: {status: "abc", min_bytes: -5, colour: red}
  - path: /b
    expect: {status: [200, 503], body_contains: "", max_latency: 0s}
  - path: /c
    expect: [200]
  - path: /d
    expect: {status: {a: 1}, min_bytes: lots, max_latency: soon}
  - {name: d2, path: /d, expect: {status: 201}}
`
	_, err := Parse("x.yaml", []byte(src), nil)
	if err == nil {
		t.Fatal("bad checks accepted")
	}
	for _, want := range []string{
		`x.yaml:4:23: endpoints[0].expect.status: "abc" is not a status code`,
		`x.yaml:4:40: endpoints[0].expect.min_bytes: must be >= 0, found -5`,
		`x.yaml:4:44: endpoints[0].expect.colour: unknown field (known: body_contains, max_latency, min_bytes, status)`,
		`x.yaml:6:28: endpoints[1].expect.status[1]: 503: only 2xx and 3xx codes can be expected`,
		`x.yaml:6:50: endpoints[1].expect.body_contains: is empty`,
		`x.yaml:6:66: endpoints[1].expect.max_latency: must be > 0`,
		`x.yaml:8:13: endpoints[2].expect: want a map of fields`,
		`x.yaml:10:23: endpoints[3].expect.status: want a status code or a list of them`,
		`x.yaml:10:41: endpoints[3].expect.min_bytes: size "lots"`,
		`x.yaml:10:60: endpoints[3].expect.max_latency: duration "soon"`,
		`x.yaml:11:35: endpoints[4].expect: endpoint "d2" sends the same GET /d as "/d" with other checks`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if !IsInvalid(err) {
		t.Errorf("not an input problem: %v", err)
	}
}

func TestCheckErrorKinds(t *testing.T) {
	for _, name := range []string{CheckStatus, CheckMinBytes, CheckBodyContains, CheckMaxLatency} {
		e := CheckError(name, "what went wrong: with a colon")
		if k := ErrorKind(200, e); k != "check "+name {
			t.Errorf("ErrorKind(200, %q) = %q", e, k)
		}
		if k, ok := CheckKind(e); !ok || k != "check "+name {
			t.Errorf("CheckKind(%q) = %q, %v", e, k, ok)
		}
	}
	for _, e := range []string{"check nothing: x", "checkstatus", "503 Service Unavailable", ""} {
		if k, ok := CheckKind(e); ok {
			t.Errorf("CheckKind(%q) = %q", e, k)
		}
	}
	if k := ErrorKind(503, "503 Service Unavailable"); k != "http 503" {
		t.Errorf("503: %q", k)
	}
	if k := ErrorKind(0, `Get "http://127.0.0.1/check status: x": dial tcp: connection refused`); k != ErrRefused {
		t.Errorf("transport error whose URL says check: %q", k)
	}
}

// env is a fixed environment for the tests.
func env(vars map[string]string) Env {
	return func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
}

func TestEnvReferencesResolveAndRedact(t *testing.T) {
	src := `curve: hold 1/s for 1m
endpoints:
  - name: api
    url: "http://${ENV:FC_HOST}/api/items?key=${ENV:FC_KEY}"
    method: POST
    headers: {Authorization: "Bearer ${ENV:FC_TOKEN}", Accept: text/html}
    body: '{"user": "${ENV:FC_USER}"}'
    expect: {body_contains: "${ENV:FC_USER}"}
  - {name: home, path: /}
`
	vars := map[string]string{"FC_HOST": "127.0.0.1:8080", "FC_KEY": "k-s3cret", "FC_TOKEN": "t-s3cret", "FC_USER": "u-s3cret"}
	s, err := ParseEnv("e.yaml", []byte(src), nil, env(vars))
	if err != nil {
		t.Fatal(err)
	}
	e := s.Endpoints[0]
	if e.URL != "http://127.0.0.1:8080/api/items?key=k-s3cret" || e.Header.Get("Authorization") != "Bearer t-s3cret" ||
		e.Body != `{"user": "u-s3cret"}` || e.Expect.BodyContains != "u-s3cret" || e.Class != API {
		t.Fatalf("not resolved: %+v %+v", e, e.Expect)
	}
	if !s.FromEnv() || s.Endpoints[1].Redacted().URL != "/" {
		t.Error("FromEnv or an endpoint without references")
	}
	// Redacted swaps the values back and keeps the rest.
	if w := e.Redacted(); w.Name != "api" || w.Class != API || w.Method != "POST" || w.Weight != 1 || w.Header.Get("Accept") != "text/html" ||
		w.URL != "http://${ENV:FC_HOST}/api/items?key=${ENV:FC_KEY}" || w.Body != `{"user": "${ENV:FC_USER}"}` || w.Expect.BodyContains != "${ENV:FC_USER}" {
		t.Errorf("redacted endpoint %+v %+v", w, w.Expect)
	}
	if got := strings.Join(s.EnvNames(), ","); got != "FC_HOST,FC_KEY,FC_USER,FC_TOKEN" {
		t.Errorf("EnvNames = %s", got)
	}
	// Nothing written down holds a value: run.json and the resolved file.
	dir := t.TempDir()
	if err := WriteRunInfo(dir, &RunInfo{Scenario: s, Shards: 1}); err != nil {
		t.Fatal(err)
	}
	runJSON, _ := os.ReadFile(filepath.Join(dir, RunInfoFile))
	resolved, err := MarshalResolved(s)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(s.Redacted())
	for name, out := range map[string][]byte{"run.json": runJSON, "resolved": resolved, "Redacted": plain} {
		for _, v := range vars {
			if strings.Contains(string(out), v) && v != vars["FC_HOST"] {
				t.Errorf("%s holds the value %q:\n%s", name, v, out)
			}
		}
		if !strings.Contains(string(out), "${ENV:FC_TOKEN}") || !strings.Contains(string(out), "${ENV:FC_HOST}") {
			t.Errorf("%s lacks the references:\n%s", name, out)
		}
	}
	// The original is unchanged by Redacted.
	if s.Endpoints[0].Header.Get("Authorization") != "Bearer t-s3cret" {
		t.Error("Redacted changed the scenario")
	}
	// A resolved file resolves its references from the loading machine's
	// environment; without them it is refused, naming the variable.
	f := filepath.Join(dir, "scenario.json")
	if err := os.WriteFile(f, resolved, 0o644); err != nil {
		t.Fatal(err)
	}
	vars["FC_TOKEN"] = "pod-token"
	r, err := LoadEnv(f, env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if r.Endpoints[0].Header.Get("Authorization") != "Bearer pod-token" || r.Endpoints[0].URL != e.URL {
		t.Errorf("resolved file: %+v", r.Endpoints[0])
	}
	if _, err := Load(f); err == nil || !strings.Contains(err.Error(), "scenario.endpoints[0].url: ${ENV:FC_HOST}: environment variable FC_HOST is not set") {
		t.Errorf("resolved file without its variables: %v", err)
	}
}

func TestEnvProblemsHavePositions(t *testing.T) {
	src := "name: ${ENV:NAME}\ncurve: hold 1/s for 1m\nendpoints:\n  - path: /a?k=${ENV:FC_MISSING}\n    headers: {X-Key: \"${ENV:FC_SET}${ENV:9BAD}\"}\n    body: \"x ${ENV:FC_OPEN\"\n  - {path: \"${ENV:FC_SET}\"}\n"
	_, err := ParseEnv("p.yaml", []byte(src), nil, env(map[string]string{"FC_SET": "abc-secret-value"}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		"p.yaml:1:7: name: ${ENV:NAME} is resolved only in an endpoint's path, url, headers, body and expect.body_contains",
		"p.yaml:4:16: endpoints[0].path: ${ENV:FC_MISSING}: environment variable FC_MISSING is not set",
		"p.yaml:5:36: endpoints[0].headers.X-Key: ${ENV:9BAD}: not a variable name",
		"p.yaml:6:14: endpoints[0].body: ${ENV:FC_OPEN: unclosed reference",
		`p.yaml:7:13: endpoints[1].path: "${ENV:FC_SET}" must start with /`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "abc-secret-value") {
		t.Errorf("a problem shows a variable's value:\n%v", err)
	}
	// Without an environment, any reference is a missing variable.
	if _, err := Parse("p.yaml", []byte("curve: hold 1/s for 1m\nendpoints: [{path: \"/${ENV:FC_SET}\"}]\n"), nil); err == nil ||
		!strings.Contains(err.Error(), "p.yaml:2:22: endpoints[0].path: ${ENV:FC_SET}: environment variable FC_SET is not set") {
		t.Errorf("no environment: %v", err)
	}
}
