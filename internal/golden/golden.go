// Package golden compares test output with golden files; `go test -update`
// rewrites them. On a mismatch it writes the output beside the golden file
// as NAME.got and shows where the two first differ.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// Updating reports whether -update was given.
func Updating() bool { return *update }

// Check compares got with the golden file at path (usually
// testdata/NAME.golden), or rewrites the file under -update.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Remove(path + ".got")
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file: %v (run go test -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		os.Remove(path + ".got")
		return
	}
	if err := os.WriteFile(path+".got", got, 0o644); err != nil {
		t.Logf("writing %s.got: %v", path, err)
	}
	t.Errorf("output differs from %s (got it in %s.got; go test -update accepts it):\n%s", path, path, diff(string(want), string(got)))
}

// diff shows the first differing lines with a little context.
func diff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
		i++
	}
	var b strings.Builder
	for j := max(0, i-2); j < i; j++ {
		fmt.Fprintf(&b, "  %4d   %s\n", j+1, wl[j])
	}
	for j := i; j < min(len(wl), i+4); j++ {
		fmt.Fprintf(&b, "- %4d   %s\n", j+1, wl[j])
	}
	for j := i; j < min(len(gl), i+4); j++ {
		fmt.Fprintf(&b, "+ %4d   %s\n", j+1, gl[j])
	}
	return b.String()
}
