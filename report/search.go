package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SearchFile is where `run --find-capacity` keeps its capacity search,
// beside the run's report; SearchDir holds the probes' own runs.
const (
	SearchFile = "find-capacity.json"
	SearchDir  = "find-capacity"
)

// Probe is one steady probe of a capacity search.
type Probe struct {
	Rate       float64 `json:"rate_rps"`
	Held       bool    `json:"held"`
	Achieved   float64 `json:"achieved_rps"` // successes completed per second, mean of the judged windows
	ErrorRatio float64 `json:"error_ratio"`  // over the judged half
	P99MS      float64 `json:"p99_ms"`       // of successes, worst judged window
	Why        string  `json:"why,omitempty"`
	Dir        string  `json:"dir"`
}

// Search is a capacity search after a run (find-capacity.json): steady
// probes around the run's estimate, bisected.
type Search struct {
	Start     float64  `json:"start_rps"` // the first probe: the run's estimate
	From      string   `json:"from"`      // where the estimate came from
	ProbeS    float64  `json:"probe_s"`
	JudgedS   float64  `json:"judged_s"` // the end of each probe judged
	Probes    []Probe  `json:"probes"`
	HeldRPS   *float64 `json:"held_rps"`  // highest probe rate that held
	BrokeRPS  *float64 `json:"broke_rps"` // lowest probe rate that broke
	WidthPct  *float64 `json:"width_pct"` // (broke − held) / held
	Stopped   string   `json:"stopped"`   // why the search ended
	Statement string   `json:"statement"`
}

// ReadSearch reads dir's capacity search; nil, nil when it has none.
func ReadSearch(dir string) (*Search, error) {
	b, err := os.ReadFile(filepath.Join(dir, SearchFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s Search
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, SearchFile), err)
	}
	return &s, nil
}

// WriteSearch writes s as dir's find-capacity.json.
func WriteSearch(dir string, s *Search) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, SearchFile), append(b, '\n'))
}

// Rows is the search's table: one row a probe.
func (s *Search) Rows() ([]string, [][]string) {
	head := []string{"probe", "rate", "SLO", "achieved", "errors", "p99", "why"}
	var rows [][]string
	for i, p := range s.Probes {
		state := "held"
		if !p.Held {
			state = "broke"
		}
		rows = append(rows, []string{fmt.Sprint(i + 1), FormatRate(p.Rate), state, FormatRate(p.Achieved),
			fmt.Sprintf("%.1f%%", 100*p.ErrorRatio), fmt.Sprintf("%.0f ms", p.P99MS), p.Why})
	}
	return head, rows
}

// Heading says how the probes ran.
func (s *Search) Heading() string {
	return fmt.Sprintf("Probes of %s each, judged on their last %s, starting at %s (%s).",
		fmtSec(s.ProbeS), fmtSec(s.JudgedS), FormatRate(s.Start), s.From)
}
