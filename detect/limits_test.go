package detect

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigilsec/vigil"
)

// limitsBoth runs the cases through the limits detector alone and through
// the merged walk of all request detectors, which borrows JSON strings.
func limitsBoth(t *testing.T, cases []detCase) {
	t.Helper()
	runCases(t, NewLimits(LimitsConfig{}), "detect.resource.limits", cases)
	as, err := New([]Factory{{ID: "detect.resource.limits", New: func() vigil.Analyzer { return NewLimits(LimitsConfig{}) }}, {ID: "detect.ssrf", New: func() vigil.Analyzer { return NewSSRF() }}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		got, err := as[0].Analyze(context.Background(), tc.x)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range got {
			if f.Detector == "detect.resource.limits" {
				n++
			}
		}
		if (n > 0) != (tc.want != "") {
			t.Errorf("merged walk, %s: %d findings", tc.name, n)
		}
	}
}

func TestLimitsPageSizeNames(t *testing.T) {
	j := func(b string) func(*vigil.Exchange) { return body("application/json", b) }
	limitsBoth(t, []detCase{
		// Compound and alias names in a query string or form.
		{"rows per page", ex("GET", "https://a.test/v1/tickets?rowsPerPage=20000"), "page size"},
		{"hits per page", ex("GET", "https://a.test/v1/search?q=a&hitsPerPage=7500"), "page size"},
		{"max records", ex("GET", "https://a.test/v1/ledger?max_records=250000"), "page size"},
		{"s3 max keys", ex("GET", "https://a.test/bucket?list-type=2&max-keys=50000"), "page size"},
		{"num results", ex("GET", "https://a.test/v1/lookup?numResults=40000"), "page size"},
		{"google num", ex("GET", "https://a.test/v1/find?q=x&num=3000"), "page size"},
		{"fetch", ex("GET", "https://a.test/v1/events?fetch=20000"), "page size"},
		{"hits", ex("GET", "https://a.test/v1/logs?hits=80000"), "page size"},
		{"result limit", ex("GET", "https://a.test/v1/logs?result_limit=12000"), "page size"},
		{"pagination limit", ex("GET", "https://a.test/v1/logs?pagination%5Blimit%5D=99999"), "page size"},
		{"default page size", ex("POST", "https://a.test/v1/feed", body("application/x-www-form-urlencoded", "defaultPageSize=65000")), "page size"},
		// JSON at any depth, and JSON inside a query value.
		{"nested per page", ex("PATCH", "https://a.test/v1/me/settings", j(`{"display":{"grid":{"rows_per_page":30000}}}`)), "page size"},
		{"max items in body", ex("POST", "https://a.test/v1/export", j(`{"filter":{"status":"open"},"maxItems":500000}`)), "page size"},
		{"json in query", ex("GET", "https://a.test/v1/q?opts=%7B%22itemsPerPage%22%3A90000%7D"), "page size"},
		// A JSON "size" with paging next to it is a page size.
		{"es size and from", ex("POST", "https://a.test/_search", j(`{"from":20,"size":9000}`)), "page size"},
		{"es size before query", ex("POST", "https://a.test/_search", j(`{"size":50000,"query":{"match_all":{}}}`)), "page size"},
		{"es size and sort", ex("POST", "https://a.test/_search", j(`{"sort":[{"ts":"desc"}],"size":20000}`)), "page size"},
		{"spring page size", ex("POST", "https://a.test/v1/orders/search", j(`{"criteria":{"page":0,"size":100000}}`)), "page size"},
		// Path-style parameters.
		{"path per page", ex("GET", "https://a.test/catalog/items/perpage/50000"), "page size"},
		{"path limit", ex("GET", "https://a.test/index.php/news/list/limit/99999/page/2"), "page size"},

		{"benign small compound", ex("GET", "https://a.test/v1/tickets?rowsPerPage=50&max_records=500"), ""},
		{"benign max price", ex("GET", "https://a.test/v1/products?max_price=25000&min_price=100"), ""},
		{"benign credit limit", ex("POST", "https://a.test/v1/accounts", j(`{"credit_limit":50000,"rate_limit":10000}`)), ""},
		{"benign num in body", ex("POST", "https://a.test/v1/addr", j(`{"street":"Main","num":12345,"zip":90210}`)), ""},
		{"benign file size with offset", ex("POST", "https://a.test/v1/uploads/7/chunks", j(`{"offset":10485760,"size":5242880}`)), ""},
		{"benign file object", ex("POST", "https://a.test/v1/files", j(`{"name":"a.pdf","size":204800,"meta":{"page":1}}`)), ""},
		{"benign mail size", ex("POST", "https://a.test/v1/mail", j(`{"from":"ann@example.com","size":48211}`)), ""},
		{"benign size next to nested query", ex("POST", "https://a.test/v1/x", j(`{"query":{"size":30000},"page":{"n":1}}`)), ""},
		{"benign sheet rows", ex("POST", "https://a.test/v1/sheets", j(`{"rows":5000,"columns":26}`)), ""},
		{"benign analytics hits body", ex("POST", "https://a.test/v1/track", j(`{"page":"/home","hits":5000}`)), ""},
		{"benign path number", ex("GET", "https://a.test/v1/orders/100000/items"), ""},
		{"benign path top", ex("GET", "https://a.test/charts/top/5000"), ""},
		{"benign path limit write", ex("PUT", "https://a.test/v1/cards/7/limit/5000"), ""},
		{"benign path per page small", ex("GET", "https://a.test/catalog/perpage/48"), ""},
		{"benign page size NaN", ex("GET", "https://a.test/catalog/perpage/NaN?per_page=NaN&limit=nan"), ""},
		{"huge page size in the path", ex("GET", "https://a.test/catalog/perpage/1e9"), "page size"},
	})
}

func TestLimitsGraphQL(t *testing.T) {
	q := func(doc string) func(*vigil.Exchange) {
		return body("application/json", `{"query":`+jsonQuote(doc)+`}`)
	}
	limitsBoth(t, []detCase{
		{"first literal", ex("POST", "https://a.test/graphql", q(`query { products(first: 100000) { edges { node { id } } } }`)), "page size"},
		{"input object limit", ex("POST", "https://a.test/graphql", q(`{ search(where: {name: "x"}, paging: {limit: 25000}) { id } }`)), "page size"},
		{"page size arg", ex("POST", "https://a.test/graphql", q(`{ tickets(pageSize: 8000) { id } }`)), "page size"},
		{"variable", ex("POST", "https://a.test/graphql", body("application/json",
			`{"variables":{"count":250000},"query":"query Q($count: Int!) { items(take: $count) { id } }"}`)), "page size"},
		{"variable default", ex("POST", "https://a.test/graphql", q(`query Q($k: Int = 75000) { feed(last: $k) { id } }`)), "page size"},
		{"batched", ex("POST", "https://a.test/graphql", body("application/json",
			`[{"query":"{ me { id } }"},{"query":"query($m:Int){ logs(top: $m) { id } }","variables":{"m":300000}}]`)), "page size"},
		{"benign batch: a big $n of another operation", ex("POST", "https://a.test/graphql", body("application/json",
			`[{"query":"query($n:Int){ users(first: $n) { id } }","variables":{"n":5}},{"query":"query($n:ID){ order(id: $n) { id } }","variables":{"n":99999999}}]`)), ""},
		{"get with variables", ex("GET", "https://a.test/graphql?query=query(%24x%3AInt)%7Busers(first%3A%24x)%7Bid%7D%7D&variables=%7B%22x%22%3A60000%7D"), "page size"},

		{"benign small first", ex("POST", "https://a.test/graphql", q(`{ products(first: 50, after: "Y3Vyc29y") { id } }`)), ""},
		{"benign big id", ex("POST", "https://a.test/graphql", q(`{ order(id: 99999999) { total(currency: EUR) } }`)), ""},
		{"benign big amount", ex("POST", "https://a.test/graphql", q(`mutation { refund(orderId: 5, amount: 250000) { ok } }`)), ""},
		{"benign limit in a string", ex("POST", "https://a.test/graphql", q(`{ search(text: "limit: 50000") { id } }`)), ""},
		{"benign small variable", ex("POST", "https://a.test/graphql", body("application/json",
			`{"query":"query($n:Int){ users(first: $n) { id } }","variables":{"n":25,"orgId":123456789}}`)), ""},
		{"benign big variable not a page size", ex("POST", "https://a.test/graphql", body("application/json",
			`{"query":"query($id:ID){ order(id: $id) { id } }","variables":{"id":123456789}}`)), ""},
		{"benign search query text", ex("GET", "https://a.test/v1/search?query=size%20(10000%20mAh)%20%7Bnew%7D"), ""},
	})
}

func TestGraphQLArgs(t *testing.T) {
	var got []string
	graphQLArgs(`query Q($a: [Int!]! = 5, $b: Int) { x: items(first: $a, # limit: 9
		where: {note: "top: 7", n: 3}) @skip(if: false) { id } }`, func(name, val string) bool {
		got = append(got, name+"="+val)
		return true
	})
	want := "$a=5 x=items first=$a n=3 if=false"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("got %q, want %q", g, want)
	}
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestLimitsPagingObjects covers short page-size names inside an object
// that holds paging parameters, and flattened paging names.
func TestLimitsPagingObjects(t *testing.T) {
	j := func(b string) func(*vigil.Exchange) { return body("application/json", b) }
	limitsBoth(t, []detCase{
		{"pagination size with offset", ex("POST", "https://a.test/v1/invoices/search", j(`{"where":{"state":"due"},"pagination":{"offset":40,"size":75000}}`)), "page size"},
		{"paging count", ex("POST", "https://a.test/v1/claims/query", j(`{"paging":{"cursor":"abc","count":12000}}`)), "page size"},
		{"pager rows", ex("POST", "https://a.test/v1/reports/run", j(`{"report":"aging","pager":{"rows":300000,"start":0}}`)), "page size"},
		{"page object size", ex("POST", "https://a.test/v2/members/find", j(`{"page":{"number":3,"size":64000}}`)), "page size"},
		{"nested deep pagination max", ex("POST", "https://a.test/v1/ledger/export", j(`{"request":{"opts":{"Pagination":{"max":"90000"}}}}`)), "page size"},
		{"pageable num", ex("POST", "https://a.test/v1/assets/list", j(`{"pageable":{"num":5001}}`)), "page size"},
		{"flattened paging count query", ex("GET", "https://a.test/v1/devices?paging%5Bcount%5D=40000"), "page size"},
		{"flattened pagination size form", ex("POST", "https://a.test/v1/lookups", body("application/x-www-form-urlencoded", "pagination.size=250000&q=x")), "page size"},
		{"flattened json key", ex("POST", "https://a.test/v1/tickets/search", j(`{"paginationSize":20000}`)), "page size"},

		{"benign pagination small", ex("POST", "https://a.test/v1/invoices/search", j(`{"pagination":{"offset":120000,"size":50}}`)), ""},
		{"benign pagination deep page", ex("POST", "https://a.test/v1/invoices/search", j(`{"pagination":{"page":4200,"count":25}}`)), ""},
		{"benign pagination total echoed", ex("POST", "https://a.test/v1/sync", j(`{"pagination":{"total":880000,"cursor":"eyJpZCI6OTl9"}}`)), ""},
		{"benign chunk offset size", ex("PUT", "https://a.test/v1/uploads/9/parts", j(`{"chunk":{"offset":0,"size":8388608}}`)), ""},
		{"benign page analytics hits", ex("POST", "https://a.test/v1/collect", j(`{"page":{"path":"/pricing","hits":48000}}`)), ""},
		{"benign document page count", ex("POST", "https://a.test/v1/documents", j(`{"title":"Manual","pageCount":1400,"page_rows":2000}`)), ""},
		{"benign page size in file object", ex("POST", "https://a.test/v1/print", j(`{"file":{"size":3145728},"page":{"format":"A4"}}`)), ""},
	})
}
