package redact_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/pii"
	"github.com/vigilsec/vigil/redact"
)

// runRE finds runs of digit groups joined by single spaces or dashes, the
// shape a card number is written in.
var runRE = regexp.MustCompile(`[0-9]+(?:[ -][0-9]+)*`)

// cardsIn is a slow reference of the card rule: every window of whole digit
// groups of a run holding 13 to 19 digits that pass the Luhn check.
func cardsIn(s string) []string {
	var found []string
	for _, run := range runRE.FindAllString(s, -1) {
		groups := strings.FieldsFunc(run, func(r rune) bool { return r == ' ' || r == '-' })
		for a := range groups {
			digits := ""
			for b := a; b < len(groups); b++ {
				digits += groups[b]
				if len(digits) > 19 {
					break
				}
				if len(digits) >= 13 && redact.Luhn(digits) {
					found = append(found, digits)
				}
			}
		}
	}
	return found
}

func TestCardsInReference(t *testing.T) {
	if got := cardsIn("x 4242 4242 4242 4242 y 4242424242424241"); len(got) != 1 || got[0] != "4242424242424242" {
		t.Errorf("reference found %q", got)
	}
}

func seedStrings(f *testing.F) {
	for _, c := range loadStringCases(f) {
		f.Add(c.In)
	}
	f.Add("4242424242424242 123456789")
	f.Add("Bearer 4242 4242 4242 4242")
	f.Add(`{"a":"b","password":"x\"y","n":4111111111111111}`)
}

// FuzzRedactString: String never panics, is idempotent, and leaves no
// Luhn-valid card number in its output, so none that the exposure
// detector and the inventory find in text either (pii.CardInText).
func FuzzRedactString(f *testing.F) {
	seedStrings(f)
	f.Add("pay with 3056 930902 5904 or card 4111111111111111")
	r := redact.New()
	f.Fuzz(func(t *testing.T, s string) {
		got := r.String(s)
		if again := r.String(got); again != got {
			t.Fatalf("not idempotent:\n in %q\nout %q\n2nd %q", s, got, again)
		}
		if cs := cardsIn(got); len(cs) > 0 {
			t.Fatalf("card numbers %q survived:\n in %q\nout %q", cs, s, got)
		}
		if d, ok := pii.CardInText(got); ok {
			t.Fatalf("card number %q, as the detectors read text, survived:\n in %q\nout %q", d, s, got)
		}
	})
}

// cardsInBody checks JSON by its decoded keys and values (a "\u0004242…"
// escape is not a card number) and anything else as text.
func cardsInBody(b []byte) []string {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var v any
	if !json.Valid(b) || dec.Decode(&v) != nil {
		return cardsIn(string(b))
	}
	var found []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			found = append(found, cardsIn(v)...)
		case json.Number:
			found = append(found, cardsIn(string(v))...)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for k, e := range v {
				found = append(found, cardsIn(k)...)
				walk(e)
			}
		}
	}
	walk(v)
	return found
}

var contentTypes = []string{"application/json", "application/x-www-form-urlencoded", "text/plain", ""}

// FuzzRedactBody: Body never panics, is idempotent, keeps valid JSON valid
// and leaves no Luhn-valid card number in its output.
func FuzzRedactBody(f *testing.F) {
	files, _ := filepath.Glob("testdata/body/*")
	for _, file := range files {
		if strings.HasSuffix(file, ".golden") {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for i := range contentTypes {
			f.Add(uint8(i), b)
		}
	}
	f.Add(uint8(0), []byte(`[4242424242424242e5,{"4242424242424242":"\u0034"}]`))
	f.Add(uint8(1), []byte(`4242424242424242=1&a=4242%204242%204242%204242`))
	r := redact.New()
	f.Fuzz(func(t *testing.T, ct uint8, body []byte) {
		typ := contentTypes[int(ct)%len(contentTypes)]
		got := r.Body(typ, body)
		if again := r.Body(typ, got); string(again) != string(got) {
			t.Fatalf("not idempotent (%s):\n in %q\nout %q\n2nd %q", typ, body, got, again)
		}
		if cs := cardsInBody(got); len(cs) > 0 {
			t.Fatalf("card numbers %q survived (%s):\n in %q\nout %q", cs, typ, body, got)
		}
		if strings.HasSuffix(typ, "json") && json.Valid(body) && !json.Valid(got) {
			t.Fatalf("valid JSON became invalid:\n in %q\nout %q", body, got)
		}
	})
}
