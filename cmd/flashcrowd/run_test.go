package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/attack"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// countingServer answers after delay (or when the client goes) and counts
// the requests that reached it.
func countingServer(t *testing.T, delay time.Duration, code int) (*httptest.Server, *atomic.Int64) {
	return countingServerEvery(t, delay, 1, code)
}

// countingServerEvery delays only every k-th request. The pre-flight
// request before a run is answered at once and not counted.
func countingServerEvery(t *testing.T, delay time.Duration, k int64, code int) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(attack.PreflightHeader) != "" {
			w.WriteHeader(code)
			return
		}
		if n.Add(1)%k == 0 && delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(code)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(s.Close)
	return s, &n
}

// decodeAll reads a gob results file with vegeta's decoder; it fails the
// test unless the file ends cleanly.
func decodeAll(t *testing.T, path string) []vegeta.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(bufio.NewReader(f))
	var rs []vegeta.Result
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				return rs
			}
			t.Fatalf("%s: result %d: %v", path, len(rs)+1, err)
		}
		rs = append(rs, r)
	}
}

// TestRunDefaultTarget: with no --target, run starts the simulated host
// and records its plan in run.json.
func TestRunDefaultTarget(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errs := runCLI(t, "run", "--curve", "hold 200/s for 2s", "--plan", "vps", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "against the simulated host (plan vps") || !strings.Contains(errs, "sending 400 requests over 2s, peak 200/s") {
		t.Errorf("stderr does not say what it is about to do:\n%s", errs)
	}
	info, err := scenarios.ReadRunInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Plan != "vps" || info.PlanCost <= 0 || !strings.HasPrefix(info.Target, "http://127.0.0.1:") ||
		info.Options["plan"] != "vps" || strings.Join(info.Args, " ") != "flashcrowd run --curve=hold 200/s for 2s --plan=vps --out="+dir {
		t.Errorf("run.json: plan %q cost %v target %q args %q", info.Plan, info.PlanCost, info.Target, info.Args)
	}
	rs := decodeAll(t, filepath.Join(dir, "results.gob"))
	ok := 0
	for _, r := range rs {
		if r.Code == 200 {
			ok++
		}
	}
	if len(rs) != 400 || ok != 400 || !strings.Contains(out, "planned           400") {
		t.Errorf("%d results, %d ok; stdout:\n%s", len(rs), ok, out)
	}
}

// TestRunTargetsFile: a vegeta targets file replaces the scenario's mix,
// its targets sent in turn.
func TestRunTargetsFile(t *testing.T) {
	s, n := countingServer(t, 0, 200)
	tf := filepath.Join(t.TempDir(), "targets.txt")
	os.WriteFile(tf, []byte(fmt.Sprintf("GET %s/a\n\nPOST %s/b\nX-T: 1\n", s.URL, s.URL)), 0o644)
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errs := runCLI(t, "run", "--targets", tf, "--rate", "50/s", "--duration", "1s", "--out", dir, "-q")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	byURL := map[string]int{}
	for _, r := range decodeAll(t, filepath.Join(dir, "results.gob")) {
		byURL[r.Method+" "+r.URL]++
	}
	if byURL["GET "+s.URL+"/a"] != 25 || byURL["POST "+s.URL+"/b"] != 25 || n.Load() != 50 {
		t.Errorf("sent %v, server saw %d", byURL, n.Load())
	}
	if errs != "" {
		t.Errorf("--quiet printed %q", errs)
	}
	// Full URLs need no --target: no simulated host is started, and the
	// report does not name a plan the requests never reached.
	info, err := scenarios.ReadRunInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Plan != "" || info.Target != "127.0.0.1" || strings.Contains(out, "shared plan") {
		t.Errorf("run.json plan %q target %q; stdout:\n%s", info.Plan, info.Target, out)
	}
}

