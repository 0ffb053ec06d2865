// Package check runs an operator's own nginx (or HAProxy) configuration,
// unchanged, in the real proxy against impersonated upstreams, and reports
// per location (or backend) what the upstream saw: sniproof check.
//
// How a check runs:
//
//   - The configuration is read as nginx reads it in the container (lint's
//     parser, includes under the main file's folder read from this
//     machine), and lint's rules run over it: every finding is reported
//     with the location it concerns.
//   - Every TLS pass (proxy_pass https://, upstream {} servers behind one,
//     grpc_pass grpcs://, stream proxy_ssl on) names upstreams. The SNI-only
//     backend answers under all their host names (network aliases) on all
//     their ports, refusing a ClientHello without SNI or with another name
//     with alert 80, as the field report's upstream does, with a
//     certificate from the run's CA for exactly those names. The CA is
//     written at every *_ssl_trusted_certificate path. An IPv4 upstream is
//     impersonated: the backend takes its address on an internal network
//     made for it (a /29 to /24 subnet holding it), which nginx joins.
//     Addresses too close for a subnet each (a pool such as 10.0.0.5 and
//     10.0.0.6) share one: the backend takes the first, a replica of it
//     each other one, and listener names ("port-443#1") tell their events
//     apart.
//   - nginx runs from the operator's image or the project's, on the run's
//     internal networks only, so that the configuration reaches nothing
//     outside them (a relay, sniproof forward, publishes its ports on
//     127.0.0.1): an idle nginx keeps the container up; the configuration is copied in, nginx -t
//     tests it (missing certificate files get throwaway ones), and nginx
//     starts with it, with -g adding an error log on stderr.
//   - Requests run one at a time, from an expectations file or made up per
//     location. What the upstream saw comes from the backend's events in
//     its log: every event after the request started is the request's, and
//     check waits, bounded, until the request's events have arrived and
//     both logs are quiet (Waits). Nothing is added to the configuration to
//     mark requests.
//
// An HAProxy configuration (ProxyKind) runs the same way in HAProxy:
// lint's HAProxy parser reads it, every server with ssl is impersonated,
// the run's CA goes at every server ca-file, haproxy -c tests it and
// haproxy -db runs it. The requests check makes up go to each backend with
// an ssl server through the frontend whose use_backend rules route there,
// evaluated as HAProxy evaluates them for the ACLs check reads; health
// checks get their first verdicts before any request, and their
// connections are told apart from a request's (an answered request's
// connection, the ports of its backend's servers).
//
// Every container and network is labelled with the check's session (a new
// one, or SNIPROOF_SESSION's, as inside sniproof conformance) and removed
// when Run returns, unless SNIPROOF_KEEP=1 keeps them for debugging.
package check
