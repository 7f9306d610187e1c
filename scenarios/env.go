package scenarios

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Env looks up an environment variable for a ${ENV:NAME} reference in a
// scenario file (the CLI passes os.LookupEnv). A nil Env has no variables.
type Env func(name string) (string, bool)

// envOpen starts a reference to an environment variable: ${ENV:NAME}.
const envOpen = "${ENV:"

// An endpoint's path or url, header values, body and expect.body_contains
// may hold ${ENV:NAME} references, resolved when the scenario is loaded: a
// host, a token or a password need not be written in the file. What is
// written down about a run (run.json, the resolved scenario of a
// Kubernetes Job, the results' URLs) holds the references, never their
// values: see Scenario.Redacted.

// envResolver expands references in the strings of one scenario,
// reporting problems to its decoder.
type envResolver struct {
	d   *Decoder
	env Env
	// keepUnset leaves a reference to a variable env does not have as
	// written, not a problem (LoadUnresolved).
	keepUnset bool
	hit       bool // a reference was expanded since the last reset
	// urlFailed: a reference in the last endpoint's path or url could
	// not be resolved (reported): the text left is not to be checked.
	urlFailed bool
	// vals are the values expanded since the last reset, by reference.
	vals map[string]string
}

// expand resolves the references in s, read from node n (for positions)
// at field. A missing variable or a malformed reference is a problem; the
// text is then returned unexpanded.
func (r *envResolver) expand(n *Node, field, s string) string {
	if !strings.Contains(s, envOpen) {
		return s
	}
	env := r.env
	if r.keepUnset {
		// An unset (or empty) variable's value is its reference: the
		// text keeps it.
		env = func(name string) (string, bool) {
			if r.env != nil {
				if v, ok := r.env(name); ok && v != "" {
					return v, true
				}
			}
			return envOpen + name + "}", true
		}
	}
	out, bad, off, err := expandEnv(s, env, func(ref, v string) {
		if v == ref {
			return // left unset: nothing to redact
		}
		if r.vals == nil {
			r.vals = map[string]string{}
		}
		r.vals[ref] = v
	})
	if err != "" {
		var at *Node
		if n != nil {
			at = &Node{Line: n.Line, Col: n.Col}
			// Point at the reference when it sits on the node's first line.
			if !strings.Contains(s[:off], "\n") {
				at.Col += utf8.RuneCountInString(s[:off])
			}
		}
		if bad != "" {
			r.d.Add(at, field, "%s: %s", bad, err)
		} else {
			r.d.Add(at, field, "%s", err)
		}
		return s
	}
	r.hit = true
	return out
}

// unresolved tells whether s still holds a reference to a variable left
// unset (LoadUnresolved): such a value cannot be checked.
func (r *envResolver) unresolved(s string) bool {
	return r.keepUnset && strings.Contains(s, envOpen)
}

// expandEnv replaces each ${ENV:NAME} in s by its value, which must not
// be empty. On a problem it
// returns the reference, its byte offset in s and what is wrong.
// Each reference expanded is passed to seen with its value.
func expandEnv(s string, env Env, seen func(ref, value string)) (out, ref string, off int, problem string) {
	var b strings.Builder
	rest, base := s, 0
	for {
		i := strings.Index(rest, envOpen)
		if i < 0 {
			b.WriteString(rest)
			return b.String(), "", 0, ""
		}
		b.WriteString(rest[:i])
		at := base + i
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return s, rest[i:], at, "unclosed reference: write ${ENV:NAME}"
		}
		ref = rest[i : i+j+1]
		name := rest[i+len(envOpen) : i+j]
		if !validEnvName(name) {
			return s, ref, at, "not a variable name (letters, digits and _, not starting with a digit)"
		}
		var v string
		ok := false
		if env != nil {
			v, ok = env(name)
		}
		if !ok {
			return s, ref, at, "environment variable " + name + " is not set"
		}
		if v == "" {
			// An empty host, token or password is never what was meant
			// (NAME= in a shell, an empty CI secret).
			return s, ref, at, "environment variable " + name + " is set but empty"
		}
		if seen != nil {
			seen(ref, v)
		}
		b.WriteString(v)
		rest, base = rest[i+j+1:], base+i+j+1
	}
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// EnvNames lists the variables that text references, in order, each once.
func EnvNames(text string) []string {
	var out []string
	for {
		i := strings.Index(text, envOpen)
		if i < 0 {
			return out
		}
		j := strings.IndexByte(text[i:], '}')
		if j < 0 {
			return out
		}
		if name := text[i+len(envOpen) : i+j]; validEnvName(name) && !slices.Contains(out, name) {
			out = append(out, name)
		}
		text = text[i+j+1:]
	}
}

// writtenText is an endpoint's values that may hold ${ENV:NAME}
// references, as the file wrote them.
type writtenText struct {
	URL          string
	Header       http.Header
	Body         string
	BodyContains string
	// Values are the values expanded, by reference: what RedactText
	// takes out of a message.
	Values map[string]string
}

