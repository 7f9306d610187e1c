package attack

import (
	"errors"
	"net"
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
	got     int64 // bytes read since the caller last zeroed it
}

func (p *fastIO) reset(nc net.Conn) {
	p.nc, p.rc, p.send = nc, nil, nil
	if !fastRaw {
		return
	}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			p.rc = rc
		}
	}
	if p.fn == nil {
		p.fn = p.io
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
		n, err := p.nc.Read(b)
		p.got += int64(n)
		return n, err
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
		p.got += int64(p.n)
		return p.n, p.err
	}
}