func TestRunUsageErrors(t *testing.T) {
	s, n := countingServer(t, 0, 200)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--shard", "4/4"}, "--shard \"4/4\""},
		{[]string{"--shard", "x"}, "want i/n"},
		{[]string{"--target", "http://far.example:8080"}, "--confirm far.example"},
		{[]string{"--target", "ftp://127.0.0.1/"}, "want an http(s) URL"},
		{[]string{"--target", s.URL, "--plan", "vps"}, "not both"},
		{[]string{"--abort", "errors > lots for 1s"}, "--abort"},
		{[]string{"--start-at", "yesterday"}, "--start-at"},
		{[]string{"--start-at", "2001-01-01T00:00:00Z"}, "in the past"},
		{[]string{"-H", "no colon"}, "--header"},
		{[]string{"--max-body", "lots"}, "--max-body"},
		{[]string{"--plan", "no-such-plan"}, "no such plan"},
		{[]string{"--targets", "no-such-file.txt", "--rate", "1/s", "--duration", "1s"}, "no-such-file.txt"},
		{[]string{"--targets", "x.txt"}, "--targets needs a curve"},
		{[]string{"--redirects", "0"}, "ambiguous"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"--abort", "errors > 50% for 1s", "--no-abort"}, "--abort and --no-abort contradict"},
		{[]string{"--workers", "0"}, "--workers 0"},
		{[]string{"--workers", "-1"}, "--workers"},
		{[]string{"--workers", "100", "--max-workers", "10"}, "--workers 100 is more than --max-workers 10"},
		{[]string{"--workers", "6000"}, "--workers 6000 is more than --max-workers 5000"},
		{[]string{"--connections", "-1"}, "--connections -1"},
		{[]string{"--connections", "20", "--max-connections", "10"}, "--connections 20 is more than --max-connections 10"},
		{[]string{"--redirects", "-2"}, "--redirects -2"},
		{[]string{"--targets-format", "json"}, "give --targets too"},
		{[]string{"--slo", "errors=5"}, "--slo: errors=5: write 5% or 0.05"},
		{[]string{"--slo", "throughput=95"}, "--slo: throughput=95: write 95% or 0.95"},
		{[]string{"--window", "soon"}, "--window"},
	} {
		args := append([]string{"run", "--rate", "10/s", "--duration", "1s", "--out", filepath.Join(t.TempDir(), "r")}, tc.args...)
		if tc.args[0] == "--targets" && len(tc.args) == 2 {
			args = []string{"run", "--targets", "x.txt"}
		}
		code, _, errs := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 mentioning %q", tc.args, code, errs, tc.want)
		}
		if strings.Contains(errs, "against the simulated host") {
			t.Errorf("%q: the simulated host started before the usage error:\n%s", tc.args, errs)
		}
	}
	if n.Load() != 0 {
		t.Errorf("usage errors sent %d requests", n.Load())
	}
}

// TestRunAbortExits3: an abort rule stops the run with exit status 3.
func TestRunAbortExits3(t *testing.T) {
	s, _ := countingServer(t, 0, 503)
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errs := runCLI(t, "run", "--target", s.URL, "--rate", "100/s", "--duration", "30s", "--abort", "errors > 50% for 2s", "--out", dir)
	if code != exitSLO || !strings.Contains(errs, "aborted: errors > 50% for 2s") || !strings.Contains(out, "http 503") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if info, err := scenarios.ReadRunInfo(dir); err != nil || !strings.HasPrefix(info.Stopped, "aborted") {
		t.Errorf("run.json: %v %+v", err, info)
	}
}

// A shard whose share of the traffic fails the SLO ran its part: exit 0
// (under a Kubernetes Job, exit 3 would fail its index and the Job, for
// the break the rehearsal was there to find), saying that the merged
// report gives the run's verdict and its exit code; the report does.
func TestShardSLOFailureIsNoFailedShard(t *testing.T) {
	s, _ := countingServer(t, 0, 503)
	dir := filepath.Join(t.TempDir(), "shard-0")
	code, out, errs := runCLI(t, "run", "--target", s.URL, "--rate", "40/s", "--duration", "3s", "--no-abort", "--shard", "0/2", "--out", dir)
	if code != 0 || !strings.Contains(errs, "this shard's SLO failed") || !strings.Contains(errs, "flashcrowd report over every shard's folder gives the run's") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "report", dir, "--out", filepath.Join(t.TempDir(), "r")); code != exitSLO {
		t.Errorf("report over the shard: exit %d, want 3\n%s", code, errs)
	}
}

