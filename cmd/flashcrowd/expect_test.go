package main

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flashcrowd/flashcrowd/cmd/flashcrowd/internal/kube"
	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

const checkScenario = `name: checks
curve: hold 20/s for 3s
endpoints:
  - name: page
    path: "/page?key=${ENV:FC_TEST_KEY}"
    headers: {Authorization: "Bearer ${ENV:FC_TEST_TOKEN}"}
    expect: {status: [200], body_contains: "Add to cart", min_bytes: 100}
slo: {p99: 2s, errors: 1%, throughput: 90%, grace: 1s}
`

// TestScenarioChecksAndEnv: a body_contains check fails exactly the pages
// that lack the text; summary.json counts them as errors of kind "check
// body_contains" and the verdict as failures (the run broke its 1%
// SLO: exit 3); the token from ${ENV:...} reached the server, and no file
// of the run holds it or the key.
func TestScenarioChecksAndEnv(t *testing.T) {
	const token, key = "tok-93be1d0c", "key-6a1f4e22"
	t.Setenv("FC_TEST_TOKEN", token)
	t.Setenv("FC_TEST_KEY", key)
	var (
		mu      sync.Mutex
		n, miss int
		auth    = map[string]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		lack := n%4 == 0 && r.Method == http.MethodGet
		if lack {
			miss++
		}
		auth[r.Header.Get("Authorization")+" "+r.URL.Query().Get("key")]++
		mu.Unlock()
		body := strings.Repeat("-", 200) + "Add to cart" + strings.Repeat("-", 200)
		if lack {
			body = strings.Repeat("-", 411)
		}
		w.Write([]byte(body))
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "checks.yaml")
	if err := os.WriteFile(file, []byte(checkScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCLI(t, "run", "--scenario", file, "--target", srv.URL, "--out", out, "--no-preflight")
	if code != exitSLO {
		t.Fatalf("exit %d, want %d (the checks fail 1 page in 4)\n%s%s", code, exitSLO, stdout, stderr)
	}
	var s report.Summary
	b, err := os.ReadFile(filepath.Join(out, report.SummaryFile))
	if err != nil || json.Unmarshal(b, &s) != nil {
		t.Fatalf("summary.json: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if s.Requests != 60 || miss != 15 {
		t.Fatalf("%d requests, %d pages without the text; want 60, 15", s.Requests, miss)
	}
	if s.Errors["check body_contains"] != uint64(miss) || len(s.Errors) != 1 {
		t.Errorf("summary.json errors %v, want check body_contains: %d", s.Errors, miss)
	}
	if s.SLOHeld || s.HostFailedRatio != 0.25 {
		t.Errorf("verdict: SLO held %v, failed ratio %g; want false, 0.25: %s", s.SLOHeld, s.HostFailedRatio, s.Verdict)
	}
	if auth["Bearer "+token+" "+key] != 60 {
		t.Errorf("the server saw %v, want the token and key on every request", auth)
	}
	// No file of the run holds a value from the environment.
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), token) || strings.Contains(string(b), key) {
			t.Errorf("%s holds a value from the environment", p)
		}
		return nil
	})
	if strings.Contains(stdout+stderr, token) || strings.Contains(stdout+stderr, key) {
		t.Errorf("the output holds a value from the environment:\n%s%s", stdout, stderr)
	}
	runJSON, _ := os.ReadFile(filepath.Join(out, scenarios.RunInfoFile))
	if !strings.Contains(string(runJSON), "Bearer ${ENV:FC_TEST_TOKEN}") || !strings.Contains(string(runJSON), `"body_contains": "Add to cart"`) {
		t.Errorf("run.json lacks the reference or the check:\n%s", runJSON)
	}
	// The per-endpoint view knows the results' endpoint by its written URL.
	if len(s.Endpoints) != 1 || s.Endpoints[0].Name != "page" {
		t.Errorf("endpoints %+v, want page alone", s.Endpoints)
	}

	// A missing variable: exit 2 naming file, line, column and variable,
	// before anything is sent.
	os.Unsetenv("FC_TEST_TOKEN")
	before := n
	mu.Unlock()
	code, _, stderr = runCLI(t, "run", "--scenario", file, "--target", srv.URL, "--out", filepath.Join(t.TempDir(), "r2"))
	mu.Lock()
	if want := file + ":6:38: endpoints[0].headers.Authorization: ${ENV:FC_TEST_TOKEN}: environment variable FC_TEST_TOKEN is not set"; code != exitUsage || !strings.Contains(stderr, want) || n != before {
		t.Errorf("missing variable: exit %d, %d requests sent\n%s\nwant %s", code, n-before, stderr, want)
	}
}

