package scenarios

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// run.json's SLO and abort rules carry durations as strings, and records
// written with nanoseconds still read.
func TestDurationsInJSON(t *testing.T) {
	s := Scenario{SLO: SLO{P99: 800 * time.Millisecond, MaxErrorRatio: 0.01, MinThroughput: 0.95, Grace: 10 * time.Second},
		Abort:    []AbortRule{{Metric: "errors", Threshold: 0.5, For: 15 * time.Second}},
		Journeys: []Journey{{Name: "buy", Weight: 1, Think: Think{Mean: 3 * time.Second, Exponential: true}, Steps: []Step{{Endpoint: "home"}}}}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"p99":"800ms"`, `"grace":"10s"`, `"for":"15s"`, `"think":{"mean":"3s","exponential":true}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	var back Scenario
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.SLO != s.SLO || back.Abort[0] != s.Abort[0] || back.Journeys[0].Think != s.Journeys[0].Think {
		t.Errorf("round trip: %+v %+v %+v", back.SLO, back.Abort, back.Journeys)
	}
	old := `{"slo":{"p99":1000000000,"max_error_ratio":0.01,"min_throughput":0.95,"grace":5000000000},"abort":[{"metric":"p99","threshold":10,"for":30000000000}],"journeys":[{"name":"buy","think":{"mean":2000000000},"steps":[{"endpoint":"home"}]}]}`
	var o Scenario
	if err := json.Unmarshal([]byte(old), &o); err != nil {
		t.Fatal(err)
	}
	if o.SLO.P99 != time.Second || o.SLO.Grace != 5*time.Second || o.Abort[0].For != 30*time.Second || o.Journeys[0].Think.Mean != 2*time.Second {
		t.Errorf("nanoseconds: %+v %+v %+v", o.SLO, o.Abort, o.Journeys)
	}
	if err := json.Unmarshal([]byte(`{"slo":{"p99":"fast"}}`), &o); err == nil {
		t.Errorf("a bad duration read without error")
	}
}

// Durations print to two units at most, in the units a person reads, and
// parse back to what they print.
func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		850 * time.Millisecond: "850ms",
		41 * time.Second:       "41s",
		130 * time.Second:      "2m10s",
		10 * time.Minute:       "10m",
		59*time.Minute + 59*time.Second + 600*time.Millisecond: "1h",
		17 * time.Hour: "17h",
		47*time.Hour + 45*time.Minute + 36*time.Second: "47h46m",
		27*time.Hour + 30*time.Minute:                  "27h30m",
		102 * time.Hour:                                "4d6h",
	} {
		got := FormatDuration(d)
		if got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		back, err := ParseDuration(got)
		if err != nil || back-d > time.Hour/2 || d-back > time.Hour/2 {
			t.Errorf("ParseDuration(%q) = %v, %v; want about %v", got, back, err, d)
		}
	}
}
