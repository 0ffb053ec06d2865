package backend

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Seen is the JSON body of every response to a request on a listener: what
// the backend saw on this request.
type Seen struct {
	Listener string `json:"listener"`
	// SNI is "" when the ClientHello had none, and on plain listeners.
	SNI        string `json:"sni"`
	Host       string `json:"host"`
	Method     string `json:"method"`
	Path       string `json:"path"`
	TLSVersion string `json:"tls_version"`
	ALPN       string `json:"alpn"`
	Resumed    bool   `json:"resumed"`
	Conn       uint64 `json:"conn"`
	// Status is the response status: 200, or 421 when a StrictHost listener
	// sees a Host that differs from the SNI.
	Status int `json:"status"`
}

// requestHandler answers every request on l with a Seen and records it.
func (s *Server) requestHandler(l *listener) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := r.Context().Value(connIDKey{}).(uint64)
		seen := Seen{
			Listener: l.cfg.Name,
			Host:     r.Host,
			Method:   r.Method,
			Path:     r.URL.Path,
			Conn:     id,
			Status:   http.StatusOK,
		}
		if r.TLS != nil {
			seen.SNI = r.TLS.ServerName
			seen.TLSVersion = tls.VersionName(r.TLS.Version)
			seen.ALPN = r.TLS.NegotiatedProtocol
			seen.Resumed = r.TLS.DidResume
			if misdirected(l.cfg, r.Host, seen.SNI) {
				seen.Status = http.StatusMisdirectedRequest
			}
		}
		var pending map[string]int
		if r.TLS == nil {
			pending = s.pendingHandshakes(r.RemoteAddr)
		}
		local := ""
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			local = a.String()
		}
		s.events.add(Event{
			Listener:   seen.Listener,
			Kind:       KindRequest,
			Pending:    pending,
			Conn:       id,
			Remote:     r.RemoteAddr,
			Local:      local,
			SNI:        seen.SNI,
			TLSVersion: seen.TLSVersion,
			ALPN:       seen.ALPN,
			Resumed:    seen.Resumed,
			Host:       seen.Host,
			Method:     seen.Method,
			Path:       seen.Path,
			Status:     seen.Status,
		})
		if s.cold.Load() {
			w.Header().Set("Connection", "close")
		}
		writeJSON(w, seen.Status, seen)
	})
}

// misdirected reports whether a StrictHost listener answers 421 to a request
// with this Host on a connection with this SNI. With an SNI the Host must
// name it. Without one, a Lenient listener (which served the handshake with
// its default certificate) takes the request as addressed to its first name,
// the default virtual host of Apache httpd, and refuses only a Host that is
// another of its names: httpd 2.4.64 and later answer 421 (AH02032) when a
// Host maps to a virtual host other than the one the handshake chose
// (modules/ssl/ssl_engine_kernel.c, ssl_hook_ReadReq()). A Host it does not
// serve falls to that default and is answered.
func misdirected(cfg Listener, host, sni string) bool {
	if !cfg.StrictHost {
		return false
	}
	host = hostOnly(host)
	if sni != "" || !cfg.Lenient || len(cfg.Names) == 0 {
		return !strings.EqualFold(host, sni)
	}
	for _, n := range cfg.Names[1:] {
		if strings.EqualFold(host, n) {
			return true
		}
	}
	return false
}

// hostOnly is a Host header without its port or IPv6 brackets.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// controlHandler serves the control API:
//
//	GET /healthz                       204 No Content
//	GET /events?listener=NAME&after=N  the events after N as a JSON array
func (s *Server) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /events", s.serveEvents)
	return mux
}

// serveEvents answers GET /events. Both parameters are optional: no
// listener means all, no after means 0. An unknown listener is a 404.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("listener")
	if name != "" && s.byName[name] == nil {
		http.Error(w, fmt.Sprintf("unknown listener %q", name), http.StatusNotFound)
		return
	}
	var after int64
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			http.Error(w, fmt.Sprintf("after: expected a non-negative integer, got %q", v), http.StatusBadRequest)
			return
		}
		after = n
	}
	writeJSON(w, http.StatusOK, s.Events(name, after))
}

// writeJSON writes v as a JSON response. An encoding error can only come
// from the client going away, so it is ignored.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
