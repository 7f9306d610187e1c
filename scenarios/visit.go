package scenarios

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// VisitsFile is the name of a run's visitor records in its directory: one
// JSON object per line (a Visit), in the order visits ended. It exists
// only when the scenario's arrivals are visitors (page views or journeys).
const VisitsFile = "visits.jsonl"

// Visit kinds.
const (
	PageView     = "page view"
	JourneyVisit = "journey"
)

// Visit is what one visitor saw: a page view (its page, then its assets)
// or a journey (its steps). The requests a visit sends are ordinary
// results in the results file; a Visit says how they added up for the
// person behind them.
type Visit struct {
	Kind string `json:"kind"` // PageView or JourneyVisit
	Name string `json:"name"` // the page view's page endpoint, or the journey's name
	// Seq is the arrival's index i in the schedule: the i-th visitor,
	// due at Curve.Due(i) (RunInfo.Due).
	Seq uint64 `json:"seq"`
	// Start is when the visit's first request was sent, from t = 0 of the
	// curve; Took runs from the arrival's due instant to the end of its
	// last response (think time included for journeys), so a late send
	// counts against the visitor.
	Start time.Duration `json:"start"`
	Took  time.Duration `json:"took"`
	Sent  int           `json:"sent"` // requests sent for this visit
	OK    bool          `json:"ok"`   // every part succeeded (within the SLO's p99 latency for page views)
	// Broke names the first part that failed: the endpoint name (an asset
	// of a page view, a journey's step endpoint); "" when OK.
	Broke string `json:"broke,omitempty"`
	// Why is the failed part's error kind as the report words it ("503",
	// "timeout", "check body_contains", "slow" for a success slower than
	// the SLO allows); "" when OK.
	Why string `json:"why,omitempty"`
	// Step is a journey's 0-based index of its first failed step, -1 when
	// OK or for page views.
	Step int `json:"step"`
	// Abandoned says a journey stopped at its failed step (the steps after
	// it, if any, were not sent): true for every journey that did not
	// complete, whichever step failed.
	Abandoned bool `json:"abandoned,omitempty"`
}

// Interrupted is a Visit's Why when the run was killed while it was in
// flight: what it saw says nothing about the site.
const Interrupted = "interrupted"

// FailedAt names where a journey failed first, as reports and metrics
// count it: "step 3 checkout" (steps from 1).
func (v *Visit) FailedAt() string { return fmt.Sprintf("step %d %s", v.Step+1, v.Broke) }

// VisitWriter appends Visits to a visits file. It is not safe for
// concurrent use: one goroutine (the one that folds results) writes.
type VisitWriter struct {
	bw  *bufio.Writer
	enc *json.Encoder
	n   uint64
}

// NewVisitWriter writes Visits to w, buffered; call Flush at the end.
func NewVisitWriter(w io.Writer) *VisitWriter {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &VisitWriter{bw: bw, enc: json.NewEncoder(bw)}
}

// Write appends v.
func (w *VisitWriter) Write(v *Visit) error {
	w.n++
	return w.enc.Encode(v)
}

// Count is how many Visits were written.
func (w *VisitWriter) Count() uint64 { return w.n }

// Flush writes what is buffered.
func (w *VisitWriter) Flush() error { return w.bw.Flush() }

// ReadVisits calls fn for each Visit in r, in file order, without keeping
// them. A truncated last line (an interrupted run) ends the stream quietly;
// any other malformed line is an error naming file and line.
func ReadVisits(file string, r io.Reader, fn func(*Visit) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(b) == 0 && err == io.EOF {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s:%d: %w", file, line, err)
		}
		if err == io.EOF { // no newline: the writer was cut off mid-line
			return nil
		}
		var v Visit
		if jerr := json.Unmarshal(b, &v); jerr != nil {
			return fmt.Errorf("%s:%d: not a visit record: %v", file, line, jerr)
		}
		if v.Kind != PageView && v.Kind != JourneyVisit {
			return fmt.Errorf("%s:%d: kind: %q is neither %q nor %q", file, line, v.Kind, PageView, JourneyVisit)
		}
		if err := fn(&v); err != nil {
			return err
		}
	}
}
