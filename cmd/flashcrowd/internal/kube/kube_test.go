package kube

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flashcrowd/flashcrowd/internal/golden"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

func small(t *testing.T) Rehearsal {
	t.Helper()
	c, err := scenarios.ParseCurve("test", "ramp 10/s to 100/s over 2s, hold 100/s for 1s", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &scenarios.Scenario{Name: "small", Curve: c, Compress: 1, Endpoints: scenarios.DefaultEndpoints(),
		SLO: scenarios.DefaultSLO, Abort: scenarios.DefaultAbort}
	b, err := scenarios.MarshalResolved(s)
	if err != nil {
		t.Fatal(err)
	}
	written := time.Date(2026, 3, 14, 8, 58, 0, 0, time.UTC)
	return Rehearsal{
		Name: "small", Namespace: "load", Image: "registry.example.com/flashcrowd:v1", Shards: 2,
		StartAt: written.Add(2 * time.Minute), Written: written, Duration: c.Duration(), Scenario: b,
		RunArgs:     []string{"--target=http://staging.example.com:8080", "--confirm=staging.example.com"},
		ResultsSize: "1Gi", CPU: "1", Memory: "1Gi",
	}
}

// TestGolden pins the manifests of a small rehearsal, and that they read
// back strictly into the same objects.
func TestGolden(t *testing.T) {
	m, err := Build(small(t))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := m.Write(&b, "a small rehearsal"); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/small.golden", b.Bytes())

	back, err := Parse(b.Bytes())
	if err != nil {
		t.Fatalf("parsing what Write wrote: %v", err)
	}
	var again bytes.Buffer
	if err := back.Write(&again, "a small rehearsal"); err != nil {
		t.Fatal(err)
	}
	if again.String() != b.String() {
		t.Errorf("manifests do not round-trip through the k8s.io/api types:\n%s", again.String())
	}
}

// TestParseStrict: an unknown field, a misspelt one or a foreign object
// is an error, not silently dropped.
func TestParseStrict(t *testing.T) {
	m, err := Build(small(t))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := m.Write(&b, ""); err != nil {
		t.Fatal(err)
	}
	good := b.String()
	for name, bad := range map[string]string{
		"unknown field":  strings.Replace(good, "  completionMode: Indexed\n", "  completionMode: Indexed\n  completionsMode: Indexed\n", 1),
		"misspelt field": strings.Replace(good, "backoffLimitPerIndex: 0", "backoffLimitPerIndx: 0", 1),
		"foreign object": good + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n",
		"no Job":         good[:strings.Index(good, "apiVersion: batch/v1")],
	} {
		if bad == good {
			t.Fatalf("%s: the edit did not apply", name)
		}
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

func TestValidate(t *testing.T) {
	for name, edit := range map[string]func(*Rehearsal){
		"image with spaces":  func(r *Rehearsal) { r.Image = "my image" },
		"upper-case name":    func(r *Rehearsal) { r.Name = "Small" },
		"no shards":          func(r *Rehearsal) { r.Shards = 0 },
		"bad size":           func(r *Rehearsal) { r.ResultsSize = "lots" },
		"bad cpu":            func(r *Rehearsal) { r.CPU = "one" },
		"huge scenario":      func(r *Rehearsal) { r.Scenario = bytes.Repeat([]byte{'x'}, 2<<20) },
		"huge plan file":     func(r *Rehearsal) { r.PlanFile, r.Plan = "big.yaml", bytes.Repeat([]byte{'x'}, 1<<20) },
		"plan file key":      func(r *Rehearsal) { r.PlanFile, r.Plan = "my plan.yaml", []byte("name: x\n") },
		"plan over scenario": func(r *Rehearsal) { r.PlanFile, r.Plan = ScenarioFile, []byte("name: x\n") },
		"plan without data":  func(r *Rehearsal) { r.PlanFile = "plan.yaml" },
		// An existing claim has its class: a class given too would be
		// silently ignored.
		"class with existing claim": func(r *Rehearsal) { r.ResultsPVC, r.StorageClass = "shared", "nfs" },
		"negative hold":             func(r *Rehearsal) { r.MetricsHold = -time.Second },
	} {
		r := small(t)
		edit(&r)
		if errs := r.Validate(); len(errs) == 0 {
			t.Errorf("%s: valid", name)
		}
		if _, err := Build(r); err == nil {
			t.Errorf("%s: built", name)
		}
	}
	r := small(t)
	if errs := r.Validate(); len(errs) != 0 {
		t.Errorf("the small rehearsal is invalid: %v", errs)
	}
}

// TestSize: the pods for a peak, by requests and by bandwidth, with the
// scenario's sizes where it states them.
func TestSize(t *testing.T) {
	eps := []scenarios.Endpoint{
		{Name: "page", Weight: 1, Class: scenarios.Page, Size: 20_000},
		{Name: "image", Weight: 8, Class: scenarios.Asset}, // assumed 100 KB
		{Name: "checkout", Weight: 1, Class: scenarios.API, Size: 1_000},
	}
	size := func(c scenarios.Class) int64 { return DefaultSizes[c] }
	s := Size(35000, eps, PodRate, DefaultPodBandwidth, size)
	// mean bytes: (20,000 + 8×100,000 + 1,000) / 10 = 82,100 B;
	// 35,000/s × 82,100 B × 8 = 22.99 Gbit/s → 23 pods of 1 Gbit/s.
	if s.MeanBytes != 82_100 || s.ByRate != 1 || s.ByBandwidth != 23 || s.Shards != 23 {
		t.Errorf("sizing %+v, want mean 82100 B, 1 by rate, 23 by bandwidth", s)
	}
	if txt := s.String(); !strings.Contains(txt, "23 pods") || !strings.Contains(txt, "image 100 KB (asset)") {
		t.Errorf("explanation:\n%s", txt)
	}
	// Tiny responses: the request budget decides.
	tiny := []scenarios.Endpoint{{Name: "ping", Weight: 1, Class: scenarios.API, Size: 10}}
	if s := Size(100_000, tiny, PodRate, DefaultPodBandwidth, size); s.Shards != 3 || s.ByRate != 3 {
		t.Errorf("100,000/s of 10 B: %+v, want 3 pods by rate", s)
	}
}

// TestDockerfile: the image holds the binary where the manifests run it,
// built static, and runs as the manifests' non-root user.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := string(b)
	for _, want := range []string{
		"CGO_ENABLED=0",
		"COPY --from=build /out/flashcrowd " + Binary + "\n",
		fmt.Sprintf("USER %d:%d\n", runAs, runAs),
		"FROM gcr.io/distroless/static",
		"-X main.stampVersion=${VERSION} -X main.stampRevision=${REVISION}",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

// TestShardArgsRunIDAndPlan: every shard gets the same --run-id (the
// rehearsal's name unless given), a plan file rides in the ConfigMap and
// --plan points at its mounted copy, and a user's $ stays literal where
// Kubernetes would expand $(VAR).
func TestShardArgsRunIDAndPlan(t *testing.T) {
	r := small(t)
	r.RunArgs = append(r.RunArgs, "--header=X-Price: $(JOB_COMPLETION_INDEX) $$5")
	r.ReportArgs = []string{"--slo=p99=1s"}
	r.PlanFile, r.Plan = "tiny.yaml", []byte("workers: 2\n")
	r.MetricsHold = 5 * time.Minute
	m, err := Build(r)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(m.Job.Spec.Template.Spec.Containers[0].Args, "\n")
	for _, want := range []string{"--run-id=small\n", "--plan=/etc/flashcrowd/tiny.yaml\n", "--header=X-Price: $$(JOB_COMPLETION_INDEX) $$$$5",
		"--shard=$(JOB_COMPLETION_INDEX)/2", "--out=/results/small/shard-$(JOB_COMPLETION_INDEX)"} {
		if !strings.Contains(args, want) {
			t.Errorf("shard args lack %q:\n%s", want, args)
		}
	}
	if got := m.ConfigMap.Data["tiny.yaml"]; got != "workers: 2\n" {
		t.Errorf("ConfigMap plan file %q", got)
	}
	if _, ok := m.ConfigMap.Data[ScenarioFile]; !ok {
		t.Errorf("ConfigMap lost %s", ScenarioFile)
	}
	// The deadline allows the metrics hold.
	want := int64((2*time.Minute + r.Duration + 10*time.Minute + 5*time.Minute).Seconds())
	if d := *m.Job.Spec.ActiveDeadlineSeconds; d != want {
		t.Errorf("activeDeadlineSeconds %d, want %d", d, want)
	}
	r.RunID = "launch-rehearsal-3"
	if args := strings.Join(r.ShardArgs(), " "); !strings.Contains(args, "--run-id=launch-rehearsal-3 ") {
		t.Errorf("--run-id given: %s", args)
	}
}

// TestSizeCap: capped at the curve's arrivals, the explanation says so,
// in the arrivals' own word.
func TestSizeCap(t *testing.T) {
	eps := []scenarios.Endpoint{{Name: "page", Weight: 1, Class: scenarios.Page, Size: 50_000}}
	s := Size(10_000, eps, PodRate, DefaultPodBandwidth, func(scenarios.Class) int64 { return 0 })
	if s.Shards != 4 {
		t.Fatalf("sizing %+v, want 4 pods", s)
	}
	s.Cap(10, "journeys")
	if s.Shards != 4 || s.Wanted != 0 || strings.Contains(s.String(), "capped") {
		t.Errorf("a cap above the figure changed it: %+v\n%s", s, s.String())
	}
	s.Cap(3, "journeys")
	if txt := s.String(); s.Shards != 3 || !strings.Contains(txt, "3 pods") || !strings.Contains(txt, "capped at the 3 journeys") || !strings.Contains(txt, "ask for 4") {
		t.Errorf("capped at 3: %+v\n%s", s, txt)
	}
}
