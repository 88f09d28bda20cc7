package inventory

import (
	"net/url"
	"strings"
	"testing"

	"github.com/vigilsec/vigil"
)

var templateCases = []struct {
	name, path, want string
}{
	{"empty", "", "/"},
	{"root", "/", "/"},
	{"words stay", "/api/v2/orders", "/api/v2/orders"},
	{"decimal ids", "/api/v2/orders/8812/items/3", "/api/v2/orders/{id}/items/{id}"},
	{"trailing slash kept", "/orders/8812/", "/orders/{id}/"},
	{"double slash kept", "/orders//8812", "/orders//{id}"},
	{"me", "/api/v2/users/me", "/api/v2/users/me"},
	{"version segments", "/v1/v2/v10/api", "/v1/v2/v10/api"},
	{"search", "/api/v2/products/search", "/api/v2/products/search"},
	{"slug with digit prefix", "/categories/3d-printers", "/categories/3d-printers"},
	{"slug with year stays", "/campaigns/black-friday-2026", "/campaigns/black-friday-2026"},
	{"uuid", "/users/3f2b8c1e-9a4d-4e7b-8c1f-2a3b4c5d6e7f/profile", "/users/{id}/profile"},
	{"uuid upper", "/users/3F2B8C1E-9A4D-4E7B-8C1F-2A3B4C5D6E7F", "/users/{id}"},
	{"hex id", "/objects/5f3c9a1e", "/objects/{id}"},
	{"mongo object id", "/objects/507f1f77bcf86cd799439011", "/objects/{id}"},
	{"md5", "/files/d41d8cd98f00b204e9800998ecf8427e", "/files/{id}"},
	{"sha1", "/commits/da39a3ee5e6b4b0d3255bfef95601890afd80709", "/commits/{id}"},
	{"sha256", "/blobs/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "/blobs/{id}"},
	{"hex word without digit stays", "/colors/deadbeef", "/colors/deadbeef"},
	{"short hex stays", "/x/cafe12", "/x/cafe12"},
	{"email", "/users/user7@shop.test/orders", "/users/{id}/orders"},
	{"at without domain stays", "/handles/@alice", "/handles/@alice"},
	{"iso date", "/reports/2026-03-01", "/reports/{id}"},
	{"iso datetime", "/reports/2026-03-01T10:00:00Z", "/reports/{id}"},
	{"not a date", "/reports/2026-13-01", "/reports/2026-13-01"},
	{"jwt-like token", "/share/eyJhbGciOiJIUzI1NiJ9", "/share/{id}"},
	{"base64url token", "/reset/k3J9xQ2mZ8pL4wR7-aB5", "/reset/{id}"},
	{"camelCase stays", "/rpc/getUserProfileById", "/rpc/getUserProfileById"},
	{"long slug stays", "/articles/how-to-build-an-api-in-go", "/articles/how-to-build-an-api-in-go"},
	{"oauth2 stays", "/oauth2/token", "/oauth2/token"},
	{"gift card code", "/api/v2/giftcards/GC-0042/balance", "/api/v2/giftcards/{id}/balance"},
	{"relative path", "orders/12", "orders/{id}"},
	{"only an id", "/12", "/{id}"},
	{"placeholder stays", "/orders/{id}", "/orders/{id}"},
}

func TestTemplate(t *testing.T) {
	for _, tc := range templateCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Template(tc.path); got != tc.want {
				t.Errorf("Template(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestTemplateAllocs(t *testing.T) {
	tests := []struct {
		path string
		want float64
	}{
		{"/api/v2/products/search", 0},
		{"/api/v2/orders/8812/items/3", 1},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, func() { _ = Template(tc.path) }); got != tc.want {
				t.Errorf("allocations = %v, want %v", got, tc.want)
			}
		})
	}
}

func FuzzTemplate(f *testing.F) {
	for _, tc := range templateCases {
		f.Add(tc.path)
	}
	f.Fuzz(func(t *testing.T, path string) {
		got := Template(path)
		if n, m := strings.Count(got, "/"), strings.Count(path, "/"); n > max(m, 1) {
			t.Errorf("Template(%q) = %q has %d segments, input %d", path, got, n, m)
		}
		if again := Template(got); again != got {
			t.Errorf("not idempotent: Template(%q) = %q, Template of that = %q", path, got, again)
		}
	})
}

func BenchmarkTemplate(b *testing.B) {
	for _, path := range []string{"/api/v2/products/search", "/api/v2/orders/8812/items/3"} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Template(path)
			}
		})
	}
}

// TestTemplateFor: the template recorded on an exchange is read back for
// its path only; another path (a cut one, or a changed request) is
// templated anew.
func TestTemplateFor(t *testing.T) {
	u, _ := url.Parse("http://shop.test/api/v2/orders/8812")
	x := &vigil.Exchange{Request: vigil.Request{Method: "GET", URL: u}}
	if got, want := TemplateOf(x), "/api/v2/orders/{id}"; got != want {
		t.Fatalf("TemplateOf without a memo = %q, want %q", got, want)
	}
	x.SetPathTemplate(u.Path, "/memo")
	for _, tt := range []struct{ path, want string }{
		{u.Path, "/memo"},
		{"/api/v2/orders", "/api/v2/orders"},
		{"/api/v2/orders/8812/items/3", "/api/v2/orders/{id}/items/{id}"},
	} {
		if got := TemplateFor(x, tt.path); got != tt.want {
			t.Errorf("TemplateFor(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
	x.Request.URL, _ = url.Parse("http://shop.test/api/v2/users/7")
	if got, want := TemplateOf(x), "/api/v2/users/{id}"; got != want {
		t.Errorf("TemplateOf after the path changed = %q, want %q", got, want)
	}
}
