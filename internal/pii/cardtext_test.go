package pii

import (
	"strings"
	"testing"
)

func TestCardInText(t *testing.T) {
	tests := []struct {
		name, text, want string // want: the digits found, "" for none
	}{
		{"visa spaced", "pay with 4111 1111 1111 1111 today", "4111111111111111"},
		{"visa dashed", "card 4111-1111-1111-1111.", "4111111111111111"},
		{"amex 4-6-5", "Amex 3782 822463 10005 on file", "378282246310005"},
		{"diners 4-6-4", "Diners 3056 930902 5904", "30569309025904"},
		{"unionpay 4-4-4-4-3", "UnionPay 6212 3456 7890 1234 561", ""}, // Luhn fails: not a card
		{"mastercard 2-series", "new card 2223 0031 2200 3222 please", "2223003122003222"},
		{"ungrouped after card word", "refund to card 4111111111111111", "4111111111111111"},
		{"ungrouped after card no.", "Visa no. 4012888888881881", "4012888888881881"},
		{"ungrouped after brand", "mastercard: 5555555555554444", "5555555555554444"},
		{"second run is the card", "order 1234 5678 then 5555 5555 5555 4444", "5555555555554444"},

		{"ungrouped without a card word", "order 4111111111111111 shipped", ""},
		{"gift card word", "gift card 4111111111111111", ""},
		{"bad luhn", "pay with 4111 1111 1111 1112 today", ""},
		{"no issuer", "ref 9111 1111 1111 1115", ""},
		{"phone number", "call +4111 1111 1111 1111", ""},
		{"joined to a letter", "id x4111 1111 1111 1111", ""},
		{"joined after", "4111 1111 1111 1111x", ""},
		{"masked", "card 4111 XXXX XXXX 1111", ""},
		{"mixed separators", "4111 1111-1111 1111", ""},
		{"odd grouping", "41 1111 1111 1111 11", ""},
		{"too few groups", "4111 111111111111", ""},
		{"dates and amounts", "on 2026-11-29 we paid 1 234 567 EUR", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := CardInText(tt.text)
			if ok != (tt.want != "") || got != tt.want && ok {
				t.Errorf("CardInText(%q) = %q, %v; want %q", tt.text, got, ok, tt.want)
			}
		})
	}
}

// FuzzCardInText holds CardInText to what it promises on any text: it does
// not panic, and what it finds is a card number (CardNumber accepts it) whose
// digits appear in the text, in order, split by spaces or dashes at most.
func FuzzCardInText(f *testing.F) {
	for _, s := range []string{"pay with 4111 1111 1111 1111 today", "card 4111111111111111", "3782 822463 10005",
		"4111 1111-1111 1111", "+4111 1111 1111 1111", "", "4", "4111 ", "card no. 5555555555554444x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := CardInText(s)
		if !ok {
			return
		}
		if got, valid := CardNumber(d); !valid || got != d {
			t.Fatalf("CardInText(%q) = %q, which CardNumber refuses", s, d)
		}
		if !strings.Contains(strings.NewReplacer(" ", "", "-", "").Replace(s), d) {
			t.Fatalf("CardInText(%q) = %q, digits not in the text", s, d)
		}
	})
}