// Redacted is the endpoint as written down: values that came from
// ${ENV:NAME} references are the references again.
func (e Endpoint) Redacted() Endpoint {
	w := e.written
	if w == nil {
		return e
	}
	e.written = nil
	e.URL, e.Header, e.Body = w.URL, w.Header, w.Body
	if e.Expect != nil {
		x := *e.Expect
		x.BodyContains = w.BodyContains
		e.Expect = &x
	}
	return e
}

// Redacted returns s as it may be written down (run.json, a resolved
// scenario file, anything printed): every value that came from a
// ${ENV:NAME} reference is the reference again. It returns s itself when
// nothing came from the environment.
func (s *Scenario) Redacted() *Scenario {
	if s == nil || !s.FromEnv() {
		return s
	}
	c := *s
	c.Endpoints = make([]Endpoint, len(s.Endpoints))
	for i, e := range s.Endpoints {
		c.Endpoints[i] = e.Redacted()
	}
	return &c
}

// FromEnv reports whether any of s's values came from the environment.
func (s *Scenario) FromEnv() bool {
	if s == nil {
		return false
	}
	for _, e := range s.Endpoints {
		if e.written != nil {
			return true
		}
	}
	return false
}

// EnvNames lists the environment variables s's endpoints reference, in
// order, each once: what a machine that loads s's resolved file needs.
func (s *Scenario) EnvNames() []string {
	var out []string
	add := func(t string) {
		for _, n := range EnvNames(t) {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	for _, e := range s.Endpoints {
		w := e.Redacted()
		add(w.URL)
		add(w.Body)
		for _, k := range slices.Sorted(maps.Keys(w.Header)) {
			for _, v := range w.Header[k] {
				add(v)
			}
		}
		if w.Expect != nil {
			add(w.Expect.BodyContains)
		}
	}
	return out
}

// resolveEndpoint expands the references in e's path or url, header
// values, body and expect.body_contains, keeping the endpoint as written
// when any was found. at gives the positions of the values (nil: none,
// as in a resolved scenario file).
func (r *envResolver) resolveEndpoint(e *Endpoint, path string, at func(field string) *Node) {
	written := &writtenText{URL: e.URL, Header: e.Header.Clone(), Body: e.Body}
	if e.Expect != nil {
		written.BodyContains = e.Expect.BodyContains
	}
	r.hit, r.vals = false, nil
	if at == nil {
		at = func(string) *Node { return nil }
	}
	urlField := "url"
	if strings.HasPrefix(e.URL, "/") {
		urlField = "path"
	}
	before := len(r.d.Problems)
	e.URL = r.expand(at(urlField), Field(path, urlField), e.URL)
	r.urlFailed = len(r.d.Problems) > before
	if len(e.Header) > 0 {
		h := http.Header{}
		for _, k := range slices.Sorted(maps.Keys(e.Header)) {
			for _, v := range e.Header[k] {
				h.Add(k, r.expand(at("headers."+k), Field(Field(path, "headers"), k), v))
			}
		}
		e.Header = h
	}
	e.Body = r.expand(at("body"), Field(path, "body"), e.Body)
	if e.Expect != nil && e.Expect.BodyContains != "" {
		x := *e.Expect
		x.BodyContains = r.expand(at("expect.body_contains"), Field(path, "expect.body_contains"), x.BodyContains)
		if x.BodyContains != e.Expect.BodyContains && !checkBodyContains(r.d, at("expect.body_contains"), Field(path, "expect.body_contains"), x.BodyContains) {
			x.BodyContains = e.Expect.BodyContains
		}
		e.Expect = &x
	}
	if r.hit {
		written.Values = r.vals
		e.written = written
	}
}

// RedactText replaces every value that came from one of s's ${ENV:NAME}
// references by the reference, in text as written, quoted (%q) or
// escaped in a URL: for messages that may quote a URL, a header or a
// body built from such values (an error from a library). Values shorter
// than 3 bytes are left, as they would turn up in any text.
func (s *Scenario) RedactText(text string) string {
	if s == nil {
		return text
	}
	type pair struct{ value, ref string }
	var ps []pair
	for _, e := range s.Endpoints {
		if e.written == nil {
			continue
		}
		for ref, v := range e.written.Values {
			if len(v) < 3 {
				continue
			}
			forms := []string{v, url.PathEscape(v), url.QueryEscape(v)}
			if q := strconv.Quote(v); len(q) >= 2 {
				forms = append(forms, q[1:len(q)-1])
			}
			for _, f := range forms {
				ps = append(ps, pair{f, ref})
			}
		}
	}
	// The longest first: a value inside another is replaced after it.
	sort.SliceStable(ps, func(i, j int) bool { return len(ps[i].value) > len(ps[j].value) })
	for _, p := range ps {
		text = strings.ReplaceAll(text, p.value, p.ref)
	}
	return text
}
