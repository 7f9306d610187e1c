//go:build !linux

package attack

import "time"

// sleeper sleeps with time.Sleep (see sleep_linux.go).
type sleeper struct{}

func newSleeper() *sleeper               { return &sleeper{} }
func (s *sleeper) sleep(d time.Duration) { time.Sleep(d) }
func (s *sleeper) close()                {}
