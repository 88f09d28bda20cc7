package detect

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/vigilsec/vigil"
)

// sensJSON and sensText build a 200 response with a JSON or a text body.
func sensJSON(b string) *vigil.Exchange { return ex("GET", "https://a.test/x", resp(200, b)) }

func sensText(ct, b string) *vigil.Exchange {
	return ex("GET", "https://a.test/x", resp(200, b, "Content-Type", ct))
}

func TestSensitiveCardsInText(t *testing.T) {
	runCases(t, NewSensitive(), "detect.exposure.sensitive", []detCase{
		{"visa 4-4-4-4 in a chat message", sensJSON(`{"messages":[{"body":"hi, use my visa 4526 0181 5908 3012 for the refund"}]}`), "card number"},
		{"mastercard dashes in a note", sensJSON(`{"note":"Customer read out 5378-7789-3287-9210 on the phone."}`), "card number"},
		{"amex 4-6-5", sensJSON(`{"comment":"amex 3778 657975 43239, exp 04/29"}`), "card number"},
		{"diners 4-6-4", sensJSON(`{"comment":"Diners: 3662 527601 8951 cvv 123"}`), "card number"},
		{"diners 4-4-4-2", sensJSON(`{"comment":"card 3005 5979 7114 78 please"}`), "card number"},
		{"19 digits 4-4-4-4-3", sensJSON(`{"text":"pan 4276 8426 8465 6321 226 ok"}`), "card number"},
		{"group followed by a year", sensJSON(`{"text":"jcb 3510 4974 6507 5294 2027"}`), "card number"},
		{"text/plain body", sensText("text/plain", "Ticket 88\nPlease charge 6011 1703 4236 6718 today.\n"), "card number"},
		{"csv card column", sensText("text/csv", "id,name,cc_number,exp\n1,Ann,377865797543239,01/28\n2,Bo,2345742180967926,02/29\n"), "card number"},
		{"csv semicolons and quotes", sensText("text/csv", "\"Kunde\";\"Kartennummer\";\"card\"\n\"Ann\";\"x\";\"4661318609139090\"\n"), "card number"},
		{"csv card column, card in a later row", sensText("text/csv", "user,card_no\nann,\nbo,4661 3186 0913 9090\n"), "card number"},

		{"benign masked with X", sensJSON(`{"note":"card 4526 XXXX XXXX 3012 declined"}`), ""},
		{"benign masked with stars", sensJSON(`{"note":"paid with **** **** **** 3012"}`), ""},
		{"benign phone with +", sensJSON(`{"note":"call +4526 0181 5908 3012 anytime"}`), ""},
		{"benign phone", sensJSON(`{"contact":"Call us at +44 20 7946 0958 or 1-800-555-0199"}`), ""},
		{"benign luhn valid but no issuer", sensJSON(`{"note":"order 9908 1003 3907 5790 shipped"}`), ""},
		{"benign failing luhn", sensJSON(`{"note":"ref 4526 0181 5908 3013"}`), ""},
		{"benign iban", sensJSON(`{"note":"IBAN DE89 3704 0044 0532 0130 00"}`), ""},
		{"benign ungrouped digits in text", sensJSON(`{"note":"tracking 4526018159083012 out for delivery"}`), ""},
		{"benign grouped under an id key", sensJSON(`{"order_ref":"parcel 4526 0181 5908 3012"}`), ""},
		{"benign dates and amounts", sensJSON(`{"summary":"2026-01-01 to 2026-12-31: 1234 5678 orders, 4.99 each"}`), ""},
		{"benign csv without card column", sensText("text/csv", "order_id,total\n4526018159083012,10\n"), ""},
		{"benign csv last4 column", sensText("text/csv", "id,card_last4,card_brand\n1,3012,visa\n"), ""},
		{"benign csv masked cards", sensText("text/csv", "id,card_number\n1,**** **** **** 3012\n"), ""},
		{"benign text report", sensText("text/plain", "revenue 2026-01: 1234 5678\nusers: 4526\n"), ""},
		{"benign binary body", sensText("image/png", "\x89PNG\r\n\x1a\n\x00\x00 4526 0181 5908 3012 API_SECRET=abcdefgh12345678\n"), ""},
	})
}

