package detect

import (
	"context"
	"fmt"
	"strconv"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/types"
	"github.com/vigilsec/vigil"
)

// CRSConfig configures the optional OWASP Core Rule Set engine.
type CRSConfig struct {
	// Paranoia is the CRS paranoia level, 1 (few false positives) to 4
	// (most rules, many false positives). 0 means 1.
	Paranoia int
}

// CRSID is the detector id of the Core Rule Set engine.
const CRSID = "detect.crs"

// maxCRSHeaders bounds the header values handed to Coraza; a proxy's
// capture already caps the header size, imported traffic may not.
const maxCRSHeaders = 128

// maxCRSBody bounds the request body handed to Coraza: bodies are already
// capped by the capture size, and CRS rules are regular expressions whose
// cost grows with the input.
const maxCRSBody = 128 << 10

// CRS runs Coraza with the embedded OWASP Core Rule Set (CRS v4, from
// coraza-coreruleset; no files are read at run time) in detection-only mode
// over each request: URI, headers and body (JSON, XML, form and multipart
// are parsed by Coraza). Each exchange whose request matches attack rules
// yields one finding listing the rules (id, message, matched variable and a
// redacted value). It is optional (vigil … --crs): it costs far more than the
// built-in detectors and, at paranoia levels above 1, reports much benign
// traffic.
//
// Only the rule families that name an attack are reported (911 to 944); the
// initialisation, anomaly scoring and correlation rules (901, 905, 949, 980)
// are not. Response rules are not run: the built-in verbose detector covers
// leaks in responses. A CRS value is safe for concurrent use: Coraza's WAF
// is, and each exchange gets its own transaction.
type CRS struct {
	paranoia int
	waf      coraza.WAF
}

var _ vigil.Analyzer = (*CRS)(nil)

// NewCRS compiles the Core Rule Set at the configured paranoia level. It
// takes a fraction of a second; build it once.
func NewCRS(cfg CRSConfig) (*CRS, error) {
	if cfg.Paranoia == 0 {
		cfg.Paranoia = 1
	}
	if cfg.Paranoia < 1 || cfg.Paranoia > 4 {
		return nil, vigil.Errorf(vigil.EINVALID, "CRS paranoia level %d is out of range (want 1 to 4)", cfg.Paranoia)
	}
	waf, err := coraza.NewWAF(coraza.NewWAFConfig().WithRootFS(coreruleset.FS).WithDirectives(crsDirectives(cfg.Paranoia)))
	if err != nil {
		return nil, fmt.Errorf("load the Core Rule Set: %w", err)
	}
	return &CRS{paranoia: cfg.Paranoia, waf: waf}, nil
}

// crsDirectives is the Coraza configuration: detection only, request bodies
// parsed by content type, no audit log, no files, then the CRS at the
// paranoia level. An API's methods (PUT, PATCH, DELETE) are allowed. Rule
// 920350 (numeric Host header) is removed: captures record the URL the
// sensor forwarded to, often the upstream's address, not the client's Host.
func crsDirectives(paranoia int) string {
	pl := strconv.Itoa(paranoia)
	return `
SecRuleEngine DetectionOnly
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "^application/[a-z0-9.-]+[+]json" "id:200006,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyJsonDepthLimit 64
SecRequestBodyLimit ` + strconv.Itoa(maxCRSBody) + `
SecRequestBodyInMemoryLimit ` + strconv.Itoa(maxCRSBody) + `
SecRequestBodyLimitAction ProcessPartial
SecResponseBodyAccess Off
SecAuditEngine Off
Include @crs-setup.conf.example
SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=` + pl + `"
SecAction "id:900001,phase:1,pass,t:none,nolog,setvar:tx.detection_paranoia_level=` + pl + `"
SecAction "id:900200,phase:1,pass,t:none,nolog,setvar:'tx.allowed_methods=GET HEAD POST OPTIONS PUT PATCH DELETE'"
Include @owasp_crs/*.conf
SecRuleRemoveById 920350
`
}

// Paranoia is the paranoia level the rules were compiled at.
func (d *CRS) Paranoia() int { return d.paranoia }

