// Command membench measures the memory flashcrowd report needs for a large
// results file: it writes N realistic vegeta results (gob, vegeta's own
// encoder) to a temporary directory, builds the flashcrowd CLI, runs
// `flashcrowd report FILE` on it and prints the child's peak RSS and time.
//
//	go run ./report/membench -n 10000000
//
// It takes a minute or two and about 1 GB of disk for 10 million results,
// so it is not part of go test.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func main() {
	n := flag.Int("n", 10_000_000, "number of results")
	rate := flag.Float64("rate", 5000, "requests per second of the simulated attack")
	keep := flag.Bool("keep", false, "keep the temporary directory")
	flag.Parse()
	if err := run(*n, *rate, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "membench:", err)
		os.Exit(1)
	}
}

func run(n int, rate float64, keep bool) error {
	dir, err := os.MkdirTemp("", "flashcrowd-membench-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	results := filepath.Join(dir, "results.bin")
	start := time.Now()
	if err := generate(results, n, rate); err != nil {
		return err
	}
	st, _ := os.Stat(results)
	fmt.Printf("wrote %d results (%.0f MB, gob) in %s\n", n, float64(st.Size())/1e6, time.Since(start).Round(time.Second))

	bin := filepath.Join(dir, "flashcrowd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/flashcrowd")
	build.Dir = moduleRoot()
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building flashcrowd: %w", err)
	}
	out := filepath.Join(dir, "report")
	cmd := exec.Command(bin, "report", results, "--out", out)
	var stdout strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	start = time.Now()
	err = cmd.Run()
	took := time.Since(start)
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 0 && ee.ExitCode() != 3 {
			return fmt.Errorf("flashcrowd report: %w", err)
		}
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	fmt.Println(strings.SplitN(stdout.String(), "\n\n", 2)[0])
	fmt.Printf("flashcrowd report: %d results in %s (%.0f results/s), peak RSS %.0f MB\n",
		n, took.Round(100*time.Millisecond), float64(n)/took.Seconds(), float64(ru.Maxrss)/1024)
	return nil
}

func moduleRoot() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "."
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// generate writes n results of an attack that ramps to rate and holds it,
// against a host that starts failing (503s, timeouts, resets) past 70% of
// the way, on a mix of a page, images and an API call.
func generate(path string, n int, rate float64) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(fh, 1<<20)
	enc := vegeta.NewEncoder(bw)
	rng := rand.New(rand.NewPCG(1, 2))
	urls := []string{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/img/hero.jpg", "http://127.0.0.1:8080/img/logo.png",
		"http://127.0.0.1:8080/img/hero.jpg", "http://127.0.0.1:8080/css/site.css", "http://127.0.0.1:8080/api/cart"}
	t0 := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	var r vegeta.Result
	for i := range n {
		frac := float64(i) / float64(n)
		t := float64(i) / rate
		r = vegeta.Result{Attack: "membench", Seq: uint64(i), Method: "GET", URL: urls[i%len(urls)],
			Timestamp: t0.Add(time.Duration(t * 1e9)), Code: 200, BytesIn: 4096, BytesOut: 0,
			Latency: time.Duration(math.Exp(rng.NormFloat64()*0.5) * 15e6)}
		if i%len(urls) == 5 {
			r.Method, r.BytesOut = "POST", 120
		}
		if frac > 0.7 && rng.Float64() < (frac-0.7)*2 {
			switch rng.IntN(4) {
			case 0, 1:
				r.Code, r.Error, r.Latency, r.BytesIn = 503, "503 Service Unavailable", time.Millisecond, 19
			case 2:
				r.Code, r.BytesIn, r.Latency = 0, 0, 30*time.Second
				r.Error = `Get "` + r.URL + `": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
			case 3:
				r.Code, r.BytesIn = 0, 0
				r.Error = `Get "` + r.URL + `": read tcp 127.0.0.1:40000->127.0.0.1:8080: read: connection reset by peer`
			}
		}
		if err := enc.Encode(&r); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return fh.Close()
}