func TestSensitiveProviderTokens(t *testing.T) {
	runCases(t, NewSensitive(), "detect.exposure.sensitive", []detCase{
		{"github classic pat", sensJSON(`{"ci":{"pat":"ghp_Q9s8d7F6g5H4j3K2l1Z0x9C8v7B6n5M4a3S2"}}`), "provider API token (ghp_)"},
		{"github app token", sensJSON(`{"installation":{"tok":"ghs_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"}}`), "ghs_"},
		{"github fine-grained", sensJSON(`{"v":"github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789abcdefghijKLMNOPQRSTUV"}`), "github_pat_"},
		{"gitlab", sensJSON(`{"deploy":{"value":"glpat-Zx8vQw3ErTy6UiOp4AsD"}}`), "glpat-"},
		{"gitlab letters only", sensJSON(`{"value":"glpat-ZxvQwErTyUiOpAsDfGhJ"}`), "glpat-"},
		{"slack user token", sensJSON(`{"hooks":[{"t":"xoxp-9876543210987-1122334455667-AbCdEfGhIjKlMnOpQrStUvWx"}]}`), "xoxp-"},
		{"npm", sensJSON(`{"registry_auth":"npm_Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78"}`), "npm_"},
		{"shopify shared secret", sensJSON(`{"app":{"s":"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"}}`), "shpss_"},
		{"stripe live secret by value", sensJSON(`{"config":{"stripe":"sk_live_51HxYz2abCDefGHijKLmn"}}`), "sk_live_"},
		{"token under access_token of an integration", sensJSON(`{"shopify":{"access_token":"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"}}`), "shpat_"},
		{"token in a text body", sensText("text/plain", "deploy log\nusing token ghp_Q9s8d7F6g5H4j3K2l1Z0x9C8v7B6n5M4a3S2\n"), "ghp_"},
		{"twilio auth token beside its sid", sensJSON(`{"sms":{"auth_token":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","sid":"AC0123456789abcdef0123456789abcdef"}}`), "auth token"},

		{"benign publishable key", sensJSON(`{"stripe":{"publishable_key":"pk_test_51HxYz2abCDefGHijKLmnOPq"}}`), ""},
		{"benign test-mode secret key in sandbox settings", sensJSON(`{"mode":"test","test_secret_key":"sk_test_51N7PZa45tZnTZcdMo4On2CvTiZRontLzBl9H8QV4qnPdpl"}`), ""},
		{"benign restricted test key", sensJSON(`{"restricted_key":"rk_test_51N7PZa45tZnTZcdMo4On2CvTiZRon"}`), ""},
		{"live secret key under a secret name", sensJSON(`{"mode":"live","secret_key":"sk_live_51N7PZa45tZnTZcdMo4On2CvTiZRontLzBl9H8QV4qnPdpl"}`), "sk_live_"},
		{"other secret under a test-like name", sensJSON(`{"test_secret_key":"9f2c1e7a4b6d8e0f3a5c7e9b1d3f5a7c"}`), "secret or API key"},
		{"benign publishable live key by value", sensJSON(`{"stripe":"pk_live_51HxYz2abCDefGHijKLmnOPq"}`), ""},
		{"benign placeholder", sensJSON(`{"example":"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`), ""},
		{"benign masked token", sensJSON(`{"token_hint":"ghp_****************************a3S2"}`), ""},
		{"benign prefix only", sensJSON(`{"docs":"GitHub tokens start with ghp_ and are 40 characters long"}`), ""},
		{"benign short sk_live mention", sensJSON(`{"k":"sk_live_..."}`), ""},
		{"benign prefix inside a word", sensJSON(`{"slug":"amazing-ghp_Q9s8d7F6g5H4j3K2l1Z0x9C8v7B6n5M4a3S2"}`), ""},
		{"benign oauth token response", sensJSON(`{"access_token":"gho_16C7e42F292c6912E7710c838347Ae178B4a","token_type":"bearer","scope":"repo"}`), ""},
		{"benign oauth token response, token_type first", sensJSON(`{"token_type":"bearer","refresh_token":"ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246","access_token":"ghu_16C7e42F292c6912E7710c838347Ae178B4a"}`), ""},
		{"benign form-encoded oauth response", sensText("application/x-www-form-urlencoded", "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo&token_type=bearer"), ""},
		{"benign form-encoded oauth response, refresh token", sensText("application/x-www-form-urlencoded", "token_type=bearer&refresh_token=ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246&expires_in=3600"), ""},
		{"second token beside a form-encoded oauth response", sensText("application/x-www-form-urlencoded", "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&token_type=bearer&debug_key=sk_live_51HxYz2abCDefGHijKLmn"), "sk_live_"},
		{"token in text that mentions token_type", sensText("text/plain", "set token_type=bearer in the client; the server used key sk_live_51HxYz2abCDefGHijKLmn\n"), "sk_live_"},
		{"benign auth token without a sid", sensJSON(`{"session":{"auth_token":"0f1e2d3c4b5a69788796a5b4c3d2e1f0"}}`), ""},
		{"benign sid alone", sensJSON(`{"account_sid":"AC0123456789abcdef0123456789abcdef","friendly_name":"shop"}`), ""},
		{"benign sha256 checksum", sensJSON(`{"file":"app.tar.gz","sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}`), ""},
		{"benign uuid", sensJSON(`{"request_id":"3f1c9a2e-5b7d-4e8f-a1c2-9d8e7f6a5b4c"}`), ""},
	})
}

