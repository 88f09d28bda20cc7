// Package correlate turns scattered findings into incidents: the findings of
// one actor, or of one cluster of addresses that share a client fingerprint,
// over time, with the attack stages they reached (recon, credential access,
// exploitation, exfiltration), a score that rises as the chain progresses,
// the attack areas involved, a bounded timeline and the actions taken.
//
// A Correlator is a vigil.Sink placed after the store and the responder. When
// an incident reaches a new stage it emits a finding of detector
// "incident.stage" (critical when exploitation follows recon or credential
// access) to its own sinks — the store and the responder — so that an
// ordinary policy rule can act on an incident's stage.
//
// Which findings open an incident, how actors are keyed and linked, the
// stage table, the score and the memory bounds are described in
// docs/incidents.md.
package correlate
