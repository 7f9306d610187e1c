package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:    "version",
		order:   90,
		summary: "print flashcrowd's version: module version, VCS revision and date, Go version",
		usage: `flashcrowd version    (also: flashcrowd --version)

The module version comes from the build: "go install
github.com/flashcrowd/flashcrowd/cmd/flashcrowd@v1.2.3" gives v1.2.3; a build
from a clone gives the revision checked out, its commit date, and "modified"
when the work tree had uncommitted changes.`,
		flags: func(fs *pflag.FlagSet) any { return nil },
		run: func(e *env, fs *pflag.FlagSet, _ any, args []string) error {
			if len(args) > 0 {
				return usagef("version takes no arguments")
			}
			fmt.Fprintln(e.stdout, versionLine())
			return nil
		},
	})
}

// buildVersion is what debug.ReadBuildInfo says about this binary.
type buildVersion struct {
	module   string // module version: v1.2.3, a pseudo-version, or (devel)
	revision string // VCS revision, full
	time     string // commit time, RFC 3339
	modified bool   // the work tree had uncommitted changes
	goVer    string
}

func readBuildVersion(bi *debug.BuildInfo, ok bool) buildVersion {
	v := buildVersion{module: "(unknown)", goVer: runtime.Version()}
	if !ok || bi == nil {
		return v
	}
	v.module = bi.Main.Version
	if v.module == "" {
		v.module = "(devel)"
	}
	if bi.GoVersion != "" {
		v.goVer = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.revision = s.Value
		case "vcs.time":
			v.time = s.Value
		case "vcs.modified":
			v.modified = s.Value == "true"
		}
	}
	if v.module == "(devel)" && stampVersion != "" {
		v.module = stampVersion
	}
	if v.revision == "" && stampRevision != "" {
		v.revision = stampRevision
	}
	return v
}

// stampVersion and stampRevision are set with -ldflags -X where the build
// has no VCS information (the Dockerfile: its build context has no .git).
var stampVersion, stampRevision string

// short is the compact form recorded in run.json: the module version, then
// the first 12 characters of the revision, and "+modified" for a dirty tree.
func (v buildVersion) short() string {
	s := v.module
	if v.revision != "" {
		s += " " + shortRev(v.revision)
		if v.modified {
			s += "+modified"
		}
	}
	return s
}

// line is what flashcrowd version prints.
func (v buildVersion) line() string {
	var b strings.Builder
	b.WriteString("flashcrowd " + v.module)
	var extra []string
	if v.revision != "" {
		extra = append(extra, "revision "+shortRev(v.revision))
	}
	if v.time != "" {
		extra = append(extra, "committed "+v.time)
	}
	if v.modified {
		extra = append(extra, "modified (uncommitted changes)")
	}
	if v.revision == "" && v.module == "(devel)" {
		extra = append(extra, "no VCS information: built outside a git clone or with -buildvcs=false")
	}
	if len(extra) > 0 {
		b.WriteString(" (" + strings.Join(extra, ", ") + ")")
	}
	b.WriteString(", " + v.goVer + " " + runtime.GOOS + "/" + runtime.GOARCH)
	return b.String()
}

func shortRev(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	return r
}

// version is the module version flashcrowd was built at, with the VCS
// revision when known (the form run.json records).
func version() string { return readBuildVersion(debug.ReadBuildInfo()).short() }

// versionLine is what flashcrowd version and --version print.
func versionLine() string { return readBuildVersion(debug.ReadBuildInfo()).line() }
