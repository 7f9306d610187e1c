package scenarios

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"
)

// RunInfoFile is the name of a run's metadata file in its directory.
const RunInfoFile = "run.json"

// RunInfo is a run's metadata (DIR/run.json): what was sent, to where, when,
// so that a report can rebuild every request's scheduled time from its
// vegeta Result.Seq and say how far sends lagged.
type RunInfo struct {
	Tool      string            `json:"tool"`    // "flashcrowd"
	Version   string            `json:"version"` // flashcrowd build
	GoVersion string            `json:"go_version"`
	Vegeta    string            `json:"vegeta_version"`
	Engine    string            `json:"engine,omitempty"` // which sender produced the results
	Scenario  *Scenario         `json:"scenario"`         // Curve is the curve sent (compressed, scaled, capped)
	Target    string            `json:"target"`
	Plan      string            `json:"plan,omitempty"`      // simulated host plan, if the target was one
	PlanCost  float64           `json:"plan_cost,omitempty"` // its monthly cost
	Simulated bool              `json:"simulated,omitempty"` // no network: flashcrowd simulate
	Shard     int               `json:"shard"`               // this shard's index, 0-based
	Shards    int               `json:"shards"`              // 1 when not sharded
	Start     time.Time         `json:"start"`               // t = 0 of the curve
	End       time.Time         `json:"end,omitempty"`
	Seed      int64             `json:"seed,omitempty"`
	Args      []string          `json:"args,omitempty"` // the command line
	Options   map[string]string `json:"options,omitempty"`
	Results   string            `json:"results,omitempty"` // results file name in the directory, "" if none kept
	// Visits is the visitors' records file (VisitsFile) when the arrivals
	// were page views or journeys; "" otherwise.
	Visits string `json:"visits,omitempty"`
	// ResultsKept says which raw results the results file holds ("all",
	// "1 in 10", "all up to the 2 GB budget, then 1 in 100 from seq …");
	// "" means all (runs before it existed). Windows always see every result.
	ResultsKept string `json:"results_kept,omitempty"`
	Stopped     string `json:"stopped,omitempty"` // why the run ended early: "interrupted", "aborted: ...", ""
	// StoppedAt is when a run that ended early stopped sending (End is
	// later: after the replies in flight); zero for runs that did not, and
	// for runs before it was recorded.
	StoppedAt time.Time `json:"stopped_at,omitzero"`
	// Abandoned is how many requests were in flight, never answered, when
	// a second Ctrl-C stopped the run at once: sent, but not in the results.
	Abandoned uint64   `json:"abandoned,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`

	// StartSkew is how far after Start this shard's sending began by the
	// reference clock: its lateness waking up (by its own clock) minus
	// ClockOffset. Shards of one run should agree within a few ms.
	StartSkew time.Duration `json:"start_skew,omitempty"`
	// ClockOffset is this machine's clock minus the reference clock
	// ClockRef ("results volume": the file server's time stamps on the
	// shared results folder), when it could be measured; 0 otherwise.
	ClockOffset time.Duration `json:"clock_offset,omitempty"`
	ClockRef    string        `json:"clock_ref,omitempty"`

	// SendCPU is the CPU time the sending process had used when sending
	// ended and the results file was flushed (getrusage: start-up,
	// sending, live windows and the results file; not the report written
	// after). nil where the platform does not say.
	SendCPU *CPUTime `json:"send_cpu,omitempty"`
}

// CPUTime is a process's CPU time, user and system, in nanoseconds.
type CPUTime struct {
	User   time.Duration `json:"user_ns"`
	System time.Duration `json:"system_ns"`
}

// AssetSeq marks the results of a page view's assets: their Seq is
// AssetSeq plus a count, while a page's Seq is its visitor's index (due at
// Due(seq)). An asset is sent when its page has answered, so it has no
// schedule of its own.
const AssetSeq = 1 << 62

// Due is the offset from Start at which this shard's seq-th request was
// scheduled: Curve.Due(seq·Shards + Shard). Requests are striped across shards, so
// together the shards send exactly the single-machine schedule.
func (r *RunInfo) Due(seq uint64) time.Duration {
	n := max(r.Shards, 1)
	g := seq*uint64(n) + uint64(r.Shard)
	if seq >= AssetSeq || g >= r.Scenario.Curve.Requests() {
		return -1 // a page view's asset, or no hit of the curve
	}
	t := r.Scenario.Curve.Due(g)
	if math.IsInf(t, 0) {
		return -1
	}
	return secs(t)
}

// Offered is the number of requests this shard was due to send in [t0, t1)
// seconds from Start: the curve's arrivals times the requests an arrival
// sends (a page view sends its page and its assets).
func (r *RunInfo) Offered(t0, t1 float64) float64 {
	return (r.Scenario.Curve.N(t1) - r.Scenario.Curve.N(t0)) * r.Scenario.RequestsPerArrival() / float64(max(r.Shards, 1))
}

// WriteRunInfo writes dir/run.json atomically. The scenario is written
// redacted (see Scenario.Redacted): ${ENV:NAME} references, not values.
func WriteRunInfo(dir string, r *RunInfo) error {
	if r.Scenario.FromEnv() {
		c := *r
		c.Scenario = r.Scenario.Redacted()
		r = &c
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, RunInfoFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, RunInfoFile))
}

// ReadRunInfo reads dir/run.json.
func ReadRunInfo(dir string) (*RunInfo, error) {
	b, err := os.ReadFile(filepath.Join(dir, RunInfoFile))
	if err != nil {
		return nil, err
	}
	var r RunInfo
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, RunInfoFile), err)
	}
	if r.Scenario == nil || r.Scenario.Curve == nil {
		return nil, fmt.Errorf("reading %s: no scenario curve", filepath.Join(dir, RunInfoFile))
	}
	return &r, nil
}
