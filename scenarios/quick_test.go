package scenarios

import "testing"

func TestQuickBuiltins(t *testing.T) {
	for _, n := range BuiltinNames() {
		s, err := Builtin(n)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: dur %v total %.0f peak %.1f spans %d", n, s.Curve.Duration(), s.Curve.Total(), s.Curve.Peak(), len(s.Curve.Spans()))
	}
}
