package backend

import (
	"encoding/json"
	"io"
	"sync"
	"syscall"
	"time"
)

// Event kinds.
const (
	// KindHandshake is a TLS handshake the backend accepted and completed.
	KindHandshake = "handshake"
	// KindRefused is a ClientHello the backend refused.
	KindRefused = "refused"
	// KindFailed is a connection that failed before a handshake completed:
	// not TLS, a malformed or missing ClientHello, or a handshake error.
	KindFailed = "failed"
	// KindRequest is an HTTP request the backend answered.
	KindRequest = "request"
	// KindMode is a change of the server's mode (Server.SetCold): its
	// Reason is ModeCold or ModeWarm; it has no listener.
	KindMode = "mode"
)

// Modes of the server, the Reason of a KindMode event.
const (
	ModeCold = "cold"
	ModeWarm = "warm"
)

// Reasons of refused and failed events other than error texts.
const (
	ReasonMissingSNI = "missing-sni"
	ReasonUnknownSNI = "unknown-sni"
	ReasonHang       = "hang" // a HangAll listener
	ReasonNotTLS     = "not-tls"
)

// Event is one thing the backend saw. Seq increases by one per event,
// across all listeners, starting at 1.
type Event struct {
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	Listener string    `json:"listener"`
	Kind     string    `json:"kind"`
	// Conn identifies the connection, uniquely within the Server.
	Conn   uint64 `json:"conn"`
	Remote string `json:"remote"`
	// Local is the address the connection reached: which of the
	// backend's addresses (or unix sockets) the peer dialled, so that a
	// connection is attributed to the upstream it was for.
	Local string `json:"local,omitempty"`
	// SNI is the server_name in the ClientHello; "" when none was sent (or
	// no ClientHello was read).
	SNI string `json:"sni"`
	// Reason explains refused and failed events: one of the Reason
	// constants, or an error text.
	Reason string `json:"reason,omitempty"`
	// Alert is the TLS alert description the backend chose to send when
	// refusing, or 0. Alerts crypto/tls sends on its own are not recorded.
	Alert      int    `json:"alert,omitempty"`
	TLSVersion string `json:"tls_version,omitempty"`
	ALPN       string `json:"alpn,omitempty"`
	Resumed    bool   `json:"resumed,omitempty"`
	Host       string `json:"host,omitempty"`
	Method     string `json:"method,omitempty"`
	Path       string `json:"path,omitempty"`
	Status     int    `json:"status,omitempty"`
	// Pending, on requests to a plain listener (the harness's mark), counts
	// by TLS listener the connections from the same peer address whose
	// handshake had no final event yet: the events the harness must still
	// wait for.
	Pending map[string]int `json:"pending,omitempty"`
}

// MaxKeptEvents is the default bound of the events kept in memory for the
// control API (Config.KeepEvents); older ones are dropped (they stay in the
// JSON log), so that a long run holds bounded memory.
const MaxKeptEvents = 10000

// eventLog numbers events, keeps the last few (keep) in memory and writes
// each as one JSON line.
type eventLog struct {
	mu     sync.Mutex
	keep   int
	seq    int64
	events []Event       // the kept events, oldest first
	enc    *json.Encoder // nil when there is no log writer
}

func newEventLog(w io.Writer, keep int) *eventLog {
	if keep <= 0 {
		keep = MaxKeptEvents
	}
	l := &eventLog{keep: keep}
	if w != nil {
		l.enc = json.NewEncoder(w)
	}
	return l
}

// add stamps e with the next sequence number and the time, keeps it and
// logs it. Log write errors are ignored: the events stay available.
func (l *eventLog) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	e.Seq = l.seq
	e.Time = time.Now().UTC()
	if len(l.events) == l.keep {
		copy(l.events, l.events[1:])
		l.events = l.events[:l.keep-1]
	}
	l.events = append(l.events, e)
	if l.enc != nil {
		_ = l.enc.Encode(e)
	}
}

// since returns the kept events after sequence number after, of the named
// listener or of all when listener is "". The result is never nil.
func (l *eventLog) since(listener string, after int64) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []Event{}
	for _, e := range l.events {
		if e.Seq > after && (listener == "" || e.Listener == listener) {
			out = append(out, e)
		}
	}
	return out
}

// Signals that make a running sniproof backend warm or cold (SetCold), and
// their names as the Docker API's kill takes them.
const (
	SignalWarm     = syscall.SIGUSR1
	SignalCold     = syscall.SIGUSR2
	SignalWarmName = "SIGUSR1"
	SignalColdName = "SIGUSR2"
)