// TestRunChild is the flashcrowd process the signal tests start: the test
// binary re-run with FLASHCROWD_RUN_ARGS (JSON) set.
func TestRunChild(t *testing.T) {
	a := os.Getenv("FLASHCROWD_RUN_ARGS")
	if a == "" {
		t.Skip("runs only as a signal test's child process")
	}
	var args []string
	if err := json.Unmarshal([]byte(a), &args); err != nil {
		panic(err)
	}
	os.Exit(run(args, os.Stdin, os.Stdout, os.Stderr))
}

// startRun starts `flashcrowd run args...` as a child process and waits
// until it is sending.
func startRun(t *testing.T, args ...string) (*exec.Cmd, *syncBuf, <-chan error) {
	t.Helper()
	return startChildCmd(t, "sending ", append([]string{"run"}, args...)...)
}

// startChildCmd starts `flashcrowd args...` as a child process and waits
// until a line of its stderr contains marker.
func startChildCmd(t *testing.T, marker string, args ...string) (*exec.Cmd, *syncBuf, <-chan error) {
	t.Helper()
	a, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunChild$")
	cmd.Env = append(os.Environ(), "FLASHCROWD_RUN_ARGS="+string(a))
	stderr := &syncBuf{}
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	sending := make(chan struct{})
	var once sync.Once
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), marker) {
				once.Do(func() { close(sending) })
			}
		}
	}()
	done := make(chan error, 1)
	go func() { err := cmd.Wait(); pw.Close(); done <- err }()
	select {
	case <-sending:
	case err := <-done:
		t.Fatalf("flashcrowd %s exited early: %v\n%s", args[0], err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("flashcrowd %s: no line with %q\n%s", args[0], marker, stderr.String())
	}
	return cmd, stderr, done
}

// syncBuf is a strings.Builder safe for one writer and one reader.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) WriteString(x string) {
	s.mu.Lock()
	s.b.WriteString(x)
	s.mu.Unlock()
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func exitStatus(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestRunSIGINT: SIGINT stops sending, waits for requests in flight and
// keeps every one: the results file holds exactly the requests the server
// saw, ends cleanly, and vegeta's own CLI reads it.
func TestRunSIGINT(t *testing.T) {
	s, seen := countingServer(t, 300*time.Millisecond, 200)
	dir := filepath.Join(t.TempDir(), "run")
	cmd, stderr, done := startRun(t, "--target", s.URL, "--rate", "200/s", "--duration", "1m", "--out", dir)
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after SIGINT\n%s", stderr.String())
	}
	if code := exitStatus(err); code != exitInterrupted {
		t.Errorf("exit %d after SIGINT, want %d\n%s", code, exitInterrupted, stderr.String())
	}
	rs := decodeAll(t, filepath.Join(dir, "results.gob"))
	if int64(len(rs)) != seen.Load() || len(rs) < 200 {
		t.Errorf("results file holds %d results, server saw %d requests", len(rs), seen.Load())
	}
	for _, r := range rs {
		if r.Code != 200 {
			t.Fatalf("result %d: %d %q: requests in flight should have been waited for", r.Seq, r.Code, r.Error)
		}
	}
	info, err := scenarios.ReadRunInfo(dir)
	if err != nil || info.Stopped != "interrupted" {
		t.Errorf("run.json: %v, stopped %q", err, info.Stopped)
	}
	vegetaReport(t, filepath.Join(dir, "results.gob"), len(rs))
}

