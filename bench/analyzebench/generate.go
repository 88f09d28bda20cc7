package analyzebench

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Traffic shape of Generate.
const (
	genActors     = 300 // distinct clients
	genJWTPercent = 70  // of the actors send a bearer JWT; the others are anonymous behind X-Forwarded-For
)

var genStart = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

var userAgents = []string{
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
	"shop-android/4.2.1 okhttp/4.12.0",
	"python-requests/2.32.3",
}

// genActor is one generated client.
type genActor struct {
	user int    // user id (sub claim) for JWT actors, 0 for anonymous
	auth string // "Bearer <jwt>" or ""
	xff  string // client address for anonymous actors
	ua   string
}

// Generate writes n exchanges of realistic shop traffic as JSON lines (the
// format of docs/traffic-format.md), about 0.6-0.8 KB each: a few hundred
// actors, most with a bearer JWT and the rest anonymous behind
// X-Forwarded-For, a mix of catalogue, cart, checkout, order and account
// endpoints with ids in their paths, and JSON bodies. The output depends
// only on n and seed.
func Generate(w io.Writer, n int, seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x76696769))
	actors := make([]genActor, genActors)
	for i := range actors {
		a := genActor{ua: userAgents[rng.IntN(len(userAgents))]}
		if rng.IntN(100) < genJWTPercent {
			a.user = 1 + rng.IntN(500)
			a.auth = "Bearer " + fakeJWT(rng, a.user)
		} else {
			a.xff = fmt.Sprintf("198.51.%d.%d", rng.IntN(256), 1+rng.IntN(254))
		}
		actors[i] = a
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	var line []byte
	for i := range n {
		a := &actors[rng.IntN(len(actors))]
		line = appendExchange(line[:0], rng, i, a)
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	return nil
}

// fakeJWT builds an HS256-shaped token for user id (the signature is random:
// Vigil reads JWTs unverified).
func fakeJWT(rng *rand.Rand, user int) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	iat := genStart.Unix() - int64(rng.IntN(3600))
	claims := fmt.Sprintf(`{"sub":"%d","email":"user%d@shop.test","role":"customer","iat":%d,"exp":%d}`, user, user, iat, iat+3600)
	sig := make([]byte, 32)
	for i := range sig {
		sig[i] = byte(rng.Uint32())
	}
	return header + "." + enc.EncodeToString([]byte(claims)) + "." + enc.EncodeToString(sig)
}

