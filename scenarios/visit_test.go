package scenarios

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestVisitsRoundTrip(t *testing.T) {
	in := []Visit{
		{Kind: PageView, Name: "home", Seq: 0, Start: 2 * time.Millisecond, Took: 40 * time.Millisecond, Sent: 10, OK: true, Step: -1},
		{Kind: PageView, Name: "home", Seq: 1, Took: time.Second, Sent: 10, Broke: "thumb", Why: "503", Step: -1},
		{Kind: JourneyVisit, Name: "buy", Seq: 2, Took: 3 * time.Second, Sent: 3, Broke: "checkout", Why: "timeout", Step: 2, Abandoned: true},
	}
	var buf bytes.Buffer
	w := NewVisitWriter(&buf)
	for i := range in {
		if err := w.Write(&in[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if w.Count() != 3 {
		t.Fatalf("count %d, want 3", w.Count())
	}
	// A run cut off mid-line keeps every whole record.
	cut := buf.String() + `{"kind":"page vi`
	var out []Visit
	if err := ReadVisits("v.jsonl", strings.NewReader(cut), func(v *Visit) error { out = append(out, *v); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("read back\n%+v\nwant\n%+v", out, in)
	}
}

func TestReadVisitsBadLine(t *testing.T) {
	src := "{\"kind\":\"page view\",\"name\":\"home\",\"step\":-1}\n{\"kind\":\"visit\"}\n"
	err := ReadVisits("v.jsonl", strings.NewReader(src), func(*Visit) error { return nil })
	if err == nil || !strings.HasPrefix(err.Error(), "v.jsonl:2: kind:") {
		t.Fatalf("err = %v, want v.jsonl:2: kind: ...", err)
	}
}

func FuzzReadVisits(f *testing.F) {
	f.Add([]byte(`{"kind":"page view","name":"home","seq":1,"start":5,"took":9,"sent":3,"ok":false,"broke":"hero","why":"http 503","step":-1}` + "\n"))
	f.Add([]byte(`{"kind":"journey","name":"buy","seq":0}` + "\n{\"kind\":"))
	f.Add([]byte("not json\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := ReadVisits("v.jsonl", bytes.NewReader(data), func(v *Visit) error {
			if v.Kind != PageView && v.Kind != JourneyVisit {
				t.Fatalf("kind %q passed", v.Kind)
			}
			n++
			return nil
		})
		if err != nil && !strings.HasPrefix(err.Error(), "v.jsonl:") {
			t.Fatalf("error does not name the file and line: %v", err)
		}
		if n > bytes.Count(data, []byte("\n")) {
			t.Fatalf("%d visits from %d lines", n, bytes.Count(data, []byte("\n")))
		}
	})
}
