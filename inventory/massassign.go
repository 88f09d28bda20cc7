package inventory

import (
	"context"
	"slices"
	"strings"

	"github.com/vigilsec/vigil"
	"github.com/vigilsec/vigil/internal/pii"
	"github.com/vigilsec/vigil/inventory/schema"
	"github.com/vigilsec/vigil/inventory/spec"
)

// DetectorMassAssignment is the id of MassAssignment's findings.
const DetectorMassAssignment = "detect.mass-assignment"

// maxAssignBody bounds the request bodies MassAssignment reads.
const maxAssignBody = 64 << 10

// MassAssignment finds request properties the spec does not define: a client
// setting what it should not (role, price, balance, verified). It reads the
// JSON bodies of POST, PUT and PATCH requests to documented operations whose
// spec declares request fields, and raises a finding (API3, chained) naming
// the undocumented properties: high when one of them is privilege-like,
// medium otherwise. Operations the spec gives no request schema, and
// undocumented endpoints (the inventory reports those), are left alone.
//
// It is stateless and safe for concurrent use.
type MassAssignment struct {
	specs *spec.Set
}

var _ vigil.Analyzer = (*MassAssignment)(nil)

// NewMassAssignment returns the detector for specs; with no operation in
// specs it never raises anything.
func NewMassAssignment(specs *spec.Set) *MassAssignment {
	if specs == nil {
		specs = spec.NewSet()
	}
	return &MassAssignment{specs: specs}
}

// Analyze implements vigil.Analyzer.
func (d *MassAssignment) Analyze(_ context.Context, x *vigil.Exchange) ([]vigil.Finding, error) {
	req := &x.Request
	switch req.Method {
	case "POST", "PUT", "PATCH":
	default:
		return nil, nil
	}
	if len(req.Body) == 0 || len(req.Body) > maxAssignBody || !isJSON(header(req.Header, "Content-Type"), req.Body) {
		return nil, nil
	}
	op := d.specs.MatchAlias(req.Host(), req.Method, req.Path())
	if op == nil || len(op.RequestFields) == 0 {
		return nil, nil
	}
	n := schema.New()
	if n.ObserveJSON(req.Body) != nil {
		return nil, nil
	}
	extra, _ := undocumentedFields(n.Fields(), op.RequestFields)
	if len(extra) == 0 {
		return nil, nil
	}
	sev := vigil.SeverityMedium
	var privileged []string
	for _, f := range extra {
		if privilegeField(f) {
			privileged = append(privileged, f)
		}
	}
	if len(privileged) > 0 {
		sev = vigil.SeverityHigh
	}
	ev := make([]vigil.Evidence, 0, min(len(extra), maxListed))
	for _, f := range extra[:min(len(extra), maxListed)] {
		why := "not in the spec's request schema of " + op.Method + " " + op.Path
		if slices.Contains(privileged, f) {
			why = "privilege-like property " + why
		}
		ev = append(ev, vigil.Evidence{Where: "body." + f, Why: why})
	}
	title := "Mass assignment: undocumented request properties " + listed(extra)
	return []vigil.Finding{{
		Detector:   DetectorMassAssignment,
		Category:   vigil.API3PropertyAuth,
		Area:       vigil.AreaChained,
		Severity:   sev,
		Confidence: 0.7,
		Time:       x.Time,
		ExchangeID: x.ID,
		Actor:      x.Actor,
		Title:      title,
		Evidence:   ev,
	}}, nil
}

// privilegeField: property names a client must not set on its own.
func privilegeField(path string) bool {
	name := path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		name = path[i+1:]
	}
	switch pii.NormKey(name) {
	case "role", "roles", "isadmin", "admin", "permissions", "permission", "scope", "scopes", "group", "groups",
		"price", "unitprice", "amount", "total", "balance", "credit", "credits", "discount",
		"verified", "isverified", "emailverified", "approved", "isapproved", "active", "isactive",
		"owner", "ownerid", "userid", "accountid", "tenantid", "tier", "plan", "status", "createdat", "id":
		return true
	}
	return false
}
