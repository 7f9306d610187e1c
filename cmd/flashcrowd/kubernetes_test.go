package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/flashcrowd/flashcrowd/cmd/flashcrowd/internal/kube"
	"github.com/flashcrowd/flashcrowd/hosting"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// The emulation's curve: press-spike compressed 20,000× with its peak at
// 300/s: exponential climb, hold and decay in about 3 s, a few hundred
// requests, split over kubeShards pods.
var kubeCurveFlags = []string{"--scenario=press-spike", "--compress=20000", "--peak=300/s"}

const kubeShards = 3

// buildFlashcrowd builds the real binary, as the image holds it.
func buildFlashcrowd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "flashcrowd")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// kubeExpected is the single-machine schedule's request count, computed
// here from the built-in scenario, not from the manifests.
func kubeExpected(t *testing.T) uint64 {
	t.Helper()
	s, err := scenarios.Load("press-spike")
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Curve.Compress(20000)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = c.ScalePeak(300); err != nil {
		t.Fatal(err)
	}
	return c.Requests()
}

// pod is one container as the kubelet would start it, on this machine:
// its command, arguments and environment expanded, each volume a folder.
type pod struct {
	name string
	argv []string
	env  []string
}

var varRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// expand does Kubernetes's $(VAR) expansion of command and args: a
// defined variable is replaced, $$ is a literal $, anything else stays.
func expand(s string, env map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		if v, ok := env[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// emulate turns the pod template of a Job into the process the kubelet
// would start for completion index idx (-1: not an Indexed Job): env from
// the container (fieldRefs to the completion-index annotation resolved),
// JOB_COMPLETION_INDEX as the Job controller adds it, each ConfigMap volume
// written out at a stand-in folder for its mountPath, the results claim the
// shared folder results, an emptyDir a fresh folder. Paths under a
// mountPath in the arguments are rewritten to the stand-in (the one thing
// a container's own file system view does that a child process cannot).
func emulate(t *testing.T, bin string, spec *corev1.PodSpec, cms map[string]*corev1.ConfigMap, results string, idx int, metrics bool) pod {
	t.Helper()
	if len(spec.Containers) != 1 || len(spec.InitContainers) > 0 {
		t.Fatalf("want one container, got %d (+%d init)", len(spec.Containers), len(spec.InitContainers))
	}
	c := spec.Containers[0]
	env := map[string]string{}
	if idx >= 0 {
		env[kube.IndexEnv] = strconv.Itoa(idx)
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = expand(e.Value, env)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']":
			if idx < 0 {
				t.Fatalf("env %s: a completion index outside an Indexed Job", e.Name)
			}
			env[e.Name] = strconv.Itoa(idx)
		default:
			t.Fatalf("env %s: the emulation knows no such source", e.Name)
		}
	}
	vols := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		vols[v.Name] = v
	}
	standIn := map[string]string{}
	for _, m := range c.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			t.Fatalf("volume mount %s: no such volume", m.Name)
		}
		switch {
		case v.ConfigMap != nil:
			cm := cms[v.ConfigMap.Name]
			if cm == nil {
				t.Fatalf("volume %s: no ConfigMap %s in the manifests", v.Name, v.ConfigMap.Name)
			}
			dir := t.TempDir()
			for k, data := range cm.Data {
				if err := os.WriteFile(filepath.Join(dir, k), []byte(data), 0o444); err != nil {
					t.Fatal(err)
				}
			}
			standIn[m.MountPath] = dir
		case v.PersistentVolumeClaim != nil:
			standIn[m.MountPath] = results
		case v.EmptyDir != nil:
			standIn[m.MountPath] = t.TempDir()
		default:
			t.Fatalf("volume %s: the emulation knows no such source", v.Name)
		}
	}
	// One pass over each argument, longest mount paths first (so that
	// /a/b wins over /a): a stand-in is never rewritten again.
	mps := make([]string, 0, len(standIn))
	for mp := range standIn {
		mps = append(mps, regexp.QuoteMeta(mp))
	}
	sort.Slice(mps, func(i, j int) bool { return len(mps[i]) > len(mps[j]) })
	mountRef := regexp.MustCompile(`(^|=)(` + strings.Join(mps, "|") + `)(/|$)`)
	rewrite := func(s string) string {
		return mountRef.ReplaceAllStringFunc(s, func(m string) string {
			sm := mountRef.FindStringSubmatch(m)
			return sm[1] + filepath.ToSlash(standIn[sm[2]]) + sm[3]
		})
	}
	argv := append(append([]string(nil), c.Command...), c.Args...)
	if argv[0] != kube.Binary {
		t.Fatalf("container runs %s, not %s (the image's binary)", argv[0], kube.Binary)
	}
	out := []string{bin}
	for _, a := range argv[1:] {
		a = rewrite(expand(a, env))
		if v, ok := strings.CutPrefix(a, "--metrics-addr="); ok {
			if !metrics {
				t.Logf("dropping %s: `run` has no --metrics-addr on this branch yet", a)
				continue
			}
			// Each pod has its own network namespace; here they share one.
			if v != ":"+strconv.Itoa(kube.MetricsPort) {
				t.Fatalf("--metrics-addr=%s, want :%d (the container port named metrics)", v, kube.MetricsPort)
			}
			a = "--metrics-addr=127.0.0.1:0"
		}
		out = append(out, a)
	}
	penv := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	if tmp, ok := standIn["/tmp"]; ok {
		penv = append(penv, "TMPDIR="+tmp)
	}
	for k, v := range env {
		penv = append(penv, k+"="+v)
	}
	return pod{name: fmt.Sprintf("index %d", idx), argv: out, env: penv}
}

