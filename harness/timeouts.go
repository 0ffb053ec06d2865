package harness

import "time"

// Timeouts are every wait of the harness, in one place.
type Timeouts struct {
	// ContainerStart bounds the start of one container until it is ready.
	ContainerStart time.Duration
	// Request bounds one client request through a proxy, answer included.
	// It exceeds the proxies' own upstream timeouts so that a 504 arrives.
	Request time.Duration
	// Sync bounds the wait for a case's synchronisation mark to appear in
	// the proxy's and the backend's logs after the request is answered.
	Sync time.Duration
}

// DefaultTimeouts are the timeouts of a run.
var DefaultTimeouts = Timeouts{
	ContainerStart: 60 * time.Second,
	Request:        20 * time.Second,
	Sync:           10 * time.Second,
}
