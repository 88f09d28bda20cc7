package schema

import (
	"fmt"
	"math/bits"
	"strings"
)

// Class is a set of sensitive data classes (a bit set). The zero value is the
// empty set.
type Class uint16

// The sensitive data classes. ClassifyValue documents what each one matches.
const (
	// Email is an e-mail address.
	Email Class = 1 << iota
	// Phone is a telephone number: E.164 anywhere, national formats under a
	// phone-like key.
	Phone
	// Card is a Luhn-valid payment card number (13–19 digits, known issuer
	// prefix), not masked.
	Card
	// IBAN is an international bank account number with a valid mod-97 check.
	IBAN
	// NationalID is a national identifier: a US SSN with valid ranges, or a
	// plausible value under a key such as "ssn", "national_id" or "tax_id".
	NationalID
	// JWT is a JSON Web Token.
	JWT
	// APIKey is an API key: a value under a key-named key, or a known vendor
	// prefix (sk_live_, AKIA…, ghp_, xox…).
	APIKey
	// Secret is a private key or a value under a secret-named key.
	Secret
	// Password is a value under a password-named key, or a password hash.
	Password
	// PrivateIP is an RFC 1918, loopback, link-local or fc00::/7 address.
	PrivateIP
)

// AllClasses is the union of every defined class.
const AllClasses = Email | Phone | Card | IBAN | NationalID | JWT | APIKey | Secret | Password | PrivateIP

var classNames = [...]string{"email", "phone", "card", "iban", "national_id", "jwt", "api_key", "secret", "password", "private_ip"}

// Names returns the lower-case names of the classes in c, in bit order:
// "email", "phone", "card", "iban", "national_id", "jwt", "api_key",
// "secret", "password", "private_ip". Undefined bits are ignored. The empty
// set gives nil.
func (c Class) Names() []string {
	c &= AllClasses
	if c == 0 {
		return nil
	}
	out := make([]string, 0, bits.OnesCount16(uint16(c)))
	for i, name := range classNames {
		if c&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}

// String returns the names of c joined by ",", "" for the empty set.
func (c Class) String() string { return strings.Join(c.Names(), ",") }

// Has reports whether c contains every class in o.
func (c Class) Has(o Class) bool { return c&o == o }

// ParseClass returns the set named by names, the inverse of Names. Names
// match case-insensitively after trimming spaces; an unknown or empty name is
// an error.
func ParseClass(names []string) (Class, error) {
	var c Class
	for _, n := range names {
		bit, ok := classBit(n)
		if !ok {
			return 0, fmt.Errorf("schema: unknown data class %q", n)
		}
		c |= bit
	}
	return c, nil
}

func classBit(name string) (Class, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for i, n := range classNames {
		if n == name {
			return 1 << i, true
		}
	}
	return 0, false
}

// MarshalText encodes c as its String form.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText decodes the String form ("" is the empty set).
func (c *Class) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*c = 0
		return nil
	}
	if len(b) > 256 {
		return fmt.Errorf("schema: data class list of %d bytes is too long", len(b))
	}
	v, err := ParseClass(strings.Split(string(b), ","))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
