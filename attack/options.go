package attack

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// Defaults for the attacker. They are bounded on purpose: vegeta's own
// default spawns a worker whenever none is idle, which against a slow target
// at thousands of requests a second opens connections until the machine runs
// out of file descriptors or local ports. When in-flight requests reach the
// bound, sends fall behind schedule; Run says so (progress line and run.json
// warning) instead of quietly running a lighter test.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultWorkers        = 10   // started up front; more are added as needed
	DefaultMaxWorkers     = 5000 // bound on requests in flight
	DefaultMaxConnections = 5000 // bound on open connections per host
	DefaultRedirects      = vegeta.DefaultRedirects
	// VegetaVersion is the vegeta library flashcrowd sends with.
	VegetaVersion = "v12.13.0"
	// DefaultResultsBudget is the size of results.gob past which a run
	// keeps 1 in SampleAfterBudget raw results (measured ≈ 64 bytes a
	// result: an hour at 35,000/s would be 8 GB otherwise).
	DefaultResultsBudget = 2_000_000_000
	SampleAfterBudget    = 100
	// ResultsFile is the name of a run's results file in its directory.
	ResultsFile = "results.gob"
)

// Options configure a Run.
type Options struct {
	// Scenario is what to send: its Curve is the curve as it will be sent
	// (already compressed, scaled and capped), its Endpoints the mix.
	Scenario *scenarios.Scenario
	// Target is the base URL endpoint paths are joined to.
	Target *url.URL
	// Confirm lists the hosts the user named with --confirm: any target
	// host that is not loopback must be among them.
	Confirm []string
	// Out is the run directory for results.gob and run.json; "" keeps no
	// files (the sink still sees every result).
	Out string

	// Results chooses which raw results go to results.gob: "" (the
	// default) keeps all until ResultsBudget bytes, then 1 in
	// SampleAfterBudget; "all" keeps every one whatever the size; "none"
	// keeps no file; "sample=N" keeps 1 in N (hits whose Seq is a multiple
	// of N). The sink and the summary always see every result; run.json's
	// ResultsKept states the choice.
	Results       string
	ResultsBudget int64 // bytes; 0 → DefaultResultsBudget

	// Engine is the sender: EngineFast (the default, "") or EngineVegeta.
	// The fast engine speaks plain HTTP/1.1 to one host (a redirect it
	// follows with net/http, as vegeta's does); a run it cannot send
	// (https, several hosts, keep-alive off) uses vegeta's and says so.
	Engine string

	// ConnectionsPerVisitor is how many of a page view's assets load at
	// once; 0 → DefaultConnectionsPerVisitor.
	ConnectionsPerVisitor int

	Timeout          time.Duration // per request, body included; 0 → DefaultTimeout
	Workers          uint64        // workers started up front; 0 → DefaultWorkers
	MaxWorkers       uint64        // bound on requests in flight; 0 → DefaultMaxWorkers
	Connections      int           // idle keep-alive connections kept per host; 0 → MaxConnections
	MaxConnections   int           // bound on connections per host; 0 → DefaultMaxConnections
	DisableKeepAlive bool
	DisableHTTP2     bool
	Insecure         bool        // skip TLS certificate checks
	Redirects        int         // redirects followed; 0 → DefaultRedirects; < 0 → none (3xx counts as success)
	Header           http.Header // added to every request
	// MaxBody is how many bytes of each response body a result keeps: 0
	// keeps none (the default: memory and results stay small whatever the
	// target returns), -1 keeps whole bodies. Bodies are always read to the
	// end and their size recorded in BytesIn.
	MaxBody     int64
	KeepHeaders bool // keep response headers in results (dropped by default)

	Shard, Shards int       // send only global requests g ≡ Shard (mod Shards)
	StartAt       time.Time // t = 0 of the curve; zero → now

	Abort   []scenarios.AbortRule // nil → the scenario's rules
	NoAbort bool                  // run the whole curve whatever happens

	// Progress receives the plan line, live progress and warnings; nil for
	// none. Live means it is a terminal: one line refreshed in place a few
	// times a second instead of a plain line every 10 s.
	Progress io.Writer
	Live     bool

	// Info seeds run.json: the caller fills Version, Args, Options, Plan and
	// PlanCost; Run fills the rest.
	Info scenarios.RunInfo

	// Started, if set, is called once the start instant is fixed and
	// before the first request, with the run's metadata. The pointer stays
	// valid: Run fills in End, Stopped and Warnings as the run ends, so a
	// window folder built on it sees the final state.
	Started func(info *scenarios.RunInfo)

	// Meter, if set, receives the run's live figures (for an exporter
	// such as Prometheus); it keeps the final counts after Run returns.
	Meter *Meter
}

// ErrNotConfirmed is returned when a target is not on loopback and its host
// was not named with --confirm.
var ErrNotConfirmed = errors.New("target is not loopback")

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.MaxWorkers == 0 {
		o.MaxWorkers = DefaultMaxWorkers
	}
	o.Workers = min(o.Workers, o.MaxWorkers)
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.Connections <= 0 {
		o.Connections = o.MaxConnections
	}
	if o.Redirects == 0 {
		o.Redirects = DefaultRedirects
	} else if o.Redirects < 0 {
		o.Redirects = vegeta.NoFollow
	}
	if o.ResultsBudget <= 0 {
		o.ResultsBudget = DefaultResultsBudget
	}
	if o.Shards <= 0 {
		o.Shards = 1
	}
	if o.Abort == nil && o.Scenario != nil {
		o.Abort = o.Scenario.Abort
	}
}

// IsLoopback reports whether host (a name or an IP, without port) is the
// local machine's loopback: localhost, 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Hosts lists the distinct hosts a run would send to, in first-use order.
func Hosts(targets []vegeta.Target) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range targets {
		u, err := url.Parse(t.URL)
		if err != nil {
			continue
		}
		if h := u.Hostname(); !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// CheckConfirmed returns an error wrapping ErrNotConfirmed naming every
// host that is not loopback and not in confirmed.
func CheckConfirmed(hosts, confirmed []string) error {
	ok := map[string]bool{}
	for _, c := range confirmed {
		for _, h := range strings.Split(c, ",") {
			ok[strings.ToLower(strings.TrimSpace(h))] = true
		}
	}
	var missing []string
	for _, h := range hosts {
		if !IsLoopback(h) && !ok[strings.ToLower(h)] {
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s: sending load to a real site needs --confirm %s (the host you are sure you may load)",
			ErrNotConfirmed, strings.Join(missing, ", "), strings.Join(missing, ","))
	}
	return nil
}

// ParseResults checks a --results value: "", "all", "none" or "sample=N"
// (N ≥ 1), and returns N for sample (1 for all, 0 for none or "").
func ParseResults(s string) (every uint64, err error) {
	switch s {
	case "":
		return 0, nil
	case "all":
		return 1, nil
	case "none":
		return 0, nil
	}
	if n, ok := strings.CutPrefix(s, "sample="); ok {
		v, err := strconv.ParseUint(n, 10, 64)
		if err != nil || v == 0 {
			return 0, fmt.Errorf("results %q: want sample=N with a whole N ≥ 1", s)
		}
		return v, nil
	}
	return 0, fmt.Errorf("results %q: want all, none or sample=N", s)
}
