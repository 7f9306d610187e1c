package hosting

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// The simulated host's shop: a page sets a session cookie once, checkout
// answers increasing order ids padded to the api class's size, an order
// given is found and any other is 404.
func TestShopCookieAndOrders(t *testing.T) {
	p, err := LoadPlan("vps")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewHost(p))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(method, path string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(""))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	_, h, _ := get("GET", "/")
	if !strings.HasPrefix(h.Get("Set-Cookie"), SessionCookie+"=") {
		t.Fatalf("no session cookie on /: %q", h.Get("Set-Cookie"))
	}
	if _, h, _ = get("GET", "/p/jacket"); h.Get("Set-Cookie") != "" {
		t.Errorf("a visitor with a session got another: %q", h.Get("Set-Cookie"))
	}
	if code, _, body := get("POST", "/api/cart"); code != 200 || !strings.HasPrefix(body, `{"items":1`) {
		t.Errorf("cart with a session: %d %q", code, body)
	}
	var ids []float64
	for range 2 {
		code, _, body := get("POST", "/api/checkout")
		var o struct{ ID float64 }
		if err := json.Unmarshal([]byte(body), &o); err != nil || code != 200 {
			t.Fatalf("checkout: %d %q %v", code, body, err)
		}
		if sz := p.Classes[scenarios.API].Size; sz > 40 && int64(len(body)) != sz {
			t.Errorf("checkout body %d bytes, class size %d", len(body), p.Classes[scenarios.API].Size)
		}
		ids = append(ids, o.ID)
	}
	if ids[0] != 1 || ids[1] != 2 {
		t.Errorf("order ids %v, want 1, 2", ids)
	}
	if code, _, body := get("GET", "/api/orders/2"); code != 200 || !strings.Contains(body, `"status":"paid"`) {
		t.Errorf("order 2: %d %q", code, body)
	}
	if code, _, _ := get("GET", "/api/orders/3"); code != 404 {
		t.Errorf("an order never given: %d, want 404", code)
	}
	if code, _, _ := get("GET", "/api/orders/x"); code != 404 {
		t.Errorf("order x: %d, want 404", code)
	}
}
