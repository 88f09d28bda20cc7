package proxybench

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	txhttp "github.com/corazawaf/coraza/v3/http"
)

// corazaDirectives set Coraza and the Core Rule Set up as the
// coraza-coreruleset README does, blocking (SecRuleEngine On). The
// recommended file turns request body inspection on (JSON bodies are parsed
// by the CRS's own content-type rule) and response body inspection on for
// text types only, so the JSON answers here are not inspected.
const corazaDirectives = `
Include @coraza.conf-recommended
Include @crs-setup.conf.example
Include @owasp_crs/*.conf
SecRuleEngine On
`

// corazaProxy is Coraza with the CRS wrapped around an httputil.ReverseProxy
// to upstream, with the same transport as the reverseproxy target; closeIdle
// closes the transport's idle connections.
func corazaProxy(upstream *url.URL, conns int) (h http.Handler, closeIdle func(), err error) {
	waf, err := coraza.NewWAF(coraza.NewWAFConfig().WithRootFS(coreruleset.FS).WithDirectives(corazaDirectives))
	if err != nil {
		return nil, nil, fmt.Errorf("coraza with the core rule set: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	rp := httputil.NewSingleHostReverseProxy(upstream)
	rp.Transport = tr
	rp.ErrorLog = log.New(io.Discard, "", 0)
	return txhttp.WrapHandler(waf, rp), tr.CloseIdleConnections, nil
}
