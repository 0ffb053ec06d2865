//go:build conformance

package check_test

import "github.com/sniproof/sniproof/check"

func init() {
	samples = append(samples, sample{"check/apache/debian-tree", "apache", "fixtures/check/apache",
		"sniproof check runs a Debian /etc/apache2 tree unchanged: envvars, mods-enabled, ports.conf, conf-enabled and four sites, with a RewriteRule [P], a Location ProxyPass to an IP, a balancer, ProxyPreserveHost On and a site without SSLProxyEngine",
		"Apache is a proxy on check's one driver with an adapter of its own: each route is requested by its virtual host's ServerName and its path, each upstream impersonated at its own address, the run's CA written at SSLProxyCACertificateFile, stand-ins for what the image's apache2-bin lacks (issue 15)",
		[]sampleWant{
			{location: "ProxyPass /", status: 500, sni: "admin.example.com", cause: check.CauseWrongName},
			{location: "ProxyPass /", status: 500, sni: "", cause: check.CauseHandshake},
			{location: "RewriteRule ^/api/(.*)$", status: 200, sni: "api.internal.example"},
			{location: "location /search/", status: 500, sni: "", cause: check.CauseNoSNI},
			{location: "ProxyPass /pay/", status: 200, sni: "pay1.internal.example"},
		}})
	samples = append(samples, sample{"check/apache/certbot-site", "apache", "fixtures/check/apache-site/shop-le-ssl.conf",
		"sniproof check runs a lone certbot-made HTTPS site file, included from a main configuration loading Debian's modules, with stand-ins for /etc/letsencrypt",
		"a sites-available file is what an operator has at hand: check includes it as Debian's apache2.conf would, puts a throwaway certificate at its SSLCertificateFile and a stand-in with certbot's SSLEngine on at options-ssl-apache.conf, and requests it over HTTPS (issue 15)",
		[]sampleWant{
			{location: "ProxyPass /api/", status: 200, sni: "api.internal.example"},
			{location: "ProxyPass /search/", status: 500, sni: "", cause: check.CauseNoSNI},
		}})
}