func TestSensitiveKeysAndConnectionStrings(t *testing.T) {
	const n = "sXjQ1c2Zr0fE9LzYb7hWmK4uTq8aNdV3pG6oJ5iRyH2wC1xB0vM9nL8kA7sD6fG5hJ4kL3zX2cV1bN0mQ9wE8rT7yU6iO5pA4sD3fG2hJ1kL0zX9cV8bN7mQ6wE5rT4yU3iO2pA1sD0fG9hJ8kL7zX6cV5bN4mQ3wE2rT1yU0iO9pA8sD7fG6hJ5kL4zX3cV2bN1mQ0w"
	runCases(t, NewSensitive(), "detect.exposure.sensitive", []detCase{
		{"private rsa jwk", sensJSON(`{"key":{"kty":"RSA","e":"AQAB","n":"` + n + `","d":"` + n[10:90] + `"}}`), "JWK"},
		{"benign: an svg path's d in one object, a public jwk's kty in another", sensJSON(`{"keys":[{"kty":"RSA","n":"` + n[:40] + `","e":"AQAB"}],"chart":{"d":"M10LongSvgPathDataWithoutSpacesAbcdefghij0123"}}`), ""},
		{"benign: a twilio sid and a session's auth token in different objects", sensJSON(`{"account":{"sid":"AC31f44eefca9e2d4f72ea8094616006f9"},"session":{"auth_token":"8df4f69fcb258fa112807f0181ceec29"}}`), ""},
		{"twilio sid and auth token side by side", sensJSON(`{"twilio":{"account_sid":"AC31f44eefca9e2d4f72ea8094616006f9","auth_token":"8df4f69fcb258fa112807f0181ceec29"}}`), "auth token"},
		{"private ec jwk, d before kty", sensJSON(`{"keys":[{"d":"q7Vx0aPLm3nR8sT2uW5yZ1bC4eF6gH9jK0lM2nO4pQ6","crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`), "JWK"},
		{"azure storage connection string", sensJSON(`{"blob":{"conn":"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWpr+/==;EndpointSuffix=core.windows.net"}}`), "account key"},
		{"service bus connection string", sensJSON(`{"bus":"Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=cXVpY2ticm93bmZveGp1bXBzMTIzNDU2Nzg5MA="}`), "account key"},
		{"azure account sas", sensJSON(`{"export":"https://acme.blob.core.windows.net/?sv=2023-01-03&ss=bfqt&srt=co&sp=rwdlacupiytfx&se=2028-01-01T00:00:00Z&spr=https&sig=AbCdEf0123456789GhIjKlMnOpQrStUvWxYz%3D"}`), "SAS"},
		{"postgres url with password", sensJSON(`{"db":{"url":"postgresql://app:Tr0ub4dor-3x@10.0.4.12:5432/orders"}}`), "connection URL"},
		{"redis url with password only", sensJSON(`{"cache":"redis://:s3cr3tR3d1s@cache.internal:6379/0"}`), "connection URL"},
		{"mongodb url in a text body", sensText("text/plain", "mongo: mongodb+srv://svc:Kq81mZp0Lw@cluster0.example.net/app\n"), "connection URL"},
		{"dotenv body", sensText("text/plain", "# production\nAPP_ENV=production\nexport JWT_SECRET=\"c29tZSBsb25nIHNlY3JldCB2YWx1ZQ\"\n"), "secret"},
		{"dotenv database password", sensText("text/plain", "APP_NAME=shop\nDB_PASSWORD = hunter2hunter2\n"), "password"},
		{"dotenv database url", sensText("text/plain", "REDIS_URL=redis://default:Xy7pQ2mN9c@redis:6379\n"), "connection URL"},
		{"dotenv stripe key", sensText("text/plain", "PAYMENTS_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc\n"), "sk_live_"},

		{"benign public jwks", sensJSON(`{"keys":[{"kty":"RSA","use":"sig","kid":"k1","alg":"RS256","n":"` + n + `","e":"AQAB"}]}`), ""},
		{"benign public ec jwk", sensJSON(`{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`), ""},
		{"benign d outside a jwk", sensJSON(`{"chart":{"d":"M10LongSvgPathDataWithoutSpacesAbcdefghij0123"}}`), ""},
		{"benign public key pem", sensJSON(`{"pem":"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"}`), ""},
		{"benign key id", sensJSON(`{"key_id":"2026-03-key_1","kid":"a1b2c3d4e5f6a7b8"}`), ""},
		{"benign service sas upload url", sensJSON(`{"upload_url":"https://acme.blob.core.windows.net/up/f.png?sv=2023-01-03&sr=b&sp=cw&se=2026-03-01T12:15:00Z&sig=AbCdEf0123456789GhIjKlMnOpQrStUvWxYz%3D"}`), ""},
		{"benign s3 presigned url", sensJSON(`{"url":"https://b.s3.amazonaws.com/f?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=x&X-Amz-Signature=abcdef0123456789"}`), ""},
		{"benign masked account sas", sensJSON(`{"u":"https://acme.blob.core.windows.net/?sv=2023-01-03&ss=b&srt=o&sp=r&sig=****************"}`), ""},
		{"benign masked account key", sensJSON(`{"conn":"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=****;EndpointSuffix=core.windows.net"}`), ""},
		{"benign url without password", sensJSON(`{"repo":"https://git@github.com/acme/shop.git","db":"postgres://app@db:5432/x"}`), ""},
		{"benign url with templated password", sensJSON(`{"db":"postgres://app:${DB_PASSWORD}@db:5432/x"}`), ""},
		{"benign url with masked password", sensJSON(`{"db":"postgres://app:*****@db:5432/x"}`), ""},
		{"benign url with placeholder password", sensJSON(`{"example":"mysql://user:password@localhost/db"}`), ""},
		{"benign email in a url", sensJSON(`{"link":"https://a.test/invite?to=ann@example.test"}`), ""},
		{"benign dotenv without secrets", sensText("text/plain", "APP_ENV=production\nLOG_LEVEL=info\nPASSWORD_MIN_LENGTH=12\nSECRET_ROTATION_ENABLED=true\n"), ""},
		{"benign html", sensText("text/html", "<html><body><p>a=b</p><a href=\"https://a.test/?x=1\">link</a></body></html>"), ""},
	})
}

