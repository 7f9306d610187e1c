// Package loadlock makes the test binaries of one `go test ./...` take
// turns. go test runs packages in parallel, one binary per core; the
// attack, hosting, report and command tests each put thousands of
// requests a second through loopback (or render pages in Chromium), and on
// a 2-core machine two of them at once starve each other's schedules:
// a send-lag or per-second-count check then measures the neighbour, not
// the code. Each of those packages calls Main from its TestMain, which
// holds an exclusive lock on a file in the temporary directory while its
// tests run. FLASHCROWD_TEST_PARALLEL=1 turns the lock off.
package loadlock

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Env is the variable that turns the lock off when set to 1.
const Env = "FLASHCROWD_TEST_PARALLEL"

// heldEnv is set (to 1) in the environment of a process holding the lock,
// so that the processes it starts (tests that run the test binary again
// as a child, or the go command) do not wait for their parent.
const heldEnv = "FLASHCROWD_TEST_LOCK_HELD"

// Path is the lock file.
func Path() string { return filepath.Join(os.TempDir(), "flashcrowd-test-load.lock") }

// Main runs m's tests holding the lock and exits with their status.
func Main(m *testing.M) {
	unlock := func() {}
	if os.Getenv(Env) != "1" && os.Getenv(heldEnv) != "1" {
		var err error
		if unlock, err = lock(Path()); err != nil {
			fmt.Fprintf(os.Stderr, "loadlock: %v (running without it)\n", err)
			unlock = func() {}
		}
		os.Setenv(heldEnv, "1")
	}
	code := m.Run()
	unlock()
	os.Exit(code)
}
