package report

import "github.com/vigilsec/vigil"

// categoryInfo is what the reports say about an OWASP API Security Top 10
// (2023) category: its title, the OWASP page and what to do about it.
type categoryInfo struct {
	Title string
	URL   string
	Help  string
}

var categories = []struct {
	Cat vigil.Category
	categoryInfo
}{
	{vigil.API1BOLA, categoryInfo{"Broken Object Level Authorization",
		"https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/",
		"Check on every request that the caller owns or may see the object named by the id in the path, query or body; do not rely on ids being hard to guess."}},
	{vigil.API2BrokenAuth, categoryInfo{"Broken Authentication",
		"https://owasp.org/API-Security/editions/2023/en/0xa2-broken-authentication/",
		"Verify token signatures with a fixed algorithm list (never alg:none), expire tokens, and rate-limit or lock out repeated failed logins per account and per client."}},
	{vigil.API3PropertyAuth, categoryInfo{"Broken Object Property Level Authorization",
		"https://owasp.org/API-Security/editions/2023/en/0xa3-broken-object-property-level-authorization/",
		"Bind request bodies to an allow-list of writable fields (role, price and status are not), and build responses from an allow-list of fields the caller may read."}},
	{vigil.API4ResourceConsumption, categoryInfo{"Unrestricted Resource Consumption",
		"https://owasp.org/API-Security/editions/2023/en/0xa4-unrestricted-resource-consumption/",
		"Rate-limit costly and guessable operations per client and per key, cap page sizes and body sizes, and answer 429 with Retry-After."}},
	{vigil.API5BFLA, categoryInfo{"Broken Function Level Authorization",
		"https://owasp.org/API-Security/editions/2023/en/0xa5-broken-function-level-authorization/",
		"Deny by default: check the caller's role on every administrative or privileged operation on the server, not only in the client."}},
	{vigil.API6BusinessFlows, categoryInfo{"Unrestricted Access to Sensitive Business Flows",
		"https://owasp.org/API-Security/editions/2023/en/0xa6-unrestricted-access-to-sensitive-business-flows/",
		"Enforce the order of a business flow on the server (no confirmation without a successful payment) and limit how fast one client can run it."}},
	{vigil.API7SSRF, categoryInfo{"Server Side Request Forgery",
		"https://owasp.org/API-Security/editions/2023/en/0xa7-server-side-request-forgery/",
		"Fetch client-supplied URLs only from an allow-list of hosts and schemes; refuse loopback, private, link-local and cloud metadata addresses after DNS resolution and on every redirect."}},
	{vigil.API8Misconfiguration, categoryInfo{"Security Misconfiguration",
		"https://owasp.org/API-Security/editions/2023/en/0xa8-security-misconfiguration/",
		"Answer errors with neutral messages (no stack traces, SQL or paths), use parameterised queries, send security headers, and switch off debug features in production."}},
	{vigil.API9InventoryManagement, categoryInfo{"Improper Inventory Management",
		"https://owasp.org/API-Security/editions/2023/en/0xa9-improper-inventory-management/",
		"Keep an inventory of every API version and host; retire old versions and debug routes, or give them the same protections as the current API."}},
	{vigil.API10UnsafeConsumption, categoryInfo{"Unsafe Consumption of APIs",
		"https://owasp.org/API-Security/editions/2023/en/0xaa-unsafe-consumption-of-apis/",
		"Treat what third-party services and models return as untrusted input: validate it, and keep secrets out of what they can be made to repeat."}},
}

// category describes c; an unknown or empty category gets a generic entry.
func category(c vigil.Category) categoryInfo {
	if i := categoryIndex(c); i < len(categories) {
		return categories[i].categoryInfo
	}
	return categoryInfo{Title: "Other", Help: "See the test's detail and evidence."}
}

// categoryIndex is c's place in the OWASP list, or len(categories) when c is
// not one of them.
func categoryIndex(c vigil.Category) int {
	for i, x := range categories {
		if x.Cat == c {
			return i
		}
	}
	return len(categories)
}

// categoryLabel is "API1:2023 Broken Object Level Authorization", or "Other".
func categoryLabel(c vigil.Category) string {
	i := categoryIndex(c)
	switch {
	case c == "":
		return category(c).Title
	case i == len(categories):
		return string(c)
	}
	return string(c) + " " + categories[i].Title
}
