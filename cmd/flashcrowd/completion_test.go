package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func completionScript(t *testing.T, shell string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run([]string{"completion", shell}, nil, &out, &errb); code != exitOK {
		t.Fatalf("completion %s: exit %d: %s", shell, code, errb.String())
	}
	return out.String()
}

// Every command and every flag of every command is in every script.
func TestCompletionCoversCommandsAndFlags(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		s := completionScript(t, shell)
		for _, c := range completionSpec() {
			if !strings.Contains(s, c.name) {
				t.Errorf("%s: command %s missing", shell, c.name)
			}
			for _, f := range c.flags {
				want := "--" + f.name
				if shell == "fish" {
					want = "-l " + f.name
				}
				if !strings.Contains(s, want) {
					t.Errorf("%s: %s %s missing", shell, c.name, want)
				}
			}
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"completion", "tcsh"}, nil, &out, &errb); code != exitUsage {
		t.Errorf("completion tcsh: exit %d, want %d", code, exitUsage)
	}
}

func shellOrSkip(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed: its completion script is not run (apt-get install %s)", name, name)
	}
	return p
}

// The bash script, sourced, completes what a user types.
func TestCompletionBash(t *testing.T) {
	bash := shellOrSkip(t, "bash")
	script := filepath.Join(t.TempDir(), "flashcrowd.bash")
	if err := os.WriteFile(script, []byte(completionScript(t, "bash")), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		words string // the line typed so far; the last word is completed
		want  []string
	}{
		{"flashcrowd si", []string{"simulate"}},
		{"flashcrowd com", []string{"compare", "completion"}},
		{"flashcrowd run --eng", []string{"--engine"}},
		{"flashcrowd run --engine ", []string{"fast", "vegeta"}},
		{"flashcrowd simulate --arrivals ", []string{"exact", "poisson"}},
		{"flashcrowd serve --plan c", []string{"cdn", "cloud"}},
		{"flashcrowd curve --scenario press", []string{"press-spike", "press-spike-visitors"}},
		{"flashcrowd completion ", []string{"bash", "fish", "zsh"}},
		{"flashcrowd help rep", []string{"report"}},
		{"flashcrowd report --js", []string{"--json"}},
	}
	for _, tt := range tests {
		words := strings.Split(tt.words, " ")
		var q []string
		for _, w := range words {
			q = append(q, "'"+w+"'")
		}
		prog := "source " + script + "\nCOMP_WORDS=(" + strings.Join(q, " ") + ")\nCOMP_CWORD=" +
			itoa(len(words)-1) + "\n_flashcrowd\nprintf '%s\\n' \"${COMPREPLY[@]}\" | sort\n"
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", prog)
		cmd.Dir = t.TempDir() // no files to offer
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tt.words, err, out)
		}
		if got := strings.Fields(string(out)); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%q: got %q, want %q", tt.words, got, tt.want)
		}
	}
}

