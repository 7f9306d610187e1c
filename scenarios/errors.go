package scenarios

import (
	"errors"
	"fmt"
	"strings"
)

// Problem is one thing wrong with an input: where it is and what is wrong.
type Problem struct {
	File  string // file name, or "--curve" for a flag
	Line  int    // 1-based; 0 when unknown
	Col   int    // 1-based; 0 when unknown
	Field string // e.g. "endpoints[2].weight"
	Msg   string
}

func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Col > 0 {
			fmt.Fprintf(&b, ":%d", p.Col)
		}
	}
	if p.Field != "" {
		b.WriteString(": " + p.Field)
	}
	b.WriteString(": " + p.Msg)
	return b.String()
}

// Problems is every problem found in one input, in file order. Callers map
// it to exit code 2 (bad input).
type Problems []*Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns ps as an error, or nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// IsInvalid reports whether err is a problem with the input (exit code 2)
// rather than a failure at run time.
func IsInvalid(err error) bool {
	var ps Problems
	var p *Problem
	return errors.As(err, &ps) || errors.As(err, &p)
}
