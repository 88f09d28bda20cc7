package pii

import (
	"strings"
	"testing"
)

func TestCardNumber(t *testing.T) {
	for _, c := range []struct {
		v    string
		want bool
	}{
		{"4111111111111111", true},
		{"4111 1111 1111 1111", true},
		{"5500-0000-0000-0004", true},
		{"378282246310005", true},
		{"6200000000000005", true},      // UnionPay
		{"6759649826438453", true},      // Maestro
		{"5018000000000009", true},      // Maestro
		{"2200000000000004", true},      // Mir
		{"7200000000000003", false},     // Luhn holds, no issuer
		{"4111111111111112", false},     // Luhn fails
		{"9111111111111119", false},     // no issuer
		{"411111111111", false},         // too short
		{"41111111111111111111", false}, // too long
		{"4111x111111111111", false},
	} {
		if _, got := CardNumber(c.v); got != c.want {
			t.Errorf("CardNumber(%q) = %v, want %v", c.v, got, c.want)
		}
	}
}

func TestCryptHash(t *testing.T) {
	for _, c := range []struct {
		v    string
		want bool
	}{
		{"$2b$10$abcdefghijklmnopqrstuuq0d5qYQ3Q0b5oM8Z0m1ZbQe7vJ2w8yz", true},
		{"$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", true},
		{"pbkdf2_sha256$260000$salt$hash", true},
		{"$6$rounds=5000$saltsalt$hashhashhash", true},
		{"$2b$10$short", false},
		{"password123", false},
		{"$ 100.00 plus tax and shipping", false},
	} {
		if got := CryptHash(c.v); got != c.want {
			t.Errorf("CryptHash(%q) = %v, want %v", c.v, got, c.want)
		}
	}
}

func TestNormKey(t *testing.T) {
	for in, want := range map[string]string{"Password_Hash": "passwordhash", "passwordHash": "passwordhash", "x-api-key": "xapikey", "": ""} {
		if got := NormKey(in); got != want {
			t.Errorf("NormKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCardNameIDName(t *testing.T) {
	for _, c := range []struct {
		key        string
		card, isID bool
	}{
		{"card_number", true, false},
		{"creditCard", true, false},
		{"PAN", true, false},
		{"gift_card", false, false},    // a gift card code is no payment card
		{"card_id", true, true},        // an id under a card-like name: IDName wins at the callers
		{"order_number", false, false}, // "number" is no id suffix
		{"orderRef", false, true},
		{"tracking", false, true},
		{"company", false, false},
	} {
		n := NormKey(c.key)
		if got := CardName(n); got != c.card {
			t.Errorf("CardName(%q) = %v, want %v", n, got, c.card)
		}
		if got := IDName(n); got != c.isID {
			t.Errorf("IDName(%q) = %v, want %v", n, got, c.isID)
		}
	}
}

// FuzzMaskChars: MaskChars agrees with the strings.Trim it replaces, and
// NormKey's shortcut with its general case.
func FuzzMaskChars(f *testing.F) {
	for _, s := range []string{"", "**** 1111", "•••• 4242", "xxxx-xxxx", "x•", "\xe2\x80", "\xe2\x80\xa3", "4111 1111 1111 1111", "redacted", "passwordhash", "Password_Hash"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := MaskChars(s), strings.Trim(s, "*•xX -0123456789") == ""; got != want {
			t.Errorf("MaskChars(%q) = %v, want %v", s, got, want)
		}
		var b []byte
		for i := 0; i < len(s) && len(b) < 64; i++ {
			switch c := s[i]; {
			case c >= 'A' && c <= 'Z':
				b = append(b, c+'a'-'A')
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
				b = append(b, c)
			}
		}
		if got := NormKey(s); got != string(b) {
			t.Errorf("NormKey(%q) = %q, want %q", s, got, string(b))
		}
	})
}
