package report

import (
	"encoding/json"
	"io"

	"github.com/vigilsec/vigil/scan"
)

// writeJSON writes the report as is: its fields in declaration order,
// indented by two spaces, HTML characters escaped, and a final newline.
func writeJSON(w io.Writer, r *scan.Report) error {
	out := *r
	if out.Results == nil {
		out.Results = []scan.Result{} // "results": [] rather than null
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(&out)
}
