package attack

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// maxLateWrite is the largest request the fast engine writes from inside
// its first read (fastIO); a larger one is written first, as usual, since
// it may not fit the socket's buffer in one write.
const maxLateWrite = 4 << 10

// fastIO is what a connection's bufio.Reader reads from. A request set in
// send is written by the next Read, inside the poller's read callback:
// the poller's readiness is reset before the callback runs, so after the
// write the connection can wait for the reply at once, without first
// trying a read that cannot succeed yet (a reply on loopback takes tens
// of µs; the failed read was one system call a request). Errors read as
// net.Conn's do ("read tcp a->b: read: connection reset by peer").
type fastIO struct {
	nc   net.Conn
	rc   syscall.RawConn // nil: read nc the usual way
	send []byte

	buf     []byte // this Read's buffer
	n       int
	err     error
	blocked bool // the socket took only part of send
	fn      func(fd uintptr) bool
}

func (p *fastIO) reset(nc net.Conn) {
	p.nc, p.rc, p.send = nc, nil, nil
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			p.rc = rc
		}
	}
	if p.fn == nil {
		p.fn = p.io
	}
}

// io is the raw read callback: true when this Read is done.
func (p *fastIO) io(fd uintptr) bool {
	for len(p.send) > 0 {
		n, err := syscall.Write(int(fd), p.send)
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
		n, err := syscall.Read(int(fd), p.buf)
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

func (p *fastIO) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: p.nc.LocalAddr(), Addr: p.nc.RemoteAddr(), Err: err}
}

func (p *fastIO) Read(b []byte) (int, error) {
	if p.rc == nil {
		if len(p.send) > 0 {
			s := p.send
			p.send = nil
			if _, err := p.nc.Write(s); err != nil {
				return 0, err
			}
		}
		return p.nc.Read(b)
	}
	for {
		p.buf, p.n, p.err, p.blocked = b, 0, nil, false
		err := p.rc.Read(p.fn)
		p.buf = nil
		if err != nil {
			p.send = nil
			// As net.Conn.Read says it ("read tcp …: i/o timeout").
			var oe *net.OpError
			if errors.As(err, &oe) {
				oe.Op = "read"
			}
			return 0, err
		}
		if p.blocked {
			// The rest of the request the usual way (deadline and all).
			s := p.send
			p.send = nil
			if _, err := p.nc.Write(s); err != nil {
				return 0, err
			}
			continue
		}
		return p.n, p.err
	}
}