// In an interactive bash (on a pseudo-terminal zsh's zpty gives), the line
// a TAB leaves: directories end in a slash, a --flag=value completes, and a
// value that goes on (sample=) takes no space.
func TestCompletionBashInteractive(t *testing.T) {
	bash := shellOrSkip(t, "bash")
	zsh := shellOrSkip(t, "zsh") // drives bash on a pseudo-terminal
	dir := t.TempDir()
	script := filepath.Join(dir, "flashcrowd.bash")
	capture := filepath.Join(dir, "capture.zsh")
	if err := os.WriteFile(script, []byte(completionScript(t, "bash")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(capture, []byte(strings.ReplaceAll(bashCapture, "BASH", bash)), 0o644); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	for _, d := range []string{"runs", "testdata"} {
		if err := os.Mkdir(filepath.Join(work, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ line, want string }{
		{"flashcrowd run --out ru", "flashcrowd run --out runs/"},
		{"flashcrowd run --plan testd", "flashcrowd run --plan testdata/"},
		{"flashcrowd report r", "flashcrowd report runs/"},
		{"flashcrowd run --plan=v", "flashcrowd run --plan=vps "},
		{"flashcrowd run --engine=f", "flashcrowd run --engine=fast "},
		{"flashcrowd run --results sam", "flashcrowd run --results sample="},
		{"flashcrowd run --engine f", "flashcrowd run --engine fast "},
	}
	for _, tt := range tests {
		cmd := exec.Command(zsh, "-f", capture, script, tt.line)
		cmd.Dir = work
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tt.line, err, out)
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != tt.want {
			t.Errorf("bash %q + TAB: %q, want %q", tt.line, got, tt.want)
		}
	}
}

// bashCapture SCRIPT LINE types LINE and a TAB into an interactive bash
// (BASH) with SCRIPT sourced, then prints the line the completion left.
const bashCapture = `zmodload zsh/zpty
zpty b BASH --norc --noprofile -i
zpty -w b "PS1=''; bind 'set enable-bracketed-paste off' 2>/dev/null; source $1"
zpty -wn b "$2"$'\t'
zpty -wn b $'\x01''echo "<<LI''NE:'$'\x05''>>"'$'\n'
local line out=""
integer i=0
while (( i++ < 400 )); do
  if zpty -r -t b line; then out+=$line; [[ $out == *$'\n<<LINE:'*'>>'* ]] && break; else sleep 0.05; fi
done
out=${out##*$'\n'<<LINE:}
print -r -- "${out%%>>*}"
zpty -d b
`

func itoa(i int) string { return strconv.Itoa(i) }

// fish completes with `complete -C`, non-interactively.
func TestCompletionFish(t *testing.T) {
	fish := shellOrSkip(t, "fish")
	script := filepath.Join(t.TempDir(), "flashcrowd.fish")
	if err := os.WriteFile(script, []byte(completionScript(t, "fish")), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line string
		want []string
	}{
		{"flashcrowd si", []string{"simulate"}},
		{"flashcrowd run --engine ", []string{"fast", "vegeta"}},
		{"flashcrowd compare --sim", []string{"--simulate"}},
		{"flashcrowd serve --plan c", []string{"cdn", "cloud"}},
		{"flashcrowd completion ", []string{"bash", "fish", "zsh"}},
	}
	for _, tt := range tests {
		cmd := exec.Command(fish, "--no-config", "-c", "source "+script+"; complete -C '"+tt.line+"'")
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tt.line, err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l != "" {
				got = append(got, strings.SplitN(l, "\t", 2)[0])
			}
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%q: got %q, want %q", tt.line, got, tt.want)
		}
	}
}

// zsh: the script parses, loads under compinit, and completes commands,
// flags and values in a real interactive zsh.
func TestCompletionZsh(t *testing.T) {
	zsh := shellOrSkip(t, "zsh")
	dir := t.TempDir()
	script := filepath.Join(dir, "_flashcrowd")
	if err := os.WriteFile(script, []byte(completionScript(t, "zsh")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zsh, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
	prog := "autoload -U compinit && compinit -u -d " + filepath.Join(dir, "zcompdump") +
		" && source " + script + " && print ${_comps[flashcrowd]}"
	out, err := exec.Command(zsh, "-f", "-c", prog).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "_flashcrowd" {
		t.Fatalf("zsh: loading the script: %v\n%s", err, out)
	}
	// Completing for real: an interactive zsh on a pseudo-terminal (zpty)
	// with the script on its fpath is sent the line and a TAB; compadd,
	// wrapped, prints every match zsh's completion system offers.
	capture := filepath.Join(dir, "capture.zsh")
	if err := os.WriteFile(capture, []byte(zshCapture), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line string
		want []string
	}{
		{"flashcrowd si", []string{"simulate"}},
		{"flashcrowd com", []string{"compare", "completion"}},
		{"flashcrowd run --eng", []string{"--engine"}},
		{"flashcrowd run --engine=", []string{"fast", "vegeta"}},
		{"flashcrowd run --plan v", []string{"vps"}},
		{"flashcrowd serve --plan c", []string{"cdn", "cloud"}},
		{"flashcrowd curve --scenario press-spike-v", []string{"press-spike-visitors"}},
		{"flashcrowd serve --mix-of hn", []string{"hn-2023"}},
		{"flashcrowd completion ", []string{"bash", "fish", "zsh"}},
	}
	for _, tt := range tests {
		cmd := exec.Command(zsh, "-f", capture, dir, tt.line)
		cmd.Dir = t.TempDir() // no files to offer
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tt.line, err, out)
		}
		var got []string
		for _, m := range strings.Fields(string(out)) {
			if !strings.Contains(m, "''") { // the echo of the end marker's command
				got = append(got, m)
			}
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("zsh %q: got %q, want %q", tt.line, got, tt.want)
		}
	}
}

// zshCapture DIR LINE prints, sorted, the matches zsh's completion system
// offers for LINE, with DIR (holding _flashcrowd) on fpath.
const zshCapture = `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT='' ; RPROMPT=''"
zpty -w z "fpath=($1 \$fpath); autoload -U compinit; compinit -u -d $1/zcompdump"
zpty -w z 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  typeset -a __hits; builtin compadd -A __hits "$@"
  local h; for h in $__hits; do print -r -- "<<$h>>"; done
  builtin compadd "$@"
}'
zpty -w z "print '<<ST''ART>>'"
zpty -w z "$2"$'\t'
zpty -w z $'\x15'
zpty -w z "print '<<EN''D>>'"
local line out=""
integer i=0
while (( i++ < 400 )); do
  if zpty -r -t z line; then out+=$line; [[ $out == *'<<END>>'* ]] && break; else sleep 0.05; fi
done
out=${out##*<<START>>}
out=${out%%<<END>>*}
print -r -- "$out" | grep -ao '<<[^<>]*>>' | sed 's/^<<//; s/>>$//' | sort -u
zpty -d z
`
