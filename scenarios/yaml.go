package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	yamltoken "github.com/goccy/go-yaml/token"
)

// Node is a YAML value with its position, decoupled from the YAML library so
// that plan and scenario decoders share one strict walker.
type Node struct {
	Kind      NodeKind
	Line, Col int
	Scalar    string  // for scalars
	Keys      []*Node // for maps: key nodes, in order
	Vals      []*Node // for maps: values; for sequences: items
}

// NodeKind tells a map from a sequence from a scalar.
type NodeKind int

// The kinds of YAML nodes.
const (
	ScalarNode NodeKind = iota
	MapNode
	SeqNode
	NullNode
)

// ParseYAML parses one YAML document. Syntax errors come back as a Problem
// with line and column. A leading UTF-8 byte-order mark is dropped. Keys
// given twice in a map are kept, so that Object.Close reports them with
// every other problem.
func ParseYAML(file string, data []byte) (*Node, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	f, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		p := &Problem{File: file, Msg: strings.TrimSpace(firstLine(yaml.FormatError(err, false, false)))}
		var se *yaml.SyntaxError
		if errors.As(err, &se) && se.Token != nil {
			p.Line, p.Col = se.Token.Position.Line, se.Token.Position.Column
			p.Msg = se.Message
		}
		return nil, Problems{p}
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return &Node{Kind: NullNode, Line: 1, Col: 1}, nil
	}
	if len(f.Docs) > 1 {
		return nil, Problems{{File: file, Line: 1, Col: 1, Msg: "want one YAML document, found several"}}
	}
	var ps Problems
	n := convert(file, f.Docs[0].Body, &ps)
	if len(ps) > 0 {
		return nil, ps
	}
	return n, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func convert(file string, n ast.Node, ps *Problems) *Node {
	pos := func(n ast.Node) (int, int) {
		if t := n.GetToken(); t != nil && t.Position != nil {
			return t.Position.Line, t.Position.Column
		}
		return 0, 0
	}
	line, col := pos(n)
	switch v := n.(type) {
	case *ast.MappingNode:
		out := &Node{Kind: MapNode, Line: line, Col: col}
		for _, mv := range v.Values {
			k := convert(file, mv.Key, ps)
			out.Keys = append(out.Keys, k)
			out.Vals = append(out.Vals, convert(file, mv.Value, ps))
		}
		if len(v.Values) > 0 {
			out.Line, out.Col = out.Keys[0].Line, out.Keys[0].Col
		}
		return out
	case *ast.MappingValueNode:
		k := convert(file, v.Key, ps)
		return &Node{Kind: MapNode, Line: k.Line, Col: k.Col, Keys: []*Node{k}, Vals: []*Node{convert(file, v.Value, ps)}}
	case *ast.SequenceNode:
		out := &Node{Kind: SeqNode, Line: line, Col: col}
		for _, it := range v.Values {
			out.Vals = append(out.Vals, convert(file, it, ps))
		}
		return out
	case *ast.NullNode:
		return &Node{Kind: NullNode, Line: line, Col: col}
	case *ast.TagNode:
		return convert(file, v.Value, ps)
	case *ast.AnchorNode:
		return convert(file, v.Value, ps)
	case *ast.AliasNode:
		*ps = append(*ps, &Problem{File: file, Line: line, Col: col, Msg: "YAML aliases are not supported here; write the value out"})
		return &Node{Kind: NullNode, Line: line, Col: col}
	case *ast.MergeKeyNode:
		*ps = append(*ps, &Problem{File: file, Line: line, Col: col, Msg: "YAML merge keys are not supported here"})
		return &Node{Kind: NullNode, Line: line, Col: col}
	case *ast.LiteralNode:
		return &Node{Kind: ScalarNode, Line: line, Col: col, Scalar: v.Value.Value}
	case *ast.StringNode:
		if t := v.GetToken(); t != nil && (t.Type == yamltoken.DoubleQuoteType || t.Type == yamltoken.SingleQuoteType) {
			col++ // point into the text, past the opening quote
		}
		return &Node{Kind: ScalarNode, Line: line, Col: col, Scalar: v.Value}
	case ast.ScalarNode:
		return &Node{Kind: ScalarNode, Line: line, Col: col, Scalar: v.GetToken().Value}
	}
	*ps = append(*ps, &Problem{File: file, Line: line, Col: col, Msg: fmt.Sprintf("unexpected YAML %s", n.Type())})
	return &Node{Kind: NullNode, Line: line, Col: col}
}

// Decoder walks Nodes, collecting every problem rather than stopping at the
// first.
type Decoder struct {
	File     string
	Problems Problems
}

// Add records a problem at n.
func (d *Decoder) Add(n *Node, field, msg string, args ...any) {
	if len(d.Problems) >= maxProblems {
		return
	}
	p := &Problem{File: d.File, Field: field, Msg: fmt.Sprintf(msg, args...)}
	if n != nil {
		p.Line, p.Col = n.Line, n.Col
	}
	d.Problems = append(d.Problems, p)
}

