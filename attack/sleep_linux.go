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
	f     *os.File
	rc    syscall.RawConn
	fd    int
	buf   [8]byte
	spec  itimerspec
	arm   func(fd uintptr) bool // the RawConn.Read callback, made once
	err   syscall.Errno         // from arming
	armed bool                  // this sleep's timer is set
}

func newSleeper() *sleeper {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, 1 /* CLOCK_MONOTONIC */, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return &sleeper{fd: -1}
	}
	s := &sleeper{f: os.NewFile(fd, "timerfd"), fd: int(fd)}
	rc, err := s.f.SyscallConn()
	if err != nil {
		s.f.Close()
		return &sleeper{fd: -1}
	}
	s.rc = rc
	// The first call arms the timer and waits for the poller without
	// reading (the timer cannot have fired yet); the poller's readiness
	// is reset before it, so an expiry after arming is never missed. The
	// next call, on readiness, reads the expiry count, or waits again if
	// the readiness was stale. Two system calls a sleep, besides the
	// poll shared with the connections.
	s.arm = func(fd uintptr) bool {
		if !s.armed {
			s.armed = true
			// Raw system calls, as fastIO's (see rawWrite): neither blocks.
			if _, _, errno := syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&s.spec)), 0, 0, 0); errno != 0 {
				s.err = errno
				return true
			}
			return false
		}
		for {
			_, err := rawRead(fd, s.buf[:])
			if err != syscall.EINTR {
				return err != syscall.EAGAIN
			}
		}
	}
	return s
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
	s.spec = itimerspec{value: syscall.NsecToTimespec(int64(d))}
	s.err, s.armed = 0, false
	if err := s.rc.Read(s.arm); err != nil || s.err != 0 {
		time.Sleep(d)
	}
}

func (s *sleeper) close() {
	if s.f != nil {
		s.f.Close()
	}
}
