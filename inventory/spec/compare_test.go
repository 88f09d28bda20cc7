package spec

import (
	"slices"
	"testing"
)

func TestCompare(t *testing.T) {
	old, new := mustLoad(t, "compare-old.yaml"), mustLoad(t, "compare-new.yaml")
	want := []Change{
		{ChangeRemoved, "GET", "/api/legacy", "operation removed"},
		{ChangeBreaking, "GET", "/api/orders", `header parameter "X-Tenant" removed`},
		{ChangeBreaking, "GET", "/api/orders", `query parameter "limit" now required`},
		{ChangeBreaking, "GET", "/api/orders", `required query parameter "since" added`},
		{ChangeBreaking, "GET", "/api/orders", "response 404 removed"},
		{ChangeBreaking, "POST", "/api/orders", `request content type "application/xml" removed`},
		{ChangeBreaking, "POST", "/api/orders", `request field "note" now required`},
		{ChangeBreaking, "POST", "/api/orders", `required request field "quantity" added`},
		// {orderId} became {id}: the same operation.
		{ChangeBreaking, "DELETE", "/api/orders/{id}", "authentication now required"},
		{ChangeDeprecated, "GET", "/api/orders/{id}", "operation deprecated"},
		{ChangeAdded, "POST", "/api/orders/{id}/refund", "operation added"},
	}
	got := Compare(old, new)
	if !slices.Equal(got, want) {
		t.Errorf("Compare(old, new):")
		for _, c := range got {
			t.Errorf("  got  %v", c)
		}
		for _, c := range want {
			t.Errorf("  want %v", c)
		}
	}
}

func TestCompareCases(t *testing.T) {
	shop := mustLoad(t, "shop-3.1.yaml")
	tests := []struct {
		name     string
		old, new *Spec
		want     []string // Change.String()
	}{
		{"same spec", shop, shop, nil},
		{"same spec loaded twice", shop, mustLoad(t, "shop-3.1.yaml"), nil},
		{"nil old", nil, mustLoad(t, "deprecated-3.1.yaml"), []string{
			"added GET /v1/reports: operation added",
			"added POST /v1/reports: operation added",
			"added GET /v1/reports/{id}: operation added",
			"added GET /v2/reports: operation added",
		}},
		{"nil new", mustLoad(t, "deprecated-3.1.yaml"), nil, []string{
			"removed GET /v1/reports: operation removed",
			"removed POST /v1/reports: operation removed",
			"removed GET /v1/reports/{id}: operation removed",
			"removed GET /v2/reports: operation removed",
		}},
		{"both nil", nil, nil, nil},
		{"reverse: relaxing is not breaking, removal is", mustLoad(t, "compare-new.yaml"), mustLoad(t, "compare-old.yaml"), []string{
			"added GET /api/legacy: operation added",
			`breaking GET /api/orders: query parameter "page" removed`,
			`breaking GET /api/orders: query parameter "since" removed`,
			"removed POST /api/orders/{id}/refund: operation removed",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range Compare(tc.old, tc.new) {
				got = append(got, c.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestNormalizePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/orders", "/orders"},
		{"/orders/{id}", "/orders/{}"},
		{"/orders/{orderId}/items/{itemId}", "/orders/{}/items/{}"},
		{"/files/{name}.json", "/files/{}.json"},
		{"/odd/{open", "/odd/{open"},
		{"/odd/{a/b}", "/odd/{a/b}"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := NormalizePath(tc.in); got != tc.want {
			t.Errorf("NormalizePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
