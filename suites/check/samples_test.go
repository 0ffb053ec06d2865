//go:build conformance

package check_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

// sampleWant is what one location or backend of a production-shaped
// sample does: its cold verdict, and the location whose connection it
// rides warm when that changes its outcome.
type sampleWant struct {
	location string
	status   int
	sni      string
	cause    string
	// hazard is the warm status when the location has a hazard, 0 when
	// not; reused the location whose connection it rode then.
	hazard int
	reused string
	// noHello: no ClientHello of the request reached the upstream (a
	// server HAProxy holds DOWN); sni is "" then.
	noHello bool
}

// sample is one configuration of fixtures/check and every location's
// expected outcome, in the report's order.
type sample struct {
	id, proxy, file, name, reason string
	want                          []sampleWant
}

var samples = []sample{
	{"check/host-local/nginx", "nginx", "fixtures/check/loopback/nginx.conf",
		"sniproof check reaches nginx's loopback and unix socket upstreams as in production",
		"a local TLS sidecar is an upstream like any other: the backend takes its address inside the proxy's network namespace (issue 18: loopback upstreams were skipped)",
		[]sampleWant{
			{location: "location /orders/", status: 200, sni: "orders.mesh.internal"},
			{location: "location /payments/", status: 502, sni: "", cause: check.CauseNoSNI},
			{location: "location /search/", status: 200, sni: "search.mesh.internal"},
			{location: "location /ledger/", status: 200, sni: "ledger.mesh.internal"},
		}},
	{"check/host-local/haproxy", "haproxy", "fixtures/check/loopback/haproxy.cfg",
		"sniproof check reaches HAProxy's loopback and unix socket upstreams as in production",
		"a local TLS sidecar is an upstream like any other: the backend takes its address inside the proxy's network namespace (issue 18)",
		[]sampleWant{
			{location: "backend orders", status: 200, sni: "orders.mesh.internal"},
			{location: "backend payments", status: 503, sni: "", cause: check.CauseNoSNI},
			{location: "backend search", status: 200, sni: "search.mesh.internal"},
		}},
	{"check/keepalive/nginx", "nginx", "fixtures/check/keepalive/nginx.conf",
		"sniproof check gives each location sharing a keepalive upstream block its cold verdict, and the warm hazard",
		"a location's verdict must not depend on the order of requests: cold, /old/ sends the block's name and gets 502; warm, it rides the connection /billing/ opened (issue 12)",
		[]sampleWant{
			{location: "location /billing/", status: 200, sni: "billing.internal.example"},
			{location: "location /old/", status: 502, sni: "billing_pool", cause: check.CauseWrongName, hazard: 200, reused: "location /billing/"},
			{location: "location /invoices/", status: 200, sni: "billing.internal.example"},
		}},
	{"check/dynamic/compose", "nginx", "fixtures/check/dynamic/compose.conf",
		"sniproof check requests the set-variable upstreams of a compose conf.d file, resolved by Docker's DNS",
		"a variable proxy_pass is requested as the URL its set literal gives; resolver 127.0.0.11 is Docker's own DNS, in the run as in production (issue 12)",
		[]sampleWant{
			{location: "location /api/", status: 200, sni: "api.internal.example"},
			{location: "location /search/", status: 502, sni: "", cause: check.CauseNoSNI},
		}},
	{"check/dynamic/kubernetes", "nginx", "fixtures/check/dynamic/k8s.conf",
		"sniproof check answers as the cluster resolver and requests the set and map upstreams of a Kubernetes sidecar",
		"the backend answers as kube-dns at the resolver address the configuration names, with the upstreams' own addresses; set literals and map defaults give the requests (issue 12)",
		[]sampleWant{
			{location: "location /orders/", status: 200, sni: "orders.shop.svc.cluster.local"},
			{location: "location /tenants/", status: 200, sni: "tenants.shop.svc.cluster.local"},
			{location: "location /billing/", status: 502, sni: "", cause: check.CauseNoSNI},
		}},
	{"check/certbot/debian", "nginx", "fixtures/check/certbot/nginx.conf",
		"sniproof check runs a certbot-managed Debian nginx tree unchanged, with stand-ins for what lives outside it",
		"certbot's include /etc/letsencrypt/options-ssl-nginx.conf, its certificates and ssl_dhparam live outside /etc/nginx: each gets a stand-in named in the report, so nginx -t passes and every location is checked (issue 12)",
		[]sampleWant{
			{location: "location /", status: 200, sni: "www.shop-cdn.example"},
			{location: "location /billing/", status: 200, sni: "billing.internal.example"},
			{location: "location /old/", status: 502, sni: "billing_pool", cause: check.CauseWrongName, hazard: 200, reused: "location /billing/"},
			{location: "location /api/", status: 502, sni: "", cause: check.CauseNoSNI},
		}},
	{"check/haproxy/production", "haproxy", "fixtures/check/haproxy-prod/haproxy.cfg",
		"sniproof check runs a Debian HAProxy configuration with crt-base, ca-base, verify required, chroot, stats socket, errorfiles, log /dev/log and three backends under health checks",
		"each backend is judged on the connections to its own servers' addresses: the DOWN server's backend is told by its own health checks, not another backend's (issue 12)",
		[]sampleWant{
			{location: "backend be_web", status: 200, sni: "web.internal.example"},
			{location: "backend be_api", status: 503, cause: check.CauseNoSNI, noHello: true},
			{location: "backend be_pay", status: 200, sni: "pay.internal.example"},
		}},
	{"check/goproxy/routes", "goproxy", "fixtures/check/goproxy/goproxy.json",
		"sniproof check runs the bundled Go proxy's JSON unchanged: a route per upstream, IP and named, with sni off, name: and host-header",
		"the Go proxy is the third proxy on check's one driver, with an adapter of its own: routes are requested by host and path, each upstream impersonated at its own address, the run's CA written at the verify bundle a route names (issue 15)",
		[]sampleWant{
			{location: "route shop.example.com/", status: 200, sni: "www.shop-cdn.example"},
			{location: "route shop.example.com/api/", status: 502, sni: "", cause: check.CauseNoSNI},
			{location: "route shop.example.com/search/", status: 502, sni: "", cause: check.CauseNoSNI},
			{location: "route admin.example.com/", status: 200, sni: "admin.internal.example"},
			{location: "route */", status: 502, sni: "localhost", cause: check.CauseWrongName},
		}},
	{"check/haproxy/dns", "haproxy", "fixtures/check/haproxy-dns/haproxy.cfg",
		"sniproof check answers as the nameserver of an HAProxy resolvers section, for server-template slots and servers started without an address",
		"the backend answers as kube-dns at the nameserver address, with each upstream's own address; requests start once HAProxy says the servers have theirs (init-addr none), so no verdict races the resolution (issue 12)",
		[]sampleWant{
			{location: "backend be_web", status: 200, sni: "web.shop.svc.cluster.local"},
			{location: "backend be_api", status: 503, sni: "", cause: check.CauseNoSNI},
		}},
}