// appendExchange appends one JSON line.
func appendExchange(b []byte, rng *rand.Rand, i int, a *genActor) []byte {
	var (
		method, path, reqBody, respBody string
		status                          = 200
	)
	product := 1 + rng.IntN(200)
	switch k := rng.IntN(100); {
	case k < 25:
		method, path = "GET", "/api/v2/products?limit=20&offset="+strconv.Itoa(20*rng.IntN(10))
		respBody = fmt.Sprintf(`{"items":[{"id":%d,"name":"Product %d","price":"%d.90"},{"id":%d,"name":"Product %d","price":"%d.50"}],"total":200}`,
			product, product, 5+product%90, product+1, product+1, 7+product%80)
	case k < 45:
		method, path = "GET", "/api/v2/products/"+strconv.Itoa(product)
		respBody = fmt.Sprintf(`{"id":%d,"name":"Product %d","category":"gadgets","price":"%d.90","stock":%d,"description":"A fine gadget for every day."}`,
			product, product, 5+product%90, rng.IntN(500))
	case k < 55:
		method, path = "GET", "/api/v2/products/search?q=gadget+"+strconv.Itoa(rng.IntN(50))
		respBody = fmt.Sprintf(`{"items":[{"id":%d,"name":"Product %d","price":"%d.90"}],"total":1}`, product, product, 5+product%90)
	case k < 65:
		order := 1001 + rng.IntN(1500)
		method, path = "GET", "/api/v2/orders/"+strconv.Itoa(order)
		respBody = fmt.Sprintf(`{"id":%d,"user_id":%d,"status":"shipped","total":"%d.90","items":[{"product_id":%d,"quantity":1}]}`,
			order, a.user, 10+rng.IntN(300), product)
		if a.user == 0 {
			status, respBody = 401, `{"error":"authentication required"}`
		}
	case k < 73:
		method, path = "GET", "/api/v2/users/me"
		respBody = fmt.Sprintf(`{"id":%d,"email":"user%d@shop.test","name":"User %d","role":"customer"}`, a.user, a.user, a.user)
		if a.user == 0 {
			status, respBody = 401, `{"error":"authentication required"}`
		}
	case k < 83:
		method, path, status = "POST", "/api/v2/cart/items", 201
		reqBody = fmt.Sprintf(`{"product_id":%d,"quantity":%d}`, product, 1+rng.IntN(3))
		respBody = fmt.Sprintf(`{"id":%d,"product_id":%d,"price":"%d.90"}`, 1+rng.IntN(1_000_000), product, 5+product%90)
	case k < 88:
		method, path = "POST", "/api/v2/checkout/quote"
		reqBody = `{"coupon":"WELCOME10"}`
		respBody = fmt.Sprintf(`{"quote_id":"q-%08x","total":"%d.90"}`, rng.Uint32(), 10+rng.IntN(300))
	case k < 93:
		addr := 501 + rng.IntN(1500)
		method, path = "GET", "/api/v2/addresses/"+strconv.Itoa(addr)
		respBody = fmt.Sprintf(`{"id":%d,"street":"%d Main Street","city":"Springfield","zip":"%05d"}`, addr, 1+rng.IntN(999), rng.IntN(100000))
	case k < 97:
		user := 1 + rng.IntN(500)
		method, path = "POST", "/api/v2/auth/login"
		reqBody = fmt.Sprintf(`{"email":"user%d@shop.test","password":"Passw0rd!%d"}`, user, user)
		respBody = `{"token":"` + fakeJWTStub(user) + `","user":{"id":` + strconv.Itoa(user) + `}}`
		if rng.IntN(10) == 0 {
			status, respBody = 401, `{"error":"invalid credentials"}`
		}
	default:
		method, path = "GET", "/api/v2/giftcards/GC-"+fmt.Sprintf("%04d", rng.IntN(10000))+"/balance"
		status, respBody = 404, `{"error":"unknown gift card"}`
	}

	t := genStart.Add(time.Duration(i) * 3 * time.Millisecond)
	b = append(b, `{"id":"gen#`...)
	b = strconv.AppendInt(b, int64(i+1), 10)
	b = append(b, `","time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","sensor":"proxy",`...)
	b = append(b, `"request":{"method":"`...)
	b = append(b, method...)
	b = append(b, `","url":"https://shop.test`...)
	b = append(b, path...)
	b = append(b, `","proto":"HTTP/1.1","headers":{"Accept":["application/json"],"User-Agent":["`...)
	b = append(b, a.ua...)
	b = append(b, `"]`...)
	if a.auth != "" {
		b = append(b, `,"Authorization":["`...)
		b = append(b, a.auth...)
		b = append(b, `"]`...)
	}
	if a.xff != "" {
		b = append(b, `,"X-Forwarded-For":["`...)
		b = append(b, a.xff...)
		b = append(b, `"]`...)
	}
	if reqBody != "" {
		b = append(b, `,"Content-Type":["application/json"]},"body":`...)
		b = appendJSONString(b, reqBody)
		b = append(b, `,"body_size":`...)
		b = strconv.AppendInt(b, int64(len(reqBody)), 10)
	} else {
		b = append(b, `}`...)
	}
	b = append(b, `},"response":{"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"proto":"HTTP/1.1","headers":{"Content-Type":["application/json"]},"body":`...)
	b = appendJSONString(b, respBody)
	b = append(b, `,"body_size":`...)
	b = strconv.AppendInt(b, int64(len(respBody)), 10)
	b = append(b, `},"duration_ms":`...)
	b = strconv.AppendFloat(b, float64(1+rng.IntN(4000))/100, 'f', -1, 64)
	b = append(b, "}\n"...)
	return b
}

// fakeJWTStub is a short token-shaped string for login responses.
func fakeJWTStub(user int) string {
	return "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"`+strconv.Itoa(user)+`"}`)) + ".c2ln"
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
