package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// ResolvedFormat marks a resolved scenario file: the exact curve a run
// sends (already compressed, scaled and capped), its endpoints, SLO and
// abort rules, saved as JSON so that several machines (the pods of a
// Kubernetes Job) send the same schedule to the request.
const ResolvedFormat = "flashcrowd-resolved-scenario/v1"

type resolvedFile struct {
	Format   string    `json:"format"`
	Scenario *Scenario `json:"scenario"`
}

// MarshalResolved saves s, whose Curve is the curve to send, as a resolved
// scenario file. Loading it gives the same schedule: float64 values survive
// encoding/json exactly, and the curve is rebuilt from them. Values that
// came from ${ENV:NAME} references are saved as the references (see
// Scenario.Redacted): the machine that loads the file resolves them from
// its own environment.
func MarshalResolved(s *Scenario) ([]byte, error) {
	if s == nil || s.Curve == nil {
		return nil, fmt.Errorf("saving the resolved scenario: no curve")
	}
	c := *s.Redacted()
	c.Resolved = true
	b, err := json.MarshalIndent(resolvedFile{Format: ResolvedFormat, Scenario: &c}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("saving the resolved scenario: %w", err)
	}
	return append(b, '\n'), nil
}

// isResolved tells whether data looks like a resolved scenario file (a
// JSON object naming ResolvedFormat).
func isResolved(data []byte) bool {
	d := bytes.TrimSpace(data)
	return len(d) > 0 && d[0] == '{' && bytes.Contains(d, []byte(ResolvedFormat))
}

// parseResolved reads a resolved scenario file. Its Resolved field is set:
// the curve is the one to send, not to be compressed or scaled again.
// ${ENV:NAME} references in its endpoints are resolved with env.
func parseResolved(file string, data []byte, env Env) (*Scenario, error) {
	return parseResolvedWith(file, data, &envResolver{env: env})
}

// parseResolvedWith is parseResolved with the resolver for ${ENV:NAME}
// references.
func parseResolvedWith(file string, data []byte, er *envResolver) (*Scenario, error) {
	var r resolvedFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, &Problem{File: file, Msg: fmt.Sprintf("reading a resolved scenario: %v", err)}
	}
	if r.Format != ResolvedFormat {
		return nil, &Problem{File: file, Field: "format", Msg: fmt.Sprintf("%q is not %q", r.Format, ResolvedFormat)}
	}
	if r.Scenario == nil || r.Scenario.Curve == nil {
		return nil, &Problem{File: file, Field: "scenario.curve", Msg: "missing"}
	}
	s := r.Scenario
	s.Resolved = true
	if len(s.Endpoints) == 0 {
		s.Endpoints = DefaultEndpoints()
	}
	d := &Decoder{File: file}
	er.d = d
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		er.resolveEndpoint(e, fmt.Sprintf("scenario.endpoints[%d]", i), nil)
		if er.unresolved(e.URL) || er.urlFailed {
			// A variable left unset (LoadUnresolved), checked once set, or
			// a reference not resolved, reported already.
		} else if strings.HasPrefix(e.URL, "/") {
			checkEndpointURL(d, nil, fmt.Sprintf("scenario.endpoints[%d].path", i), e)
		} else if _, err := url.Parse(e.URL); err != nil {
			d.Add(nil, fmt.Sprintf("scenario.endpoints[%d].url", i), "%q is not an http(s) URL%s", e.Redacted().URL, urlWhy(err, e.URL != e.Redacted().URL))
		}
	}
	names := map[string]bool{}
	for _, e := range s.Endpoints {
		names[e.Name] = true
	}
	for i, e := range s.Endpoints {
		for j, a := range e.Assets {
			if !names[a.Name] || a.Name == e.Name || a.Count < 1 || a.Count > maxAssets {
				d.Add(nil, fmt.Sprintf("scenario.endpoints[%d].assets[%d]", i, j), "asset %q ×%d: want another endpoint's name and a count of 1 to %d", a.Name, a.Count, maxAssets)
			}
		}
	}
	if len(d.Problems) > 0 {
		return nil, d.Problems
	}
	return s, nil
}