// start runs p, bounded by ctx, and returns its exit status and output
// once it ends.
func (p pod) start(ctx context.Context) <-chan podResult {
	ch := make(chan podResult, 1)
	cmd := exec.CommandContext(ctx, p.argv[0], p.argv[1:]...)
	cmd.Env = p.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	go func() {
		err := cmd.Run()
		ch <- podResult{code: exitStatus(err), stdout: stdout.String(), stderr: stderr.String()}
	}()
	return ch
}

type podResult struct {
	code           int
	stdout, stderr string
}

// runHasMetrics tells whether `run` has --metrics-addr on this branch.
func runHasMetrics() bool {
	c := commands["run"]
	fs := newFlagSet(c)
	c.flags(fs)
	return fs.Lookup("metrics-addr") != nil
}

// TestKubeEmulatedJob writes a rehearsal's manifests with the real binary,
// parses them back strictly into k8s.io/api types and does what the Job
// controller and kubelet would: starts each index's container (here a
// child process) against a loopback server, then the report Job over the
// shared results folder. The merged report counts exactly the requests of
// the single-machine schedule; with one shard's folder missing it says the
// report is incomplete and names the shard; a pod started after the start
// instant refuses to send.
func TestKubeEmulatedJob(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a rehearsal on loopback (go test without -short runs it)")
	}
	bin := buildFlashcrowd(t)
	srv, seen := countingServer(t, 0, 200)
	want := kubeExpected(t)

	// The shards start 7 s after the manifests are written: time for three
	// processes to start on a busy machine (a pod later than 1 s fails).
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	m := kubeWrite(t, ctx, bin, append(append([]string{}, kubeCurveFlags...),
		"--shards="+strconv.Itoa(kubeShards), "--target="+srv.URL, "--no-abort", "--start-at=+7s")...)
	checkJobShape(t, m, kubeShards)

	cms := map[string]*corev1.ConfigMap{m.ConfigMap.Name: m.ConfigMap}
	results := t.TempDir()
	metrics := runHasMetrics()
	n := int(*m.Job.Spec.Completions)
	pods := make([]pod, n)
	for i := range n {
		pods[i] = emulate(t, bin, &m.Job.Spec.Template.Spec, cms, results, i, metrics)
	}
	t.Logf("index 0 runs: %s", strings.Join(pods[0].argv[1:], " "))
	// parallelism = completions: every index at once.
	var wg sync.WaitGroup
	res := make([]podResult, n)
	for i, p := range pods {
		wg.Add(1)
		go func() { defer wg.Done(); res[i] = <-p.start(ctx) }()
	}
	wg.Wait()
	for i, r := range res {
		if r.code != 0 {
			t.Fatalf("index %d exited %d\nstdout:\n%s\nstderr:\n%s", i, r.code, r.stdout, r.stderr)
		}
	}
	if got := uint64(seen.Load()); got != want {
		t.Errorf("the server saw %d requests, want the schedule's %d", got, want)
	}

	// Every shard on the same t = 0; their skews are logged (timing on a
	// shared machine is not asserted).
	runDir := filepath.Join(results, "rehearsal")
	var start time.Time
	for i := range n {
		ri, err := scenarios.ReadRunInfo(filepath.Join(runDir, fmt.Sprintf("shard-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if ri.Shard != i || ri.Shards != n {
			t.Errorf("shard-%d/run.json says shard %d/%d", i, ri.Shard, ri.Shards)
		}
		if i == 0 {
			start = ri.Start
		} else if !ri.Start.Equal(start) {
			t.Errorf("shard %d started its curve at %s, shard 0 at %s", i, ri.Start, start)
		}
		t.Logf("shard %d: start skew %s, clock offset %s (%s)", i, ri.StartSkew, ri.ClockOffset, ri.ClockRef)
	}

	// The report Job, resumed.
	if m.Report.Spec.Suspend == nil || !*m.Report.Spec.Suspend {
		t.Errorf("the report Job is not suspended: it would run before the shards finish")
	}
	rp := emulate(t, bin, &m.Report.Spec.Template.Spec, cms, results, -1, metrics)
	r := <-rp.start(ctx)
	if r.code != 0 {
		t.Fatalf("report job exited %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	sum := readKubeSummary(t, filepath.Join(runDir, "report"))
	if sum.Requests != want {
		t.Errorf("merged report counts %d requests, want the schedule's %d exactly", sum.Requests, want)
	}
	for _, w := range sum.Warnings {
		if strings.Contains(w, "incomplete") || strings.Contains(w, "missing") {
			t.Errorf("complete report warns: %s", w)
		}
	}
	if strings.HasPrefix(sum.Verdict, "Incomplete") {
		t.Errorf("complete report's verdict: %q", sum.Verdict)
	}

	// One shard lost: the same report step over a results volume where
	// shard 1's pod was killed while it waited for the start (its folder
	// and an empty results file, nothing else) says the report is
	// incomplete and which shard is missing.
	lost := t.TempDir()
	for i := range n {
		to := filepath.Join(lost, "rehearsal", fmt.Sprintf("shard-%d", i))
		if i != 1 {
			copyDir(t, filepath.Join(runDir, fmt.Sprintf("shard-%d", i)), to)
			continue
		}
		if err := os.MkdirAll(to, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, "results.gob"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rp = emulate(t, bin, &m.Report.Spec.Template.Spec, cms, lost, -1, metrics)
	r = <-rp.start(ctx)
	if r.code != exitSLO { // incomplete: not shown to hold
		t.Fatalf("report job over two shards exited %d, want 3\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	sum = readKubeSummary(t, filepath.Join(lost, "rehearsal", "report"))
	if sum.Requests >= want {
		t.Errorf("report without shard 1 counts %d requests, want fewer than %d", sum.Requests, want)
	}
	if !containsAll(strings.Join(sum.Warnings, "\n"), "incomplete", "shard 1 of 3 missing") || !strings.HasPrefix(sum.Verdict, "Incomplete") {
		t.Errorf("report without shard 1 does not say it is incomplete; verdict %q, warnings %q\nstdout:\n%s", sum.Verdict, sum.Warnings, r.stdout)
	}

	// One shard killed mid-run: its run.json as written at the start (no
	// end time), its results file cut in the middle, no saved windows.
	killed := t.TempDir()
	for i := range n {
		copyDir(t, filepath.Join(runDir, fmt.Sprintf("shard-%d", i)), filepath.Join(killed, "rehearsal", fmt.Sprintf("shard-%d", i)))
	}
	k := filepath.Join(killed, "rehearsal", "shard-1")
	killShard(t, k)
	rp = emulate(t, bin, &m.Report.Spec.Template.Spec, cms, killed, -1, metrics)
	r = <-rp.start(ctx)
	if r.code != exitSLO { // incomplete: not shown to hold
		t.Fatalf("report job with a killed shard exited %d, want 3\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	sum = readKubeSummary(t, filepath.Join(killed, "rehearsal", "report"))
	if sum.Requests >= want {
		t.Errorf("report with shard 1 killed counts %d requests, want fewer than %d", sum.Requests, want)
	}
	if !containsAll(strings.Join(sum.Warnings, "\n"), "incomplete: shard 1 did not finish") || !strings.HasPrefix(sum.Verdict, "Incomplete") {
		t.Errorf("report with shard 1 killed does not say it is incomplete; verdict %q, warnings %q", sum.Verdict, sum.Warnings)
	}

	// A pod started after the start instant (a rescheduled pod, a slow
	// image pull) refuses to send a shifted schedule.
	if d := time.Until(start.Add(2 * time.Second)); d > 0 {
		time.Sleep(d)
	}
	late := emulate(t, bin, &m.Job.Spec.Template.Spec, cms, t.TempDir(), 0, metrics)
	before := seen.Load()
	r = <-late.start(ctx)
	if r.code == 0 || !strings.Contains(r.stderr, "shifted schedule") {
		t.Errorf("a late pod exited %d, want a failure that says it would send a shifted schedule; stderr:\n%s", r.code, r.stderr)
	}
	if seen.Load() != before {
		t.Errorf("a late pod sent %d requests", seen.Load()-before)
	}
}

// checkJobShape checks what the issue asks of the Job.
func checkJobShape(t *testing.T, m *kube.Manifests, n int) {
	t.Helper()
	js := m.Job.Spec
	switch {
	case js.CompletionMode == nil || *js.CompletionMode != "Indexed":
		t.Errorf("completionMode %v, want Indexed", js.CompletionMode)
	case js.Completions == nil || *js.Completions != int32(n) || js.Parallelism == nil || *js.Parallelism != int32(n):
		t.Errorf("completions %v parallelism %v, want %d each", js.Completions, js.Parallelism, n)
	case (js.BackoffLimit == nil || *js.BackoffLimit != 0) && (js.BackoffLimitPerIndex == nil || *js.BackoffLimitPerIndex != 0):
		t.Errorf("a failed shard may be retried (it would send a shifted schedule)")
	case js.PodFailurePolicy == nil:
		t.Errorf("no podFailurePolicy")
	case js.Template.Spec.RestartPolicy != corev1.RestartPolicyNever:
		t.Errorf("restartPolicy %s", js.Template.Spec.RestartPolicy)
	}
	c := js.Template.Spec.Containers[0]
	if len(c.Ports) != 1 || c.Ports[0].Name != "metrics" || c.Ports[0].ContainerPort != kube.MetricsPort {
		t.Errorf("ports %+v, want one named metrics on %d", c.Ports, kube.MetricsPort)
	}
	if q := c.Resources.Requests.Cpu(); q.String() != "1" {
		t.Errorf("cpu request %s, want 1", q)
	}
	if a := js.Template.Spec.Affinity; a == nil || a.PodAntiAffinity == nil {
		t.Errorf("no pod anti-affinity")
	}
	if !strings.Contains(strings.Join(c.Args, " "), "--start-at=20") {
		t.Errorf("--start-at is not an absolute instant: %q", c.Args)
	}
	if m.PVC == nil || len(m.PVC.Spec.AccessModes) != 1 || m.PVC.Spec.AccessModes[0] != corev1.ReadWriteMany {
		t.Errorf("results claim %+v, want one ReadWriteMany claim", m.PVC)
	}
	if _, ok := m.ConfigMap.Data[kube.ScenarioFile]; !ok {
		t.Errorf("ConfigMap has no %s", kube.ScenarioFile)
	}
}

type kubeSummary struct {
	Requests uint64   `json:"requests"`
	Verdict  string   `json:"verdict"`
	Warnings []string `json:"warnings"`
}

func readKubeSummary(t *testing.T, dir string) kubeSummary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s kubeSummary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

// TestKubeBadInput: each mistake exits 2 and writes nothing.
func TestKubeBadInput(t *testing.T) {
	base := []string{"kubernetes", "--rate=50/s", "--duration=2s", "--target=http://127.0.0.1:8080", "--image=flashcrowd:test"}
	for name, extra := range map[string][]string{
		"no shards":               {"--shards=0"},
		"shards not a number":     {"--shards=many"},
		"image with spaces":       {"--image=my flashcrowd:v1"},
		"start in the past":       {"--start-at=2020-01-01T00:00:00Z"},
		"more shards than sends":  {"--shards=101"},
		"unconfirmed real target": {"--target=https://staging.example.com"},
		"bad pod bandwidth":       {"--pod-bandwidth=fast"},
		"bad results size":        {"--results-size=lots"},
		"bad run flag":            {"--timeout=0s"},
		// An existing claim has its own class and size: either given
		// too would be silently ignored.
		"class with existing claim": {"--results-pvc=shared", "--storage-class=nfs"},
		"size with existing claim":  {"--results-pvc=shared", "--results-size=50Gi"},
		"empty run id":              {"--run-id="},
	} {
		dir := filepath.Join(t.TempDir(), "out")
		args := append(append(append([]string(nil), base...), extra...), "--out="+dir)
		code, stdout, stderr := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want 2\n%s", name, code, stderr)
		}
		if _, err := os.Stat(dir); err == nil || stdout != "" {
			t.Errorf("%s: wrote something (%s exists, or stdout %q)", name, dir, stdout)
		}
	}
	// 100 requests, 100 shards: one each, the most there can be.
	if code, _, stderr := runCLI(t, append(base, "--shards=100")...); code != exitOK {
		t.Errorf("--shards equal to the request count: exit %d\n%s", code, stderr)
	}
}

// TestKubeAuto: --shards auto sizes by bandwidth for 50 KB pages and says
// how; the manifest has that many pods, and the scenario in the ConfigMap
// is the resolved curve (compressed and capped), marked resolved.
func TestKubeAuto(t *testing.T) {
	code, stdout, stderr := runCLI(t, "kubernetes", "--curve=ramp 1000/s to 70000/s over 20s", "--max-rate=60000/s",
		"--target=http://127.0.0.1:8080", "--shards=auto", "--image=flashcrowd:test")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	// 60,000/s × 50 KB × 8 = 24 Gbit/s over 1 Gbit/s pods: 24; by
	// requests 60,000 / 35,000: 2.
	if !containsAll(stderr, "24 pods", "= 2\n", "= 24\n", "home 50 KB (page)") {
		t.Errorf("explanation:\n%s", stderr)
	}
	m, err := kube.Parse([]byte(stdout))
	if err != nil {
		t.Fatal(err)
	}
	if *m.Job.Spec.Completions != 24 {
		t.Errorf("completions %d, want 24", *m.Job.Spec.Completions)
	}
	f := filepath.Join(t.TempDir(), "scenario.json")
	if err := os.WriteFile(f, []byte(m.ConfigMap.Data[kube.ScenarioFile]), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenarios.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Resolved || s.Curve.Peak() != 60000 {
		t.Errorf("ConfigMap scenario: resolved %v, peak %g; want the capped curve, resolved", s.Resolved, s.Curve.Peak())
	}
	// A shard given the resolved scenario refuses to transform it again.
	if code, _, stderr := runCLI(t, "run", "--scenario="+f, "--peak=10/s", "--target=http://127.0.0.1:8080"); code != exitUsage || !strings.Contains(stderr, "resolved") {
		t.Errorf("run --peak on a resolved scenario: exit %d\n%s", code, stderr)
	}
}

// TestKubeReportGlob: report expands the report Job's shard-* itself (the
// image has no shell), shard-10 after shard-9, and a pattern matching
// nothing is an error naming it.
func TestKubeReportGlob(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"shard-10", "shard-9", "shard-0", "report"} {
		if err := os.Mkdir(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got, err := expandArgs([]string{filepath.Join(dir, "shard-*"), "plain"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "shard-0"), filepath.Join(dir, "shard-9"), filepath.Join(dir, "shard-10"), "plain"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("expanded %q, want %q", got, want)
	}
	if _, err := expandArgs([]string{filepath.Join(dir, "nothing-*")}); err == nil || !strings.Contains(err.Error(), "nothing-*") {
		t.Errorf("a pattern matching nothing: %v", err)
	}
}

// discovery is the little of the API server's discovery kubectl needs to
// map the manifests' kinds to resources: enough for --dry-run=client.
var discovery = map[string]any{
	"/api": map[string]any{"kind": "APIVersions", "versions": []string{"v1"},
		"serverAddressByClientCIDRs": []any{map[string]string{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}}},
	"/api/v1": map[string]any{"kind": "APIResourceList", "groupVersion": "v1", "resources": []any{
		map[string]any{"name": "configmaps", "singularName": "configmap", "namespaced": true, "kind": "ConfigMap", "verbs": []string{"create", "get", "patch"}},
		map[string]any{"name": "persistentvolumeclaims", "singularName": "persistentvolumeclaim", "namespaced": true, "kind": "PersistentVolumeClaim", "verbs": []string{"create", "get", "patch"}},
	}},
	"/apis": map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": []any{map[string]any{"name": "batch",
		"versions":         []any{map[string]string{"groupVersion": "batch/v1", "version": "v1"}},
		"preferredVersion": map[string]string{"groupVersion": "batch/v1", "version": "v1"}}}},
	"/apis/batch/v1": map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "batch/v1", "resources": []any{
		map[string]any{"name": "jobs", "singularName": "job", "namespaced": true, "kind": "Job", "verbs": []string{"create", "get", "patch"}},
	}},
}

// TestKubeKubectl: where kubectl is installed, it reads the manifests
// (kubectl apply --dry-run=client, and create --dry-run=client -o yaml,
// whose output reads back strictly into the same objects). kubectl needs
// an API server's discovery even for a client-side dry run: a loopback
// stand-in answers it. Skipped without kubectl.
func TestKubeKubectl(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed (apt-get install kubectl)")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := discovery[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(d)
	}))
	defer srv.Close()
	code, stdout, stderr := runCLI(t, append(append([]string{"kubernetes"}, kubeCurveFlags...),
		"--shards=3", "--target=http://127.0.0.1:8080", "--image=flashcrowd:test", "--namespace=load")...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	file := filepath.Join(t.TempDir(), "rehearsal.yaml")
	if err := os.WriteFile(file, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kc := func(args ...string) string {
		cmd := exec.CommandContext(ctx, kubectl, append(args, "--validate=false", "-f", file, "--server="+srv.URL)...)
		cmd.Env = []string{"HOME=" + home, "KUBECONFIG=" + filepath.Join(home, "none"), "PATH=" + os.Getenv("PATH")}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		return out.String()
	}
	applied := kc("apply", "--dry-run=client")
	if n := strings.Count(applied, "created (dry run)"); n != 4 {
		t.Errorf("kubectl apply --dry-run=client created %d objects, want 4:\n%s", n, applied)
	}
	back, err := kube.Parse([]byte(kc("create", "--dry-run=client", "-o", "yaml")))
	if err != nil {
		t.Fatalf("kubectl's output does not read back strictly: %v", err)
	}
	m, err := kube.Parse([]byte(stdout))
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := m.Write(&a, ""); err != nil {
		t.Fatal(err)
	}
	if err := back.Write(&b, ""); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("kubectl changed the objects:\n%s", b.String())
	}
}

// killShard makes a finished shard's folder look like one whose pod was
// killed mid-run: run.json as at the start (no end), the results file cut
// in half, nothing written at the end.
func killShard(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, scenarios.RunInfoFile))
	if err != nil {
		t.Fatal(err)
	}
	var ri map[string]any
	if err := json.Unmarshal(b, &ri); err != nil {
		t.Fatal(err)
	}
	delete(ri, "end")
	delete(ri, "stopped")
	if b, err = json.Marshal(ri); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, scenarios.RunInfoFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	results := filepath.Join(dir, "results.gob")
	st, err := os.Stat(results)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(results, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); n != scenarios.RunInfoFile && n != "results.gob" {
			os.RemoveAll(filepath.Join(dir, n))
		}
	}
}

// kubeWrite runs the real binary's `flashcrowd kubernetes` with args
// (--name=rehearsal, written to a folder) and parses the manifests back
// strictly.
func kubeWrite(t *testing.T, ctx context.Context, bin string, args ...string) *kube.Manifests {
	t.Helper()
	dir := t.TempDir()
	args = append(append([]string{"kubernetes"}, args...), "--image=registry.example.com/flashcrowd:test", "--name=rehearsal", "--out="+dir)
	if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("flashcrowd kubernetes: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "rehearsal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := kube.Parse(data)
	if err != nil {
		t.Fatalf("parsing the manifests strictly: %v", err)
	}
	return m
}

// TestKubeRunLabel: the shards of one rehearsal, run as the Job
// controller would start them, show up in Prometheus as one run: every
// shard's metrics carry run="rehearsal" (the rehearsal's name), each with
// its own shard label, not run="shard-0", run="shard-1" after their --out
// folders. --metrics-hold reaches the pods.
func TestKubeRunLabel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a rehearsal on loopback")
	}
	if !runHasMetrics() {
		t.Skip("`run` has no --metrics-addr on this branch")
	}
	bin := buildFlashcrowd(t)
	srv, _ := countingServer(t, 0, 200)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	m := kubeWrite(t, ctx, bin, "--rate=50/s", "--duration=1s", "--shards=2", "--target="+srv.URL, "--no-abort",
		"--start-at=+6s", "--metrics-hold=2m", "--quiet")
	cms := map[string]*corev1.ConfigMap{m.ConfigMap.Name: m.ConfigMap}
	results := t.TempDir()
	type running struct {
		addr   string
		cmd    *exec.Cmd
		stderr *syncBuf
		done   chan error
	}
	var pods []running
	for i := range int(*m.Job.Spec.Completions) {
		p := emulate(t, bin, &m.Job.Spec.Template.Spec, cms, results, i, true)
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		hold := false
		for j, a := range p.argv {
			if strings.HasPrefix(a, "--metrics-addr=") {
				p.argv[j] = "--metrics-addr=" + addr // a port the test can scrape
			}
			hold = hold || a == "--metrics-hold=2m0s"
		}
		if !hold {
			t.Fatalf("index %d: --metrics-hold did not reach the pod: %q", i, p.argv)
		}
		cmd := exec.CommandContext(ctx, p.argv[0], p.argv[1:]...)
		cmd.Env = p.env
		r := running{addr: addr, cmd: cmd, stderr: &syncBuf{}, done: make(chan error, 1)}
		cmd.Stderr = writerFunc(func(b []byte) (int, error) { r.stderr.WriteString(string(b)); return len(b), nil })
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { r.done <- cmd.Wait() }()
		defer cmd.Process.Kill()
		pods = append(pods, r)
	}
	for i, p := range pods {
		waitFor(t, time.Minute, fmt.Sprintf("index %d ends its run and holds its metrics", i), func() bool {
			return strings.Contains(p.stderr.String(), "serving the final counts")
		}, p.stderr.String)
		mfs := scrape(t, p.addr, false)
		runs := map[string]bool{}
		for _, mf := range mfs {
			if !strings.HasPrefix(mf.GetName(), "flashcrowd_") {
				continue
			}
			for _, s := range mf.Metric {
				for _, l := range s.Label {
					switch l.GetName() {
					case "run":
						runs[l.GetValue()] = true
					case "shard":
						if l.GetValue() != strconv.Itoa(i) {
							t.Errorf("index %d: %s has shard=%q", i, mf.GetName(), l.GetValue())
						}
					}
				}
			}
		}
		if len(runs) != 1 || !runs["rehearsal"] {
			t.Errorf("index %d: run labels %v, want only the rehearsal's name, rehearsal", i, runs)
		}
		if v := sumOf(mfs["flashcrowd_run_done"], map[string]string{"run": "rehearsal", "shard": strconv.Itoa(i)}); v != 1 {
			t.Errorf("index %d: flashcrowd_run_done{run=rehearsal} %v, want 1", i, v)
		}
	}
	for i, p := range pods {
		p.cmd.Process.Signal(os.Interrupt) // ends the hold
		select {
		case err := <-p.done:
			if code := exitStatus(err); code != 0 {
				t.Errorf("index %d exited %d\n%s", i, code, p.stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Errorf("index %d still holding 30 s after Ctrl-C", i)
		}
	}
}

// TestKubePlanFile: --plan FILE (a plan of the user's, no --target) rides
// in the ConfigMap, and each pod, started as the Job controller would on
// a machine without the user's file, rehearses against it under its name;
// a built-in plan NAME stays a name.
func TestKubePlanFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a rehearsal on loopback")
	}
	bin := buildFlashcrowd(t)
	src, err := hosting.BuiltinPlanSource("vps")
	if err != nil {
		t.Fatal(err)
	}
	// No name: line, so the plan is named after its file.
	plan := regexp.MustCompile(`(?m)^name:.*\n`).ReplaceAllString(string(src), "")
	local := t.TempDir()
	file := filepath.Join(local, "tiny-host.yaml")
	if err := os.WriteFile(file, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	m := kubeWrite(t, ctx, bin, "--rate=40/s", "--duration=1s", "--shards=2", "--plan="+file,
		"--start-at=+6s", "--metrics-hold=0s", "--quiet")
	// The pods run elsewhere: the user's file is not there.
	if err := os.RemoveAll(local); err != nil {
		t.Fatal(err)
	}
	args := strings.Join(m.Job.Spec.Template.Spec.Containers[0].Args, " ")
	if strings.Contains(args, local) || !strings.Contains(args, "--plan="+kube.ScenarioDir+"/tiny-host.yaml") {
		t.Errorf("the pods' --plan is not the ConfigMap's copy: %s", args)
	}
	if m.ConfigMap.Data["tiny-host.yaml"] != plan {
		t.Errorf("ConfigMap keys %v: want the plan file as tiny-host.yaml", keys(m.ConfigMap.Data))
	}
	cms := map[string]*corev1.ConfigMap{m.ConfigMap.Name: m.ConfigMap}
	results := t.TempDir()
	n := int(*m.Job.Spec.Completions)
	res := make([]podResult, n)
	var wg sync.WaitGroup
	for i := range n {
		p := emulate(t, bin, &m.Job.Spec.Template.Spec, cms, results, i, runHasMetrics())
		wg.Add(1)
		go func() { defer wg.Done(); res[i] = <-p.start(ctx) }()
	}
	wg.Wait()
	var sent int
	for i, r := range res {
		if r.code != 0 {
			t.Fatalf("index %d exited %d\nstdout:\n%s\nstderr:\n%s", i, r.code, r.stdout, r.stderr)
		}
		ri, err := scenarios.ReadRunInfo(filepath.Join(results, "rehearsal", fmt.Sprintf("shard-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if ri.Plan != "tiny-host" {
			t.Errorf("index %d rehearsed against plan %q, want tiny-host (the file's name)", i, ri.Plan)
		}
		sent += int(readSummaryCounts(t, filepath.Join(results, "rehearsal", fmt.Sprintf("shard-%d", i))).Requests)
	}
	if sent != 40 {
		t.Errorf("the shards sent %d requests, want the curve's 40", sent)
	}

	// A built-in plan is a name, in the image: nothing to carry.
	code, stdout, stderr := runCLI(t, "kubernetes", "--rate=40/s", "--duration=1s", "--shards=2", "--plan=vps", "--image=flashcrowd:test")
	if code != exitOK {
		t.Fatalf("--plan vps: exit %d\n%s", code, stderr)
	}
	b, err := kube.Parse([]byte(stdout))
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Join(b.Job.Spec.Template.Spec.Containers[0].Args, " "); !strings.Contains(args, "--plan=vps") {
		t.Errorf("--plan vps: args %s", args)
	}
	if len(b.ConfigMap.Data) != 1 {
		t.Errorf("--plan vps: ConfigMap keys %v, want only %s", keys(b.ConfigMap.Data), kube.ScenarioFile)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestKubeShardCount: --shards auto capped by the curve's count says so,
// and counts journeys as journeys; --shards N over that count names them.
func TestKubeShardCount(t *testing.T) {
	base := []string{"kubernetes", "--target=http://127.0.0.1:8080", "--image=flashcrowd:test"}
	// 200 requests at 100/s over 100 kbit/s pods: thousands by bandwidth.
	code, stdout, stderr := runCLI(t, append(base, "--rate=100/s", "--duration=2s", "--pod-bandwidth=100kbit")...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !containsAll(stderr, "--shards auto: 200 pods", "capped at the 200 requests the curve starts", "in 200 pods") {
		t.Errorf("capped sizing does not say so:\n%s", stderr)
	}
	if m, err := kube.Parse([]byte(stdout)); err != nil || *m.Job.Spec.Completions != 200 {
		t.Errorf("manifests: %v, want 200 pods", err)
	}

	// Five journeys.
	file := filepath.Join(t.TempDir(), "visitors.yaml")
	if err := os.WriteFile(file, []byte(`name: visitors
curve: ["hold 5/s for 1s"]
endpoints:
  - {name: home, path: /, class: page}
  - {name: cart, method: POST, path: /api/cart, class: api}
journeys:
  browse: {weight: 1, steps: [home]}
  buy: {weight: 1, steps: [home, cart]}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, append(base, "--scenario="+file, "--shards=10")...)
	if code != exitUsage || !strings.Contains(stderr, "more than the 5 journeys") {
		t.Errorf("--shards 10 over 5 journeys: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr = runCLI(t, append(base, "--scenario="+file, "--pod-bandwidth=1kbit")...)
	if code != exitOK || !containsAll(stderr, "5 pods", "capped at the 5 journeys") {
		t.Errorf("--shards auto over 5 journeys: exit %d\n%s", code, stderr)
	}
	if m, err := kube.Parse([]byte(stdout)); err != nil || *m.Job.Spec.Completions != 5 {
		t.Errorf("manifests: %v, want 5 pods", err)
	}
}

// TestKubeNextSteps: the printed kubectl wait takes a timeout kubectl
// parses (a Go duration: no days) covering a start a month away; a
// loopback --target gets a warning, as in a pod it is the pod itself
// (attack.IsLoopback decides which hosts are loopback; its own tests
// cover the rest).
func TestKubeNextSteps(t *testing.T) {
	start := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	code, _, stderr := runCLI(t, "kubernetes", "--rate=50/s", "--duration=20s", "--shards=2", "--image=flashcrowd:test",
		"--target=http://127.0.0.1:8080", "--start-at="+start)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	m := regexp.MustCompile(`kubectl wait .* --timeout=(\S+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no kubectl wait line:\n%s", stderr)
	}
	if d, err := time.ParseDuration(m[1]); err != nil || d < 30*24*time.Hour || d > 31*24*time.Hour {
		t.Errorf("kubectl wait --timeout=%s: %v, %v; want a Go duration over the month to the start", m[1], d, err)
	}
	if !strings.Contains(stderr, "warning: --target http://127.0.0.1:8080 is a loopback address") {
		t.Errorf("no warning for a loopback --target:\n%s", stderr)
	}
	code, _, stderr = runCLI(t, "kubernetes", "--rate=50/s", "--duration=20s", "--image=flashcrowd:test", "--target=http://localhost:8080")
	if code != exitOK || !strings.Contains(stderr, "warning: --target http://localhost:8080 is a loopback address: in a pod that is the pod itself") {
		t.Errorf("a loopback --target: exit %d, want 0 with a warning:\n%s", code, stderr)
	}
}
