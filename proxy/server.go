// Package proxy is sniproof's bundled Go reverse proxy, one of the proxies
// under test. It is an ordinary net/http reverse proxy whose upstream SNI
// is chosen per route and in plain view: each route names its SNI mode,
// the proxy dials and completes every upstream TLS handshake itself with
// exactly that name, pools connections per route and SNI name, and writes
// the name sent in every access and error log line.
//
// The log is line-oriented text, one line per Write:
//
//	access method=GET host=www.shop.test path=/x status=200 route=www.shop.test/ upstream=https://www.xx.test:443 sni="www.xx.test" duration=3ms
//	error method=GET host=www.shop.test path=/x status=502 route=www.shop.test/ upstream=https://www.xx.test:443 sni="" err="tls handshake with 10.0.0.2:443: remote error: tls: internal error (alert 80 internal_error)" hint: the upstream refuses a ClientHello without SNI; set "sni": "auto" or "name:www.xx.test"
//
// Values are bare, or Go-quoted when empty or when they hold spaces,
// quotes or unprintable characters; sni and err are always quoted. The
// path is the request target as received, query included. Requests the
// proxy answers itself (health, no route) have no route, upstream or sni.
// An error line, when there is one, comes before the access line of its
// request and may end with " hint: " and advice running to the end of the
// line. Other lines come from net/http (client TLS errors, aborted
// responses) and carry its own wording.
package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// HealthPath is answered on every frontend by the proxy itself, with 200
// and the body "ok", whatever the host; it is never proxied.
const HealthPath = "/__sniproof/health"

// headerTimeout bounds reading a client's request header.
const headerTimeout = 10 * time.Second

// Server is the proxy: its frontends and routes.
type Server struct {
	log       *log.Logger
	routes    routeTable
	all       []*route
	frontends []*frontend
	wg        sync.WaitGroup // the Serve loops

	mu      sync.Mutex
	started bool
	stopped bool
}

// frontend is one listening address.
type frontend struct {
	name string // "http" or "https"
	addr string
	srv  *http.Server
	ln   net.Listener // set by Start
}

// New makes a Server for cfg, which it validates, reading the frontend
// certificates and the routes' CA bundles. logw receives the access and
// error log lines, one Write per line, never two at once; nil discards
// them. The caller must call Start to serve, then Shutdown.
func New(cfg *Config, logw io.Writer) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validate config: %w", err)
	}
	t, err := cfg.Timeouts.parse()
	if err != nil {
		return nil, err
	}
	if logw == nil {
		logw = io.Discard
	}
	s := &Server{log: log.New(logw, "", 0)}
	for _, r := range cfg.Routes {
		rt, err := newRoute(r, t)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", r.name(), err)
		}
		s.all = append(s.all, rt)
	}
	s.routes = newRouteTable(s.all)
	rp := &httputil.ReverseProxy{
		Rewrite:        rewrite,
		Transport:      upstreams{},
		ModifyResponse: recordStatus,
		ErrorHandler:   s.proxyError,
		ErrorLog:       s.log,
	}
	handler := s.handler(rp)
	newServer := func(tc *tls.Config) *http.Server {
		return &http.Server{
			Handler:           handler,
			TLSConfig:         tc,
			ReadHeaderTimeout: headerTimeout,
			IdleTimeout:       t.idle,
			ErrorLog:          s.log,
		}
	}
	if cfg.HTTP != "" {
		s.frontends = append(s.frontends, &frontend{name: "http", addr: cfg.HTTP, srv: newServer(nil)})
	}
	if cfg.HTTPS != "" {
		tc := &tls.Config{}
		for i, c := range cfg.Certificates {
			cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
			if err != nil {
				return nil, fmt.Errorf("certificates[%d]: load key pair: %w", i, err)
			}
			tc.Certificates = append(tc.Certificates, cert)
		}
		s.frontends = append(s.frontends, &frontend{name: "https", addr: cfg.HTTPS, srv: newServer(tc)})
	}
	return s, nil
}

// Start binds every frontend, then serves them in the background; HTTPS
// offers HTTP/2. If a bind fails, Start releases the others and returns an
// error naming the frontend.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("start proxy: shut down")
	}
	if s.started {
		return errors.New("start proxy: already started")
	}
	for i, f := range s.frontends {
		ln, err := net.Listen("tcp", f.addr)
		if err != nil {
			for _, bound := range s.frontends[:i] {
				_ = bound.ln.Close()
				bound.ln = nil
			}
			return fmt.Errorf("bind %s frontend: %w", f.name, err)
		}
		f.ln = ln
	}
	s.started = true
	for _, f := range s.frontends {
		s.wg.Go(func() { s.serve(f) })
	}
	return nil
}

// serve runs f's HTTP server until Shutdown.
func (s *Server) serve(f *frontend) {
	var err error
	if f.srv.TLSConfig != nil {
		err = f.srv.ServeTLS(f.ln, "", "")
	} else {
		err = f.srv.Serve(f.ln)
	}
	if !errors.Is(err, http.ErrServerClosed) {
		s.log.Printf("error frontend=%s: serve: %v", f.name, err)
	}
}

