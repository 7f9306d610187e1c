// Command tally turns one benchmark run of a load generator into one row of
// figures, and a file of rows into the benchmark's Markdown table. bench/run
// calls it; it reads each tool's own output (a vegeta results file, with
// run.json beside flashcrowd's; k6's --summary-export JSON) and GNU time's
// "%e %U %S %M %x" line for CPU and peak RSS.
//
//	tally row -tool vegeta -rate 5000 -duration 10s -time time.txt -results results.gob >> rows.jsonl
//	tally row -tool k6 -rate 5000 -duration 10s -time time.txt -k6 summary.json >> rows.jsonl
//	tally table rows.jsonl
//	tally noise row.json            # "OTHER STEAL": shares of the generator core
//	tally note row.json TEXT        # the row with TEXT added to its note
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tally:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: tally row|table …")
	}
	switch args[0] {
	case "row":
		return rowCmd(args[1:], stdout)
	case "note", "noise":
		if (args[0] == "note") != (len(args) == 3) || len(args) < 2 {
			return errors.New("usage: tally note ROW.json TEXT | tally noise ROW.json")
		}
		rows, err := readRows(args[1])
		if err != nil {
			return err
		}
		if len(rows) != 1 {
			return fmt.Errorf("%s: want one row, found %d", args[1], len(rows))
		}
		r := rows[0]
		if args[0] == "noise" {
			_, err := fmt.Fprintf(stdout, "%g %g\n", max(r.Other, 0), max(r.Steal, 0))
			return err
		}
		r.Note = strings.TrimPrefix(r.Note+"; "+args[2], "; ")
		return json.NewEncoder(stdout).Encode(r)
	case "table":
		if len(args) != 2 {
			return errors.New("usage: tally table ROWS.jsonl")
		}
		rows, err := readRows(args[1])
		if err != nil {
			return err
		}
		return writeTable(stdout, rows)
	}
	return fmt.Errorf("unknown command %q (want row or table)", args[0])
}

// Row is one tool at one offered rate. Figures that a tool's output cannot
// give are negative (shown as "n/a").
type Row struct {
	Tool     string  `json:"tool"`
	Offered  float64 `json:"offered"`   // requests/s asked for
	Duration float64 `json:"duration"`  // s of sending asked for
	Sent     uint64  `json:"sent"`      // requests sent (results recorded)
	OK       uint64  `json:"ok"`        // results without error and with a 2xx/3xx code
	InWindow uint64  `json:"in_window"` // requests sent within Duration of the start
	Achieved float64 `json:"achieved"`  // InWindow / Duration
	CPUus    float64 `json:"cpu_us"`    // user+sys CPU per request sent, µs
	CPUs     float64 `json:"cpu_s"`     // user+sys CPU of the whole run, s
	// SendUs is the CPU per request sent of the sending phase, µs: for
	// flashcrowd the process's CPU when sending ended (run.json's
	// send_cpu), without the report it writes after; for vegeta and k6,
	// which write no report, the whole run's. ReportUs is the rest
	// (CPUus − SendUs). Negative when not known.
	SendUs   float64 `json:"send_us"`
	ReportUs float64 `json:"report_us"`
	Wall     float64 `json:"wall_s"` // wall time of the whole run, s
	RSSMB    float64 `json:"rss_mb"` // peak resident set, MiB
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	LagP99ms float64 `json:"lag_p99_ms"` // p99 of send time minus scheduled time
	SecDev   float64 `json:"sec_dev"`    // worst |count in a second − offered| / offered over the full seconds
	Exit     int     `json:"exit"`       // the tool's exit status (124: killed by timeout)
	// Interference on the generator's core over the run, as fractions of
	// the core: CPU used by other processes, and time stolen by the
	// hypervisor. Negative when not measured.
	Other float64 `json:"other"`
	Steal float64 `json:"steal"`
	// Overflows counts connection attempts the target's accept queue
	// dropped (the client retries its SYN after 1 s, 3 s, …).
	Overflows int64  `json:"listen_overflows"`
	Note      string `json:"note,omitempty"`
}

func rowCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("row", flag.ContinueOnError)
	var (
		r        Row
		dur      time.Duration
		timeFile string
		results  string
		runinfo  string
		k6       string
		core     [2]string
	)
	fs.StringVar(&r.Tool, "tool", "", "tool name as shown in the table")
	fs.Float64Var(&r.Offered, "rate", 0, "offered requests/s")
	fs.DurationVar(&dur, "duration", 0, "sending duration asked for")
	fs.StringVar(&timeFile, "time", "", "GNU time output (format \"%e %U %S %M %x\")")
	fs.StringVar(&results, "results", "", "vegeta results file (gob)")
	fs.StringVar(&runinfo, "runinfo", "", "directory holding flashcrowd's run.json (scheduled send times)")
	fs.StringVar(&k6, "k6", "", "k6 --summary-export JSON")
	fs.StringVar(&r.Note, "note", "", "note to carry into the table")
	fs.StringVar(&core[0], "core-before", "", "the generator core's /proc/stat line before the run")
	fs.StringVar(&core[1], "core-after", "", "the generator core's /proc/stat line after the run")
	fs.Int64Var(&r.Overflows, "listen-overflows", 0, "SYNs the target's accept queue dropped during the run (TcpExtListenOverflows)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if r.Tool == "" || r.Offered <= 0 || dur <= 0 || timeFile == "" || (results == "") == (k6 == "") {
		return errors.New("row: want -tool, -rate, -duration, -time and one of -results or -k6")
	}
	r.Duration = dur.Seconds()
	r.LagP99ms, r.SecDev, r.Other, r.Steal = -1, -1, -1, -1
	if err := readTime(timeFile, &r); err != nil {
		return err
	}
	if core[0] != "" && core[1] != "" {
		if err := coreUse(core, &r); err != nil {
			return err
		}
	}
	var err error
	sendCPU := r.CPUs // a tool without a report phase: all of it
	if results != "" {
		var info *scenarios.RunInfo
		if runinfo != "" {
			if info, err = scenarios.ReadRunInfo(runinfo); err != nil {
				return fmt.Errorf("reading run.json: %w", err)
			}
		}
		err = readResults(results, info, &r)
		if info != nil && info.SendCPU != nil {
			sendCPU = (info.SendCPU.User + info.SendCPU.System).Seconds()
		} else if info != nil {
			sendCPU = -1 // flashcrowd without send_cpu: not known
		}
	} else {
		err = readK6(k6, &r)
	}
	if err != nil {
		return err
	}
	r.Achieved = float64(r.InWindow) / r.Duration
	if r.Sent > 0 {
		r.CPUus = r.CPUs / float64(r.Sent) * 1e6
	}
	r.SendUs, r.ReportUs = -1, -1
	if r.Sent > 0 && sendCPU >= 0 {
		r.SendUs = sendCPU / float64(r.Sent) * 1e6
		r.ReportUs = max(r.CPUs-sendCPU, 0) / float64(r.Sent) * 1e6
	}
	return json.NewEncoder(stdout).Encode(r)
}

// readTime reads GNU time's last line: elapsed, user, sys, max RSS (KiB),
// exit status. Earlier lines ("Command exited with non-zero status …")
// are skipped.
func readTime(file string, r *Row) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading time output: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) != 5 {
		return fmt.Errorf("reading time output %s: want \"%%e %%U %%S %%M %%x\", got %q", file, lines[len(lines)-1])
	}
	var v [5]float64
	for i, s := range f {
		if v[i], err = strconv.ParseFloat(s, 64); err != nil {
			return fmt.Errorf("reading time output %s: field %d: %w", file, i+1, err)
		}
	}
	r.Wall, r.CPUs, r.RSSMB, r.Exit = v[0], v[1]+v[2], v[3]/1024, int(v[4])
	return nil
}

// coreUse sets r.Other and r.Steal from two /proc/stat lines of the
// generator's core ("cpuN user nice system idle iowait irq softirq steal …",
// in USER_HZ = 100 ticks per second) taken around the run.
func coreUse(lines [2]string, r *Row) error {
	var v [2][8]float64
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") {
			return fmt.Errorf("reading /proc/stat line %q: want cpuN and 8 counters", l)
		}
		for j := range 8 {
			x, err := strconv.ParseFloat(f[j+1], 64)
			if err != nil {
				return fmt.Errorf("reading /proc/stat line %q: %w", l, err)
			}
			v[i][j] = x
		}
	}
	var d [8]float64
	total := 0.0
	for j := range 8 {
		d[j] = v[1][j] - v[0][j]
		total += d[j]
	}
	if total <= 0 {
		return nil
	}
	// irq and softirq are left out: loopback packet work the generator
	// itself causes is accounted there.
	busy := d[0] + d[1] + d[2] // user nice system
	r.Other = max(busy/100-r.CPUs, 0) / (total / 100)
	r.Steal = d[7] / total
	return nil
}

