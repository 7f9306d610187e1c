package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/flashcrowd/flashcrowd/hosting"
)

// The README and docs/ are checked against the code: the Go version against
// go.mod, every flashcrowd command in their code blocks against the CLI
// (CMD -h runs, and the flags given parse), every relative link against the
// files and headings it points at.

const repoRoot = "../.."

// docPages are the README and every page under docs/.
func docPages(t *testing.T) []string {
	t.Helper()
	pages := []string{filepath.Join(repoRoot, "README.md")}
	more, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append(pages, more...)
}

// pendingPages are pages other work in flight writes; a link to one of them
// is not an error until it lands. Remove an entry when its page is merged.
var pendingPages = map[string]string{}

func TestREADMEGoVersion(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod: no go directive")
	}
	want := string(m[1])
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	found := regexp.MustCompile(`\bGo \(?(\d+\.\d+)`).FindAllSubmatch(readme, -1)
	if len(found) == 0 {
		t.Fatalf("README.md names no Go version (go.mod needs %s)", want)
	}
	for _, f := range found {
		if string(f[1]) != want {
			t.Errorf("README.md says Go %s; go.mod needs %s", f[1], want)
		}
	}
}

// codeLine is one line of a fenced code block, continuation lines joined.
type codeLine struct {
	file string
	line int
	text string
}

func codeLines(t *testing.T, path string) []codeLine {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []codeLine
	in := false
	var cont *codeLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			in = !in
			cont = nil
			continue
		}
		if !in {
			continue
		}
		if cont != nil {
			cont.text += " " + strings.TrimSpace(l)
		} else {
			out = append(out, codeLine{file: path, line: n, text: l})
			cont = &out[len(out)-1]
		}
		if strings.HasSuffix(cont.text, `\`) {
			cont.text = strings.TrimSuffix(cont.text, `\`)
		} else {
			cont = nil
		}
	}
	return out
}

// shellWords splits a command line as sh would (quotes, a comment), well
// enough for documentation. Operators (&&, ||, ;, |, <(, $( ) come back as
// words of their own.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	have := false
	flush := func() {
		if have {
			words = append(words, cur.String())
		}
		cur.Reset()
		have = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			cur.WriteString(s[i+1 : i+1+j])
			have = true
			i += j + 1
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				j = len(s) - i - 1
			}
			cur.WriteString(s[i+1 : i+1+j])
			have = true
			i += j + 1
		case c == '#' && !have:
			flush()
			return words
		case c == ' ' || c == '\t':
			flush()
		case c == ';' || c == '|' || c == '&' || c == '(' || c == ')' || c == '<' || c == '>':
			flush()
			words = append(words, string(c))
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	flush()
	return words
}

var cmdWord = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
var shellVar = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)

// flashcrowdInvocations finds "flashcrowd ARGS" (or "go run ./cmd/flashcrowd
// ARGS") where a command starts: the start of the line (after a "$ "
// prompt) or after a shell operator. ARGS end at the next operator.
func flashcrowdInvocations(text string) [][]string {
	words := shellWords(shellVar.ReplaceAllString(text, "0"))
	var out [][]string
	start := true
	for i := 0; i < len(words); i++ {
		w := words[i]
		if strings.ContainsAny(w, ";|&()<>") && len(w) == 1 {
			start = true
			continue
		}
		if start && w == "$" {
			continue
		}
		isFC := start && (w == "flashcrowd")
		if start && w == "go" && i+2 < len(words) && words[i+1] == "run" && words[i+2] == "./cmd/flashcrowd" {
			isFC = true
			i += 2
		}
		start = false
		if !isFC {
			continue
		}
		var args []string
		for i+1 < len(words) && !(len(words[i+1]) == 1 && strings.ContainsAny(words[i+1], ";|&()<>")) {
			i++
			args = append(args, words[i])
		}
		out = append(out, args)
	}
	return out
}

// A synopsis ("flashcrowd report RUN_DIR|FILE... [--slo ...]") names the
// command but its arguments are placeholders.
func isSynopsis(text string) bool {
	return strings.Contains(text, "[") || strings.Contains(text, "...") || strings.Contains(text, "…") ||
		regexp.MustCompile(`\|[A-Z-]`).MatchString(text)
}

func TestREADMECommandsExist(t *testing.T) {
	seen := 0
	for _, page := range docPages(t) {
		rel, _ := filepath.Rel(repoRoot, page)
		for _, cl := range codeLines(t, page) {
			text := strings.TrimSpace(cl.text)
			text = strings.TrimPrefix(text, "$ ")
			for _, args := range flashcrowdInvocations(text) {
				where := rel + ":" + itoa(cl.line)
				if len(args) == 0 {
					continue
				}
				name := args[0]
				if name == "help" && len(args) > 1 {
					name = args[1]
				}
				if strings.HasPrefix(name, "-") {
					var out, errb bytes.Buffer
					if code := run([]string{name}, nil, &out, &errb); code != exitOK {
						t.Errorf("%s: flashcrowd %s: exit %d: %s", where, name, code, errb.String())
					}
					seen++
					continue
				}
				if !cmdWord.MatchString(name) {
					continue // output such as "flashcrowd run: press-spike ..."
				}
				seen++
				var out, errb bytes.Buffer
				if code := run([]string{name, "-h"}, nil, &out, &errb); code != exitOK || !strings.Contains(out.String(), "Usage:") {
					t.Errorf("%s: flashcrowd %s -h: exit %d, not a command the CLI knows: %s", where, name, code, errb.String())
					continue
				}
				if args[0] == "help" || isSynopsis(text) {
					continue
				}
				c := commands[name]
				fs := newFlagSet(c)
				c.flags(fs)
				fs.SetOutput(&errb)
				if err := fs.Parse(args[1:]); err != nil {
					t.Errorf("%s: flashcrowd %s: %v", where, strings.Join(args, " "), err)
				}
			}
		}
	}
	if seen < 10 {
		t.Errorf("only %d flashcrowd commands found in the docs' code blocks", seen)
	}
}

// slug is the anchor GitHub gives a heading.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	count := map[string]int{}
	in := false
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			in = !in
			continue
		}
		if in || !strings.HasPrefix(l, "#") {
			continue
		}
		s := slug(strings.TrimLeft(l, "#"))
		if n := count[s]; n > 0 {
			out[s+"-"+itoa(n)] = true
		} else {
			out[s] = true
		}
		count[s]++
	}
	return out
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

func TestREADMELinksResolve(t *testing.T) {
	checked := 0
	for _, page := range docPages(t) {
		rel, _ := filepath.Rel(repoRoot, page)
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		in := false
		for n, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "```") {
				in = !in
				continue
			}
			if in {
				continue
			}
			for _, m := range mdLink.FindAllStringSubmatch(l, -1) {
				link := m[1]
				if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
					continue
				}
				where := rel + ":" + itoa(n+1)
				path, frag, _ := strings.Cut(link, "#")
				target := page
				if path != "" {
					target = filepath.Join(filepath.Dir(page), path)
				}
				checked++
				if _, err := os.Stat(target); err != nil {
					tr, _ := filepath.Rel(repoRoot, target)
					if issue, ok := pendingPages[filepath.ToSlash(tr)]; ok {
						t.Logf("%s: %s is not written yet (%s)", where, link, issue)
						continue
					}
					t.Errorf("%s: link %s: %v", where, link, err)
					continue
				}
				if frag != "" && strings.HasSuffix(target, ".md") && !anchors(t, target)[frag] {
					t.Errorf("%s: link %s: no heading #%s in %s", where, link, frag, filepath.Base(target))
				}
			}
		}
	}
	if checked == 0 {
		t.Error("no relative links found")
	}
}

