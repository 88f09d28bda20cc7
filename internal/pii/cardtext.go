package pii

import "strings"

// CardInText finds a card number written in groups inside free text ("pay
// with 4111 1111 1111 1111 today"): groups split by one space or one '-'
// (the same throughout), 4 digits first, then 4-digit groups (4-4-4-4,
// 4-4-4-4-3, 4-4-4-2 for Diners), or one of 6 (Amex 4-6-5, Diners 4-6-4),
// the last of 2 to 5 digits; Luhn-valid with an issuer prefix. An ungrouped
// number counts only after a word naming a payment card ("refund to card
// 4111111111111111"): without one, a long number in text is an order,
// tracking or account number as often. A number joined to a letter or a '+'
// (a phone number) is none; masks break the groups ("4111 XXXX XXXX 1111").
func CardInText(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		if !digit(s[i]) {
			continue
		}
		start := i
		var groups [6]int
		n := 0
		var sep byte
		for {
			j := i
			for j < len(s) && digit(s[j]) {
				j++
			}
			if n < len(groups) {
				groups[n] = j - i
			}
			n++
			i = j
			if j+1 < len(s) && (s[j] == ' ' || s[j] == '-') && (sep == 0 || s[j] == sep) && digit(s[j+1]) {
				sep = s[j]
				i = j + 1
				continue
			}
			break
		}
		if start > 0 && (alnum(s[start-1]) || s[start-1] == '+') || i < len(s) && alnum(s[i]) {
			continue
		}
		if groups[0] >= 13 && groups[0] <= 19 && cardWordBefore(s[:start]) {
			if d, ok := CardNumber(s[start : start+groups[0]]); ok {
				return d, true
			}
		}
		if n < 3 {
			continue
		}
		for k := min(n, len(groups)); k >= 3; k-- {
			if !cardGroups(groups[:k]) {
				continue
			}
			end, total := start, 0
			for _, g := range groups[:k] {
				total += g
				end += g + 1
			}
			if d, ok := CardNumber(s[start : end-1]); ok && total >= 13 {
				return d, true
			}
		}
	}
	return "", false
}

// cardWordBefore reports whether text ends with a word naming a payment card
// or its brand, maybe followed by "no", "number" and punctuation ("card:",
// "Visa #", "card no."). A card that is no payment card ("gift card",
// "loyalty card", "SIM card") does not count.
func cardWordBefore(text string) bool {
	w, text := lastWord(text)
	if w == "no" || w == "nr" || w == "num" || w == "number" {
		w, text = lastWord(text)
	}
	switch w {
	case "card":
		p, _ := lastWord(text)
		return !(p == "gift" || p == "loyalty" || p == "member" || p == "membership" || p == "reward" ||
			p == "rewards" || p == "sim" || p == "library" || p == "id" || p == "access" || p == "key")
	case "visa", "amex", "mastercard", "maestro", "discover", "unionpay", "jcb", "diners", "pan", "cc":
		return true
	}
	return false
}

// lastWord returns the lower-cased run of letters that ends text, once
// white space and the punctuation between a label and its value are
// trimmed, and the text before it. At most 16 letters are read: no card
// word is longer.
func lastWord(text string) (word, before string) {
	text = strings.TrimRight(text, " \t:#.=(\"'")
	i := len(text)
	for i > 0 && len(text)-i < 16 && (text[i-1]|0x20 >= 'a' && text[i-1]|0x20 <= 'z') {
		i--
	}
	if i > 0 && alnum(text[i-1]) { // a longer word, or one joined to digits
		return "", text[:i]
	}
	return strings.ToLower(text[i:]), text[:i]
}

// cardGroups reports a card-like grouping of digit counts.
func cardGroups(g []int) bool {
	last := g[len(g)-1]
	if g[0] != 4 || last < 2 || last > 5 {
		return false
	}
	if len(g) == 3 && g[1] == 6 {
		return true
	}
	for _, m := range g[1 : len(g)-1] {
		if m != 4 {
			return false
		}
	}
	return true
}

func digit(c byte) bool { return '0' <= c && c <= '9' }

func alnum(c byte) bool { return digit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' }
