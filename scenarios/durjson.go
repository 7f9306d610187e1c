package scenarios

import (
	"encoding/json"
	"fmt"
	"time"
)

// run.json and the scenario records in it write durations as strings such
// as "1s" and "800ms", as a scenario file does; records written before
// that hold nanoseconds, which still read.

// jsonDuration is a time.Duration that marshals as "1s" and unmarshals
// from "1s" or a number of nanoseconds.
type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = jsonDuration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration %s: want a string such as \"1s\" or nanoseconds", b)
	}
	*d = jsonDuration(n)
	return nil
}

type sloJSON struct {
	P99           jsonDuration `json:"p99"`
	MaxErrorRatio float64      `json:"max_error_ratio"`
	MinThroughput float64      `json:"min_throughput"`
	Grace         jsonDuration `json:"grace"`
	RunGrace      bool         `json:"run_grace,omitempty"`
}

// MarshalJSON writes the SLO's durations as strings ("1s").
func (s SLO) MarshalJSON() ([]byte, error) {
	return json.Marshal(sloJSON{jsonDuration(s.P99), s.MaxErrorRatio, s.MinThroughput, jsonDuration(s.Grace), s.RunGrace})
}

// UnmarshalJSON reads durations written as strings or as nanoseconds.
func (s *SLO) UnmarshalJSON(b []byte) error {
	var j sloJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = SLO{P99: time.Duration(j.P99), MaxErrorRatio: j.MaxErrorRatio, MinThroughput: j.MinThroughput, Grace: time.Duration(j.Grace), RunGrace: j.RunGrace}
	return nil
}

type abortJSON struct {
	Metric    string       `json:"metric"`
	Threshold float64      `json:"threshold"`
	For       jsonDuration `json:"for"`
}

// MarshalJSON writes the rule's duration as a string ("15s").
func (a AbortRule) MarshalJSON() ([]byte, error) {
	return json.Marshal(abortJSON{a.Metric, a.Threshold, jsonDuration(a.For)})
}

// UnmarshalJSON reads the duration written as a string or as nanoseconds.
func (a *AbortRule) UnmarshalJSON(b []byte) error {
	var j abortJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*a = AbortRule{Metric: j.Metric, Threshold: j.Threshold, For: time.Duration(j.For)}
	return nil
}

type thinkJSON struct {
	Mean        jsonDuration `json:"mean"`
	Exponential bool         `json:"exponential,omitempty"`
}

// MarshalJSON writes the mean as a string ("3s"), as a scenario file does.
func (t Think) MarshalJSON() ([]byte, error) {
	return json.Marshal(thinkJSON{jsonDuration(t.Mean), t.Exponential})
}

// UnmarshalJSON reads the mean written as a string or as nanoseconds.
func (t *Think) UnmarshalJSON(b []byte) error {
	var j thinkJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*t = Think{Mean: time.Duration(j.Mean), Exponential: j.Exponential}
	return nil
}