var _ = Describe("sniproof check on production-shaped samples", Label("check"), func() {
	for _, s := range samples {
		It(s.id+": every location's SNI, status, cause, fix and warm hazard", func(ctx SpecContext) {
			rec := &report.Record{ID: s.id, Name: s.name, Suite: "check", Proxy: s.proxy, Release: "bookworm",
				Expected: fixtures.Expect{Status: 0, Backend: ""},
				Evidence: report.Evidence{Source: s.file, Reproduce: "bin/sniproof check " + s.file, Reason: s.reason}}
			AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
			rep, err := run(ctx, check.Options{Config: filepath.Join(root, s.file)})
			rec.InfraError = suites.InfraText(err)
			Expect(err).NotTo(HaveOccurred())
			rec.Version, rec.Image, rec.Judged = rep.Version, rep.Image, true
			fmt.Fprintf(GinkgoWriter, "%s\n", text(rep))
			Expect(rep.Rejected).To(BeNil())
			Expect(rep.Locations).To(HaveLen(len(s.want)))
			for i, w := range s.want {
				l := rep.Locations[i]
				Expect(l.Location).To(Equal(w.location))
				Expect(l.Outcome).NotTo(Equal(check.NotChecked), "%s: %s", l.Location, l.NotChecked)
				Expect(l.Status).To(Equal(w.status), "%s %s: %s", rep.Proxy, l.Location, l.Request)
				if w.noHello {
					Expect(l.SNI).To(BeNil(), "%s %s: no ClientHello of the request reached the upstream", rep.Proxy, l.Location)
				} else {
					Expect(l.SNI).To(HaveValue(Equal(w.sni)), "%s %s: the upstream's SNI", rep.Proxy, l.Location)
				}
				Expect(l.Cause).To(Equal(w.cause), "%s %s", rep.Proxy, l.Location)
				if w.cause != "" {
					Expect(l.Fix).NotTo(BeEmpty(), "a broken location gets a fix")
				}
				if w.hazard == 0 {
					Expect(l.Hazard).To(BeNil(), "%s %s: no warm hazard", rep.Proxy, l.Location)
					continue
				}
				Expect(l.Hazard).NotTo(BeNil(), "%s %s: a warm hazard", rep.Proxy, l.Location)
				Expect(l.Hazard.Status).To(Equal(w.hazard))
				Expect(l.Hazard.Reused).To(Equal(w.reused))
			}
			Expect(leftovers(ctx, rep.Session)).To(BeEmpty(), "containers, networks and volumes of session %s", rep.Session)
			Expect(rep.ExitCode()).To(Equal(check.ExitFail))
		})
	}
})

