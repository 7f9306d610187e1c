//go:build !unix

package loadlock

// lock is a no-op where flock is not available: tests run in parallel.
func lock(string) (func(), error) { return func() {}, nil }
