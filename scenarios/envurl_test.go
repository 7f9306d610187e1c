package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A path whose ${ENV:NAME} value makes it an invalid URL is refused at
// load, at the path's position, naming the reference and never the value
// (not even the piece an invalid %-escape error would quote).
func TestEnvURLProblemHidesValue(t *testing.T) {
	src := "name: leak\ncurve: hold 1/s for 1m\nendpoints:\n" +
		"  - {name: s1, path: \"/secret/${ENV:TOK2}\"}\n" +
		"  - {name: s2, path: \"/ctl/${ENV:TOK3}\"}\n" +
		"  - {name: s3, url: \"http://127.0.0.1:1/u/${ENV:TOK2}\"}\n" +
		"  - {name: s4, path: \"/plain%zz\"}\n"
	vals := map[string]string{"TOK2": "leakA%zz", "TOK3": "leakB\nline"}
	_, err := ParseEnv("s.yaml", []byte(src), nil, env(vals))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`s.yaml:4:23: endpoints[0].path: "/secret/${ENV:TOK2}" is not a valid URL path once ${ENV:TOK2} is expanded: a value holds an invalid %-escape`,
		`s.yaml:5:23: endpoints[1].path: "/ctl/${ENV:TOK3}" is not a valid URL path once ${ENV:TOK3} is expanded: a value holds a control character`,
		`s.yaml:6:22: endpoints[2].url: "http://127.0.0.1:1/u/${ENV:TOK2}" is not an http(s) URL: a value holds an invalid %-escape`,
		`s.yaml:7:23: endpoints[3].path: "/plain%zz" is not a valid URL path: invalid URL escape "%zz"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	for _, v := range []string{"leakA", "leakB", `"%zz" is`, "zz\"\n"} {
		if strings.Contains(strings.Replace(err.Error(), `"/plain%zz"`, "", -1), v) {
			t.Errorf("a problem shows a variable's value (%q):\n%v", v, err)
		}
	}
	// A resolved file (a Kubernetes Job's) checks the same on the
	// machine that loads it, with its own environment.
	ok := "name: ok\ncurve: hold 1/s for 1m\nendpoints:\n  - {name: s1, path: \"/secret/${ENV:TOK2}\"}\n"
	s, err := ParseEnv("s.yaml", []byte(ok), nil, env(map[string]string{"TOK2": "fine"}))
	if err != nil {
		t.Fatal(err)
	}
	data, err := MarshalResolved(s)
	if err != nil {
		t.Fatal(err)
	}
	_, err = parseResolved("scenario.json", data, env(vals))
	if err == nil || !strings.Contains(err.Error(), `scenario.json: scenario.endpoints[0].path: "/secret/${ENV:TOK2}" is not a valid URL path once ${ENV:TOK2} is expanded`) ||
		strings.Contains(err.Error(), "leakA") {
		t.Errorf("resolved file with a bad value: %v", err)
	}
}

// RedactText takes every value from the environment out of a message, as
// written, quoted or escaped, and leaves other text.
func TestEnvRedactText(t *testing.T) {
	src := "name: r\ncurve: hold 1/s for 1m\nendpoints:\n" +
		"  - {name: s1, path: \"/p/${ENV:TOK}\", headers: {X-Key: \"${ENV:KEY}\"}}\n"
	s, err := ParseEnv("s.yaml", []byte(src), nil, env(map[string]string{"TOK": `t"ok en`, "KEY": "k-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	msg := `Get "http://127.0.0.1/p/t\"ok en": bad; /p/t%22ok%20en; header k-secret; ok`
	got := s.RedactText(msg)
	want := `Get "http://127.0.0.1/p/${ENV:TOK}": bad; /p/${ENV:TOK}; header ${ENV:KEY}; ok`
	if got != want {
		t.Errorf("RedactText:\n got %s\nwant %s", got, want)
	}
	var none *Scenario
	if none.RedactText("x") != "x" {
		t.Error("nil scenario")
	}
}

// The query is sent as written: a space in it (every request a 400) or a
// bad %-escape is refused at load, at the path's position; written or from
// the environment, the value is never quoted.
func TestEndpointQueryProblems(t *testing.T) {
	src := "name: q\ncurve: hold 1/s for 1m\nendpoints:\n" +
		"  - {name: s1, path: \"/a?k=a b\"}\n" +
		"  - {name: s2, path: \"/a?k=x%zz\"}\n" +
		"  - {name: s3, path: \"/a?k=${ENV:TOK}\"}\n" +
		"  - {name: ok, path: \"/a?k=a%20b&j=1+2\"}\n"
	_, err := ParseEnv("q.yaml", []byte(src), nil, env(map[string]string{"TOK": "leakC z"}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`q.yaml:4:23: endpoints[0].path: "/a?k=a b" is not a valid URL path: a space in the query: write %20`,
		`q.yaml:5:23: endpoints[1].path: "/a?k=x%zz" is not a valid URL path: an invalid %-escape in the query`,
		`q.yaml:6:23: endpoints[2].path: "/a?k=${ENV:TOK}" is not a valid URL path once ${ENV:TOK} is expanded: a space in the query`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "leakC") || strings.Contains(err.Error(), "endpoints[3]") {
		t.Errorf("a value shown, or a good query refused:\n%v", err)
	}
}

// A variable set but empty (NAME= in a shell, an empty CI secret) is a
// problem at the reference, like an unset one: an empty token or host is
// never what was meant. LoadUnresolved (flashcrowd curve) keeps the
// reference as written, as it does an unset one.
func TestEnvEmptyIsAProblem(t *testing.T) {
	file := filepath.Join(t.TempDir(), "e.yaml")
	src := "name: empty\ncurve: hold 1/s for 1m\nendpoints:\n" +
		"  - name: orders\n" +
		"    url: \"https://${ENV:FC_HOST}/api/orders\"\n" +
		"    headers: {Authorization: \"Bearer ${ENV:FC_TOKEN}\"}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadEnv(file, env(map[string]string{"FC_HOST": "shop.example", "FC_TOKEN": ""}))
	want := file + ":6:38: endpoints[0].headers.Authorization: ${ENV:FC_TOKEN}: environment variable FC_TOKEN is set but empty"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	_, err = LoadEnv(file, env(map[string]string{"FC_HOST": "", "FC_TOKEN": "t0k3n"}))
	want = file + ":5:19: endpoints[0].url: ${ENV:FC_HOST}: environment variable FC_HOST is set but empty"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	// The url left unexpanded is not reported again as no URL, whether
	// its variable is empty or unset.
	for _, vals := range []map[string]string{{"FC_HOST": "", "FC_TOKEN": "t0k3n"}, {"FC_TOKEN": "t0k3n"}} {
		var ps Problems
		if _, err := LoadEnv(file, env(vals)); !errors.As(err, &ps) || len(ps) != 1 || !strings.Contains(err.Error(), "FC_HOST is") {
			t.Errorf("%v: want one problem, FC_HOST's; got\n%v", vals, err)
		}
	}
	s, err := LoadUnresolved(file, env(map[string]string{"FC_HOST": "", "FC_TOKEN": ""}))
	if err != nil {
		t.Fatalf("LoadUnresolved: %v", err)
	}
	if e := s.Endpoints[0]; e.URL != "https://${ENV:FC_HOST}/api/orders" || e.Header.Get("Authorization") != "Bearer ${ENV:FC_TOKEN}" {
		t.Errorf("LoadUnresolved: %+v", e)
	}
}
