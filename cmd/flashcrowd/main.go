// Command flashcrowd rehearses the day the press finds a site: it replays a
// press-coverage traffic curve against a target (by default a simulated host
// on loopback) and reports where the hosting breaks.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2 // bad usage or bad input
	exitSLO     = 3 // an SLO or abort rule failed
	// exitInterrupted (130) is in run.go: a run stopped by a signal, its
	// results kept.
)

// env is what a subcommand gets: its streams and a context cancelled by the
// first SIGINT/SIGTERM. A second signal cancels hard (see hard).
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	ctx            context.Context
	hard           context.Context // cancelled by a second signal
	// stopNote, if set, is what the first signal prints instead of
	// "stopping (keeping every result…)": the run is over, and the signal
	// ends something else (the metrics hold).
	stopNote *atomic.Pointer[string]
}

// command is one subcommand. Each lives in its own file and registers itself
// in init.
type command struct {
	name    string
	summary string
	usage   string // "flashcrowd curve [flags]", then examples
	flags   func(fs *pflag.FlagSet) any
	run     func(e *env, fs *pflag.FlagSet, opts any, args []string) error
	order   int
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// usageError is bad usage: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitError carries a specific exit code (3 for a failed SLO).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fs := newFlagSet(c)
				c.flags(fs)
				printUsage(stdout, c, fs)
				return exitOK
			}
			fmt.Fprintf(stderr, "flashcrowd: unknown command %q\n", args[1])
			return exitUsage
		}
		printHelp(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "--version" {
		args = []string{"version"} // version.go
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "flashcrowd: unknown command %q (see flashcrowd help)\n", args[0])
		return exitUsage
	}
	fs := newFlagSet(c)
	opts := c.flags(fs)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printUsage(stdout, c, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "flashcrowd %s: %v\n(see flashcrowd %s -h)\n", c.name, err, c.name)
		return exitUsage
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hard, hardCancel := context.WithCancel(context.Background())
	defer hardCancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	stopNote := new(atomic.Pointer[string])
	go func() {
		n := 0
		for range sigs {
			n++
			if n == 1 {
				msg := "stopping (keeping every result; press Ctrl-C again to stop at once)"
				if p := stopNote.Load(); p != nil {
					msg = *p
				}
				fmt.Fprintln(stderr, "\nflashcrowd: "+msg)
				cancel()
			} else {
				hardCancel()
				return
			}
		}
	}()

	err := c.run(&env{stdin: stdin, stdout: stdout, stderr: stderr, ctx: ctx, hard: hard, stopNote: stopNote}, fs, opts, fs.Args())
	return exitCode(stderr, c.name, err)
}

func exitCode(stderr io.Writer, name string, err error) int {
	if err == nil {
		return exitOK
	}
	var ue usageError
	var ee exitError
	switch {
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintf(stderr, "flashcrowd %s: %s\n", name, ee.msg)
		}
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "flashcrowd %s: %s\n(see flashcrowd %s -h)\n", name, ue.msg, name)
		return exitUsage
	case scenarios.IsInvalid(err):
		fmt.Fprintf(stderr, "flashcrowd %s: invalid input:\n%s\n", name, indent(err.Error()))
		return exitUsage
	}
	fmt.Fprintf(stderr, "flashcrowd %s: %v\n", name, err)
	return exitRuntime
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

func newFlagSet(c *command) *pflag.FlagSet {
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	fs.SortFlags = false
	return fs
}

func printUsage(w io.Writer, c *command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s\n", c.summary, strings.TrimSpace(strings.ReplaceAll(c.usage, "\n", "\n  ")))
	if fs.HasAvailableFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsages())
	}
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `flashcrowd rehearses the day the press finds your site: it replays a
press-coverage traffic curve against a target (by default a simulated host on
loopback) and shows where the hosting breaks.

Usage:
  flashcrowd <command> [flags]

Commands:
`)
	var cs []*command
	for _, c := range commands {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].order != cs[j].order {
			return cs[i].order < cs[j].order
		}
		return cs[i].name < cs[j].name
	})
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "flashcrowd <command> -h" for a command's flags and examples.
Exit codes: 0 ok (the SLO held), 1 runtime error, 2 bad usage or input, 3 the
SLO in force failed (--slo, or the scenario's own), 130 interrupted (results
kept).
`)
}
