package loadtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/sniproof/sniproof/backend"
)

// HandshakeResult is the outcome of the handshake phase.
type HandshakeResult struct {
	// Connections is the number of connections opened at once; the first
	// WithSNI of them, half rounded up, send SNI upstreamName.
	Connections int `json:"connections"`
	WithSNI     int `json:"with_sni"`
	// Completed counts the connections with SNI whose handshake completed
	// and whose request got a 200 answer showing that SNI.
	Completed int `json:"completed"`
	// Refused counts the connections without SNI refused with alert 80:
	// the client's error says "internal error".
	Refused int `json:"refused"`
	// Unexpected counts every other outcome; Errors holds the first few
	// distinct ones.
	Unexpected int      `json:"unexpected_errors"`
	Errors     []string `json:"errors,omitempty"`
	// PeakInFlight is the most handshakes under way at one time: equal to
	// Connections when every handshake started before any ended.
	PeakInFlight int `json:"peak_in_flight"`
	// WallSeconds runs from releasing the handshakes to the last connection
	// judged, answer included; PerSecond is Completed plus Refused over it.
	WallSeconds float64 `json:"wall_s"`
	PerSecond   float64 `json:"handshakes_per_s"`
	// Latency is the time of each handshake, to completion or refusal.
	Latency Latency `json:"latency"`
	// ListenOverflows is how much the kernel's ListenOverflows counter
	// grew during the phase (connections dropped on a full accept queue,
	// and retried by the client), -1 when unknown. The counter is the
	// network namespace's: other listeners count too.
	ListenOverflows int64 `json:"listen_overflows"`
	// BackendHandshakes and BackendRefusals are the backend's own counts
	// of handshake and missing-SNI refusal events.
	BackendHandshakes int `json:"backend_handshakes"`
	BackendRefusals   int `json:"backend_refusals"`
	// BackendFailed counts the backend's failed events, such as a
	// ClientHello that did not arrive within its read timeout;
	// BackendErrors holds the first few distinct reasons.
	BackendFailed int      `json:"backend_failed"`
	BackendErrors []string `json:"backend_errors,omitempty"`
	// BackendEvents is the number of events the backend kept in memory.
	BackendEvents int    `json:"backend_events"`
	Memory        Memory `json:"memory"`
}

// failures lists the checks of r that do not hold.
func (r *HandshakeResult) failures() []string {
	var out []string
	if want := r.WithSNI; r.Completed != want || r.BackendHandshakes != want {
		out = append(out, fmt.Sprintf("handshakes: %d of %d connections with SNI completed and were answered (the backend counted %d handshakes)",
			r.Completed, want, r.BackendHandshakes))
	}
	if want := r.Connections - r.WithSNI; r.Refused != want || r.BackendRefusals != want {
		out = append(out, fmt.Sprintf("handshakes: %d of %d connections without SNI were refused with alert 80 (the backend counted %d refusals)",
			r.Refused, want, r.BackendRefusals))
	}
	if r.Unexpected > 0 {
		out = append(out, fmt.Sprintf("handshakes: %d unexpected errors", r.Unexpected))
	}
	return out
}

// outcome is what became of one connection: start and end are the
// handshake's, measured from the release of all handshakes.
type outcome struct {
	started    bool
	start, end time.Duration
	completed  bool
	refused    bool
	err        error
}

// runHandshakes runs the handshake phase with n connections.
func runHandshakes(ctx context.Context, p *pki, n int) (HandshakeResult, error) {
	srv, err := startBackend(p, 2*n+16)
	if err != nil {
		return HandshakeResult{}, err
	}
	// A close error is dropped: every connection is judged by then.
	defer func() { _ = srv.Close() }()
	addr := srv.Addr(listenerName).String()
	withSNI, withoutSNI := p.clientConfig(upstreamName), p.clientConfig("")
	res := HandshakeResult{Connections: n, WithSNI: (n + 1) / 2, ListenOverflows: -1}
	overflows, overflowsKnown := listenOverflows()
	mem := startSampler()

	// Every goroutine dials, then waits for release: all n connections are
	// open before any handshake starts, and stay open until all are judged.
	var (
		dialed, judged sync.WaitGroup
		release        = make(chan struct{})
		released       time.Time // written before release is closed
		outcomes       = make([]outcome, n)
		conns          = make([]net.Conn, n)
		d              net.Dialer
	)
	for i := range n {
		cfg := withSNI
		if i >= res.WithSNI {
			cfg = withoutSNI
		}
		dialed.Add(1)
		judged.Go(func() {
			c, err := d.DialContext(ctx, "tcp", addr)
			dialed.Done()
			if err != nil {
				outcomes[i].err = fmt.Errorf("dial: %w", stopped(ctx, err))
				return
			}
			conns[i] = c
			<-release
			outcomes[i] = judge(ctx, c, cfg, released)
		})
	}
	dialed.Wait()
	released = time.Now()
	close(release)
	judged.Wait()
	wall := time.Since(released)
	for _, c := range conns {
		if c != nil {
			_ = c.Close()
		}
	}
	res.Memory = mem.stop()
	if now, ok := listenOverflows(); ok && overflowsKnown {
		res.ListenOverflows = now - overflows
	}
	res.WallSeconds = wall.Seconds()
	res.tally(outcomes)
	res.PerSecond = perSecond(res.Completed+res.Refused, wall)
	res.countBackend(srv.Events("", 0))
	return res, nil
}

