package schema

import (
	"bytes"
	"encoding/json"
	"testing"
)

// shopDoc is a typical ~1 KB API response.
var shopDoc = []byte(`{"orders":[{"id":8812,"status":"shipped","created_at":"2026-03-01T10:00:00Z","customer":{"id":"550e8400-e29b-41d4-a716-446655440000","email":"jane@shop.test","name":"Jane Doe","phone":"+14155552671"},"items":[{"sku":"TSHIRT-BLK-XL","name":"T-shirt","qty":2,"price":19.99},{"sku":"MUG-WHT","name":"Mug","qty":1,"price":8.5},{"sku":"CAP-RED","name":"Cap","qty":1,"price":12}],"shipping":{"street":"1 Market St","city":"San Francisco","zip":"94107","country":"US"},"total":60.48,"currency":"USD","coupon":null}],"page":{"number":1,"size":20,"total":1},"links":{"self":"https://shop.test/api/v2/orders?page=1","next":null},"meta":{"request_id":"5f3c9a1e-0b7d-4c1e-9f2a-8d6e4b3a2c10","took_ms":12,"cached":false,"region":"eu-west-1","version":"2.14.3","trace":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","note":"Delivered to the front desk; signature on file. Contact support@shop.test with questions."}}`)

// BenchmarkObserveJSON times schema inference on a typical response beside
// its baseline in the same run: json.Valid, one plain scan of the same bytes.
func BenchmarkObserveJSON(b *testing.B) {
	b.Run("baseline-json-valid", func(b *testing.B) {
		b.SetBytes(int64(len(shopDoc)))
		b.ReportAllocs()
		for b.Loop() {
			if !json.Valid(shopDoc) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("observe", func(b *testing.B) {
		n := New()
		_ = n.ObserveJSON(shopDoc)
		b.SetBytes(int64(len(shopDoc)))
		b.ReportAllocs()
		for b.Loop() {
			if err := n.ObserveJSON(shopDoc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkClassifyValue(b *testing.B) {
	values := []struct{ k, v string }{
		{"status", "shipped"}, {"email", "jane@shop.test"}, {"card_number", "4111111111111111"},
		{"price", "19.99"}, {"created_at", "2026-03-01T10:00:00Z"}, {"id", "550e8400-e29b-41d4-a716-446655440000"},
		{"note", "Delivered to the front desk; contact support@shop.test"}, {"password", "hunter2!"},
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range values {
			ClassifyValue(v.k, v.v)
		}
	}
}

func BenchmarkClassifyText(b *testing.B) {
	text := bytes.Repeat([]byte("user=jane&email=jane%40shop.test&note=hello+world&"), 20)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		ClassifyText(text)
	}
}