// Object is a YAML map being decoded: each Get marks a key as known, and
// Close reports the keys nobody asked for.
type Object struct {
	d     *Decoder
	n     *Node
	path  string
	known map[string]bool
}

// Object starts decoding map n at path (e.g. "endpoints[2]"); a non-map is
// reported and yields an empty Object.
func (d *Decoder) Object(n *Node, path string) *Object {
	o := &Object{d: d, n: n, path: path, known: map[string]bool{}}
	if n != nil && n.Kind != MapNode && n.Kind != NullNode {
		d.Add(n, path, "want a map of fields")
		o.n = nil
	}
	return o
}

// Field joins a path and a key.
func Field(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Get returns the value under key, or nil.
func (o *Object) Get(key string) *Node {
	o.known[key] = true
	if o.n == nil {
		return nil
	}
	for i, k := range o.n.Keys {
		if k.Scalar == key {
			return o.n.Vals[i]
		}
	}
	return nil
}

// Pos is the map's own node (for problems about the whole map).
func (o *Object) Pos() *Node { return o.n }

// Close reports unknown and duplicate keys.
func (o *Object) Close() {
	if o.n == nil {
		return
	}
	first := map[string]*Node{}
	for _, k := range o.n.Keys {
		switch f := first[k.Scalar]; {
		case f != nil:
			o.d.Add(k, Field(o.path, k.Scalar), "duplicate key, first at %d:%d", f.Line, f.Col)
			continue
		case !o.known[k.Scalar]:
			o.d.Add(k, Field(o.path, k.Scalar), "unknown field (known: %s)", strings.Join(sortedKeys(o.known), ", "))
		}
		first[k.Scalar] = k
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (o *Object) scalar(key string) (*Node, bool) {
	n := o.Get(key)
	if n == nil || n.Kind == NullNode {
		return n, false
	}
	if n.Kind != ScalarNode {
		o.d.Add(n, Field(o.path, key), "want a single value")
		return n, false
	}
	return n, true
}

// String reads a string field.
func (o *Object) String(key string) (string, bool) {
	n, ok := o.scalar(key)
	if !ok {
		return "", false
	}
	return n.Scalar, true
}

// Float reads a number; a trailing % divides by 100 when pct is true.
func (o *Object) Float(key string, pct bool) (float64, bool) {
	n, ok := o.scalar(key)
	if !ok {
		return 0, false
	}
	s := strings.TrimSpace(n.Scalar)
	div := 1.0
	if pct && strings.HasSuffix(s, "%") {
		s, div = strings.TrimSuffix(s, "%"), 100
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		o.d.Add(n, Field(o.path, key), "%q is not a number", n.Scalar)
		return 0, false
	}
	return v / div, true
}

// Int reads an integer field.
func (o *Object) Int(key string) (int, bool) {
	n, ok := o.scalar(key)
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(n.Scalar), "_", ""))
	if err != nil {
		o.d.Add(n, Field(o.path, key), "%q is not a whole number", n.Scalar)
		return 0, false
	}
	return v, true
}

// Duration reads a duration (Go form plus days).
func (o *Object) Duration(key string) (time.Duration, bool) {
	n, ok := o.scalar(key)
	if !ok {
		return 0, false
	}
	v, err := ParseDuration(n.Scalar)
	if err != nil {
		o.d.Add(n, Field(o.path, key), "%v", err)
		return 0, false
	}
	return v, true
}

// Rate reads a rate with units.
func (o *Object) Rate(key string) (Rate, bool) {
	n, ok := o.scalar(key)
	if !ok {
		return 0, false
	}
	v, err := ParseRate(n.Scalar)
	if err != nil {
		o.d.Add(n, Field(o.path, key), "%v", err)
		return 0, false
	}
	return v, true
}

// Bool reads true/false.
func (o *Object) Bool(key string) (bool, bool) {
	n, ok := o.scalar(key)
	if !ok {
		return false, false
	}
	v, err := strconv.ParseBool(n.Scalar)
	if err != nil {
		o.d.Add(n, Field(o.path, key), "%q is not true or false", n.Scalar)
		return false, false
	}
	return v, true
}

// Bytes reads a size: 2048, 15KB, 1.5MB, 2MiB.
func (o *Object) Bytes(key string) (int64, bool) {
	n, ok := o.scalar(key)
	if !ok {
		return 0, false
	}
	v, err := ParseBytes(n.Scalar)
	if err != nil {
		o.d.Add(n, Field(o.path, key), "%v", err)
		return 0, false
	}
	return v, true
}

// ParseBytes reads a byte size: 2048, 15KB, 1.5MB, 2MiB, 10GB (1 KB = 1000 B,
// 1 KiB = 1024 B).
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := 1.0
	for _, u := range []struct {
		s string
		m float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"kB", 1e3}, {"B", 1}} {
		if strings.HasSuffix(t, u.s) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.s)), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || math.IsNaN(v) || v*mult > 1<<50 {
		return 0, fmt.Errorf("size %q: want bytes such as 2048, 15KB or 1.5MB", s)
	}
	return int64(v * mult), nil
}