// HTTPAddr is the address the plain HTTP frontend is bound to, or nil when
// there is none or the server is not started.
func (s *Server) HTTPAddr() net.Addr { return s.addr("http") }

// HTTPSAddr is the address the HTTPS frontend is bound to, or nil when
// there is none or the server is not started.
func (s *Server) HTTPSAddr() net.Addr { return s.addr("https") }

func (s *Server) addr(name string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.frontends {
		if f.name == name && f.ln != nil {
			return f.ln.Addr()
		}
	}
	return nil
}

// Shutdown stops every frontend from accepting and waits for the requests
// in flight to finish, or for ctx to be done, whichever comes first; then
// it closes the connections that remain and the idle upstream connections.
// It returns an error wrapping ctx's when it had to cut requests short.
// Calls after the first do nothing and return nil.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	s.mu.Unlock()

	errs := make([]error, len(s.frontends))
	var wg sync.WaitGroup
	for i, f := range s.frontends {
		wg.Go(func() {
			if err := f.srv.Shutdown(ctx); err != nil {
				_ = f.srv.Close()
				errs[i] = fmt.Errorf("shut down %s frontend: %w", f.name, err)
			}
		})
	}
	wg.Wait()
	s.wg.Wait()
	for _, rt := range s.all {
		rt.closeIdle()
	}
	return errors.Join(errs...)
}

// exchange is one proxied request. The ReverseProxy hooks find it in the
// request context; they all run on the handler's goroutine.
type exchange struct {
	in     *http.Request
	route  *route
	sni    string // the SNI name sent upstream, "" for none
	status int    // the status answered, once known
}

type exchangeKey struct{}

func exchangeOf(ctx context.Context) *exchange {
	return ctx.Value(exchangeKey{}).(*exchange)
}

// handler answers the health path, finds the route of every other request
// and proxies it with rp, then writes the access log line.
func (s *Server) handler(rp *httputil.ReverseProxy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if r.URL.Path == HealthPath {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, "ok")
			s.logAccess(r, http.StatusOK, nil, start)
			return
		}
		rt := s.routes.match(r.Host, r.URL.Path)
		if rt == nil {
			http.Error(w, "sniproof proxy: no route for this host and path", http.StatusNotFound)
			s.logAccess(r, http.StatusNotFound, nil, start)
			return
		}
		x := &exchange{in: r, route: rt, sni: rt.sni(r.Host)}
		// Deferred: the ReverseProxy panics to abort a response whose body
		// failed midway, and the request still gets its line.
		defer func() { s.logAccess(r, x.status, x, start) }()
		rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x)))
	})
}

// rewrite makes the upstream request: URL and path from the route, the
// X-Forwarded-* headers (the client's address appended to an incoming
// X-Forwarded-For), and the Host header the route asks for.
func rewrite(pr *httputil.ProxyRequest) {
	rt := exchangeOf(pr.In.Context()).route
	pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
	pr.SetXForwarded()
	pr.SetURL(rt.upstream) // the Host header becomes the URL's host
	switch {
	case rt.hostHeader == hostClient:
		pr.Out.Host = pr.In.Host
	case strings.HasPrefix(rt.hostHeader, hostValuePrefix):
		pr.Out.Host = strings.TrimPrefix(rt.hostHeader, hostValuePrefix)
	}
}

// upstreams sends every request through the transport of its route and
// SNI name.
type upstreams struct{}

func (upstreams) RoundTrip(req *http.Request) (*http.Response, error) {
	x := exchangeOf(req.Context())
	return x.route.transport(x.sni).RoundTrip(req)
}

func recordStatus(resp *http.Response) error {
	exchangeOf(resp.Request.Context()).status = resp.StatusCode
	return nil
}

// proxyError answers a request the upstream could not answer, 502 or 504,
// and writes the error log line.
func (s *Server) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	x := exchangeOf(r.Context())
	d := diagnose(err, x.route, x.sni)
	x.status = d.status
	line := fmt.Sprintf("error %s route=%s upstream=%s sni=%q err=%q",
		requestFields(x.in, d.status), value(x.route.name), value(x.route.rawUpstream), x.sni, d.detail)
	if d.hint != "" {
		line += " hint: " + d.hint
	}
	s.log.Print(line)
	http.Error(w, http.StatusText(d.status), d.status)
}

// logAccess writes the access log line of r; x is nil when the proxy
// answered r itself.
func (s *Server) logAccess(r *http.Request, status int, x *exchange, start time.Time) {
	line := "access " + requestFields(r, status)
	if x != nil {
		line += fmt.Sprintf(" route=%s upstream=%s sni=%q", value(x.route.name), value(x.route.rawUpstream), x.sni)
	}
	s.log.Printf("%s duration=%dms", line, time.Since(start).Milliseconds())
}

// requestFields are the log fields naming a client request and its status.
func requestFields(r *http.Request, status int) string {
	return fmt.Sprintf("method=%s host=%s path=%s status=%d", value(r.Method), value(r.Host), value(r.RequestURI), status)
}

// value is s as a log value: bare, or Go-quoted when it is empty or holds
// a space, a quote or anything unprintable.
func value(s string) string {
	if s == "" || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return r == ' ' || r == '"' || !strconv.IsPrint(r)
	}) {
		return strconv.Quote(s)
	}
	return s
}