var _ = It("check/certbot/root: --root /etc/letsencrypt=DIR copies the real files in instead of stand-ins", Label("check"), func(ctx SpecContext) {
	rec := &report.Record{ID: "check/certbot/root", Name: "sniproof check --root supplies the files a configuration names outside its folder", Suite: "check",
		Proxy: "nginx", Release: "bookworm", Expected: fixtures.Expect{Status: 0, Backend: ""},
		Evidence: report.Evidence{Source: "fixtures/check/certbot/nginx.conf", Reproduce: "bin/sniproof check fixtures/check/certbot/nginx.conf --root /etc/letsencrypt=./le",
			Reason: "an operator with the real certbot files names them; only what is still missing gets a stand-in (issue 12)"}}
	AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
	dir := GinkgoT().TempDir()
	options := "# certbot's options-ssl-nginx.conf\nssl_session_cache shared:le_nginx_SSL:10m;\nssl_session_timeout 1440m;\nssl_session_tickets off;\n"
	Expect(os.WriteFile(filepath.Join(dir, "options-ssl-nginx.conf"), []byte(options), 0o644)).To(Succeed())
	le, err := check.ParseRoot("/etc/letsencrypt=" + dir)
	Expect(err).NotTo(HaveOccurred())
	rep, err := run(ctx, check.Options{Config: filepath.Join(root, "fixtures/check/certbot/nginx.conf"), Roots: []check.Root{le}})
	rec.InfraError = suites.InfraText(err)
	Expect(err).NotTo(HaveOccurred())
	rec.Version, rec.Image, rec.Judged = rep.Version, rep.Image, true
	fmt.Fprintf(GinkgoWriter, "%s\n", text(rep))
	Expect(rep.Rejected).To(BeNil())
	notes := strings.Join(rep.Notes, "\n")
	Expect(notes).To(ContainSubstring("/etc/letsencrypt holds the 1 files of " + dir + " (--root)"))
	Expect(notes).NotTo(ContainSubstring("include /etc/letsencrypt/options-ssl-nginx.conf"), "the real file needs no stand-in")
	Expect(notes).To(ContainSubstring("ssl_dhparam /etc/letsencrypt/ssl-dhparams.pem"), "what is still missing gets one")
	Expect(rep.Locations).To(HaveLen(4))
})

