// Package redact keeps credentials out of everything sniproof writes:
// operators attach check, lint and probe output to CI runs and commit
// check's JSON reports as baselines, so the values of credential-bearing
// directives and headers in their configurations must never reach a byte
// of it.
//
// What is redacted, in any configuration language or log line:
//
//   - the value after a credential-bearing name: Authorization,
//     Proxy-Authorization, Cookie, Set-Cookie, and any header, variable,
//     directive or parameter whose name holds token, secret, passw, pwd
//     or credential, has key as a word, or ends in auth (proxy_set_header X-Api-Key "...", set
//     $api_token ...; HAProxy stats auth, userlist password and
//     insecure-password, http-request set-header; Apache RequestHeader;
//     Caddy header_up; "Authorization: Bearer ..." in a log; token=... in
//     a query string);
//   - the password of a URL's user:password@ (Apache ProxyPass, any URL);
//   - crypt(3) and bcrypt password hashes wherever they stand (HAProxy
//     userlist, Caddy basic_auth).
//
// The name stays, so a report still says which header was set. A value
// that only refers to something else is kept, because it is no secret: a
// variable or placeholder ($http_authorization, %[req.hdr(x)],
// {env.TOKEN}) or a file path (ssl_certificate_key /etc/ssl/x.key).
package redact

import (
	"reflect"
	"regexp"
	"strings"
)

// Mark replaces every redacted value.
const Mark = "REDACTED"

// sensitiveWords are the parts of a name that make its value a credential.
// "auth" counts only at the end of a name (stats auth, basicauth), as
// names such as auth_request or an acl auth_ok hold no credential; "key"
// only as a word of the name (X-Api-Key, api_key, apikey), not in words
// such as keyword or monkey.
var sensitiveWords = []string{"authorization", "cookie", "token", "secret", "passw", "pwd", "credential", "apikey", "privatekey", "accesskey"}

// keyWord is "key" as a word of a name.
var keyWord = regexp.MustCompile(`(^|[-_.])key($|[-_.])`)

// notSecret are names that hold a sensitive word but never a credential.
var notSecret = map[string]bool{"keys_zone": true, "keyval_zone": true, "proxy_cache_key": true, "fastcgi_cache_key": true,
	"uwsgi_cache_key": true, "scgi_cache_key": true, "hash-key": true, "ssl_stapling_responder": true}

// identifier is a name a value can follow: a header, variable, directive
// or parameter name, possibly quoted, with a $ before it or a : or =
// after it.
var identifier = regexp.MustCompile(`^["']?\$?\{?([A-Za-z][A-Za-z0-9_.-]*)\}?["']?([:=]?)$`)

// Sensitive reports whether a name (a header, variable, directive or
// parameter name) marks its value as a credential.
func Sensitive(name string) bool {
	n := strings.ToLower(strings.TrimLeft(name, "$"))
	if notSecret[n] {
		return false
	}
	for _, w := range sensitiveWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return keyWord.MatchString(n) || strings.HasSuffix(n, "auth")
}

