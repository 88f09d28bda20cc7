// Package flowsuggest recognises business flows in an API inventory and
// writes them as a behavior.flows block a user can paste into the config
// (vigil inventory flows). It looks at the path segment words and methods of
// the endpoints traffic showed: sign-up (register → verify), login (login →
// one-time code), one-time codes (send → verify), password reset (request →
// confirm), checkout (cart → quote → pay → confirm), coupons (cart → apply)
// and gift cards (cart or balance → redeem). Each flow comes with why it was
// suggested and which step must succeed first (needs_success).
//
// It only suggests: words are a guess at what an endpoint does, so every
// flow is meant to be read before it is used. It never invents endpoints:
// every path it writes is a template the inventory holds.
package flowsuggest

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/inventory/spec"
)

// MaxEndpoints caps the endpoints looked at: the inventory itself is
// bounded (inventory.max_endpoints), and flows are made of a few endpoints
// each, so the first ones by request count are enough.
const MaxEndpoints = 100_000

// Suggestion is one recognised flow.
type Suggestion struct {
	// Kind is what was recognised: signup, login, otp, password-reset,
	// checkout, coupon or giftcard. It is also the flow's name.
	Kind string
	Flow config.Flow
	// Why says which endpoints made the flow and what needs_success
	// catches, one sentence each.
	Why []string
}

// Result is what Suggest found.
type Result struct {
	Flows []Suggestion
	// Notes name flows half seen (a step without its partner) and why no
	// flow was suggested for them.
	Notes []string
	// Endpoints is how many endpoints were considered.
	Endpoints int
	// Documented is true when only documented endpoints were considered.
	Documented bool
}

// Options tune Suggest.
type Options struct {
	// Specs, when it holds operations, limits the suggestion to the
	// endpoints the specs document (classes documented and drift).
	Specs *spec.Set
}

// endpoint is an inventory entry cut into words.
type endpoint struct {
	method   string
	template string
	count    int64
	static   []string // lower-case static segments, normalised ("sign-up" → "signup")
	words    map[string]bool
	last     string // the last static segment, normalised
	endParam bool   // the template ends with a {param}
}

func newEndpoint(method, template string, count int64) endpoint {
	e := endpoint{method: strings.ToUpper(method), template: template, count: count, words: map[string]bool{}}
	segs := strings.Split(strings.Trim(template, "/"), "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			e.endParam = i == len(segs)-1
			continue
		}
		s = strings.ToLower(s)
		n := strings.NewReplacer("-", "", "_", "", ".", "").Replace(s)
		e.static = append(e.static, n)
		e.words[n] = true
		for w := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			e.words[w] = true
		}
	}
	if len(e.static) > 0 {
		e.last = e.static[len(e.static)-1]
	}
	return e
}

func (e endpoint) has(ws ...string) bool {
	for _, w := range ws {
		if e.words[w] {
			return true
		}
	}
	return false
}

func (e endpoint) lastIn(ws ...string) bool { return slices.Contains(ws, e.last) }

func (e endpoint) writes() bool {
	return e.method == "POST" || e.method == "PUT" || e.method == "PATCH"
}

// Word lists. Segments are compared normalised: lower case, without "-",
// "_" and ".", so "sign-up", "sign_up" and "signup" are one word; the parts
// of a segment ("forgot" in "forgot-password") count too.
var (
	wCart     = []string{"cart", "carts", "basket", "baskets", "bag"}
	wCheckout = []string{"checkout", "order", "orders", "cart", "carts", "basket", "purchase", "purchases"}
	wQuote    = []string{"quote", "summary", "review", "preview", "estimate", "totals"}
	wPay      = []string{"pay", "payment"}
	wConfirm  = []string{"confirm", "complete", "placeorder", "place", "finalize", "finalise", "submit"}
	wCoupon   = []string{"coupon", "coupons", "promo", "promos", "promocode", "voucher", "vouchers", "discount", "discounts"}
	wApply    = []string{"apply", "redeem", "validate", "check", "verify", "use"}
	wGift     = []string{"giftcard", "giftcards", "gift", "gifts", "giftcertificate", "giftcertificates"}
	wRedeem   = []string{"redeem", "apply", "use", "claim"}
	wRegister = []string{"register", "registration", "registrations", "signup", "signups"}
	wVerify   = []string{"verify", "verifyemail", "verifyphone", "confirm", "confirmemail", "activate", "activation", "verification", "confirmation"}
	wAccount  = []string{"signup", "register", "registration", "account", "accounts", "email", "users", "user", "activate", "activation", "onboarding"}
	wLogin    = []string{"login", "signin", "token", "tokens", "session", "sessions", "authenticate"}
	wMFA      = []string{"otp", "mfa", "2fa", "totp", "twofactor", "2step", "passcode"}
	wOTPCheck = []string{"verify", "validate", "check", "confirm", "challenge", "otp", "mfa", "2fa", "totp", "code"}
	wOTPSend  = []string{"send", "request", "resend", "generate", "issue"}
	wReset    = []string{"reset", "forgot", "forgotpassword", "resetpassword", "passwordreset", "recover", "recovery"}
)

