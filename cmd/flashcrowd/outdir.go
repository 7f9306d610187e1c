package main

import (
	"os"
	"path/filepath"

	"github.com/flashcrowd/flashcrowd/attack"
	"github.com/flashcrowd/flashcrowd/report"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// runFiles are the files whose presence makes a directory a run's: its
// metadata, its results and its saved windows.
var runFiles = []string{scenarios.RunInfoFile, attack.ResultsFile, report.WindowsFile}

// checkOut refuses dir as a new run's directory when it already holds a
// run (or is not a directory): run, simulate and compare all call it
// before any host starts or anything is sent or simulated, so a mistyped
// --out costs nothing and overwrites nothing. flag names where dir came
// from ("--out", or "--out DIR/NAME" for a compare entry).
func checkOut(dir, flag string) error {
	st, err := os.Stat(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err == nil && !st.IsDir() {
		return usagef("%s %s is a file, not a directory: give another %s", flag, dir, flag)
	}
	for _, f := range runFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return usagef("%s %s already holds a run (%s): give another %s, or remove it first", flag, dir, f, flag)
		}
	}
	return nil
}
