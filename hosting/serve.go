package hosting

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"time"
)

// Serve serves plan p on ln until ctx is done, then stops accepting, lets
// requests in service finish for up to two seconds, and returns nil. Under
// when_full: refuse it also refuses (resets at once) connections accepted
// while the main pool has no worker and no queue place free, which a
// Handler alone cannot do.
func Serve(ctx context.Context, ln net.Listener, p *Plan) error {
	h := NewHost(p)
	defer h.Close()
	return serveHost(ctx, ln, h)
}

func serveHost(ctx context.Context, ln net.Listener, h *Host) error {
	if h.plan.WhenFull == FullRefuse {
		ln = &refusingListener{Listener: ln, h: h}
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h.Close() // queued requests get 503 at once
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// refusingListener resets connections accepted while the host is full.
type refusingListener struct {
	net.Listener
	h *Host
}

func (l *refusingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.h.mainFull() {
			return c, err
		}
		l.h.rejected[reasonRefused].Add(1)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
}