// Suggest recognises flows among the endpoints of ps that traffic showed
// answering (not only 404/405) and that are first party, and, when
// opt.Specs holds operations, documented.
func Suggest(ps []*inventory.Profile, opt Options) Result {
	documented := opt.Specs != nil && len(opt.Specs.Ops()) > 0
	var eps []endpoint
	seen := map[string]bool{}
	for _, e := range inventory.Classify(ps, opt.Specs) {
		switch {
		case e.Count == 0, e.Class == inventory.Orphan, e.Class == inventory.Unanswered, e.Class == inventory.ThirdParty:
			continue
		case documented && e.Class != inventory.Documented && e.Class != inventory.Drift:
			continue
		}
		if !usable(e.Template) {
			continue
		}
		k := e.Method + " " + e.Template
		if seen[k] {
			continue // the same template on another host
		}
		seen[k] = true
		eps = append(eps, newEndpoint(e.Method, e.Template, e.Count))
	}
	slices.SortStableFunc(eps, func(a, b endpoint) int {
		if a.count != b.count {
			if a.count > b.count {
				return -1
			}
			return 1
		}
		return strings.Compare(a.method+a.template, b.method+b.template)
	})
	if len(eps) > MaxEndpoints {
		eps = eps[:MaxEndpoints]
	}
	s := &suggester{eps: eps}
	s.signup()
	s.login()
	s.otp()
	s.passwordReset()
	s.checkout()
	s.coupon()
	s.giftcard()
	return Result{Flows: s.flows, Notes: s.notes, Endpoints: len(eps), Documented: documented}
}

// usable reports whether a template can be written as a flow step's path
// (config.FlowStep.Path): rooted, not just "/", without the characters the
// config refuses, at most 1024 bytes, printable UTF-8 (what YAML carries).
func usable(t string) bool {
	return config.FlowPathOK(t) && utf8.ValidString(t) && strings.IndexFunc(t, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

type suggester struct {
	eps   []endpoint
	flows []Suggestion
	notes []string
}

// pick returns the endpoints for which keep is true, sorted by template.
func (s *suggester) pick(keep func(endpoint) bool) []endpoint {
	var out []endpoint
	for _, e := range s.eps {
		if keep(e) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b endpoint) int { return strings.Compare(a.template+" "+a.method, b.template+" "+b.method) })
	return out
}

// step makes a flow step of endpoints: their templates as alternatives and
// their method when they share one. It caps the alternatives at
// config.MaxPathAlternatives.
func step(name string, eps []endpoint, needs bool) config.FlowStep {
	st := config.FlowStep{Name: name, NeedsSuccess: needs, Method: eps[0].method}
	for _, e := range eps {
		if e.method != st.Method {
			st.Method = ""
		}
		if !slices.Contains(st.Path, e.template) && len(st.Path) < config.MaxPathAlternatives {
			st.Path = append(st.Path, e.template)
		}
	}
	return st
}

func list(eps []endpoint) string {
	var parts []string
	for i, e := range eps {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(eps)-3))
			break
		}
		parts = append(parts, e.method+" "+e.template)
	}
	return strings.Join(parts, ", ")
}

func (s *suggester) add(kind string, steps []config.FlowStep, why ...string) {
	s.flows = append(s.flows, Suggestion{Kind: kind, Flow: config.Flow{Name: kind, Steps: steps}, Why: why})
}

