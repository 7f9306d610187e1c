package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flashcrowd/flashcrowd/hosting"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// TestServeChild is the flashcrowd process TestServeSignal starts: the test
// binary re-run with FLASHCROWD_SERVE_CHILD set.
func TestServeChild(t *testing.T) {
	if os.Getenv("FLASHCROWD_SERVE_CHILD") != "1" {
		t.Skip("runs only as TestServeSignal's child process")
	}
	os.Exit(run(strings.Fields(os.Getenv("FLASHCROWD_SERVE_ARGS")), os.Stdin, os.Stdout, os.Stderr))
}

// flashcrowd serve --plan shared starts, answers /_stats, and stops
// cleanly (exit 0) on SIGINT.
func TestServeSignal(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$")
	cmd.Env = append(os.Environ(), "FLASHCROWD_SERVE_CHILD=1", "FLASHCROWD_SERVE_ARGS=serve --plan shared --listen 127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	addr := ""
	re := regexp.MustCompile(`on http://(127\.0\.0\.1:\d+)`)
	var lines []string
	for addr == "" && sc.Scan() {
		lines = append(lines, sc.Text())
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("no address announced; stderr:\n%s", strings.Join(lines, "\n"))
	}
	resp, err := http.Get("http://" + addr + "/_stats")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Plan    string `json:"plan"`
		Workers int    `json:"workers"`
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || st.Plan != "shared" || st.Workers != 10 {
		t.Errorf("/_stats: %+v, %v", st, err)
	}
	if resp, err := http.Get("http://" + addr + "/p/jacket"); err != nil || resp.StatusCode != 200 {
		t.Errorf("GET /p/jacket: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	drained := make(chan struct{})
	go func() { // drain stderr so the child never blocks on it
		defer close(drained)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
	}()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-drained: // the child closed stderr: it has exited
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after SIGINT")
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGINT: %v, want exit 0", err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Errorf("still answering after it stopped")
	}
	// It says what serve does on a signal, not what run does.
	all := strings.Join(lines, "\n")
	if !strings.Contains(all, "flashcrowd serve: stopping: no new connections, queued requests get 503") || strings.Contains(all, "keeping every result") {
		t.Errorf("stderr after SIGINT:\n%s", all)
	}
}

// --listen: a port out of range is bad usage (exit 2); listening on every
// interface (no host, 0.0.0.0, ::) or off loopback is warned about, naming
// the address.
func TestServeListen(t *testing.T) {
	for _, l := range []string{"127.0.0.1:99999", "127.0.0.1:-1", "127.0.0.1:nope", ":99999"} {
		var out, errb bytes.Buffer
		if code := run([]string{"serve", "--listen", l}, nil, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "want 0 to 65535") {
			t.Errorf("--listen %s: exit %d, stderr %q; want 2", l, code, errb.String())
		}
	}
	for _, c := range []struct{ host, port, want string }{
		{"", "18911", "--listen :18911 listens on every interface; the simulated host is reachable from outside this machine (127.0.0.1:18911 keeps it on loopback)"},
		{"0.0.0.0", "80", "--listen 0.0.0.0:80 listens on every interface"},
		{"::", "80", "--listen [::]:80 listens on every interface"},
		{"10.1.2.3", "80", "10.1.2.3 is not a loopback address"},
		{"127.0.0.1", "80", ""},
		{"::1", "80", ""},
		{"localhost", "80", ""},
	} {
		if got := listenWarning(c.host, c.port); c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("listenWarning(%q, %q) = %q, want %q", c.host, c.port, got, c.want)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"serve", "-h"}, nil, &out, &errb); code != exitOK || !strings.Contains(out.String(), "exit status 0") || !strings.Contains(out.String(), "queued request 503") {
		t.Errorf("serve -h does not say what Ctrl-C does:\n%s", out.String())
	}
}

func TestServeBadPlan(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"serve", "--plan", "../../testdata/plans/bad.yaml"}, nil, &out, &errb)
	if code != exitUsage {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{"bad.yaml:2:15: monthly_cost:", "bad.yaml:15:1: extra: unknown field"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	// Every problem at once, each at its position: a duplicate key among
	// others, and zeros that would silently mean something else.
	f := filepath.Join(t.TempDir(), "dup.yaml")
	if err := os.WriteFile(f, []byte("workers: 4\nqueue: 10\nqueue: 20\nbandwidth: 0\nclasses:\n  page: {service: 10ms}\nfaults: {drip: 1%, drip_rate: 0}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if code := run([]string{"serve", "--plan", f}, nil, &out, &errb); code != exitUsage {
		t.Errorf("duplicate key: exit %d, want 2", code)
	}
	for _, want := range []string{"dup.yaml:3:1: queue: duplicate key, first at 2:1", "dup.yaml:4:12: bandwidth: must be > 0; leave it out for unlimited", "dup.yaml:7:31: faults.drip_rate: must be > 0"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	errb.Reset()
	if code := run([]string{"serve", "--plan", "nosuch"}, nil, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "built-ins: shared, vps, cloud, cdn") {
		t.Errorf("unknown plan: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"serve", "--listen", "nonsense"}, nil, &out, &errb); code != exitUsage {
		t.Errorf("bad --listen: exit %d, stderr %q", code, errb.String())
	}
}

func TestServeList(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"serve", "--list"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"| shared |", "| vps |", "| cloud |", "| cdn |", "754 req/s | static"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--list lacks %q:\n%s", want, out.String())
		}
	}
}

// serve --list --plan FILE lists the user's plan with the capacity it
// implies for the mix, and a bad plan file is exit 2 with nothing printed.
func TestServeListPlanFile(t *testing.T) {
	plan := filepath.Join("..", "..", "testdata", "plans", "small.yaml")
	p, err := hosting.LoadPlan(plan)
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := scenarios.Builtin("press-spike")
	code, out, errs := runCLI(t, "serve", "--list", "--plan", plan)
	if code != exitOK || strings.Count(out, "\n") != 3 || !strings.Contains(out, "| "+p.Name+" |") || !strings.Contains(out, fmtCap(p.Capacity(sc.Endpoints))+" req/s") {
		t.Errorf("exit %d, stderr %q:\n%s", code, errs, out)
	}
	if code, out, _ := runCLI(t, "serve", "--list", "--plan", filepath.Join("..", "..", "testdata", "plans", "bad.yaml")); code != exitUsage || out != "" {
		t.Errorf("bad plan: exit %d, printed %q", code, out)
	}
}