// TestMaySensitiveNewClasses: every JSON body the new classes report gets
// past maySensitive, and a quiet body of the same shapes does not need a walk.
func TestMaySensitiveNewClasses(t *testing.T) {
	for _, b := range []string{
		`{"t":"charge 4526 0181 5908 3012 now, this is a long free text"}`,
		`{"x":"ghp_Q9s8d7F6g5H4j3K2l1Z0x9C8v7B6n5M4a3S2"}`,
		`{"sid":"AC0123456789abcdef0123456789abcdef","auth_token":"0f1e2d3c4b5a69788796a5b4c3d2e1f0"}`,
		`{"kty":"OKP","d":"q7Vx0aPLm3nR8sT2uW5yZ1bC4eF6gH9jK0lM2nO4pQ6"}`,
		`{"c":"AccountName=a;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWpr"}`,
		`{"u":"https://a.blob.core.windows.net/?sv=1&ss=b&srt=o&sig=AbCdEf0123456789GhIj"}`,
		`{"u":"amqp://guest:Kq81mZp0Lw@mq:5672/"}`,
		`{"admin_api_token":"adm_f3lvh1XKPVb4rvM5CAvBxIXzvIYhAe5eLL5sX48f"}`,
		`{"DB_PASSWORD":{"value":"HuUo3cMFztmmLNsD0e"}}`,
		`{"content":"aws_access_key_id=AKIALITYIF2W3OVB4L7A\naws_secret_access_key=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\n"}`,
	} {
		if !maySensitive([]byte(b)) {
			t.Errorf("maySensitive(%s) = false", b)
		}
		// Over 512 bytes maySensitive searches instead of passing over
		// the bytes: the same body padded must get through too.
		if long := strings.Replace(b, "{", `{"pad":"`+strings.Repeat("x", 600)+`",`, 1); !maySensitive([]byte(long)) {
			t.Errorf("maySensitive(%s) = false once padded past 512 bytes", b)
		}
		if ev, _ := sensitiveJSON([]byte(b)); ev == nil {
			t.Errorf("sensitiveJSON(%s) reports nothing", b)
		}
	}
	quiet := `{"id":42,"name":"Trail running shoes","description":"Light shoes for long runs on rocky ground.","url":"https://a.test/p/42","price":129.95}`
	if maySensitive([]byte(quiet)) {
		t.Errorf("maySensitive(%s) = true", quiet)
	}
}

// TestSensitiveEvidenceMasksNewClasses: the evidence of the new classes
// never shows the secret.
func TestSensitiveEvidenceMasksNewClasses(t *testing.T) {
	for secret, b := range map[string]string{
		"Q9s8d7F6g5H4j3K2l1Z0x9C8v7B6n5M4":     `{"x":"ghp_Q9s8d7F6g5H4j3K2l1Z0x9C8v7B6n5M4a3S2"}`,
		"Tr0ub4dor-3x":                         `{"db":"postgresql://app:Tr0ub4dor-3x@10.0.4.12:5432/orders"}`,
		"Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2Rl": `{"c":"AccountName=a;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWpr"}`,
		"4526 0181 5908":                       `{"t":"charge 4526 0181 5908 3012 now"}`,
	} {
		got, _ := NewSensitive().Analyze(context.Background(), sensJSON(b))
		if len(got) != 1 {
			t.Fatalf("%s: got %d findings", b, len(got))
		}
		for _, e := range got[0].Evidence {
			if strings.Contains(e.Value, secret) {
				t.Errorf("%s: evidence %q shows the secret", b, e.Value)
			}
		}
	}
}

// TestSensitiveMoreIssuersAndCardWords: card numbers of the issuers
// pii.CardNumber does not know (UnionPay, Maestro, Mir), and ungrouped card
// numbers in free text after a word naming a card.
func TestSensitiveMoreIssuersAndCardWords(t *testing.T) {
	runCases(t, NewSensitive(), "detect.exposure.sensitive", []detCase{
		{"unionpay grouped under card_number", sensJSON(`{"card_number":"6212 5260 1815 9082","exp":"09/29"}`), "card number"},
		{"maestro 19 digits under pan", sensJSON(`{"wallet":{"pan":"6759913909960308248"}}`), "card number"},
		{"maestro 50 in a card object", sensJSON(`{"card":{"number":"5018628194821994","cvc":"311"}}`), "card number"},
		{"mir grouped in a note", sensJSON(`{"note":"client paid by 2201 3518 1909 3782 yesterday"}`), "card number"},
		{"amex ungrouped after card:", sensJSON(`{"items":[{"memo":"Chargeback on card: 374165797543237 (disputed)"}]}`), "card number"},
		{"discover ungrouped after Card #", sensJSON(`{"log":"Card #6011194875749116 declined, retrying"}`), "card number"},
		{"unionpay ungrouped after card no.", sensJSON(`{"remark":"card no. 6250862527601895554 on file"}`), "card number"},
		{"ungrouped then its expiry", sensJSON(`{"note":"card 6011974650752918 05/27 cvv on file"}`), "card number"},
		{"visa ungrouped after brand", sensJSON(`{"chat":"my VISA 4929979711471040 expires soon"}`), "card number"},
		{"ungrouped after card number in a text body", sensText("text/plain", "Support ticket 4411\nCard number 6288703423667129, please refund.\n"), "card number"},

		{"benign unionpay-like number failing luhn", sensJSON(`{"card_number":"6212 5260 1815 9083"}`), ""},
		{"benign ungrouped without card word", sensJSON(`{"note":"Refund 6011974650752918 processed"}`), ""},
		{"benign gift card number", sensJSON(`{"note":"gift card 6011194875749116 activated"}`), ""},
		{"benign loyalty card number", sensJSON(`{"note":"Loyalty card: 6288703423667129 linked"}`), ""},
		{"benign card id", sensJSON(`{"note":"card id 4929979711471040 rotated"}`), ""},
		{"benign cardholder word", sensJSON(`{"note":"cardholder 4929979711471040 verified"}`), ""},
		{"benign card word then masked", sensJSON(`{"note":"card 6011 **** **** 9116 charged"}`), ""},
		{"benign card then short number", sensJSON(`{"note":"card ending 9116, order 6011194875749116"}`), ""},
		{"benign maestro-like under an id key", sensJSON(`{"transaction_id":"5612768426846565"}`), ""},
		{"benign card word before a longer number", sensJSON(`{"note":"card 60111948757491160123 batch"}`), ""},
	})
}

