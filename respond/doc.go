// Package respond is Vigil's response path: a policy maps findings to
// actions (block, rate-limit, tarpit, decoy, monitor) against the actor that caused
// them, and a Responder, a vigil.Sink, applies it to the pipeline's findings
// and writes the actions to the store, from which the proxy enforces them.
//
// A policy is a YAML file (ParsePolicy, LoadPolicy; the built-in one is
// DefaultPolicy, in default-policy.yaml). It runs in monitor mode unless it
// says "mode: enforce": in monitor mode every action is written with Kind
// monitor, which the proxy does not enforce, and its Reason says what enforce
// mode would have done. See docs/respond.md.
package respond
