//go:build unix

package attack

import (
	"syscall"
	"time"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// processCPU is this process's CPU time so far (all its threads).
func processCPU() *scenarios.CPUTime {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return nil
	}
	return &scenarios.CPUTime{
		User:   time.Duration(ru.Utime.Nano()),
		System: time.Duration(ru.Stime.Nano()),
	}
}