func (s *suggester) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

func (s *suggester) signup() {
	reg := s.pick(func(e endpoint) bool {
		return e.method == "POST" && (e.lastIn(wRegister...) || (e.lastIn("users", "accounts") && !e.endParam && !e.has("admin")))
	})
	ver := s.pick(func(e endpoint) bool {
		return e.writes() && e.lastIn(wVerify...) && e.has(wAccount...) && !e.has(wMFA...) && !e.has(wReset...) && !e.has(wCheckout...)
	})
	switch {
	case len(reg) > 0 && len(ver) > 0:
		s.add("signup", []config.FlowStep{step("register", reg, true), step("verify", ver, false)},
			"sign-up: "+list(reg)+" creates the account, "+list(ver)+" verifies it.",
			"needs_success on register: a verification by an actor that did not sign up within the window (scripted account activation).")
	case len(reg) > 0:
		s.note("sign-up: %s seen, but no verify/confirm step after it", list(reg))
	}
}

func (s *suggester) mfaCheck() []endpoint {
	return s.pick(func(e endpoint) bool {
		return e.writes() && e.has(wMFA...) && e.lastIn(wOTPCheck...) && !e.lastIn(wOTPSend...)
	})
}

func (s *suggester) login() {
	login := s.pick(func(e endpoint) bool {
		return e.method == "POST" && e.lastIn(wLogin...) && !e.has(wReset...) && !e.has(wMFA...) && !e.has("refresh", "revoke")
	})
	mfa := s.mfaCheck()
	switch {
	case len(login) > 0 && len(mfa) > 0:
		s.add("login", []config.FlowStep{step("login", login, true), step("second-factor", mfa, false)},
			"login: "+list(login)+" takes the password, "+list(mfa)+" the one-time code.",
			"needs_success on login: a code accepted for an actor that did not pass the password step within the window (a second factor reached directly).")
	case len(login) > 0:
		s.note("login: %s seen, but no one-time code step (otp, mfa, 2fa) after it", list(login))
	}
}

func (s *suggester) otp() {
	send := s.pick(func(e endpoint) bool {
		return e.writes() && e.has(wMFA...) && e.lastIn(wOTPSend...)
	})
	check := s.mfaCheck()
	// Pair a send with the checks beside it (/otp/send, /otp/verify) when
	// there are such: a login's second factor elsewhere may be a TOTP app
	// that never sends.
	parent := func(e endpoint) string { return e.template[:strings.LastIndex(e.template, "/")+1] }
	if near := slices.DeleteFunc(slices.Clone(check), func(c endpoint) bool {
		return !slices.ContainsFunc(send, func(sn endpoint) bool { return parent(sn) == parent(c) })
	}); len(near) > 0 {
		check = near
	}
	switch {
	case len(send) > 0 && len(check) > 0:
		s.add("otp", []config.FlowStep{step("send", send, true), step("verify", check, false)},
			"one-time code: "+list(send)+" sends the code, "+list(check)+" checks it.",
			"needs_success on send: a code accepted that was never sent to this actor within the window (a replayed or guessed code); behavior.cracking watches the guessing itself.")
	case len(check) > 0 && len(send) == 0:
		s.note("one-time code: %s seen, but no send/request step before it", list(check))
	}
}

func (s *suggester) passwordReset() {
	req := s.pick(func(e endpoint) bool {
		return e.method == "POST" && e.has(wReset...) && (e.has("forgot", "forgotpassword", "recover") || e.lastIn("request", "email", "link", "send")) &&
			!e.lastIn("confirm", "complete")
	})
	conf := s.pick(func(e endpoint) bool {
		return e.writes() && e.has(wReset...) && !e.has("forgot", "forgotpassword") && !e.lastIn("request", "email", "link", "send") &&
			(e.lastIn("confirm", "complete", "reset", "resetpassword", "passwordreset", "password", "new") || e.endParam)
	})
	switch {
	case len(req) > 0 && len(conf) > 0:
		s.add("password-reset", []config.FlowStep{step("request", req, true), step("confirm", conf, false)},
			"password reset: "+list(req)+" asks for the reset, "+list(conf)+" sets the new password.",
			"needs_success on request: a reset completed by an actor that did not ask for it within the window (a guessed or stolen token). People who open the link on another device are flagged too: keep it where the same client asks and confirms.")
	case len(req) > 0 || len(conf) > 0:
		s.note("password reset: %s seen, but not both the request and the confirm step", list(append(req, conf...)))
	}
}

