package scenarios

import (
	"embed"
	"fmt"
	"io"
	"path"
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
		return builtinFS.Open(path.Join("builtin", n))
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