// readResults folds a vegeta gob results file. With info (flashcrowd's
// run.json) request seq was due at info.Start + info.Due(seq); without it
// (vegeta's CLI, whose constant pacer makes hit seq due at began + seq/rate)
// began is estimated as the earliest ts − seq/rate, so lags are measured
// from the least-lagged send and are a lower bound.
func readResults(file string, info *scenarios.RunInfo, r *Row) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("reading results: %w", err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	type hit struct {
		seq uint64
		ts  time.Time
	}
	var (
		lat  []time.Duration
		hits []hit
		res  vegeta.Result
		errs = map[string]uint64{}
	)
	for {
		res = vegeta.Result{}
		if err := dec.Decode(&res); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			return fmt.Errorf("decoding %s after %d results: %w", file, len(hits), err)
		}
		hits = append(hits, hit{res.Seq, res.Timestamp})
		lat = append(lat, res.Latency)
		if res.Error == "" && res.Code >= 200 && res.Code < 400 {
			r.OK++
		} else if res.Error != "" {
			errs[errorKind(res.Error)]++
		}
	}
	if len(errs) > 0 {
		kinds := make([]string, 0, len(errs))
		for k := range errs {
			kinds = append(kinds, k)
		}
		slices.SortFunc(kinds, func(a, b string) int { return int(errs[b]) - int(errs[a]) })
		var parts []string
		for _, k := range kinds[:min(len(kinds), 3)] {
			parts = append(parts, fmt.Sprintf("%s ×%s", k, count(float64(errs[k]))))
		}
		r.Note = strings.TrimPrefix(r.Note+"; "+strings.Join(parts, ", "), "; ")
	}
	r.Sent = uint64(len(hits))
	if len(hits) == 0 {
		return nil
	}
	slices.Sort(lat)
	r.P50ms = ms(quantile(lat, 0.50))
	r.P99ms = ms(quantile(lat, 0.99))

	due := func(seq uint64) time.Duration { return time.Duration(float64(seq) / r.Offered * 1e9) }
	var start time.Time
	if info != nil && !info.Start.IsZero() {
		start = info.Start
		due = info.Due
	} else {
		start = hits[0].ts.Add(-due(hits[0].seq))
		for _, h := range hits[1:] {
			if b := h.ts.Add(-due(h.seq)); b.Before(start) {
				start = b
			}
		}
	}
	lags := make([]time.Duration, len(hits))
	full := int(math.Floor(r.Duration))
	counts := make([]float64, full)
	window := time.Duration(r.Duration * 1e9)
	var last time.Duration
	for i, h := range hits {
		el := h.ts.Sub(start)
		lags[i] = el - due(h.seq)
		last = max(last, el)
		if el >= 0 && el < window {
			r.InWindow++
			if s := int(el / time.Second); s < full {
				counts[s]++
			}
		}
	}
	if late := r.Sent - r.InWindow; late > max(r.Sent/1000, 10) {
		r.Note = strings.TrimPrefix(fmt.Sprintf("%s; %s sent after %gs, the last at %.1fs", r.Note, count(float64(late)), r.Duration, last.Seconds()), "; ")
	}
	slices.Sort(lags)
	r.LagP99ms = ms(quantile(lags, 0.99))
	if full > 0 {
		r.SecDev = 0
		for _, c := range counts {
			r.SecDev = max(r.SecDev, math.Abs(c-r.Offered)/r.Offered)
		}
	}
	return nil
}

