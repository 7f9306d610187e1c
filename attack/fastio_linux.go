package attack

import (
	"io"
	"os"
	"syscall"
	"unsafe"
)

// fastRaw says the fast engine writes and reads its connections through
// raw system calls (fastIO).
const fastRaw = true

// io is the raw read callback: true when this Read is done.
func (p *fastIO) io(fd uintptr) bool {
	for len(p.send) > 0 {
		n, err := rawWrite(fd, p.send)
		if err == syscall.EINTR {
			continue
		}
		if n > 0 {
			p.send = p.send[n:]
		}
		if err == syscall.EAGAIN || (err == nil && len(p.send) > 0) {
			p.blocked = true
			return true
		}
		if err != nil {
			p.send = nil
			p.err = p.opError("write", os.NewSyscallError("write", err))
			return true
		}
		return false // the reply is not there yet: wait for it
	}
	for {
		n, err := rawRead(fd, p.buf)
		switch err {
		case nil:
			p.n = n
			if n == 0 && len(p.buf) > 0 {
				p.err = io.EOF
			}
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		p.err = p.opError("read", os.NewSyscallError("read", err))
		return true
	}
}

// rawWrite and rawRead are write(2) and read(2) on a non-blocking
// descriptor without telling the scheduler (RawSyscall): they never block,
// and a system call that tells it wakes the runtime's monitor thread when
// the process was idle (a futex wake and two context switches on a busy
// core) — after every idle spell, which at a few thousand requests a
// second is most requests.
func rawWrite(fd uintptr, b []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func rawRead(fd uintptr, b []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