// TestRunDoubleSIGINT: a second SIGINT exits at once, abandoning requests
// in flight (the server holds every other one 20 s), with the results file
// valid.
func TestRunDoubleSIGINT(t *testing.T) {
	s, seen := countingServerEvery(t, 20*time.Second, 2, 200)
	dir := filepath.Join(t.TempDir(), "run")
	cmd, stderr, done := startRun(t, "--target", s.URL, "--rate", "100/s", "--duration", "1m", "--timeout", "1m", "--out", dir)
	time.Sleep(time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	// The second Ctrl-C once the first has been seen (two signals sent
	// before the process runs again would arrive as one).
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), "flashcrowd: stopping"); {
		if time.Now().After(deadline) {
			t.Fatalf("first SIGINT not acknowledged\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	var err error
	select {
	case err = <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15s after the second SIGINT (requests in flight are held 20s)\n%s", stderr.String())
	}
	if code := exitStatus(err); code != exitInterrupted {
		t.Errorf("exit %d, want %d\n%s", code, exitInterrupted, stderr.String())
	}
	rs := decodeAll(t, filepath.Join(dir, "results.gob"))
	// Every other request is answered at once, so the results are the
	// answered half (one may be on its way at the second Ctrl-C) and none
	// of the held half.
	if n := int64(len(rs)); n >= seen.Load() || n < seen.Load()/2-1 || n == 0 {
		t.Errorf("%d results for %d requests: want the answered half kept and the held requests abandoned", len(rs), seen.Load())
	}
	if !strings.Contains(stderr.String(), "abandoned") {
		t.Errorf("no word about abandoned requests:\n%s", stderr.String())
	}
	vegetaReport(t, filepath.Join(dir, "results.gob"), len(rs))
}

var (
	vegetaOnce sync.Once
	vegetaBin  string
	vegetaErr  error
)

// vegetaCLI finds vegeta v12.13.0's CLI ($VEGETA, then PATH) or builds it
// in a temporary module (go install pkg@version can fail on the proxy's
// deprecation lookup where go get works).
func vegetaCLI(t *testing.T) string {
	vegetaOnce.Do(func() {
		if p := os.Getenv("VEGETA"); p != "" {
			vegetaBin = p
			return
		}
		if p, err := exec.LookPath("vegeta"); err == nil {
			vegetaBin = p
			return
		}
		dir, err := os.MkdirTemp("", "vegeta-cli")
		if err != nil {
			vegetaErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		for _, args := range [][]string{
			{"mod", "init", "vegetacli"},
			{"get", "github.com/tsenart/vegeta/v12@v12.13.0"},
			{"build", "-o", "vegeta", "github.com/tsenart/vegeta/v12"},
		} {
			cmd := exec.CommandContext(ctx, "go", args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
			if out, err := cmd.CombinedOutput(); err != nil {
				vegetaErr = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
				return
			}
		}
		vegetaBin = filepath.Join(dir, "vegeta")
	})
	if vegetaBin == "" {
		t.Skipf("vegeta CLI not available and could not be built (see /work/notes/CI-attack.sh, or set VEGETA=/path/to/vegeta): %v", vegetaErr)
	}
	return vegetaBin
}

// vegetaReport checks that `vegeta report -type=json` reads the file and
// counts n requests.
func vegetaReport(t *testing.T, path string, n int) {
	t.Helper()
	bin := vegetaCLI(t)
	out, err := exec.Command(bin, "report", "-type=json", path).Output()
	if err != nil {
		t.Fatalf("vegeta report %s: %v\n%s", path, err, out)
	}
	var m struct {
		Requests uint64 `json:"requests"`
	}
	if err := json.Unmarshal(out, &m); err != nil || m.Requests != uint64(n) {
		t.Errorf("vegeta report: %d requests (%v), want %d\n%s", m.Requests, err, n, out)
	}
}

// TestRunEnvValueNotInMessages: a ${ENV:NAME} value never shows in what
// run prints: a path its value makes invalid is bad input at the path's
// file:line:col, naming the reference, whatever sends it (the fast and
// vegeta engines, page views, journeys); a host from the environment is
// named by its reference in run's and compare's confirmation errors and
// in a pre-flight warning, printed and kept in run.json.
func TestRunEnvValueNotInMessages(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TOK2", "leakA%zz")
	t.Setenv("FC_LEAK_HOST", "leak-host.example.com")
	write := func(name, body string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	plain := write("s.yaml", "name: s\ncurve: hold 1/s for 1s\nendpoints:\n  - name: s1\n    path: \"/secret/${ENV:TOK2}\"\n")
	pages := write("pages.yaml", "name: p\ncurve: hold 1/s for 1s\nendpoints:\n  - {name: page, path: /, assets: [img]}\n  - name: img\n    path: \"/img/${ENV:TOK2}.png\"\n")
	journeys := write("journeys.yaml", "name: j\ncurve: hold 1/s for 1s\nendpoints:\n  - {name: home, path: /}\n  - name: buy\n    path: \"/buy/${ENV:TOK2}\"\njourneys:\n  shop: {steps: [home, buy]}\n")
	for _, c := range []struct {
		name string
		args []string
		at   string
	}{
		{"fast", []string{"--scenario", plain, "--engine", "fast"}, plain + ":5:12: endpoints[0].path"},
		{"vegeta", []string{"--scenario", plain, "--engine", "vegeta"}, plain + ":5:12: endpoints[0].path"},
		{"page views", []string{"--scenario", pages}, pages + ":6:12: endpoints[1].path"},
		{"journeys", []string{"--scenario", journeys}, journeys + ":6:12: endpoints[1].path"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"run", "--target", "http://127.0.0.1:1", "-q", "--out", filepath.Join(dir, c.name)}, c.args...)
			code, out, errs := runCLI(t, args...)
			if code != exitUsage || !strings.Contains(errs, c.at+": ") || !strings.Contains(errs, "${ENV:TOK2}") {
				t.Errorf("exit %d, want 2 with the problem at %s naming ${ENV:TOK2}:\n%s%s", code, c.at, out, errs)
			}
			if strings.Contains(out+errs, "leakA") || strings.Contains(out+errs, `"%zz"`) {
				t.Errorf("the value of TOK2 is shown:\n%s%s", out, errs)
			}
		})
	}
	host := write("host.yaml", "name: h\ncurve: hold 1/s for 1s\nendpoints:\n  - {name: h1, url: \"http://${ENV:FC_LEAK_HOST}/x\"}\n")
	code, out, errs := runCLI(t, "run", "--scenario", host, "-q", "--out", filepath.Join(dir, "host"))
	if code != exitUsage || !strings.Contains(errs, "${ENV:FC_LEAK_HOST}") || strings.Contains(out+errs, "leak-host") {
		t.Errorf("a host from the environment: exit %d, want 2 naming ${ENV:FC_LEAK_HOST}, not its value:\n%s%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "compare", "--scenario", host, "--plan", "shared", "-q", "--out", filepath.Join(dir, "cmp"))
	if code != exitUsage || !strings.Contains(errs, "${ENV:FC_LEAK_HOST}") || strings.Contains(out+errs, "leak-host") {
		t.Errorf("compare, a host from the environment: exit %d, want 2 naming ${ENV:FC_LEAK_HOST}, not its value:\n%s%s", code, out, errs)
	}

	// A host that answers garbage to the pre-flight request: the warning,
	// printed and kept in run.json, names the host by its reference.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("garbage\r\n\r\n"))
			c.Close()
		}
	}()
	t.Setenv("FC_ODD_HOST", ln.Addr().String())
	odd := write("odd.yaml", "name: o\ncurve: hold 1/s for 1s\nendpoints:\n  - {name: o1, url: \"http://${ENV:FC_ODD_HOST}/x\"}\n")
	runDir := filepath.Join(dir, "odd")
	code, out, errs = runCLI(t, "run", "--scenario", odd, "--out", runDir)
	runJSON, _ := os.ReadFile(filepath.Join(runDir, scenarios.RunInfoFile))
	if !strings.Contains(errs, "warning: ${ENV:FC_ODD_HOST}") || !strings.Contains(string(runJSON), "${ENV:FC_ODD_HOST}") {
		t.Errorf("exit %d: want the pre-flight warning naming ${ENV:FC_ODD_HOST} on stderr and in run.json:\n%s%s\nrun.json: %s", code, out, errs, runJSON)
	}
	if strings.Contains(out+errs+string(runJSON), ln.Addr().String()) {
		t.Errorf("the value of FC_ODD_HOST is shown:\n%s%s\nrun.json: %s", out, errs, runJSON)
	}
}

// A relative --start-at on a shard is each process's own clock: run warns
// and says to give one absolute time. Here --out is a file, so the run
// stops (exit 2) before anything starts or is sent.
func TestRunWarnsRelativeStartAtOnShard(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		warn bool
	}{
		{[]string{"--shard", "1/2", "--start-at", "+30s"}, true},
		{[]string{"--shard", "1/2", "--start-at", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, false},
		{[]string{"--start-at", "+30s"}, false},
	} {
		code, _, errs := runCLI(t, append([]string{"run", "--rate", "10/s", "--duration", "1s", "--out", file}, c.args...)...)
		if code != exitUsage || !strings.Contains(errs, "is a file") {
			t.Fatalf("%q: exit %d: %s", c.args, code, errs)
		}
		if got := strings.Contains(errs, "warning: --start-at +30s is from this process's clock") && strings.Contains(errs, "same absolute time"); got != c.warn {
			t.Errorf("%q: warned %v, want %v:\n%s", c.args, got, c.warn, errs)
		}
	}
}

// TestRunRedirects: run follows redirects with its default engine (fast)
// as --redirects says: a redirect loop fails the run (exit 3, every
// request a redirects error), a redirect to /ok fetches /ok and holds the
// SLO, and --redirects -1 counts the 302 itself as the response.
func TestRunRedirects(t *testing.T) {
	counts := map[string]*atomic.Int64{"/loop": {}, "/moved": {}, "/ok": {}}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(attack.PreflightHeader) != "" {
			return
		}
		n, ok := counts[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		n.Add(1)
		switch r.URL.Path {
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/moved":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			w.Write([]byte("ok"))
		}
	}))
	t.Cleanup(s.Close)
	for _, tc := range []struct {
		name, path string
		args       []string
		exit       int
		want       map[string]int64 // requests per path
		code       uint16           // of every result; 0: a redirects error
	}{
		{"loop", "/loop", nil, exitSLO, map[string]int64{"/loop": 20 * (1 + attack.DefaultRedirects)}, 0},
		{"moved", "/moved", nil, 0, map[string]int64{"/moved": 20, "/ok": 20}, 200},
		{"no follow", "/moved", []string{"--redirects", "-1"}, 0, map[string]int64{"/moved": 20, "/ok": 0}, 302},
		{"explicit", "/moved", []string{"--redirects", "1"}, 0, map[string]int64{"/moved": 20, "/ok": 20}, 200}, // still the fast engine
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range counts {
				n.Store(0)
			}
			tf := filepath.Join(t.TempDir(), "targets.txt")
			os.WriteFile(tf, []byte("GET "+s.URL+tc.path+"\n"), 0o644)
			dir := filepath.Join(t.TempDir(), "run")
			args := append([]string{"run", "--targets", tf, "--rate", "20/s", "--duration", "1s", "--out", dir}, tc.args...)
			code, out, errs := runCLI(t, args...)
			if code != tc.exit {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.exit, out, errs)
			}
			for path, want := range tc.want {
				if got := counts[path].Load(); got != want {
					t.Errorf("%s got %d requests, want %d", path, got, want)
				}
			}
			info, err := scenarios.ReadRunInfo(dir)
			if err != nil {
				t.Fatal(err)
			}
			if info.Engine != attack.EngineFast {
				t.Errorf("run.json engine %q, want %q", info.Engine, attack.EngineFast)
			}
			rs := decodeAll(t, filepath.Join(dir, "results.gob"))
			if len(rs) != 20 {
				t.Fatalf("%d results, want 20", len(rs))
			}
			for _, r := range rs {
				if k := scenarios.ErrorKind(r.Code, r.Error); r.Code != tc.code || (tc.code == 0) != (k == scenarios.ErrRedirects) {
					t.Fatalf("seq %d: code %d, error %q (kind %q), want code %d", r.Seq, r.Code, r.Error, k, tc.code)
				}
			}
			if tc.code == 0 && !strings.Contains(out, scenarios.ErrRedirects) {
				t.Errorf("the report does not name the redirects errors:\n%s", out)
			}
		})
	}
}
