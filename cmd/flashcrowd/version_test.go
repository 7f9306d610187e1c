package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFromBuildInfo(t *testing.T) {
	tests := []struct {
		name        string
		bi          *debug.BuildInfo
		line, short string
	}{
		{"go install @tag", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}},
			"flashcrowd v1.2.3, go1.26.8 ", "v1.2.3"},
		{"clone, dirty", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201195034-69a8326a5475+dirty"},
			Settings: []debug.BuildSetting{
				{Key: "vcs", Value: "git"},
				{Key: "vcs.revision", Value: "69a8326a54758f93a4b452b58349dd427794c072"},
				{Key: "vcs.time", Value: "2026-12-01T19:50:34Z"},
				{Key: "vcs.modified", Value: "true"},
			}},
			"flashcrowd v0.0.0-20261201195034-69a8326a5475+dirty (revision 69a8326a5475, committed 2026-12-01T19:50:34Z, modified (uncommitted changes)), go1.26.8 ",
			"v0.0.0-20261201195034-69a8326a5475+dirty 69a8326a5475+modified"},
		{"clone, clean", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "69a8326a54758f93a4b452b58349dd427794c072"},
				{Key: "vcs.time", Value: "2026-12-01T19:50:34Z"},
				{Key: "vcs.modified", Value: "false"},
			}},
			"flashcrowd (devel) (revision 69a8326a5475, committed 2026-12-01T19:50:34Z), go1.26.8 ",
			"(devel) 69a8326a5475"},
		{"no VCS (-buildvcs=false)", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"flashcrowd (devel) (no VCS information: built outside a git clone or with -buildvcs=false), go1.26.8 ", "(devel)"},
	}
	for _, tt := range tests {
		v := readBuildVersion(tt.bi, true)
		if got := v.line(); !strings.HasPrefix(got, tt.line) {
			t.Errorf("%s: line\n got %q\nwant %q...", tt.name, got, tt.line)
		}
		if got := v.short(); got != tt.short {
			t.Errorf("%s: short %q, want %q", tt.name, got, tt.short)
		}
	}
	if v := readBuildVersion(nil, false); v.module != "(unknown)" {
		t.Errorf("no build info: %q", v.module)
	}
	// The Dockerfile's build (no .git in its context) stamps both with
	// -ldflags -X; a build that knows them itself keeps its own.
	stampVersion, stampRevision = "v0.3.0", "69a8326a54758f93a4b452b58349dd427794c072"
	defer func() { stampVersion, stampRevision = "", "" }()
	if got := readBuildVersion(tests[3].bi, true).short(); got != "v0.3.0 69a8326a5475" {
		t.Errorf("stamped: %q", got)
	}
	if got := readBuildVersion(tests[0].bi, true).short(); got != "v1.2.3 69a8326a5475" {
		t.Errorf("stamped over go install @tag: %q", got)
	}
}

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errb bytes.Buffer
		if code := run(args, nil, &out, &errb); code != exitOK {
			t.Fatalf("%v: exit %d, stderr %s", args, code, errb.String())
		}
		if got := out.String(); !strings.HasPrefix(got, "flashcrowd ") || !strings.Contains(got, "go1.") {
			t.Errorf("%v printed %q", args, got)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"version", "extra"}, nil, &out, &errb); code != exitUsage {
		t.Errorf("version extra: exit %d, want %d", code, exitUsage)
	}
}