// TestSensitivePasswordHashNames: a hex digest under a name pairing a short
// password word with a hash word.
func TestSensitivePasswordHashNames(t *testing.T) {
	runCases(t, NewSensitive(), "detect.exposure.sensitive", []detCase{
		{"pwd_md5", sensJSON(`{"user":"ops","pwd_md5":"9e107d9d372bb6826bd81d3542a419d6"}`), "password hash"},
		{"passHash sha256", sensJSON(`{"members":[{"name":"ann","passHash":"ef797c8118f02dfb649607dd5d3f8c7623048c9c063d532cc95c5ed7a898a64f"}]}`), "password hash"},
		{"pwd_sha1", sensJSON(`{"pwd_sha1":"2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"}`), "password hash"},
		{"upper-case name and digest", sensJSON(`{"PASS_SHA512":"CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E"}`), "password hash"},
		{"hashed_pwd", sensJSON(`{"account":{"hashed_pwd":"d41d8cd98f00b204e9800998ecf8427e"}}`), "password hash"},
		{"md5 before pass", sensJSON(`{"md5pass":"e4d909c290d0fb1ca068ffaddf22cbd0"}`), "password hash"},

		{"benign passport digest", sensJSON(`{"passport_sha256":"ef797c8118f02dfb649607dd5d3f8c7623048c9c063d532cc95c5ed7a898a64f"}`), ""},
		{"benign checksum alone", sensJSON(`{"file":"a.zip","md5":"9e107d9d372bb6826bd81d3542a419d6"}`), ""},
		{"benign placeholder digest", sensJSON(`{"pwd_md5":"00000000000000000000000000000000"}`), ""},
		{"benign algorithm name", sensJSON(`{"pwd_hash_algorithm":"sha256","pass_hash_rounds":"310000"}`), ""},
		{"benign digest of the wrong length", sensJSON(`{"pwd_md5":"9e107d9d372bb6826bd81d3542a4"}`), ""},
		{"benign matching name, no digest", sensJSON(`{"bypass_sha_check":"9e107d9d372bb6826bd81d3542a419d6x"}`), ""},
		{"benign pass rate", sensJSON(`{"pass_rate":"0.97","compass":"NNE"}`), ""},
	})
}

// TestSensitiveMoreProviderTokens: Square, OpenAI and Anthropic keys by
// their prefixes.
func TestSensitiveMoreProviderTokens(t *testing.T) {
	runCases(t, NewSensitive(), "detect.exposure.sensitive", []detCase{
		{"square application secret", sensJSON(`{"payments":{"oauth":"sq0csp-Qw3rTy7uI9oP1aS2dF4gH6jK8lZ0xC5vB7nM9q1W3e"}}`), "sq0csp-"},
		{"square access token", sensJSON(`{"pos":"sq0atp-Zx8cV6bN4mL2kJ0hG9fD7s"}`), "sq0atp-"},
		{"openai project key", sensJSON(`{"llm":{"k":"sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1eF3hJ5kL7nP9rS1"}}`), "sk-proj-"},
		{"anthropic key in a text body", sensText("text/plain", "LLM_KEY=sk-ant-api03-Xy7Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz0Xc2Vb4Nm6Q\n"), "sk-ant-"},

		{"benign square prefix in docs", sensJSON(`{"help":"Square secrets start with sq0csp- and are 50 characters"}`), ""},
		{"benign masked square secret", sensJSON(`{"oauth":"sq0csp-****************************************"}`), ""},
		{"benign openai placeholder", sensJSON(`{"example":"sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`), ""},
		{"benign sku with a similar shape", sensJSON(`{"sku":"sq0-widget-blue-large-2026"}`), ""},
	})
}

// TestMaySensitiveMoreClasses: the bodies of the classes above get past
// the prefilter.
func TestMaySensitiveMoreClasses(t *testing.T) {
	for _, b := range []string{
		`{"card_number":"6212 5260 1815 9082"}`,
		`{"memo":"Chargeback on card: 374165797543237"}`,
		`{"pwd_sha1":"2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"}`,
		`{"hashed_pwd":"d41d8cd98f00b204e9800998ecf8427e"}`,
		`{"x":"sq0csp-Qw3rTy7uI9oP1aS2dF4gH6jK8lZ0xC5vB7nM9q1W3e"}`,
		`{"x":"sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1eF3hJ5kL7nP9rS1"}`,
	} {
		if !maySensitive([]byte(b)) {
			t.Errorf("maySensitive(%s) = false", b)
		}
		// Over 512 bytes maySensitive searches instead of passing over
		// the bytes: the same body padded must get through too.
		if long := strings.Replace(b, "{", `{"pad":"`+strings.Repeat("x", 600)+`",`, 1); !maySensitive([]byte(long)) {
			t.Errorf("maySensitive(%s) = false once padded past 512 bytes", b)
		}
	}
}

