package vigil

import "time"

// Endpoint is one operation of an API: host, method and path template
// ("/orders/{id}").
type Endpoint struct {
	Host     string `json:"host"`
	Method   string `json:"method"`
	Template string `json:"template"`
}

func (e Endpoint) String() string { return e.Method + " " + e.Host + e.Template }

// EndpointStats is what traffic taught about an endpoint over a period. Stores
// merge them: counts add up, first and last seen widen.
type EndpointStats struct {
	Endpoint
	FirstSeen time.Time        `json:"first_seen"`
	LastSeen  time.Time        `json:"last_seen"`
	Count     int64            `json:"count"`
	Statuses  map[int]int64    `json:"statuses,omitempty"` // response status → count
	Auth      map[string]int64 `json:"auth,omitempty"`     // auth kind seen ("none", "bearer", …) → count
}
