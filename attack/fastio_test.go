package attack

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// fastIOPair is a loopback TCP connection wrapped in a fastIO, and the
// server's end.
func fastIOPair(t *testing.T) (*fastIO, net.Conn) {
	t.Helper()
	if !fastRaw {
		t.Skip("connections are read through net.Conn on this platform")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { nc.Close(); srv.Close() })
	p := &fastIO{}
	p.reset(nc)
	if p.rc == nil {
		t.Fatal("no raw connection for a TCP connection")
	}
	return p, srv
}

// TestFastIOWritesThenReads checks that a request set in send goes out
// whole and in order before the reply is read, small or larger than the
// socket's buffer (written in part from the callback, the rest the usual
// way), and that the connection then reads as a net.Conn: replies, EOF,
// and a deadline's timeout worded as net.Conn words it.
func TestFastIOWritesThenReads(t *testing.T) {
	for _, size := range []int{100, maxLateWrite, 8 << 20} {
		p, srv := fastIOPair(t)
		req := bytes.Repeat([]byte("abcdefghij"), size/10)
		got := make(chan []byte, 1)
		go func() {
			b := make([]byte, len(req))
			if _, err := io.ReadFull(srv, b); err != nil {
				got <- nil
				return
			}
			got <- b
			srv.Write([]byte("reply"))
			srv.Close()
		}()
		p.nc.SetDeadline(time.Now().Add(20 * time.Second))
		p.send = req
		buf := make([]byte, 64)
		n, err := p.Read(buf)
		if err != nil || string(buf[:n]) != "reply" {
			t.Fatalf("%d bytes: Read = %q, %v; want \"reply\"", size, buf[:n], err)
		}
		if b := <-got; !bytes.Equal(b, req) {
			t.Fatalf("%d bytes: the server got %d bytes, not the request", size, len(b))
		}
		if n, err := p.Read(buf); n != 0 || err != io.EOF {
			t.Fatalf("%d bytes: after close Read = %d, %v; want 0, EOF", size, n, err)
		}
	}

	p, _ := fastIOPair(t)
	p.nc.SetDeadline(time.Now().Add(30 * time.Millisecond))
	p.send = []byte("GET / HTTP/1.1\r\n\r\n")
	_, err := p.Read(make([]byte, 64))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !strings.HasPrefix(err.Error(), "read tcp ") || !strings.HasSuffix(err.Error(), "i/o timeout") {
		t.Fatalf("no reply by the deadline: %v; want a timeout worded \"read tcp …: i/o timeout\"", err)
	}
}
