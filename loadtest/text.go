package loadtest

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// WriteText writes r for people: an aligned table per phase, then one
// line per failure, or "ok" when every check holds.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(label, format string, a ...any) {
		fmt.Fprintf(tw, "  %s\t%s\n", label, fmt.Sprintf(format, a...))
	}

	h := r.Handshakes
	fmt.Fprintf(tw, "backend handshakes (listener %s, refusal alert 80)\n", listenerName)
	row("connections", "%d at once (%d with SNI %s, %d without)", h.Connections, h.WithSNI, upstreamName, h.Connections-h.WithSNI)
	row("completed and answered", "%d", h.Completed)
	row("refused with alert 80", "%d", h.Refused)
	row("unexpected errors", "%d (the backend counted %d failed connections)", h.Unexpected, h.BackendFailed)
	row("peak in flight", "%d handshakes", h.PeakInFlight)
	row("wall time", "%.2f s", h.WallSeconds)
	row("handshakes/s", "%.0f", h.PerSecond)
	row("latency p50 / p99 / max", "%.1f / %.1f / %.1f ms", h.Latency.P50, h.Latency.P99, h.Latency.Max)
	row("listen backlog", "%s (accept queue overflows: %s)", known(int64(r.ListenBacklog), 0), known(h.ListenOverflows, -1))
	row("backend events kept", "%d", h.BackendEvents)
	memoryRows(row, h.Memory)

	x := r.Proxy
	fmt.Fprintf(tw, "\nproxy requests (Go proxy, sni auto, to %s)\n", upstreamName)
	row("requests", "%d from %d clients (%d connections)", x.Requests, x.Clients, x.ClientConnections)
	row("answered 200 with SNI", "%d", x.Succeeded)
	row("failed or lost", "%d", x.Requests-x.Succeeded)
	row("wall time", "%.2f s", x.WallSeconds)
	row("requests/s", "%.0f", x.PerSecond)
	row("latency p50 / p95 / p99", "%.1f / %.1f / %.1f ms (max %.1f)", x.Latency.P50, x.Latency.P95, x.Latency.P99, x.Latency.Max)
	row("upstream handshakes", "%d (ALPN %s)", x.UpstreamHandshakes, x.UpstreamALPN)
	row("backend requests", "%d", x.BackendRequests)
	row("backend events kept", "%d", x.BackendEvents)
	memoryRows(row, x.Memory)
	row("heap bound", "%s", mebibytes(x.HeapBound))
	fmt.Fprintln(tw)

	for _, e := range h.Errors {
		fmt.Fprintf(tw, "handshake error: %s\n", e)
	}
	for _, e := range h.BackendErrors {
		fmt.Fprintf(tw, "backend failure: %s\n", e)
	}
	for _, e := range x.Errors {
		fmt.Fprintf(tw, "proxy error: %s\n", e)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(tw, "FAIL %s\n", f)
	}
	if r.OK {
		fmt.Fprintln(tw, "ok: every check holds")
	}
	return tw.Flush()
}

// memoryRows writes the rows of m.
func memoryRows(row func(label, format string, a ...any), m Memory) {
	row("peak heap in use / sys", "%s / %s", mebibytes(m.PeakHeapInuse), mebibytes(m.PeakSys))
	rss := "unknown"
	if m.PeakRSS > 0 {
		rss = mebibytes(m.PeakRSS)
	}
	row("peak RSS (VmHWM)", "%s", rss)
}

// mebibytes formats n bytes in MiB.
func mebibytes(n uint64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// known formats n, or "unknown" when it is the unknown value.
func known(n, unknown int64) string {
	if n == unknown {
		return "unknown"
	}
	return strconv.FormatInt(n, 10)
}
