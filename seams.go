package vigil

import (
	"context"
	"time"
)

// Analyzer turns an Exchange into Findings. A verdict is a value: finding an
// attack is not an error; an error means broken input or infrastructure.
//
// The pipeline calls Analyze for one actor's exchanges from one goroutine, in
// order, but for different actors concurrently: state kept per actor needs no
// lock when it is sharded by Actor.Key, other state does.
type Analyzer interface {
	Analyze(ctx context.Context, x *Exchange) ([]Finding, error)
}

// Sink takes findings, e.g. to store them or send them to a SIEM.
type Sink interface {
	WriteFindings(ctx context.Context, fs []Finding) error
}

// FindingFilter selects findings. Zero fields do not filter.
type FindingFilter struct {
	Since       time.Time
	Detector    string
	ActorKey    string // any of the actor's keys
	MinSeverity Severity
	Limit       int // 0 means the store's default
}

// Store persists what Vigil learns. A store redacts what it writes (package
// redact): credentials, tokens, passwords and card numbers never reach the
// disk, whoever the caller is. Implementations: store/sqlite (embedded), and
// others that pass the contract suite in store/storetest.
type Store interface {
	Sink

	// UpsertEndpoints merges stats into the stored endpoints.
	UpsertEndpoints(ctx context.Context, stats []EndpointStats) error
	// AddSamples keeps a bounded sample of exchanges per endpoint: once an
	// endpoint holds the store's cap, older samples give way.
	AddSamples(ctx context.Context, samples []Sample) error
	PutIncident(ctx context.Context, inc Incident) error
	PutAction(ctx context.Context, a Action) error
	// DeleteAction lifts an action; ENOTFOUND when there is none with the id.
	DeleteAction(ctx context.Context, id string) error

	Findings(ctx context.Context, f FindingFilter) ([]Finding, error)
	Endpoints(ctx context.Context) ([]EndpointStats, error)
	Samples(ctx context.Context, e Endpoint, limit int) ([]Exchange, error)
	Incidents(ctx context.Context) ([]Incident, error)
	// Actions lists the actions in force at t, or all of them when t is zero.
	Actions(ctx context.Context, t time.Time) ([]Action, error)

	Close() error
}

// Sample is one stored exchange of an endpoint.
type Sample struct {
	Endpoint Endpoint
	Exchange *Exchange
}
