package simulate

import "github.com/vigilsec/vigil"

// stepStages is the attack stage each campaign step stands for, by the
// truth's step name. Steps not listed (register, login, cart.add,
// checkout.quote, browsing) set the attack up and have no stage. The
// scorecard uses it to tell when a campaign's exploitation ran (see
// CampaignScore.StoppedBeforeExploitation and docs/simulate.md).
var stepStages = map[string]vigil.Stage{
	// reconnaissance
	"recon": vigil.StageRecon,
	"probe": vigil.StageRecon,
	// credential access: passwords, coupon and gift-card codes
	"credential-stuffing": vigil.StageCredentialAccess,
	"coupon.crack":        vigil.StageCredentialAccess,
	"giftcard.crack":      vigil.StageCredentialAccess,
	// exploitation
	"enumerate.orders":        vigil.StageExploitation,
	"enumerate.addresses":     vigil.StageExploitation,
	"coupon.use":              vigil.StageExploitation,
	"giftcard.use":            vigil.StageExploitation,
	"checkout.confirm-unpaid": vigil.StageExploitation,
	"cart.negative-quantity":  vigil.StageExploitation,
	"cart.price-tamper":       vigil.StageExploitation,
	"admin.coupon-create":     vigil.StageExploitation,
	"account-takeover":        vigil.StageExploitation,
	"jwt-forgery":             vigil.StageExploitation,
	"ssrf":                    vigil.StageExploitation,
	"privilege-escalation":    vigil.StageExploitation,
	"use.v1-users":            vigil.StageExploitation,
	"use.v1-orders":           vigil.StageExploitation,
	"use.debug":               vigil.StageExploitation,
	"mutate.cart":             vigil.StageExploitation,
	"inject.search":           vigil.StageExploitation,
	"prompt-injection":        vigil.StageExploitation,
	// exfiltration
	"bulk-export": vigil.StageExfiltration,
	"use.export":  vigil.StageExfiltration,
}

// StepStage returns the attack stage of a campaign step, and false for a
// step that only sets the attack up (and for every benign step).
func StepStage(step string) (vigil.Stage, bool) {
	s, ok := stepStages[step]
	return s, ok
}