// The plan file shown under "Your own plan" in docs/simulated-hosting.md is
// one a reader copies: saved as a file, it must load with the loader that
// serve, run, simulate and compare use for --plan FILE.
func TestDocsOwnPlanExampleLoads(t *testing.T) {
	page := filepath.Join(repoRoot, "docs", "simulated-hosting.md")
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Your own plan\n")
	if !ok {
		t.Fatal(`docs/simulated-hosting.md: no "## Your own plan" section`)
	}
	if next := strings.Index(section, "\n## "); next >= 0 {
		section = section[:next]
	}
	_, block, ok := strings.Cut(section, "```yaml\n")
	if !ok {
		t.Fatal(`docs/simulated-hosting.md: "Your own plan" has no yaml code block`)
	}
	block, _, ok = strings.Cut(block, "```")
	if !ok {
		t.Fatal(`docs/simulated-hosting.md: the yaml block under "Your own plan" is not closed`)
	}
	file := filepath.Join(t.TempDir(), "myplan.yaml")
	if err := os.WriteFile(file, []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := hosting.LoadPlan(file)
	if err != nil {
		t.Fatalf("docs/simulated-hosting.md, Your own plan: the example does not load:\n%v", err)
	}
	if p.Name != "my-vps" {
		t.Errorf("the example plan loaded as %q, want my-vps", p.Name)
	}
	// Every optional part it shows is read, not silently dropped.
	if p.MonthlyCost != 40 || len(p.Pools) != 2 || len(p.Classes) != 3 {
		t.Errorf("the example plan lost parts: cost %g, %d pools (want main and static), %d classes", p.MonthlyCost, len(p.Pools), len(p.Classes))
	}
}