func (s *suggester) cart() []endpoint {
	return s.pick(func(e endpoint) bool {
		return e.method == "POST" && e.has(wCart...) && !e.has("checkout") && !e.lastIn(wQuote...) &&
			!e.has(wCoupon...) && !e.has(wGift...) && !e.has(wPay...)
	})
}

func (s *suggester) checkout() {
	pay := s.pick(func(e endpoint) bool {
		return e.writes() && !e.has(wGift...) && (e.lastIn(wPay...) || (e.last == "payments" && e.has(wCheckout...)))
	})
	if len(pay) == 0 {
		return
	}
	payUnderOrder := slices.ContainsFunc(pay, func(e endpoint) bool { return e.has("order", "orders") && !e.has("checkout") })
	placeOrder := s.pick(func(e endpoint) bool {
		return e.method == "POST" && e.lastIn("orders", "order") && !e.endParam && !e.has("admin")
	})
	quote := s.pick(func(e endpoint) bool {
		return e.lastIn(wQuote...) && e.has(wCheckout...) && (e.method == "POST" || e.method == "GET")
	})
	confirm := s.pick(func(e endpoint) bool {
		return e.writes() && e.lastIn(wConfirm...) && e.has(wCheckout...)
	})
	var steps []config.FlowStep
	var why []string
	if c := s.cart(); len(c) > 0 {
		steps = append(steps, step("cart", c, false))
		why = append(why, "cart: "+list(c))
	}
	if len(quote) > 0 {
		steps = append(steps, step("quote", quote, false))
		why = append(why, "quote: "+list(quote))
	}
	if len(placeOrder) > 0 && payUnderOrder {
		steps = append(steps, step("order", placeOrder, false))
		why = append(why, "order: "+list(placeOrder))
	}
	steps = append(steps, step("pay", pay, true))
	why = append(why, "pay: "+list(pay))
	if len(placeOrder) > 0 && !payUnderOrder {
		confirm = append(confirm, placeOrder...)
	}
	if len(confirm) == 0 {
		s.note("checkout: %s seen, but no confirm/complete/order step after the payment", list(pay))
		return
	}
	steps = append(steps, step("confirm", confirm, false))
	why = append(why, "confirm: "+list(confirm))
	s.add("checkout", steps,
		"checkout: "+strings.Join(why, "; ")+".",
		"needs_success on pay: an order confirmed without a successful payment by the same actor within the window (payment skipped).")
}

func (s *suggester) coupon() {
	coupons := s.pick(func(e endpoint) bool {
		return e.has(wCoupon...) && !e.has("admin") && (e.method == "POST" || e.method == "PUT") &&
			(e.lastIn(wApply...) || e.lastIn(wCoupon...) || e.endParam)
	})
	if len(coupons) == 0 {
		return
	}
	if cart := s.cart(); len(cart) > 0 {
		s.add("coupon", []config.FlowStep{step("cart", cart, true), step("apply", coupons, false)},
			"coupon: "+list(coupons)+" takes a code, "+list(cart)+" fills the cart.",
			"needs_success on cart: codes accepted for an actor that put nothing in a cart within the window (a script checking codes). Shoppers whose cart is older than the window are flagged too: widen behavior.window if they are common.")
		return
	}
	validate := s.pick(func(e endpoint) bool {
		return slices.ContainsFunc(coupons, func(c endpoint) bool { return c.template == e.template }) && e.lastIn("validate", "check", "verify")
	})
	apply := s.pick(func(e endpoint) bool {
		return slices.ContainsFunc(coupons, func(c endpoint) bool { return c.template == e.template }) && e.lastIn("apply", "redeem", "use")
	})
	if len(validate) > 0 && len(apply) > 0 {
		s.add("coupon", []config.FlowStep{step("validate", validate, true), step("apply", apply, false)},
			"coupon: "+list(validate)+" checks a code, "+list(apply)+" applies it.",
			"needs_success on validate: a code applied without being checked first within the window.")
		return
	}
	s.note("coupon: %s seen, but no cart or validate step to pair it with; behavior.cracking watches code guessing", list(coupons))
}