var _ = It("check/haproxy/upgrade-3.2-to-3.4: a baseline from HAProxy 3.2 compared on 3.4 names every backend whose SNI or status changes, with cause and fix", Label("check"), func(ctx SpecContext) {
	const file = "fixtures/check/haproxy-upgrade/haproxy.cfg"
	rec := &report.Record{ID: "check/haproxy/upgrade-3.2-to-3.4", Name: "sniproof check --baseline from 3.2 (forky) on 3.4 (experimental) shows what sni-auto changes per backend", Suite: "check",
		Proxy: "haproxy", Release: "experimental", Expected: fixtures.Expect{Status: 0, Backend: ""},
		Evidence: report.Evidence{Source: file, Reproduce: "bin/sniproof check --release forky --out base.json " + file + " && bin/sniproof check --release experimental --baseline base.json " + file,
			Reason: "HAProxy 3.3 sends the request's Host as SNI for a server without sni (sni-auto; manual 3.4, server keyword \"sni-auto\"), and its health checks the Host of option httpchk (check-sni-auto): an operator upgrading must see, per backend, what changes (issue 17)"}}
	AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
	base, err := run(ctx, check.Options{Config: filepath.Join(root, file), Release: "forky"})
	rec.InfraError = suites.InfraText(err)
	Expect(err).NotTo(HaveOccurred())
	fmt.Fprintf(GinkgoWriter, "%s\n", text(base))
	saved := filepath.Join(GinkgoT().TempDir(), "base.json")
	f, err := os.Create(saved)
	Expect(err).NotTo(HaveOccurred())
	Expect(base.WriteJSON(f)).To(Succeed())
	Expect(f.Close()).To(Succeed())
	rep, err := run(ctx, check.Options{Config: filepath.Join(root, file), Release: "experimental", Baseline: saved})
	rec.InfraError = suites.InfraText(err)
	Expect(err).NotTo(HaveOccurred())
	rec.Version, rec.Image, rec.Judged = rep.Version, rep.Image, true
	fmt.Fprintf(GinkgoWriter, "%s\n", text(rep))
	Expect(base.Version).To(HavePrefix("3.2."))
	Expect(rep.Version).To(HavePrefix("3.4."))
	byName := map[string]check.Location{}
	for _, l := range rep.Locations {
		byName[l.Location] = l
	}
	for name, want := range map[string]struct {
		status       int
		sni, cause   string
		fix, finding string
	}{
		"backend be_web":    {503, "localhost", check.CauseWrongName, "sni str(web.internal.example)", "HAP007"},
		"backend be_api":    {200, "api.internal.example", "", "", ""},
		"backend be_img":    {200, "img.internal.example", "", "", ""},
		"backend be_pay":    {200, "pay.internal.example", "", "", ""},
		"backend be_legacy": {503, "localhost", check.CauseWrongName, "sni str(", "HAP007"},
	} {
		l, ok := byName[name]
		Expect(ok).To(BeTrue(), "3.4 reports %s", name)
		Expect(l.Status).To(Equal(want.status), name)
		Expect(l.SNI).To(HaveValue(Equal(want.sni)), name)
		Expect(l.Cause).To(Equal(want.cause), name)
		Expect(l.Fix).To(ContainSubstring(want.fix), name)
		if want.finding != "" {
			Expect(l.Lint).To(ContainElement(HaveField("Rule", want.finding)), name)
		}
	}
	Expect(rep.Changes).To(ConsistOf(
		And(HavePrefix("backend be_web "), ContainSubstring("SNI was none, now localhost"), ContainSubstring("sni-auto"), ContainSubstring("fix: server web1: sni str(web.internal.example)")),
		And(HavePrefix("backend be_img "), ContainSubstring("SNI was none, now img.internal.example; status 503 → 200")),
		And(HavePrefix("backend be_pay "), ContainSubstring("SNI was no ClientHello, now pay.internal.example; status 503 → 200")),
		And(HavePrefix("backend be_legacy "), ContainSubstring("SNI was none, now localhost"), ContainSubstring("fix: server legacy1: sni str(")),
	), "be_api, whose sni is explicit, is unchanged")
	Expect(rep.ExitCode()).To(Equal(check.ExitFail))
	Expect(leftovers(ctx, rep.Session)).To(BeEmpty(), "containers, networks and volumes of session %s", rep.Session)
})

var _ = It("check/dynamic/map-branch: an expectations entry's headers choose a map branch, attributed to the branch's own upstream", Label("check"), func(ctx SpecContext) {
	const file, expect = "fixtures/check/dynamic/k8s.conf", "fixtures/check/dynamic/k8s-expect.yaml"
	rec := &report.Record{ID: "check/dynamic/map-branch", Name: "sniproof check --expect with request.headers requests the map branch the header chooses", Suite: "check",
		Proxy: "nginx", Release: "bookworm", Expected: fixtures.Expect{Status: 0, Backend: ""},
		Evidence: report.Evidence{Source: file, Reproduce: "bin/sniproof check --expect " + expect + " " + file,
			Reason: "a map {} reading a request header (map $http_x_tenant) gives the upstream; check impersonates every branch and a request's headers choose one (issue 12)"}}
	AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
	rep, err := run(ctx, check.Options{Config: filepath.Join(root, file), Expect: filepath.Join(root, expect)})
	rec.InfraError = suites.InfraText(err)
	Expect(err).NotTo(HaveOccurred())
	rec.Version, rec.Image, rec.Judged = rep.Version, rep.Image, true
	fmt.Fprintf(GinkgoWriter, "%s\n", text(rep))
	Expect(strings.Join(rep.Notes, "\n")).To(ContainSubstring("the other branches of map $tenant_svc, tenants-beta.shop.svc.cluster.local, are impersonated too"))
	var met []string
	for _, l := range rep.Locations {
		if l.Request == nil {
			continue
		}
		Expect(l.Verdict).To(Equal(check.VerdictPass), "%s: %q", l.Request, l.Differences)
		met = append(met, l.Request.String())
	}
	Expect(met).To(ConsistOf("GET http://shop.example.com:8080/tenants/", "GET http://shop.example.com:8080/tenants/ (X-Tenant: beta)", "GET http://shop.example.com:8080/billing/"))
	Expect(rep.ExitCode()).To(Equal(check.ExitNotChecked), "/orders/ has no entry")
	Expect(leftovers(ctx, rep.Session)).To(BeEmpty(), "containers, networks and volumes of session %s", rep.Session)
})
