package hosting

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// The shop: what journeys need to be rehearsed against the simulated host.
// Pages set a session cookie (fc_session) on a visitor who has none;
// POST /api/checkout answers an order id, {"id": N}, counting up from 1;
// GET /api/orders/N answers the order for an id it gave and 404 for any
// other; /api/cart answers {"items": 1} to a POST with a session cookie and
// {"items": 0} otherwise (no cart is kept: a model needs no more). Every
// one of them is served by the api pool like
// any /api/ path (the plan's database-like pool): they queue, fail and
// time out as the plan says; only the answer's body differs, padded to the
// class's size so the link carries the same bytes as the plan's model.

// SessionCookie is the cookie the simulated host's pages set.
const SessionCookie = "fc_session"

// shop holds the state the shop answers need.
type shop struct {
	sessions atomic.Uint64
	orders   atomic.Uint64
}

// pageCookie sets a session cookie on a page response to a visitor
// without one.
func (s *shop) pageCookie(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(SessionCookie); err == nil {
		return
	}
	w.Header().Add("Set-Cookie", SessionCookie+"="+strconv.FormatUint(s.sessions.Add(1), 10)+"; Path=/; HttpOnly")
}

// answer writes the shop's answer to an api request it knows, padded to
// size bytes, and reports whether it did.
func (s *shop) answer(w http.ResponseWriter, r *http.Request, size int64) (int, bool) {
	var code int
	var body string
	switch p := r.URL.Path; {
	case p == "/api/checkout" && r.Method == http.MethodPost:
		code, body = http.StatusOK, `{"id":`+strconv.FormatUint(s.orders.Add(1), 10)
	case strings.HasPrefix(p, "/api/orders/") && r.Method == http.MethodGet:
		id, err := strconv.ParseUint(strings.TrimPrefix(p, "/api/orders/"), 10, 64)
		if err != nil || id == 0 || id > s.orders.Load() {
			code, body = http.StatusNotFound, `{"error":"no such order"`
		} else {
			code, body = http.StatusOK, `{"id":`+strconv.FormatUint(id, 10)+`,"status":"paid"`
		}
	case p == "/api/cart":
		items := "0"
		if _, err := r.Cookie(SessionCookie); err == nil && r.Method == http.MethodPost {
			items = "1"
		}
		code, body = http.StatusOK, `{"items":`+items
	default:
		return 0, false
	}
	// Pad to the class's size: `,"pad":"…"}`.
	const pad = `,"pad":""}`
	if n := size - int64(len(body)) - int64(len(pad)); n > 0 {
		body += `,"pad":"` + strings.Repeat(" ", int(n)) + `"}`
	} else {
		body += "}"
	}
	hd := w.Header()
	hd["Content-Type"] = []string{"application/json"}
	hd["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(code)
	n, _ := w.Write([]byte(body))
	return n, true
}
