package scan

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/simulate/shop"
)

// recordShop reads a few objects from the shop as user3 and as the admin,
// and returns the exchanges as a sensor would have recorded them.
func recordShop(t *testing.T, base string) []*vigil.Exchange {
	t.Helper()
	login := func(email, pw string) string {
		b, _ := json.Marshal(map[string]string{"email": email, "password": pw})
		resp, err := http.Post(base+"/api/v2/auth/login", "application/json", strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct{ Token string }
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Token == "" {
			t.Fatalf("login %s: %v", email, err)
		}
		return v.Token
	}
	var xs []*vigil.Exchange
	get := func(tok, path string) {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		u, _ := url.Parse(base + path)
		xs = append(xs, &vigil.Exchange{Request: vigil.Request{Method: "GET", URL: u, Header: req.Header},
			Response: &vigil.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}})
	}
	carol := login("user3@shop.test", "Passw0rd!3")
	get(carol, "/api/v2/orders/1007")   // user3's own order
	get(carol, "/api/v2/addresses/503") // user3's own address
	get(carol, "/api/v2/products/5")    // public: not an object test
	admin := login("admin@shop.test", "Adm1n!Vigil")
	get(admin, "/api/v2/admin/users?page=2")
	get(admin, "/api/v2/admin/stats")
	return xs
}

func TestObservedFrom(t *testing.T) {
	api, err := ParseAPI("shop", shop.Spec())
	if err != nil {
		t.Fatal(err)
	}
	u := func(s string) *url.URL { x, _ := url.Parse(s); return x }
	ok := func(body string) *vigil.Response { return &vigil.Response{Status: 200, Body: []byte(body)} }
	xs := []*vigil.Exchange{
		{Request: vigil.Request{Method: "GET", URL: u("http://h/api/v2/orders/1001")}, Response: ok(`{"id":1001}`)},
		{Request: vigil.Request{Method: "GET", URL: u("http://h/api/v2/orders/1001")}, Response: ok(`{"id":1001}`)}, // duplicate
		{Request: vigil.Request{Method: "GET", URL: u("http://h/api/v2/orders/1002")}, Response: &vigil.Response{Status: 404, Body: []byte(`{}`)}},
		{Request: vigil.Request{Method: "GET", URL: u("http://h/api/v2/products/1")}, Response: ok(`{"id":1}`)},  // public
		{Request: vigil.Request{Method: "GET", URL: u("http://h/api/v2/orders")}, Response: ok(`{"orders":[]}`)}, // no id
		{Request: vigil.Request{Method: "GET", URL: u("http://h/api/v2/admin/stats")}, Response: ok(`{"users":1}`)},
		{Request: vigil.Request{Method: "GET", URL: u("http://h/api/v2/addresses/501")}, Response: ok(`not json`)},
		{Request: vigil.Request{Method: "POST", URL: u("http://h/api/v2/addresses")}, Response: ok(`{"id":1}`)},
		{Request: vigil.Request{Method: "GET", URL: u("http://h/nowhere/1")}, Response: ok(`{}`)},
	}
	var got []string
	for _, o := range ObservedFrom(api, xs) {
		got = append(got, o.Op+" "+o.Path)
	}
	want := "GET /api/v2/orders/{id} /api/v2/orders/1001,GET /api/v2/admin/stats /api/v2/admin/stats"
	if strings.Join(got, ",") != want {
		t.Errorf("got %v\nwant %s", got, want)
	}
}

// TestObservedShop replays user3's recorded reads as alice and bob, and the
// admin's as the customers: the vulnerable shop gives both BOLA findings,
// the hardened shop none.
func TestObservedShop(t *testing.T) {
	for _, hardened := range []bool{false, true} {
		s := startShop(t, shop.Options{Hardened: hardened})
		cfg := shopConfig(t, s.URL())
		var ts []*Template
		for _, x := range cfg.Templates {
			if x.Variant == "observed" {
				ts = append(ts, x)
			}
		}
		cfg.Templates = ts
		cfg.Observed = ObservedFrom(cfg.API, recordShop(t, s.URL()))
		rep, err := Run(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		var fails, passes []string
		for _, r := range rep.Results {
			switch r.Status {
			case StatusFail:
				fails = append(fails, r.Test+" "+r.Operation)
			case StatusPass:
				passes = append(passes, r.Test+" "+r.Operation)
			case StatusError:
				t.Errorf("%s: error %s", r.Test, r.Detail)
			}
		}
		want := "bola.observed-object GET /api/v2/addresses/{id},bola.observed-object GET /api/v2/orders/{id}"
		if hardened {
			want = ""
		}
		if strings.Join(fails, ",") != want {
			t.Errorf("hardened %v: findings %v, want %s", hardened, fails, want)
		}
		if len(passes) < 2 { // the admin reads, refused to customers
			t.Errorf("hardened %v: passes %v, want the two admin replays", hardened, passes)
		}
	}
}
