package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResolvedRoundTrip: a resolved scenario file gives the same schedule
// to the request (every due time equal), the same mix, SLO and abort
// rules, and says it is resolved.
func TestResolvedRoundTrip(t *testing.T) {
	s, err := Load("press-spike")
	if err != nil {
		t.Fatal(err)
	}
	if s.Curve, err = s.Curve.Compress(3000); err != nil {
		t.Fatal(err)
	}
	if s.Curve, err = s.Curve.ScalePeak(777.7); err != nil {
		t.Fatal(err)
	}
	s.Endpoints[0].Size = 12345
	b, err := MarshalResolved(s)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "scenario.json")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Resolved || s.Resolved {
		t.Errorf("resolved: loaded %v, original %v; want true, false", r.Resolved, s.Resolved)
	}
	n := s.Curve.Requests()
	if r.Curve.Requests() != n || n < 1000 {
		t.Fatalf("requests %d, want %d (> 1000)", r.Curve.Requests(), n)
	}
	for i := range n {
		if a, b := s.Curve.Inv(float64(i)), r.Curve.Inv(float64(i)); a != b {
			t.Fatalf("request %d due at %v, after the round trip at %v", i, a, b)
		}
	}
	if r.SLO != s.SLO || len(r.Abort) != len(s.Abort) || len(r.Endpoints) != len(s.Endpoints) || r.Endpoints[0].Size != 12345 {
		t.Errorf("scenario changed: %+v", r)
	}
	// An unknown field is an error, not ignored.
	bad := strings.Replace(string(b), `"compress"`, `"compres"`, 1)
	if _, err := parseResolved("bad.json", []byte(bad), nil); err == nil {
		t.Errorf("unknown field accepted")
	}
}

func TestEndpointSize(t *testing.T) {
	s, err := Parse("s.yaml", []byte("curve: hold 1/s for 1s\nendpoints:\n  - {name: img, path: /a.jpg, size: 100KB}\n  - {name: home, path: /}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Endpoints[0].Size != 100_000 || s.Endpoints[1].Size != 0 {
		t.Errorf("sizes %d, %d; want 100000, 0", s.Endpoints[0].Size, s.Endpoints[1].Size)
	}
	if _, err := Parse("s.yaml", []byte("curve: hold 1/s for 1s\nendpoints:\n  - {name: img, path: /a.jpg, size: big}\n"), nil); err == nil || !strings.Contains(err.Error(), "size") {
		t.Errorf("size: big: %v", err)
	}
}