// TestScenarioBadChecks: a wrong check is exit 2 with file:line:col and
// the field.
func TestScenarioBadChecks(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.yaml")
	src := "curve: hold 1/s for 1s\nendpoints:\n  - path: /\n    expect: {status: \"abc\", min_bytes: -1, body: x}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "run", "--scenario", file, "--target", "http://127.0.0.1:1")
	for _, want := range []string{
		file + `:4:23: endpoints[0].expect.status: "abc" is not a status code`,
		file + `:4:40: endpoints[0].expect.min_bytes: must be >= 0, found -1`,
		file + `:4:44: endpoints[0].expect.body: unknown field`,
	} {
		if code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
}

// TestKubeEnvFromSecret: the ConfigMap holds the ${ENV:NAME} reference,
// not the value; the load pods take the variable from a Secret, and the
// next steps say how to create it.
func TestKubeEnvFromSecret(t *testing.T) {
	const token = "tok-kube-4d1c"
	t.Setenv("FC_TEST_TOKEN", token)
	t.Setenv("FC_TEST_KEY", "key-kube-77aa")
	file := filepath.Join(t.TempDir(), "checks.yaml")
	if err := os.WriteFile(file, []byte(checkScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "kubernetes", "--scenario", file, "--target=http://127.0.0.1:8080", "--shards=2", "--image=flashcrowd:test", "--name=envtest")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if strings.Contains(stdout+stderr, token) || strings.Contains(stdout+stderr, "key-kube-77aa") {
		t.Fatalf("the manifests or the output hold a value from the environment")
	}
	m, err := kube.Parse([]byte(stdout))
	if err != nil {
		t.Fatal(err)
	}
	if cm := m.ConfigMap.Data[kube.ScenarioFile]; !strings.Contains(cm, "${ENV:FC_TEST_TOKEN}") || !strings.Contains(cm, "body_contains") {
		t.Errorf("ConfigMap scenario:\n%s", cm)
	}
	refs := map[string]string{}
	for _, e := range m.Job.Spec.Template.Spec.Containers[0].Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			refs[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		}
	}
	if refs["FC_TEST_TOKEN"] != "envtest-env/FC_TEST_TOKEN" || refs["FC_TEST_KEY"] != "envtest-env/FC_TEST_KEY" {
		t.Errorf("pod env from secrets: %v", refs)
	}
	if !strings.Contains(stderr, `kubectl create secret generic envtest-env --from-literal=FC_TEST_KEY="$FC_TEST_KEY" --from-literal=FC_TEST_TOKEN="$FC_TEST_TOKEN"`) {
		t.Errorf("next steps lack the secret:\n%s", stderr)
	}
	// A pod resolves the references from its own environment.
	f := filepath.Join(t.TempDir(), "scenario.json")
	os.WriteFile(f, []byte(m.ConfigMap.Data[kube.ScenarioFile]), 0o644)
	s, err := scenarios.LoadEnv(f, os.LookupEnv)
	if err != nil || s.Endpoints[0].Header.Get("Authorization") != "Bearer "+token {
		t.Errorf("the resolved scenario in a pod: %v", err)
	}
}