func TestSensitiveIntentClientSecret(t *testing.T) {
	runCases(t, NewSensitive(), "detect.exposure.sensitive", []detCase{
		{"payment intent client secret", ex("POST", "https://a.test/pay", resp(200, `{"client_secret":"pi_3Nx7aBCdEfGh12_secret_Zq9WvT4yUa8Kp2LmRs"}`)), ""},
		{"setup intent client secret", ex("POST", "https://a.test/pay", resp(200, `{"clientSecret":"seti_1AbCdEf_secret_Xy7Zw9Qr4Tu2"}`)), ""},
		{"an oauth client secret is still one", ex("GET", "https://a.test/apps/7", resp(200, `{"client_id":"app7","client_secret":"Zq9WvT4yUa8Kp2LmRsX1"}`)), "secret"},
		{"a lookalike with more parts", ex("GET", "https://a.test/apps/7", resp(200, `{"client_secret":"pi_x_secret_y_z_secret_w9Qr4Tu2"}`)), "secret"},
	})
}

// TestSensitiveCardsUnderPaymentObjects: an ungrouped card number under a
// generic key ("number", "to", "value") of an object naming a payment
// instrument or a movement of money.
func TestSensitiveCardsUnderPaymentObjects(t *testing.T) {
	runCases(t, NewSensitive(), "detect.exposure.sensitive", []detCase{
		{"number in a saved payment method list", sensJSON(`{"customer":"c_9","paymentMethods":[{"kind":"card","number":"4539177204613580"}]}`), "card number"},
		{"value under payment_instrument", sensJSON(`{"order":{"payment_instrument":{"value":"5453012388719045","holder":"A. Moreau"}}}`), "card number"},
		{"refund destination", sensJSON(`{"refunds":[{"amount":1250,"currency":"EUR","destination":"371449635398431"}]}`), "card number"},
		{"payout to a card, as a JSON number", sensJSON(`{"payout":{"to":6011554038702130,"status":"sent"}}`), "card number"},
		{"paid_by object", sensJSON(`{"booking":{"paid_by":{"pan_value":"2223001415128706"}}}`), "card number"},
		{"funding source", sensJSON(`{"transfer":{"fundingSource":{"num":"4005512314789067"}}}`), "card number"},

		{"benign bank account under payment", sensJSON(`{"payment":{"method":"ach","account_number":"4539177204613580","routing_number":"021000021"}}`), ""},
		{"benign transaction number under refund", sensJSON(`{"refund":{"transaction_number":"5453012388719045"}}`), ""},
		{"benign confirmation id under payment", sensJSON(`{"payment":{"confirmation_id":"6011554038702130"}}`), ""},
		{"benign invoice number under payment", sensJSON(`{"payment":{"invoice_no":"4005512314789067"}}`), ""},
		{"benign failing luhn under payment method", sensJSON(`{"paymentMethods":[{"number":"4539177204613581"}]}`), ""},
		{"benign no issuer under payout", sensJSON(`{"payout":{"to":"9908100339075790"}}`), ""},
		{"benign same number under a shipment", sensJSON(`{"shipment":{"number":"4539177204613580"}}`), ""},
		{"benign masked card under payment method", sensJSON(`{"paymentMethod":{"number":"**** **** **** 3580","brand":"visa"}}`), ""},
		{"benign short number under payment", sensJSON(`{"payment":{"number":"45391772"}}`), ""},
		{"number beside a card network", sensJSON(`{"methods":[{"network":"unionpay","number":"6245996763986248","type":"card"}]}`), "card number"},
		{"number in a charge source", sensJSON(`{"amount":"1,250.00","source":{"exp_month":4,"exp_year":2029,"number":"3528765518324608","object":"card"}}`), "card number"},
		{"number before its card type", sensJSON(`{"wallet":[{"number":"4539177204613580","kind":"debit"}]}`), "card number"},
		{"benign number beside a non-card type", sensJSON(`{"items":[{"type":"gift_card_order","number":"4539177204613580"}]}`), ""},
		{"benign number in another object than the brand", sensJSON(`{"brand":"acme","order":{"number":"4539177204613580"}}`), ""},
	})
}

