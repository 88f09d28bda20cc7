package schema

import (
	"strings"
	"testing"
)

type valueCase struct {
	key, value string
	want       Class
}

// classifyCases lists, per class, values that must and must not be
// classified. want 0 means no class at all.
var classifyCases = map[string][]valueCase{
	"email": {
		{"email", "jane.doe@shop.test", Email},
		{"contact", "ops+alerts@example.co.uk", Email},
		{"note", "please mail bob@corp.example.com today", Email},
		{"owner", "O'Brien@mail.example.ie", Email},
		{"email", "", 0},
		{"email", "n/a", 0},
		{"icon", "logo@2x.png", 0},
		{"dep", "lodash@4.17.21", 0},
		{"handle", "@jane", 0},
		{"email", "jane@localhost", 0},
		{"email_verified", "true", 0},
		{"email", "j***@shop.test", 0},
	},
	"phone": {
		{"phone", "+1 415 555 2671", Phone},
		{"mobile_number", "(415) 555-2671", Phone},
		{"contact", "+14155552671", Phone},
		{"tel", "020 7946 0958", Phone},
		{"phoneNumber", "4155552671", Phone},
		{"zip", "94107", 0},
		{"zip", "94107-1234", 0},
		{"order_id", "4155552671", 0},
		{"count", "4155552671", 0},
		{"phone_verified", "true", 0},
		{"phone", "123", 0},
		{"phone", "2024-03-01", 0},
		{"phone", "***-***-2671", 0},
		{"phone_id", "4155552671", 0},
	},
	"card": {
		{"card_number", "4111111111111111", Card},
		{"pan", "5555555555554444", Card},
		{"note", "4111 1111 1111 1111", Card},
		{"payment", "3782-822463-10005", Card},
		{"cc", "6011111111111117", Card},
		{"card_number", "4111111111111112", 0},
		{"card_number", "**** **** **** 1111", 0},
		{"card", "411111******1111", 0},
		{"order_id", "4111111111111111", 0},
		{"sku", "4111111111111111", 0},
		{"amount", "4111111111111111", 0},
		{"card_last4", "1111", 0},
		{"timestamp", "1712345678901", 0},
		{"gift_card_code", "4111111111111111", 0},
		{"card_number", "1234567812345670", 0}, // Luhn-valid, no issuer
	},
	"iban": {
		{"iban", "DE89370400440532013000", IBAN},
		{"account", "GB82 WEST 1234 5698 7654 32", IBAN},
		{"payout", "FR1420041010050500013M02606", IBAN},
		{"iban", "NL91ABNA0417164300", IBAN},
		{"iban", "DE89370400440532013001", 0},
		{"iban", "GB82 WEST 1234 5698 7654 33", 0},
		{"iban", "US64SVBKUS6S3300958879", 0},
		{"sku", "AB12CDEF3456GHIJ", 0},
		{"iban", "de89370400440532013000", 0},
		{"iban", "DE8937040044053201300", 0},
	},
	"national_id": {
		{"note", "123-45-6788", NationalID},
		{"ssn", "219-09-9998", NationalID},
		{"ssn", "078051121", NationalID},
		{"national_id", "AB123456C", NationalID},
		{"tax_id", "12-3456789", NationalID},
		{"customerSSN", "536-22-8726", NationalID},
		{"ssn", "000-12-3456", 0},
		{"ssn", "666-12-3456", 0},
		{"ssn", "900-12-3456", 0},
		{"ssn", "123-45-0000", 0},
		{"ssn", "***-**-6789", 0},
		{"ssn_last4", "6789", 0},
		{"tax_id_required", "yes", 0},
		{"order_ref", "536-22-8726", 0},
		{"classname", "536228726", 0},
		{"phone", "555-123-4567", Phone},
	},
	"jwt": {
		{"token", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", JWT},
		{"", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.", JWT},
		{"authorization", "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", JWT},
		{"token", "eyJhbGciOiJIUzI1NiJ9", 0},
		{"host", "api.example.com", 0},
		{"version", "1.2.3", 0},
		{"token", "eyJmb28iOiJiYXIifQ.eyJzdWIiOiIxIn0.sig", 0}, // header without alg or typ
		{"token", "a.b.c", 0},
		{"token", "eyJhbGciOiJIUzI1NiJ9.eyJ.x.y", 0},
	},
	"api_key": {
		{"api_key", "q8Zk2LmN5pR7sT9vW1xY3", APIKey},
		{"x-api-key", "0a1b2c3d4e5f6a7b8c9d0e1f", APIKey},
		{"value", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", APIKey},
		{"aws_access_key_id", "AKIAIOSFODNN7EXAMPL3", APIKey},
		{"", "ghp_a1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", APIKey},
		{"webhook", "xoxb-123456789012-abcdefABCDEF123", APIKey},
		{"api_key_id", "q8Zk2LmN5pR7sT9vW1xY3", 0},
		{"api_key_prefix", "sk_live_", 0},
		{"api_key", "YOUR_API_KEY_HERE_PLEASE", 0},
		{"api_key", "short", 0},
		{"apiKeyEnabled", "true", 0},
		{"product", "sk_live_tea_kettle", 0},
		{"code", "AKIA-not-a-key", 0},
	},
	"secret": {
		{"client_secret", "Zx8!pQ2#vL9mK4sT", Secret},
		{"jwtSecret", "hunter2hunter2xyz", Secret},
		{"aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lk2Vd9Q", Secret},
		{"aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 0},
		{"cert", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", Secret},
		{"secret_question", "Name of your first pet?", 0},
		{"client_secret_expires_at", "1712345678", 0},
		{"has_secret", "true", 0},
		{"client_secret", "********", 0},
		{"secret", "short", 0},
		{"secret_santa", "Alexandra Smith", 0},
		{"cert", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", 0},
	},
	"password": {
		{"password", "hunter2!", Password},
		{"new_password", "correct horse battery staple", Password},
		{"password_hash", "$2b$12$KIXQJZ6Xz5u7rV1f9nN1OeQ3oK1P1xM2Jt9bq0s7uV3yW5z7a9b1C", Password},
		{"hash", "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", Password},
		{"h", "pbkdf2_sha256$260000$salt$hashhashhash", Password},
		{"field", "password", 0},
		{"password_reset_required", "true", 0},
		{"password", "********", 0},
		{"password", "", 0},
		{"password_policy", "min 8 chars", 0},
		{"passwordless", "enabled", 0},
		{"type", "password", 0},
		{"password_changed_at", "2024-03-01T10:00:00Z", 0},
		{"hash", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 0},
		{"etag", "W/\"5f3c9a1e\"", 0},
	},
	"private_ip": {
		{"ip", "10.0.0.5", PrivateIP},
		{"upstream", "192.168.1.20:8080", PrivateIP},
		{"callback", "http://172.16.3.4/admin", PrivateIP},
		{"addr", "fd12:3456:789a::1", PrivateIP},
		{"host", "127.0.0.1", PrivateIP},
		{"link", "169.254.169.254", PrivateIP},
		{"ip", "8.8.8.8", 0},
		{"ip", "172.32.0.1", 0},
		{"ip", "192.169.1.1", 0},
		{"version", "10.1.2.3", 0},
		{"version", "10.2.3", 0},
		{"ip", "0.0.0.0", 0},
		{"url", "https://example.com/10.0.0.1", 0},
	},
	"neutral": {
		{"order_id", "8812", 0},
		{"id", "550e8400-e29b-41d4-a716-446655440000", 0},
		{"price", "1299.99", 0},
		{"created_at", "2026-03-01T10:00:00Z", 0},
		{"sku", "TSHIRT-BLK-XL", 0},
		{"etag", "\"33a64df551425fcc55e4d42a148795d9f25f89d4\"", 0},
		{"status", "shipped", 0},
		{"description", "A comfortable cotton t-shirt, size XL.", 0},
		{"tracking", "1Z999AA10123456784", 0},
		{"total", "4111111111111111", 0},
	},
}

func TestClassifyValue(t *testing.T) {
	for class, cases := range classifyCases {
		negatives := 0
		for _, c := range cases {
			if c.want == 0 {
				negatives++
			}
			if got := ClassifyValue(c.key, c.value); got != c.want {
				t.Errorf("%s: ClassifyValue(%q, %q) = %q, want %q", class, c.key, c.value, got, c.want)
			}
		}
		if class != "neutral" && negatives < 5 {
			t.Errorf("%s: %d negative cases, want at least 5", class, negatives)
		}
	}
}

func TestClassifyText(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		want       Class
	}{
		{"plain", "Hello, your order has shipped.", 0},
		{"email", "Contact support@shop.test for help.", Email},
		{"form", "user=jane&password=hunter2%21&remember=1", Password},
		{"form email", "email=jane%40shop.test&plan=pro", Email},
		{"env", "DB_HOST=10.0.0.7\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCY\n", PrivateIP | Secret},
		{"card grouped", "Card: 4111 1111 1111 1111 exp 12/29", Card},
		{"card bad luhn", "Card: 4111 1111 1111 1112 exp 12/29", 0},
		{"masked card", "Card ending **** 1111", 0},
		{"pem", "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----", Secret},
		{"aws key", "key AKIAIOSFODNN7EXAMPL3 leaked", APIKey},
		{"jwt header", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijklmnop", JWT},
		{"broken json", `{"user":{"email":"a@shop.test","password":"hunter2!"`, Email | Password},
		{"html", "<p>Order 4111111111111111 total $12.00</p>", 0},
		{"password word", "The password field is required.", 0},
		{"zip", "Ship to 94107-1234, San Francisco", 0},
	} {
		if got := ClassifyText([]byte(tt.text)); got != tt.want {
			t.Errorf("%s: ClassifyText = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestClassifyTextBounded(t *testing.T) {
	body := strings.Repeat("a", MaxTextScan) + " leak@shop.test"
	if got := ClassifyText([]byte(body)); got != 0 {
		t.Errorf("text past %d bytes was read: %q", MaxTextScan, got)
	}
	if got := ClassifyText([]byte("leak@shop.test " + body)); got != Email {
		t.Errorf("ClassifyText = %q, want email", got)
	}
}

func TestClassNames(t *testing.T) {
	all := AllClasses
	names := all.Names()
	if len(names) != 10 || names[0] != "email" || names[9] != "private_ip" {
		t.Fatalf("Names = %v", names)
	}
	back, err := ParseClass(names)
	if err != nil || back != all {
		t.Fatalf("ParseClass(Names) = %v, %v", back, err)
	}
	if s := (Email | Card).String(); s != "email,card" {
		t.Errorf("String = %q", s)
	}
	if Class(0).String() != "" || Class(0).Names() != nil {
		t.Error("empty set not empty")
	}
	if _, err := ParseClass([]string{"email", "ssn"}); err == nil {
		t.Error("unknown name accepted")
	}
	if c, err := ParseClass([]string{" API_KEY "}); err != nil || c != APIKey {
		t.Errorf("ParseClass(API_KEY) = %v, %v", c, err)
	}
	var c Class
	if err := c.UnmarshalText([]byte("jwt,secret")); err != nil || c != JWT|Secret {
		t.Errorf("UnmarshalText = %v, %v", c, err)
	}
}