var (
	// userinfo is the password of scheme://user:password@host.
	userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@"']*):([^@\s/"']+)@`)
	// hashes are crypt(3) ($1$, $5$, $6$, $y$) and bcrypt ($2a$...) hashes.
	hashes = regexp.MustCompile(`\$(?:1|5|6|y|2[abxy]?)\$[./A-Za-z0-9$]{8,}`)
	// pair is NAME=VALUE inside a longer text (a query string, a URL
	// parameter, an ini line without spaces).
	pair = regexp.MustCompile(`([A-Za-z][A-Za-z0-9_.-]*)=([^&;,\s"']+)`)
	// reference is a variable or placeholder: its value is elsewhere.
	reference = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%\[[^\]]*\]|\{[A-Za-z_][A-Za-z0-9_.-]*\}`)
)

// Text redacts every credential in s, line by line.
func Text(s string) string {
	if s == "" {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = line(l)
	}
	return strings.Join(lines, "\n")
}

// line redacts one line.
func line(l string) string {
	l = userinfo.ReplaceAllString(l, "${1}:"+Mark+"@")
	l = hashes.ReplaceAllString(l, Mark)
	toks := tokens(l)
	var b strings.Builder
	last := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if q := quotedHeader(l[t.start:t.end]); q != "" {
			// A quoted header line, h2o's "Authorization: Bearer x".
			b.WriteString(l[last:t.start])
			b.WriteString(q)
			last = t.end
			continue
		}
		m := identifier.FindStringSubmatch(l[t.start:t.end])
		if m == nil || !Sensitive(m[1]) {
			continue
		}
		if m[2] == ":" && !quoted(l[t.start:t.end]) && i+1 < len(toks) && !strings.ContainsAny(l[toks[i+1].start:toks[i+1].start+1], `"'[`) {
			// A header line, "Authorization: Bearer x": the rest of the line.
			end := strings.TrimRight(l, " \t;")
			if rest := l[toks[i+1].start:len(end)]; !keep(rest) {
				b.WriteString(l[last:toks[i+1].start])
				b.WriteString(Mark)
				last = len(end)
			}
			break
		}
		j := i + 1
		if j < len(toks) && (l[toks[j].start:toks[j].end] == "=" || l[toks[j].start:toks[j].end] == ":") {
			j++
		}
		if j >= len(toks) {
			continue
		}
		v := toks[j]
		val := l[v.start:v.end]
		if strings.HasSuffix(val, ";") && !quoted(val) {
			val = strings.TrimSuffix(val, ";")
		}
		inner, open, close := unquote(val)
		if inner == "" || structural(inner) || keep(inner) {
			continue
		}
		b.WriteString(l[last:v.start])
		b.WriteString(open + Mark + close)
		last = v.start + len(val)
		i = j
	}
	b.WriteString(l[last:])
	return pair.ReplaceAllStringFunc(b.String(), func(p string) string {
		m := pair.FindStringSubmatch(p)
		if !Sensitive(m[1]) || keep(m[2]) || m[2] == Mark {
			return p
		}
		return m[1] + "=" + Mark
	})
}

// span is one token of a line: a word, or a quoted or bracketed string.
type span struct{ start, end int }

// tokens splits a line into words, keeping quoted strings ("...", '...')
// and JSON arrays ([...]) whole, with any ; or , right after them.
func tokens(l string) []span {
	var out []span
	i := 0
	for i < len(l) {
		if l[i] == ' ' || l[i] == '\t' {
			i++
			continue
		}
		start := i
		switch l[i] {
		case '"', '\'':
			q := l[i]
			i++
			for i < len(l) && l[i] != q {
				if l[i] == '\\' {
					i++
				}
				i++
			}
			i = min(i+1, len(l))
		case '[':
			if depth := strings.IndexByte(l[i:], ']'); depth >= 0 {
				i += depth + 1
			} else {
				i = len(l)
			}
		default:
			for i < len(l) && l[i] != ' ' && l[i] != '\t' {
				i++
			}
		}
		for i < len(l) && (l[i] == ';' || l[i] == ',') {
			i++
		}
		out = append(out, span{start, i})
	}
	return out
}

// unquote splits a value into its content and the quotes (or brackets)
// around it, which redaction keeps; trailing , and ; stay outside.
func unquote(v string) (inner, open, close string) {
	tail := strings.TrimRight(v, ";,")
	suffix := v[len(tail):]
	if len(tail) >= 2 {
		switch {
		case (tail[0] == '"' || tail[0] == '\'') && tail[len(tail)-1] == tail[0]:
			return tail[1 : len(tail)-1], tail[:1], tail[len(tail)-1:] + suffix
		case tail[0] == '[' && tail[len(tail)-1] == ']':
			return tail[1 : len(tail)-1], "[", "]" + suffix
		}
	}
	return tail, "", suffix
}

