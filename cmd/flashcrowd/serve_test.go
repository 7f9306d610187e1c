package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
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
	go func() { // drain stderr so the child never blocks on it
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
	}()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after SIGINT: %v, want exit 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after SIGINT")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Errorf("still answering after it stopped")
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
