//go:build race

package attack

// raceEnabled: the race detector slows every goroutine 5–10×, so send
// times measure the detector, not the engine: timing checks only log.
const raceEnabled = true
