package attack

import (
	"errors"
	"os"
	"path/filepath"
	"time"
)

// StartTolerance is how far past its StartAt a run may still begin. A
// shard that starts later would send a shifted schedule (the requests it
// missed in a burst), so it refuses to start instead.
const StartTolerance = time.Second

// ErrLateStart is returned by Run when StartAt passed more than
// StartTolerance before the run could begin.
var ErrLateStart = errors.New("the start instant has passed")

// ClockRefVolume names the reference clock of RunInfo.ClockOffset: the
// time stamps the results folder's file system gives a new file. On a
// shared volume (NFS and the like) that is the file server's clock, one
// clock for every shard.
const ClockRefVolume = "results volume"

// volumeClockOffset estimates this machine's clock minus the clock that
// stamps files in dir: it writes a small file, reads back its modification
// time and compares it with the middle of the write, keeping the tightest
// of a few tries. ok is false when the estimate is not trustworthy: the
// file system keeps whole seconds, or a write took longer than 20 ms.
func volumeClockOffset(dir string) (offset time.Duration, ok bool) {
	const tries = 5
	path := filepath.Join(dir, ".clock-probe")
	defer os.Remove(path)
	best := time.Duration(-1)
	fine := false
	for range tries {
		t0 := time.Now()
		if err := os.WriteFile(path, []byte{'.'}, 0o644); err != nil {
			return 0, false
		}
		st, err := os.Stat(path)
		t1 := time.Now()
		if err != nil {
			return 0, false
		}
		rtt := t1.Sub(t0)
		if mt := st.ModTime(); mt.Nanosecond()%int(time.Millisecond) != 0 {
			fine = true
		}
		if best < 0 || rtt < best {
			best = rtt
			mid := t0.Add(rtt / 2)
			offset = mid.Sub(st.ModTime())
		}
	}
	if !fine || best > 20*time.Millisecond {
		return 0, false
	}
	return offset, true
}
