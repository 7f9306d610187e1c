package hosting

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestServeChildProcess is the server process of the serve benchmarks: the
// test binary re-run with HOSTING_BENCH_PLAN set to a plan file. It prints
// its address and serves until its stdin closes.
func TestServeChildProcess(t *testing.T) {
	file := os.Getenv("HOSTING_BENCH_PLAN")
	if file == "" {
		t.Skip("runs only as the serve benchmarks' child process")
	}
	p, err := LoadPlan(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr())
	ctx, cancel := context.WithCancel(context.Background())
	go func() { io.Copy(io.Discard, os.Stdin); cancel() }()
	if err := Serve(ctx, ln, p); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// child is a simulated host in a process of its own, so its memory can be
// read apart from the load generator's.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

func startChild(b *testing.B, plan string) *child {
	b.Helper()
	f := b.TempDir() + "/plan.yaml"
	if err := os.WriteFile(f, []byte(plan), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChildProcess$")
	cmd.Env = append(os.Environ(), "HOSTING_BENCH_PLAN="+f)
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "127.0.0.1:") {
		cmd.Process.Kill()
		b.Fatalf("child said %q, %v", line, err)
	}
	return &child{cmd: cmd, stdin: in, addr: strings.TrimSpace(line)}
}

// peakRSS is the child's peak resident set (VmHWM) in bytes.
func (c *child) peakRSS() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return 0
}

func (c *child) stop() {
	c.stdin.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
	}
}

// hammer sends n GETs to addr over conns keep-alive connections, one
// request at a time on each (no pipelining), with a minimal HTTP/1.1 client
// so the generator costs less CPU than the host. It returns the count of
// 200s and of other outcomes.
func hammer(addr, path string, conns, n int) (ok, other int64) {
	var next atomic.Int64
	var okN, otherN atomic.Int64
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			var c net.Conn
			var r *bufio.Reader
			for next.Add(1) <= int64(n) {
				if c == nil {
					var err error
					if c, err = net.Dial("tcp", addr); err != nil {
						otherN.Add(1)
						continue
					}
					r = bufio.NewReaderSize(c, 64<<10)
				}
				code, err := roundTrip(c, r, req)
				if err != nil {
					c.Close()
					c = nil
					otherN.Add(1)
					continue
				}
				if code == 200 {
					okN.Add(1)
				} else {
					otherN.Add(1)
				}
			}
			if c != nil {
				c.Close()
			}
		})
	}
	wg.Wait()
	return okN.Load(), otherN.Load()
}

func roundTrip(c net.Conn, r *bufio.Reader, req []byte) (int, error) {
	if _, err := c.Write(req); err != nil {
		return 0, err
	}
	status, err := r.ReadSlice('\n')
	if err != nil || len(status) < 12 {
		return 0, fmt.Errorf("bad status line %q: %v", status, err)
	}
	code, _ := strconv.Atoi(string(status[9:12]))
	length := -1
	for {
		l, err := r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(l) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(l, []byte(":")); ok && strings.EqualFold(string(k), "Content-Length") {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if length < 0 {
		return 0, fmt.Errorf("no content length")
	}
	if _, err := r.Discard(length); err != nil {
		return 0, err
	}
	return code, nil
}

// BenchmarkServeThroughput measures how many cheap requests a second the
// simulated host serves on loopback when its plan allows it (service time
// 0, 200-byte pages, 4,096 workers), with the host in its own process.
//
//	go test -run '^$' -bench ServeThroughput -benchtime 400000x ./hosting
func BenchmarkServeThroughput(b *testing.B) {
	c := startChild(b, "name: cheap\nworkers: 4096\nqueue: 0\nclasses: {page: {service: 0s, size: 200B}}\n")
	defer c.stop()
	hammer(c.addr, "/p/x", 64, 2000) // warm up the connections
	b.ResetTimer()
	t0 := time.Now()
	ok, other := hammer(c.addr, "/p/x", 64, b.N)
	el := time.Since(t0)
	b.StopTimer()
	if other > 0 {
		b.Errorf("%d requests failed", other)
	}
	b.ReportMetric(float64(ok)/el.Seconds(), "req/s")
	b.ReportMetric(c.peakRSS()/1e6, "host-peak-RSS-MB")
}

// BenchmarkServeOverload floods a host whose workers are all busy (service
// 10 s) with far more concurrent requests than it can hold, for several
// queue lengths: the host's memory grows with the queue, not with the
// flood, because everything past the queue is answered 503 at once.
//
//	go test -run '^$' -bench ServeOverload -benchtime 1x ./hosting
func BenchmarkServeOverload(b *testing.B) {
	for _, q := range []int{100, 1000, 4000} {
		b.Run(fmt.Sprintf("queue=%d", q), func(b *testing.B) {
			c := startChild(b, fmt.Sprintf("name: busy\nworkers: 100\nqueue: %d\nhost_timeout: 60s\nclasses: {page: {service: 10s, size: 1KB}}\n", q))
			defer c.stop()
			// Hold 100 + q requests in the host, then send 50,000 more
			// over 256 connections; all of those must get 503.
			held := 100 + q
			var wg sync.WaitGroup
			conns := make([]net.Conn, 0, held)
			for range held {
				conn, err := net.Dial("tcp", c.addr)
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, conn)
				fmt.Fprintf(conn, "GET /p/held HTTP/1.1\r\nHost: x\r\n\r\n")
			}
			time.Sleep(500 * time.Millisecond)
			b.ResetTimer()
			for range b.N {
				ok, other := hammer(c.addr, "/p/flood", 256, 50_000)
				if ok != 0 || other != 50_000 {
					b.Errorf("flood: %d ok, %d other; want all 50000 rejected", ok, other)
				}
			}
			b.StopTimer()
			b.ReportMetric(c.peakRSS()/1e6, "host-peak-RSS-MB")
			for _, conn := range conns {
				conn.Close()
			}
			wg.Wait()
		})
	}
}