// Analyze implements vigil.Analyzer.
func (d *CRS) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	rq := &x.Request
	if rq.URL == nil {
		return nil, nil
	}
	tx := d.waf.NewTransaction()
	defer tx.Close()
	tx.ProcessConnection(addrOf(x), 0, "", 0)
	proto := rq.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	tx.ProcessURI(rq.URL.RequestURI(), rq.Method, proto)
	if rq.Header.Get("Host") == "" && rq.URL.Host != "" {
		tx.AddRequestHeader("Host", rq.URL.Host)
	}
	n := 0
	for k, vs := range rq.Header {
		for _, v := range vs {
			if n++; n > maxCRSHeaders {
				break
			}
			tx.AddRequestHeader(k, v)
		}
	}
	if rq.Header.Get("Content-Length") == "" && rq.Header.Get("Transfer-Encoding") == "" && (len(rq.Body) > 0 || stateChanging(rq.Method)) {
		// Captures often drop framing headers; CRS reports their absence.
		tx.AddRequestHeader("Content-Length", strconv.Itoa(len(rq.Body)))
	}
	tx.ProcessRequestHeaders()
	if len(rq.Body) > 0 {
		if _, _, err := tx.WriteRequestBody(rq.Body[:min(len(rq.Body), maxCRSBody)]); err != nil {
			return nil, nil // an unreadable body is the client's problem, not ours
		}
	}
	if _, err := tx.ProcessRequestBody(); err != nil {
		return nil, nil
	}
	return d.findings(x, tx.MatchedRules()), nil
}

// findings turns the matched attack rules into one finding.
func (d *CRS) findings(x *vigil.Exchange, rules []types.MatchedRule) []vigil.Finding {
	var (
		ev    []vigil.Evidence
		sev   = vigil.SeverityInfo
		cat   vigil.Category
		title string
		n     int
	)
	for _, mr := range rules {
		meta := mr.Rule()
		id := meta.ID()
		fam := id / 1000
		if fam < 911 || fam > 944 || mr.Message() == "" {
			continue
		}
		n++
		s := crsSeverity(meta.Severity())
		if title == "" || s > sev {
			sev, cat, title = max(s, sev), crsCategory(fam), "CRS "+strconv.Itoa(id)+": "+mr.Message()
		}
		if len(ev) == maxEvidence {
			continue
		}
		where, value := "request", ""
		if md := mr.MatchedDatas(); len(md) > 0 {
			where = md[0].Variable().Name()
			if k := md[0].Key(); k != "" {
				where += ":" + k
			}
			value = evidenceValue(md[0].Key(), md[0].Value())
		}
		ev = append(ev, vigil.Evidence{Where: shorten(where), Value: value, Why: shorten("CRS rule " + strconv.Itoa(id) + " (" + crsFamily(id) + "): " + mr.Message())})
	}
	if n == 0 {
		return nil
	}
	conf := 0.6
	if n > 1 {
		conf = 0.75
	}
	return []vigil.Finding{finding(CRSID, x, cat, sev, conf, shorten(title), ev)}
}

// crsSeverity maps a CRS rule severity (CRITICAL for attacks, ERROR,
// WARNING and NOTICE for anomalies) to Vigil's.
func crsSeverity(s types.RuleSeverity) vigil.Severity {
	switch {
	case s <= types.RuleSeverityCritical:
		return vigil.SeverityHigh
	case s == types.RuleSeverityError:
		return vigil.SeverityMedium
	case s == types.RuleSeverityWarning:
		return vigil.SeverityLow
	}
	return vigil.SeverityInfo
}

// crsCategory files a CRS rule family under an OWASP API Security category.
// Injection, as for the built-in detectors, goes under API8:2023.
func crsCategory(family int) vigil.Category {
	switch family {
	case 913: // scanner detection
		return vigil.API9InventoryManagement
	case 931: // remote file inclusion: the server fetches a URL
		return vigil.API7SSRF
	case 943: // session fixation
		return vigil.API2BrokenAuth
	}
	return vigil.API8Misconfiguration // protocol attacks, LFI, RCE, PHP, generic, XSS, SQLi, Java
}

// crsFamily names a CRS rule family (the rule id's first three digits).
func crsFamily(id int) string {
	switch id / 1000 {
	case 911:
		return "method enforcement"
	case 913:
		return "scanner detection"
	case 920:
		return "protocol enforcement"
	case 921:
		return "protocol attack"
	case 922:
		return "multipart attack"
	case 930:
		return "local file inclusion"
	case 931:
		return "remote file inclusion"
	case 932:
		return "remote command execution"
	case 933:
		return "PHP injection"
	case 934:
		return "generic attack"
	case 941:
		return "XSS"
	case 942:
		return "SQL injection"
	case 943:
		return "session fixation"
	case 944:
		return "Java attack"
	}
	return "other"
}