// quotedHeader is a quoted header line whose header marks a credential
// ("Authorization: Bearer x", quotes included) with its value redacted, a
// list ([...]) with such lines redacted, or "" for any other token.
func quotedHeader(tok string) string {
	inner, open, close := unquote(tok)
	if open == "[" {
		if r := line(inner); r != inner {
			return open + r + close
		}
		return ""
	}
	name, value, ok := strings.Cut(inner, ":")
	if open == "" || !ok || !headerName.MatchString(name) || !Sensitive(name) || keep(value) {
		return ""
	}
	return open + name + ": " + Mark + close
}

// headerName is an HTTP header's name.
var headerName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)

func quoted(v string) bool { return strings.HasPrefix(v, `"`) || strings.HasPrefix(v, `'`) }

// structural tokens end or open a block: no value follows the name.
func structural(v string) bool {
	return v == "{" || v == "}" || v == "(" || v == ")" || strings.HasPrefix(v, "#")
}

// prose are words that follow a sensitive word in sentences ("a
// certificate and key there", "the token is"), never a credential.
var prose = map[string]bool{"a": true, "an": true, "and": true, "are": true, "as": true, "at": true, "by": true, "file": true,
	"files": true, "for": true, "from": true, "in": true, "is": true, "it": true, "of": true, "on": true, "or": true, "pair": true,
	"that": true, "the": true, "there": true, "this": true, "to": true, "was": true, "were": true, "which": true, "with": true}

// keep reports whether a value is no secret: it only refers to a
// variable or placeholder, it is a file path, a word of a sentence, or
// already redacted.
func keep(v string) bool {
	v = strings.Trim(v, `"' ;,.`)
	if v == "" || strings.Contains(v, Mark) || prose[v] {
		return true
	}
	if strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "../") || strings.HasPrefix(v, "~/") {
		return true
	}
	return !strings.ContainsFunc(reference.ReplaceAllString(v, ""), func(r rune) bool {
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	})
}

// Copy returns a deep copy of v in which every string is redacted (Text),
// and every value under a map key that is a credential-bearing name (a
// header map's "Authorization") is redacted whole. Unexported fields, and
// fields tagged redact:"-" (facts no configuration wrote, such as the
// "passwd 1:4.17.4-2" of an image's package list), are copied as they
// are.
func Copy[T any](v T) T {
	return clone(reflect.ValueOf(&v).Elem(), false).Interface().(T)
}

// Value redacts one value known to be a credential, for a field or map
// entry whose name says so: kept only when it refers to something else.
func Value(v string) string {
	if keep(v) {
		return v
	}
	return Mark
}

func clone(v reflect.Value, secret bool) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if secret {
			s = Value(s)
		} else {
			s = Text(s)
		}
		out.SetString(s)
	case reflect.Pointer:
		if !v.IsNil() {
			p := reflect.New(v.Type().Elem())
			p.Elem().Set(clone(v.Elem(), secret))
			out.Set(p)
		}
	case reflect.Interface:
		if !v.IsNil() {
			out.Set(clone(v.Elem(), secret))
		}
	case reflect.Struct:
		out.Set(v)
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() && f.Tag.Get("redact") != "-" {
				out.Field(i).Set(clone(v.Field(i), false))
			}
		}
	case reflect.Slice:
		if !v.IsNil() {
			out.Set(reflect.MakeSlice(v.Type(), v.Len(), v.Len()))
			for i := 0; i < v.Len(); i++ {
				out.Index(i).Set(clone(v.Index(i), secret))
			}
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(clone(v.Index(i), secret))
		}
	case reflect.Map:
		if !v.IsNil() {
			out.Set(reflect.MakeMapWithSize(v.Type(), v.Len()))
			iter := v.MapRange()
			for iter.Next() {
				k := iter.Key()
				out.SetMapIndex(clone(k, false), clone(iter.Value(), secret || k.Kind() == reflect.String && Sensitive(k.String())))
			}
		}
	default:
		out.Set(v)
	}
	return out
}