func (s *suggester) giftcard() {
	gift := func(e endpoint) bool { return e.has(wGift...) && !e.has("admin") }
	balance := s.pick(func(e endpoint) bool {
		return gift(e) && e.last == "balance" && (e.method == "GET" || e.method == "POST")
	})
	redeem := s.pick(func(e endpoint) bool { return gift(e) && e.writes() && e.lastIn(wRedeem...) })
	if len(redeem) == 0 {
		if len(balance) > 0 {
			s.note("gift card: %s seen, but no redeem step; behavior.cracking watches card number guessing", list(balance))
		}
		return
	}
	if cart := s.cart(); len(cart) > 0 {
		steps := []config.FlowStep{step("cart", cart, true)}
		if len(balance) > 0 {
			steps = append(steps, step("balance", balance, false))
		}
		s.add("giftcard", append(steps, step("redeem", redeem, false)),
			"gift card: "+list(redeem)+" redeems a card, "+list(cart)+" fills the cart.",
			"needs_success on cart: cards redeemed by an actor that put nothing in a cart within the window (draining cards by script); flow velocity catches one actor redeeming far more than others.")
		return
	}
	if len(balance) > 0 {
		s.add("giftcard", []config.FlowStep{step("balance", balance, false), step("redeem", redeem, false)},
			"gift card: "+list(balance)+" shows a balance, "+list(redeem)+" redeems a card.",
			"no needs_success: people redeem without checking the balance; the flow is watched for velocity only (one actor redeeming far more often than others).")
		return
	}
	s.note("gift card: %s seen, but no cart or balance step to pair it with", list(redeem))
}

// Write writes r as YAML to paste into the config: a behavior: section with
// a flows list, each flow preceded by why it was suggested, then the notes
// as comments. With no flow it writes comments only, so pasting it changes
// nothing.
func Write(w io.Writer, r Result) error {
	var b strings.Builder
	scope := "every first-party endpoint that answered"
	if r.Documented {
		scope = "documented endpoints only (--spec)"
	}
	fmt.Fprintf(&b, "# Business flows suggested by vigil inventory flows from %d endpoints seen in traffic\n", r.Endpoints)
	fmt.Fprintf(&b, "# (%s). Review each one before use: declaring\n", scope)
	b.WriteString("# behavior.flows replaces the built-in checkout flow. See docs/behavior.md, \"Declaring flows\".\n")
	if len(r.Flows) == 0 {
		b.WriteString("# No flow recognised.\n")
	} else {
		b.WriteString("behavior:\n  flows:\n")
		for i, sg := range r.Flows {
			if i > 0 {
				b.WriteString("\n")
			}
			for _, why := range sg.Why {
				for _, line := range wrap(why, 100) {
					fmt.Fprintf(&b, "    # %s\n", line)
				}
			}
			fmt.Fprintf(&b, "    - name: %s\n      steps:\n", quote(sg.Flow.Name))
			for _, st := range sg.Flow.Steps {
				fmt.Fprintf(&b, "        - name: %s\n", quote(st.Name))
				if st.Method != "" {
					fmt.Fprintf(&b, "          method: %s\n", st.Method)
				}
				paths := make([]string, len(st.Path))
				for j, p := range st.Path {
					paths[j] = quote(p)
				}
				fmt.Fprintf(&b, "          path: [%s]\n", strings.Join(paths, ", "))
				if st.NeedsSuccess {
					b.WriteString("          needs_success: true\n")
				}
			}
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n# Not suggested:\n")
		for _, n := range r.Notes {
			for i, line := range wrap(n, 100) {
				if i == 0 {
					fmt.Fprintf(&b, "# - %s\n", line)
				} else {
					fmt.Fprintf(&b, "#   %s\n", line)
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// quote writes s as a YAML double-quoted scalar (JSON's escapes are YAML's).
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// wrap cuts s into lines of at most n bytes at spaces, and removes line
// breaks so a comment stays a comment.
func wrap(s string, n int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > n {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
