package scenarios

import (
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// The built-in scenarios, each a YAML file whose comments say where its
// shape comes from, and the measured curves they replay.
//
//go:embed builtin/*.yaml builtin/curves/*.csv
var builtinFS embed.FS

// BuiltinNames lists the built-in scenarios, sorted.
func BuiltinNames() []string {
	ents, _ := builtinFS.ReadDir("builtin")
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".yaml") {
			names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
		}
	}
	sort.Strings(names)
	return names
}

// Builtin returns the built-in scenario called name.
func Builtin(name string) (*Scenario, error) {
	if strings.ContainsAny(name, "/\\.") || name == "" {
		return nil, fmt.Errorf("no built-in scenario %q", name)
	}
	data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in scenario %q (built-ins: %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	s, err := Parse("builtin:"+name, data, func(n string) (io.ReadCloser, error) {
		if rest, ok := strings.CutPrefix(n, BuiltinPrefix); ok {
			n = rest
		}
		return openBuiltin(n)
	})
	if err != nil {
		return nil, fmt.Errorf("built-in scenario %s: %w", name, err)
	}
	return s, nil
}

// BuiltinSource returns the YAML text of a built-in, for `flashcrowd
// scenarios --show`.
func BuiltinSource(name string) ([]byte, error) {
	return builtinFS.ReadFile("builtin/" + name + ".yaml")
}

// BuiltinPrefix starts a replay file name that is read from the curves built
// into flashcrowd rather than from disk: "replay builtin:curves/NAME.csv".
// The built-in replay scenarios name their CSV this way, so the YAML that
// `flashcrowd scenarios --show` prints loads as-is from any directory.
const BuiltinPrefix = "builtin:"

// BuiltinCurves lists the built-in replay curves as a replay segment names
// them: builtin:curves/NAME.csv.
func BuiltinCurves() []string {
	ents, _ := builtinFS.ReadDir("builtin/curves")
	var out []string
	for _, e := range ents {
		out = append(out, BuiltinPrefix+"curves/"+e.Name())
	}
	sort.Strings(out)
	return out
}

func openBuiltin(name string) (io.ReadCloser, error) {
	clean := path.Clean(name)
	if !fs.ValidPath(clean) {
		return nil, fmt.Errorf("no built-in curve %q", name)
	}
	f, err := builtinFS.Open(path.Join("builtin", clean))
	if err != nil {
		return nil, fmt.Errorf("no built-in curve %q (built-in curves: %s)", BuiltinPrefix+name, strings.Join(BuiltinCurves(), ", "))
	}
	return f, nil
}

// DirOpener opens replay files relative to dir (a scenario file's directory,
// or "." for the current directory; absolute names as given), and names
// starting with BuiltinPrefix from the built-in curves.
func DirOpener(dir string) Opener {
	return func(name string) (io.ReadCloser, error) {
		if rest, ok := strings.CutPrefix(name, BuiltinPrefix); ok {
			return openBuiltin(rest)
		}
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return os.Open(name)
	}
}
