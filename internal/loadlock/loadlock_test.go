package loadlock

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestLockExcludes: a second holder waits until the first lets go.
func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := lock(path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func())
	go func() {
		u, err := lock(path)
		if err != nil {
			t.Error(err)
			u = func() {}
		}
		got <- u
	}()
	select {
	case u := <-got:
		u()
		t.Fatal("second lock taken while the first is held")
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	select {
	case u := <-got:
		u()
	case <-time.After(10 * time.Second):
		t.Fatal("second lock not taken after the first was released")
	}
}

// TestMain holds the lock the way the load-heavy packages do; the child
// test below runs this binary again while it is held, which must not wait
// for its parent.
func TestMain(m *testing.M) { Main(m) }

func TestChildDoesNotWait(t *testing.T) {
	if os.Getenv("LOADLOCK_CHILD") == "1" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChildDoesNotWait$")
	cmd.Env = append(os.Environ(), "LOADLOCK_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
