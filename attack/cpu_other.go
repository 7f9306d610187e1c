//go:build !unix

package attack

import "github.com/flashcrowd/flashcrowd/scenarios"

// processCPU is unknown on this platform.
func processCPU() *scenarios.CPUTime { return nil }