// tally counts the outcomes into r, with their latencies and the peak of
// handshakes in flight.
func (r *HandshakeResult) tally(outcomes []outcome) {
	var errs errorSample
	var starts, ends, latencies []time.Duration
	for _, o := range outcomes {
		switch {
		case o.err != nil:
			errs.add(o.err.Error())
		case o.completed:
			r.Completed++
		case o.refused:
			r.Refused++
		}
		if o.started {
			starts, ends = append(starts, o.start), append(ends, o.end)
			latencies = append(latencies, o.end-o.start)
		}
	}
	r.Unexpected, r.Errors = errs.count, errs.texts
	r.Latency = summarise(latencies)
	r.PeakInFlight = peakInFlight(starts, ends)
}

// countBackend counts the backend's events into r.
func (r *HandshakeResult) countBackend(events []backend.Event) {
	r.BackendEvents = len(events)
	var failed errorSample
	for _, e := range events {
		switch {
		case e.Kind == backend.KindHandshake && e.SNI == upstreamName:
			r.BackendHandshakes++
		case e.Kind == backend.KindRefused && e.Reason == backend.ReasonMissingSNI && e.Alert == 80:
			r.BackendRefusals++
		case e.Kind == backend.KindFailed:
			failed.add(e.Reason)
		}
	}
	r.BackendFailed, r.BackendErrors = failed.count, failed.texts
}

// judge runs the TLS handshake on c with cfg and judges it: with SNI it
// must complete and a request must get a 200 answer showing the SNI;
// without, the backend must refuse with alert 80. Ending ctx closes c.
func judge(ctx context.Context, c net.Conn, cfg *tls.Config, released time.Time) outcome {
	if ctx.Err() != nil {
		return outcome{err: fmt.Errorf("not started: %w", context.Cause(ctx))}
	}
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	tc := tls.Client(c, cfg)
	o := outcome{started: true, start: time.Since(released)}
	err := tc.Handshake()
	o.end = time.Since(released)
	switch {
	case cfg.ServerName == "" && isAlert80(err):
		o.refused = true
	case cfg.ServerName == "" && err == nil:
		o.err = errors.New("without SNI: the handshake completed, want alert 80")
	case cfg.ServerName == "":
		o.err = fmt.Errorf("without SNI: want alert 80, got: %w", stopped(ctx, err))
	case err != nil:
		o.err = fmt.Errorf("with SNI: handshake: %w", stopped(ctx, err))
	default:
		if err := request(tc); err != nil {
			o.err = fmt.Errorf("with SNI: %w", stopped(ctx, err))
		} else {
			o.completed = true
		}
	}
	return o
}

// stopped is the cause of ctx's end when ctx has ended, else err: ending
// ctx closes the connections, and the errors that follow say only that.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

// isAlert80 reports whether err is the internal_error alert received from
// the peer. crypto/tls returns a received alert as a net.OpError "remote
// error" whose unexported error is worded as tls.AlertError.
func isAlert80(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error" && op.Err != nil &&
		op.Err.Error() == tls.AlertError(80).Error()
}

// request sends GET / on c and checks the backend's answer.
func request(c *tls.Conn) error {
	req, err := http.NewRequest(http.MethodGet, "https://"+upstreamName+"/", nil)
	if err != nil {
		return fmt.Errorf("make request: %w", err)
	}
	if err := req.Write(c); err != nil {
		return fmt.Errorf("send request: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	defer resp.Body.Close()
	return checkAnswer(resp)
}
