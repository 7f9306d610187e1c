package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/flashcrowd/flashcrowd/attack"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// preflight checks that ao's target answers before anything is sent: one
// HEAD request to each of its hosts (attack.Preflight), not part of the
// results. An unreachable host (nothing listening, a name that does not
// resolve, TLS failing) is bad input, exit 2; an odd but living one is a
// warning, printed unless quiet and kept in run.json. what, if not "",
// prefixes the messages (a compare entry: "--target NAME"). The simulated
// host is not checked: this process has just started it and it listens.
// Warnings are written with s's ${ENV:NAME} values redacted, as
// run.json is.
func preflight(e *env, s *scenarios.Scenario, name, what string, ao *attack.Options, quiet bool) error {
	if what != "" {
		what += ": "
	}
	warns, err := attack.Preflight(e.ctx, *ao)
	for _, w := range warns {
		w = s.RedactText(w)
		ao.Info.Warnings = append(ao.Info.Warnings, w)
		if !quiet {
			fmt.Fprintf(e.stderr, "flashcrowd %s: %swarning: %s\n", name, what, w)
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, attack.ErrUnreachable):
		return exitError{code: exitUsage, msg: what + strings.TrimPrefix(err.Error(), attack.ErrUnreachable.Error()+": ")}
	case e.ctx.Err() != nil:
		return exitError{code: exitInterrupted, msg: "interrupted before the start: nothing sent"}
	}
	return err
}