// errorKind shortens a result's error to its cause: the text after the
// last ": " of a Go error chain ("…: socket: too many open files" → "too
// many open files"), without a parenthesised remark.
func errorKind(e string) string {
	if i := strings.Index(e, " ("); i > 0 {
		e = e[:i]
	}
	if i := strings.LastIndex(e, ": "); i >= 0 {
		e = e[i+2:]
	}
	return e
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// readK6 reads k6's --summary-export: http_reqs, http_req_failed (a rate
// metric whose "passes" are failed requests), http_req_duration med and
// p(99) in ms, and dropped_iterations.
func readK6(file string, r *Row) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading k6 summary: %w", err)
	}
	var s struct {
		Metrics map[string]map[string]float64 `json:"metrics"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("reading k6 summary %s: %w", file, err)
	}
	m := s.Metrics
	if m["http_reqs"] == nil {
		return fmt.Errorf("reading k6 summary %s: no http_reqs metric", file)
	}
	r.Sent = uint64(m["http_reqs"]["count"])
	r.InWindow = r.Sent // k6 starts no iteration after the duration
	r.OK = r.Sent - uint64(m["http_req_failed"]["passes"])
	r.P50ms = m["http_req_duration"]["med"]
	r.P99ms = m["http_req_duration"]["p(99)"]
	if d := m["dropped_iterations"]["count"]; d > 0 {
		r.Note = strings.TrimSpace(r.Note + fmt.Sprintf(" %d iterations dropped", int(d)))
	}
	return nil
}

func readRows(file string) ([]Row, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading rows: %w", err)
	}
	defer f.Close()
	var rows []Row
	dec := json.NewDecoder(f)
	for {
		var r Row
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				return rows, nil
			}
			return nil, fmt.Errorf("reading rows %s: %w", filepath.Base(file), err)
		}
		rows = append(rows, r)
	}
}

// writeTable prints the rows grouped by offered rate, then the
// flashcrowd/vegeta-tuned ratios of CPU per request and achieved rate.
func writeTable(w io.Writer, rows []Row) error {
	slices.SortStableFunc(rows, func(a, b Row) int {
		if a.Offered != b.Offered {
			return int(math.Copysign(1, a.Offered-b.Offered))
		}
		return 0
	})
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "| tool | offered/s | achieved/s | achieved/offered | CPU µs/req sending | CPU µs/req report | CPU µs/req total | peak RSS | p50 | p99 | errors | worst 1 s vs offered | p99 send lag | gen core other / steal | note |")
	fmt.Fprintln(bw, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
	for _, r := range rows {
		errs := "0"
		if r.Sent > 0 && r.OK < r.Sent {
			errs = fmt.Sprintf("%.2f%%", 100*float64(r.Sent-r.OK)/float64(r.Sent))
		}
		note := r.Note
		if r.Overflows > 0 {
			note = strings.TrimPrefix(fmt.Sprintf("%s; %d SYNs dropped by the target's full accept queue", note, r.Overflows), "; ")
		}
		if r.Exit != 0 {
			note = strings.TrimSpace(fmt.Sprintf("exit %d %s", r.Exit, note))
		}
		fmt.Fprintf(bw, "| %s | %s | %s | %.1f%% | %s | %s | %.1f | %.0f MiB | %s | %s | %s | %s | %s | %s / %s | %s |\n",
			r.Tool, count(r.Offered), count(r.Achieved), 100*r.Achieved/r.Offered, us(r.SendUs), us(r.ReportUs), r.CPUus, r.RSSMB,
			latency(r.P50ms), latency(r.P99ms), errs, pct(r.SecDev), latency(r.LagP99ms), pct0(r.Other), pct0(r.Steal), note)
	}

	base := map[float64]Row{}
	for _, r := range rows {
		if r.Tool == "vegeta-tuned" {
			base[r.Offered] = r
		}
	}
	var ratios []string
	for _, r := range rows {
		b, ok := base[r.Offered]
		if !ok || !strings.HasPrefix(r.Tool, "flashcrowd") || b.CPUus == 0 || b.Achieved == 0 {
			continue
		}
		send := "n/a"
		if r.SendUs > 0 && b.SendUs > 0 {
			send = fmt.Sprintf("%.2f× (%.1f / %.1f µs)", r.SendUs/b.SendUs, r.SendUs, b.SendUs)
		}
		ratios = append(ratios, fmt.Sprintf("| %s | %s | %s | %.2f× (%.1f / %.1f µs) | %.2f× (%s / %s) |",
			r.Tool, count(r.Offered), send, r.CPUus/b.CPUus, r.CPUus, b.CPUus, r.Achieved/b.Achieved, count(r.Achieved), count(b.Achieved)))
	}
	if len(ratios) > 0 {
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "| flashcrowd ÷ vegeta-tuned | offered/s | CPU per request, sending | CPU per request, whole process | achieved |")
		fmt.Fprintln(bw, "|---|--:|--:|--:|--:|")
		for _, s := range ratios {
			fmt.Fprintln(bw, s)
		}
	}
	return bw.Flush()
}

// count prints a rate with thousands separators.
func count(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func latency(msec float64) string {
	switch {
	case msec < 0:
		return "n/a"
	case msec < 1:
		return fmt.Sprintf("%.0f µs", msec*1000)
	case msec < 100:
		return fmt.Sprintf("%.2f ms", msec)
	case msec < 1000:
		return fmt.Sprintf("%.0f ms", msec)
	}
	return fmt.Sprintf("%.2f s", msec/1000)
}

// us prints CPU µs per request, n/a when not known.
func us(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", v)
}

func pct0(f float64) string {
	if f < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

func pct(f float64) string {
	if f < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*f)
}