// TestSensitiveINIBodies: a configuration file opening with a section
// header starts like a JSON array and is read as text.
func TestSensitiveINIBodies(t *testing.T) {
	runCases(t, NewSensitive(), "detect.exposure.sensitive", []detCase{
		{"aws credentials file", sensText("text/plain", "[prod]\naws_access_key_id = AKIAZ7Q3M5N2P4R6T8V1\naws_secret_access_key = u8Jd3kLq9Zp2Xw7Vb4Nc6Mf1Hg5Ty0Re3Sa8Qo2W\n"), "cloud access key id"},
		{"aws profile, secret only", sensText("text/plain", "[profile deploy]\nregion = eu-central-1\naws_secret_access_key = u8Jd3kLq9Zp2Xw7Vb4Nc6Mf1Hg5Ty0Re3Sa8Qo2W\n"), "secret"},
		{"toml database url", sensText("application/toml", "[[databases]]\nname = \"orders\"\nurl = \"postgres://svc:Vn5xQ8rT2m@db.internal:5432/orders\"\n"), "connection URL"},
		{"ini with leading blank line", sensText("text/plain", "\n[mysql]\npassword=Wq4zR9vL2kP7\n"), "password"},
		{"json array still walked", sensJSON(`[{"name":"deploy","secret_key":"Zq9WvT4yUa8Kp2LmRsX1"}]`), "secret"},

		{"benign aws config without keys", sensText("text/plain", "[default]\nregion = us-east-1\noutput = json\n"), ""},
		{"benign ini naming a password file", sensText("text/plain", "[db]\nhost = db.internal\npassword_file = /run/secrets/db\n"), ""},
		{"benign dotenv naming a secret path", sensText("text/plain", "JWT_SECRET_PATH=/etc/app/jwt.key\nDB_PASSWORD_FILE=/run/secrets/db\n"), ""},
		{"benign json naming a key file", sensJSON(`{"tls":{"private_key_path":"/etc/ssl/private/api.pem","api_key_file":"/run/secrets/api"}}`), ""},
		{"benign json array of literals", sensJSON(`[true, {"note":"ok"}]`), ""},
		{"benign json array of strings", sensJSON(`["alpha","beta"]`), ""},
	})
}

func TestINISection(t *testing.T) {
	for b, want := range map[string]bool{
		"[default]\nx = 1":     true,
		"  [profile prod]\n":   true,
		"[[servers]]\na = 1":   true,
		"[db.primary]\n":       true,
		"[true]":               false,
		"[null]":               false,
		"[false]":              false,
		"[-1]":                 false,
		"[1, 2]":               false,
		"[\"a\"]":              false,
		"[ {\"a\":1} ]":        false,
		"{\"a\":1}":            false,
		"[default":             false,
		"[a, b]":               false,
		"[[1,2],[3,4]]":        false,
		"[ true ]":             false,
		"plain text [default]": false,
	} {
		if got := iniSection([]byte(b)); got != want {
			t.Errorf("iniSection(%q) = %v, want %v", b, got, want)
		}
	}
}

// htmlPage is a 30 KB product page: the text body the text scans cost most
// on, with links, attributes, prices and hyphenated class names.
var htmlPage = []byte("<!doctype html><html><head><title>Shop</title><script src=\"/app.js\"></script></head><body>" +
	strings.Repeat(`<div class="product-card" data-id="12345"><a href="https://shop.example.test/p/12345?ref=home&utm=x">Trail running shoes</a><span class="price">129.95 EUR</span><p>Waterproof, size 42-46, free returns within 30 days. Call +49 30 1234567.</p></div>`, 120) +
	"</body></html>")

// BenchmarkSensitiveText measures the text-body scans on htmlPage against
// a baseline of one pass over it (bytes.IndexByte, what a NUL test costs),
// in the same run; docs/detect.md keeps the figures.
func BenchmarkSensitiveText(b *testing.B) {
	b.ReportAllocs()
	b.Run("baseline-one-pass", func(b *testing.B) {
		for b.Loop() {
			_ = bytes.IndexByte(htmlPage, 0)
		}
	})
	b.Run("text", func(b *testing.B) {
		for b.Loop() {
			if why, _, _ := sensitiveText(htmlPage); why != "" {
				b.Fatal(why)
			}
		}
	})
}

// TestProviderTokenPrefixes holds the rule mayBeProviderToken and
// textProviderToken rely on: every prefix has a '_' or '-' among its bytes 3
// to 10. A prefix without one would never be tried.
func TestProviderTokenPrefixes(t *testing.T) {
	for _, p := range providerTokens {
		if strings.IndexAny(p.prefix[3:min(11, len(p.prefix))], "_-") < 0 {
			t.Errorf("provider token prefix %q has no '_' or '-' among bytes 3-10", p.prefix)
		}
	}
}

