package attack

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// sleeper sleeps with microsecond precision. Go's timers wake an idle
// process through epoll_wait, whose timeout is in whole milliseconds, so a
// 30 µs time.Sleep can last a millisecond; a timerfd in the runtime's
// poller wakes it on the nanosecond. It matters for more than lag: a
// timer-woken dispatcher runs before connections whose responses are ready
// but not yet polled, finds none idle and opens more (on one busy core
// that ran away to thousands of connections), whereas the timerfd wakes it
// in the same poll as those connections. It falls back to time.Sleep if no
// timerfd can be made.
type sleeper struct {
	f   *os.File
	fd  int
	buf [8]byte
}

func newSleeper() *sleeper {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, 1 /* CLOCK_MONOTONIC */, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return &sleeper{fd: -1}
	}
	return &sleeper{f: os.NewFile(fd, "timerfd"), fd: int(fd)}
}

type itimerspec struct {
	interval, value syscall.Timespec
}

func (s *sleeper) sleep(d time.Duration) {
	if s.f == nil || d >= 5*time.Millisecond {
		time.Sleep(d)
		return
	}
	if d <= 0 {
		return
	}
	spec := itimerspec{value: syscall.NsecToTimespec(int64(d))}
	if _, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, uintptr(s.fd), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); errno != 0 {
		time.Sleep(d)
		return
	}
	if _, err := s.f.Read(s.buf[:]); err != nil {
		time.Sleep(d)
	}
}

func (s *sleeper) close() {
	if s.f != nil {
		s.f.Close()
	}
}