// TestSensitiveFilesAndProperties: secrets in the shapes configuration and
// credential files take when an API hands them out – a property object, a
// file carried in a JSON field, a PHP configuration, a user export.
func TestSensitiveFilesAndProperties(t *testing.T) {
	runCases(t, NewSensitive(), "detect.exposure.sensitive", []detCase{
		{"actuator env property", sensJSON(`{"propertySources":[{"name":"systemEnvironment","properties":{"SPRING_DATASOURCE_PASSWORD":{"value":"HuUo3cMFztmmLNsD0e"}}}]}`), "password"},
		{"secret property object", sensJSON(`{"HOT_WALLET_API_SECRET":{"value":"rAwUAi8NctBarkjOlDwCqltSUWQENITiHzd5uEUV3hL2MrY8","origin":"env"}}`), "secret"},
		{"api token by name", sensJSON(`{"access_token":"eyJ5YTqM2oPXOoGHJ","admin_api_token":"adm_f3lvh1XKPVb4rvM5CAvBxIXzvIYhAe5eLL5sX48f","token_type":"Bearer"}`), "secret or API key"},
		{"credentials file in a field", sensJSON(`{"fetched":"http://169.254.169.254/x","content":"aws_access_key_id=AKIALITYIF2W3OVB4L7A\naws_secret_access_key=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\n"}`), "cloud access key id"},
		{"env file in a field", sensJSON(`{"file":".env","text":"APP_ENV=production\nDB_PASSWORD=Pr0d-Db-x7Kq2LwZ9\n"}`), "password"},
		{"wp-config", sensText("text/plain", "<?php\ndefine('DB_NAME', 'harbor');\ndefine('DB_PASSWORD', 'ZQLc0AezYqevDqrP');\n"), "password"},
		{"password column in a csv export", sensText("text/csv", "email,role,password\nrachel@adeyemi-law.example,admin,E6SxlNZVvXUj!\n"), "password"},
		{"benign csv with masked passwords and dates", sensText("text/csv", "email,password,password_changed_at\nann@a.test,********,2026-01-02\n"), ""},
		{"benign csv without secret columns", sensText("text/csv", "email,role,last_login\nann@a.test,admin,2026-01-02\n"), ""},
		{"bcrypt in a csv export", sensText("text/csv", "login,email,password_hash\nsteward1,s1@metrocity.test,$2b$12$Gj0dcq3e77kSbZaXgQtj5uDpqgGMCaUM37dHrSBU9CyKJGf9nV48M\n"), "password hash"},

		{"benign multi-line text under an id key", sensJSON(`{"order_ref":"parcel 4526 0181 5908 3012\nleft at the door, signed by J. Doe\n"}`), ""},
		{"benign name/value array", sensJSON(`{"secrets":[{"name":"DB_PASSWORD_FILE","value":"/run/secrets/db_password"},{"name":"AWS_ROLE_ARN","value":"arn:aws:iam::123456789012:role/ci-deploy"}]}`), ""},
		{"benign property object", sensJSON(`{"server.port":{"value":"8080"},"spring.profiles.active":{"value":"prod"}}`), ""},
		{"benign multi-line text", sensJSON(`{"notes":"Line one of the note.\nPrice $20 per month; $2b is not a hash.\nsecret=santa wishes"}`), ""},
		{"benign php define", sensText("text/plain", "<?php\ndefine('WP_DEBUG', false);\ndefine('DB_PASSWORD_FILE', '/run/secrets/db');\n"), ""},
		{"benign dollar amounts in a csv", sensText("text/csv", "item,price\nbook,$12.50\nlamp,$2b$\n"), ""},
		{"benign api token hint", sensJSON(`{"api_token_last4":"a3S2","api_token_set":true}`), ""},
		{"long connection url, evidence bounded", sensJSON(`{"smtp":{"url":"smtp://postmaster%40keystone-id.test:Zq81mZp0LwKq81mZ@smtp.mailgun.example:587"}}`), "password in connection URL"},
		{"benign hash of an api key", sensJSON(`{"api_key_last4":"gUSk","api_key_sha256":"af234f6c39145b68e6f88fd3937223dcc70dbce07f662b47bd3893c669d4a360"}`), ""},
		{"benign secret fingerprint", sensJSON(`{"client_secret_fingerprint":"SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"}`), ""},
		{"password hash still reported", sensJSON(`{"password_hash":"5f4dcc3b5aa765d61d8327deb882cf99"}`), "password"},
	})
}

// TestSensitiveXMLResponses: a SOAP or XML API's response is judged element
// by element, as a JSON one is key by key.
func TestSensitiveXMLResponses(t *testing.T) {
	const ct = "text/xml; charset=utf-8"
	runCases(t, NewSensitive(), "detect.exposure.sensitive", []detCase{
		{"card in a soap response", sensText(ct, `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><ns2:GetPaymentResponse xmlns:ns2="urn:p"><ns2:Payment><ns2:CardNumber>378161194587980</ns2:CardNumber><ns2:Amount>1290.50</ns2:Amount></ns2:Payment></ns2:GetPaymentResponse></soap:Body></soap:Envelope>`), "card number"},
		{"password element", sensText(ct, `<Operator><Login>wh-lead-003</Login><Password>Pallet!Lead2026</Password><Role>supervisor</Role></Operator>`), "password"},
		{"bind password", sensText("application/xml", `<ldapIdp><url>ldaps://dc1.corp.example:636</url><bindPassword>xVfdETRk8jNl3Atk!9</bindPassword></ldapIdp>`), "password"},
		{"secret in an attribute", sensText("application/xml", `<config><client id="web" secret="Zq81mZp0LwKq81mZp0Lw"/></config>`), "secret"},

		{"benign soap response", sensText(ct, `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetOrderResponse><OrderId>4111111111111111</OrderId><Status>shipped</Status></GetOrderResponse></soap:Body></soap:Envelope>`), ""},
		{"benign password policy", sensText("application/xml", `<policy><PasswordMinLength>12</PasswordMinLength><PasswordResetUrl>https://a.test/reset</PasswordResetUrl></policy>`), ""},
		{"benign masked card", sensText(ct, `<Payment><CardNumber>************7980</CardNumber></Payment>`), ""},
		{"benign html page", sensText("text/html", `<html><body><p>Password</p><p>Enter your password below</p></body></html>`), ""},
		{"yaml configuration export", sensText("application/yaml", "database:\n  host: erp-db.service.consul\n  user: erp_app\n  password: \"6u7fooDSP9Y3dPub3R\"\n"), "password"},
		{"yaml secret in a list", sensText("text/yaml", "clients:\n  - name: web\n    client_secret: Zq81mZp0LwKq81mZp0Lw # rotate\n"), "secret"},
		{"benign yaml references", sensText("application/yaml", "database:\n  password_file: /run/secrets/db\n  password: ${DB_PASSWORD}\n  api_key: vault://kv/erp#api_key\nsmtp:\n  password_env: SMTP_PASSWORD\n  api_key_ref: tms/api_key\n"), ""},
	})
}
