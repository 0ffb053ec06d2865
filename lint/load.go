package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tufanbarisyildirim/gonginx/config"
	"github.com/tufanbarisyildirim/gonginx/parser"
	"go.yaml.in/yaml/v3"
)

// directive is one nginx directive: its name, its arguments unquoted, where
// it is, and for a block the directives inside, with the contents of
// included files spliced in where their include directive stood.
type directive struct {
	name     string
	args     []string
	file     string
	line     int
	parent   *directive // the enclosing block; nil for a file's root
	children []*directive
	block    bool
}

// arg returns the i-th argument, or "" when there is none.
func (d *directive) arg(i int) string {
	if i < len(d.args) {
		return d.args[i]
	}
	return ""
}

// pos is where d is, as FILE:LINE.
func (d *directive) pos() string {
	return d.file + ":" + strconv.Itoa(d.line)
}

// ConfigError is a configuration file that cannot be read or parsed.
type ConfigError struct {
	File string
	// Line is the line of the error, 0 when unknown.
	Line int
	Msg  string
	// Err is the class of the error, ErrNotConfig or nil.
	Err error
}

func (e *ConfigError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// ErrNotConfig is the class of a ConfigError for a file that is no
// configuration of the proxy at all: binary data, or text in another
// language (YAML, JSON, a Caddyfile, an Apache httpd configuration). Its
// message says what the file looks like; the tool reading it adds what
// it expects instead.
var ErrNotConfig = errors.New("not a configuration")

// loader reads one configuration, following its includes.
type loader struct {
	// dir resolves relative include paths: the directory of the file named
	// on the command line, as nginx resolves them against the directory of
	// its main configuration file.
	dir string
	// open holds the absolute paths of the files being read, to find
	// include cycles.
	open  map[string]bool
	files []string // every file read, in order
}

// load reads the configuration in path and every file it includes.
func load(path string) (*directive, []string, error) {
	l := &loader{dir: filepath.Dir(path), open: map[string]bool{}}
	root := &directive{block: true, file: path}
	if err := l.readFile(path, root); err != nil {
		return nil, nil, err
	}
	return root, l.files, nil
}

// readFile parses path and appends its directives to parent's children.
func (l *loader) readFile(path string, parent *directive) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return &ConfigError{File: path, Msg: err.Error()}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return &ConfigError{File: path, Msg: "cannot read: " + err.Error()}
	}
	l.open[abs] = true
	defer delete(l.open, abs)
	l.files = append(l.files, path)
	conf, err := parse(string(data))
	if err != nil {
		return parseError(path, data, err)
	}
	if !parsedToEnd(data) {
		return &ConfigError{File: path, Line: strayBrace(data), Msg: `unexpected "}"`}
	}
	for _, d := range conf.GetDirectives() {
		if err := l.add(d, path, parent); err != nil {
			return err
		}
	}
	return nil
}

// parse parses an nginx configuration: first as nginx reads it
// (checkText), whose error is a *ConfigError without its File, then with
// gonginx, which checks its syntax only: directives of any module are
// welcome.
func parse(text string) (*config.Config, error) {
	lua, err := checkText([]byte(text))
	if err != nil {
		return nil, err
	}
	return parser.NewStringParser(blankLua(text, lua), parser.WithSkipValidDirectivesErr(), parser.WithSkipComments()).Parse()
}

// endMark is a directive parsedToEnd appends to a configuration.
const endMark = "sniproof_end_of_file"

// parsedToEnd reports whether gonginx reads data, which it parsed without
// an error, to its end: it stops quietly at a '}' that closes no block, so
// a directive appended to data is then missing from the result.
func parsedToEnd(data []byte) bool {
	conf, err := parse(string(data) + "\n" + endMark + ";\n")
	if err != nil {
		return false
	}
	ds := conf.GetDirectives()
	return len(ds) > 0 && ds[len(ds)-1].GetName() == endMark
}

// strayBrace returns the line of the first '}' in data that closes no
// block; 0 when there is none.
func strayBrace(data []byte) int {
	depth, stray := 0, 0
	scanBraces(data, func(open bool, line int) bool {
		switch {
		case open:
			depth++
		case depth == 0:
			stray = line
			return false
		default:
			depth--
		}
		return true
	})
	return stray
}

// scanBraces calls f for each '{' (open) and '}' of an nginx configuration,
// with its line, skipping quoted strings, comments and ${variables}, until
// f returns false.
func scanBraces(data []byte, f func(open bool, line int) bool) {
	line := 1
	var quote byte
	comment := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\n':
			line++
			comment = false
		case comment:
		case quote != 0 && c == '\\':
			i++
			if i < len(data) && data[i] == '\n' {
				line++
			}
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			comment = true
		case c == '$' && i+1 < len(data) && data[i+1] == '{':
			if end := bytes.IndexByte(data[i:], '}'); end > 0 {
				i += end
			}
		case c == '{' || c == '}':
			if !f(c == '{', line) {
				return
			}
		}
	}
}

// add converts d, read from file, into a directive under parent; an
// include directive adds the directives of the files it names instead.
func (l *loader) add(d config.IDirective, file string, parent *directive) error {
	return build(d, file, parent, l.include, nil)
}

// build converts d, read from file, into a directive under parent, and its
// block's directives under it. An include directive goes to include instead;
// opened, when set, is told of each block before its directives are built.
func build(d config.IDirective, file string, parent *directive,
	include func(n, parent *directive) error, opened func(n *directive)) error {
	n := &directive{name: d.GetName(), file: file, line: d.GetLine(), parent: parent}
	for _, p := range d.GetParameters() {
		n.args = append(n.args, unquote(p.GetValue()))
	}
	if n.name == "include" {
		return include(n, parent)
	}
	parent.children = append(parent.children, n)
	b := d.GetBlock()
	if b == nil {
		return nil
	}
	n.block = true
	if opened != nil {
		opened(n)
	}
	for _, c := range b.GetDirectives() {
		if err := build(c, file, n, include, opened); err != nil {
			return err
		}
	}
	return nil
}

// include reads the files an include directive names into parent. Like
// nginx, a pattern may match nothing, while a plain path must exist; a
// pattern skips hidden files.
func (l *loader) include(inc *directive, parent *directive) error {
	pattern := inc.arg(0)
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(l.dir, pattern)
	}
	glob := strings.ContainsAny(pattern, "*?[")
	paths, err := filepath.Glob(pattern)
	if err != nil {
		return &ConfigError{File: inc.file, Line: inc.line, Msg: fmt.Sprintf("include %s: %v", inc.arg(0), err)}
	}
	if !glob && len(paths) == 0 {
		return &ConfigError{File: inc.file, Line: inc.line,
			Msg: fmt.Sprintf("include %s: no such file %s (relative paths are resolved against %s, the directory of the file linted)", inc.arg(0), pattern, l.dir)}
	}
	for _, p := range paths {
		if glob && strings.HasPrefix(filepath.Base(p), ".") {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return &ConfigError{File: inc.file, Line: inc.line, Msg: err.Error()}
		}
		if l.open[abs] {
			return &ConfigError{File: inc.file, Line: inc.line, Msg: fmt.Sprintf("include %s: includes itself through %s", inc.arg(0), p)}
		}
		if err := l.readFile(p, parent); err != nil {
			return err
		}
	}
	return nil
}

// unquote strips the quotes gonginx keeps around a quoted argument and
// undoes the escaped quote inside.
func unquote(s string) string {
	if len(s) < 2 || (s[0] != '"' && s[0] != '\'') || s[len(s)-1] != s[0] {
		return s
	}
	q := string(s[0])
	return strings.ReplaceAll(s[1:len(s)-1], `\`+q, q)
}

var (
	// gonginx's "unexpected token BlockEnd (}) on line 3, column 1".
	unexpectedToken = regexp.MustCompile(`^unexpected token (\w+) \((.*)\) on line (\d+), column \d+$`)
	// gonginx's "... starting at line 3, column 12" and the like.
	atLine = regexp.MustCompile(`line (\d+)`)
)

// parseError turns an error of parse for file into a ConfigError with the
// line: checkText's, or gonginx's in nginx's words where gonginx's are
// obscure (its end-of-file token is the literal "\x00").
func parseError(file string, data []byte, err error) *ConfigError {
	var ce *ConfigError
	if errors.As(err, &ce) {
		ce.File = file
		return ce
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if m := unexpectedToken.FindStringSubmatch(msg); m != nil {
		if m[1] == "Eof" {
			return &ConfigError{File: file, Line: lastLine(data), Msg: `unexpected end of file, expecting ";" or "}"`}
		}
		line, _ := strconv.Atoi(m[3])
		return &ConfigError{File: file, Line: line, Msg: fmt.Sprintf("unexpected %q", m[2])}
	}
	if msg == "unexpected eof in block" {
		return &ConfigError{File: file, Line: lastLine(data), Msg: `unexpected end of file, expecting "}"`}
	}
	e := &ConfigError{File: file, Msg: msg}
	if m := atLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
	}
	return e
}

// lastLine is the number of data's last line with anything on it: where
// the end of a file is reported.
func lastLine(data []byte) int {
	return bytes.Count(bytes.TrimRight(data, " \t\r\n"), []byte("\n")) + 1
}

// Blank says why a configuration file's content holds no directive: "is
// empty" (nothing, or only blanks) or "holds only comments"; "" when it
// holds anything else.
func Blank(data []byte) string {
	comments := false
	for _, l := range bytes.Split(data, []byte("\n")) {
		switch l = bytes.TrimSpace(l); {
		case len(l) == 0:
		case l[0] == '#':
			comments = true
		default:
			return ""
		}
	}
	if comments {
		return "holds only comments"
	}
	return "is empty"
}

// nginxName is the shape of every nginx directive's name.
var nginxName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

var utf8BOM = []byte("\xef\xbb\xbf")

// checkText returns the first reason nginx does not read data as a
// configuration: binary data or text in another language (ErrNotConfig),
// or the first syntax error nginx reports (nginxSyntax); nil when nginx's
// parser reads it. The error has no File. Text is taken for another
// language only when nginx cannot read it or its first word is no
// directive name, so that no nginx configuration is.
func checkText(data []byte) ([][2]int, *ConfigError) {
	if what, line := binaryKind(data); what != "" {
		return nil, &ConfigError{Line: line, Msg: what + ", not an nginx configuration", Err: ErrNotConfig}
	}
	first, lua, err := nginxSyntax(data)
	if err != nil || first != "" && !nginxName.MatchString(first) {
		if what, line := otherLanguage(data); what != "" {
			return nil, &ConfigError{Line: line, Msg: what + ", not an nginx configuration", Err: ErrNotConfig}
		}
	}
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(data, utf8BOM) {
		return nil, &ConfigError{Line: 1, Msg: fmt.Sprintf("unknown directive %q: the file starts with a UTF-8 byte order mark, which nginx reads as part of the first directive's name (save the file without it)", first)}
	}
	return lua, nil
}

// blankLua returns text with the Lua code at the spans lua (offsets of
// text, each from past a *_by_lua_block's '{' to before its '}') made
// blank, its newlines kept: gonginx, which reads Lua as nginx words, then
// reads the block and keeps every line where it was.
func blankLua(text string, lua [][2]int) string {
	if len(lua) == 0 {
		return text
	}
	b := []byte(text)
	for _, span := range lua {
		for i := span[0]; i < span[1]; i++ {
			if b[i] != '\n' {
				b[i] = ' '
			}
		}
	}
	return string(b)
}

// magics are the first bytes of binary files operators name by mistake.
var magics = []struct{ prefix, what string }{
	{"\x7fELF", "binary data (an ELF executable)"},
	{"\x1f\x8b", "binary data (a gzip archive)"},
	{"PK\x03\x04", "binary data (a zip archive)"},
	{"\x89PNG\r\n\x1a\n", "binary data (a PNG image)"},
	{"%PDF-", "binary data (a PDF document)"},
	{"\xff\xfe", "UTF-16 text (save it as UTF-8)"},
	{"\xfe\xff", "UTF-16 text (save it as UTF-8)"},
}

// binaryKind says what data is when it is no text, and the line where that
// shows; "" for text. A NUL byte, which no configuration holds (and which
// gonginx would take for the end of the file), makes data binary.
func binaryKind(data []byte) (string, int) {
	for _, m := range magics {
		if bytes.HasPrefix(data, []byte(m.prefix)) {
			return m.what, 1
		}
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return "binary data (it holds NUL bytes)", bytes.Count(data[:i], []byte("\n")) + 1
	}
	return "", 0
}

var (
	// apacheSections are Apache httpd's <Section> names, lower-case.
	apacheSections = []string{"virtualhost", "ifmodule", "ifdefine", "directory", "directorymatch", "location", "locationmatch",
		"files", "filesmatch", "proxy", "proxymatch", "macro"}
	// apacheDirectives are Apache httpd directives that start most of its
	// configurations (nginx's directives are lower-case).
	apacheDirectives = []string{"ServerName", "ServerAlias", "ServerRoot", "ServerAdmin", "DocumentRoot", "Listen", "LoadModule",
		"ProxyPass", "ProxyPassReverse", "ProxyPreserveHost", "SSLEngine", "SSLProxyEngine", "SSLCertificateFile", "RewriteEngine",
		"RewriteRule", "ErrorLog", "CustomLog", "IncludeOptional"}
	// caddyDirectives are Caddyfile directives that no nginx directive is
	// named.
	caddyDirectives = []string{"reverse_proxy", "file_server", "php_fastcgi", "respond", "encode", "handle", "handle_path",
		"handle_errors", "route", "redir", "tls", "basic_auth", "basicauth", "header", "import", "forward_auth", "templates", "uri"}
	// siteAddress is a Caddyfile site address: example.com, :443,
	// https://example.com:8443/path, *.example.com.
	siteAddress = regexp.MustCompile(`^(https?://)?(\*\.)?[A-Za-z0-9_.-]*(:[0-9]+)?(/\S*)?,?$`)
)

// otherLanguage says which language text data is in when it is one that
// operators name by mistake (JSON, YAML, an Apache httpd configuration, a
// Caddyfile), and the line where that shows; "" when none.
func otherLanguage(data []byte) (string, int) {
	lines := strings.Split(string(data), "\n")
	first, at := "", 0 // the first word, and its line, past blanks and comments
	for i, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			first, at = f[0], i+1
			break
		}
	}
	if (strings.HasPrefix(first, "{") || strings.HasPrefix(first, "[")) && json.Valid(data) {
		return "JSON", at
	}
	if first == "---" || first == "-" || strings.HasSuffix(first, ":") {
		var doc any
		if yaml.Unmarshal(data, &doc) == nil {
			switch d := doc.(type) {
			case map[string]any:
				if kind, ok := d["kind"].(string); ok && d["apiVersion"] != nil {
					return fmt.Sprintf("YAML (a Kubernetes %s)", kind), at
				}
				return "YAML", at
			case []any:
				return "YAML", at
			}
		}
	}
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if tag, ok := strings.CutPrefix(f[0], "<"); ok && slices.Contains(apacheSections, strings.ToLower(strings.TrimSuffix(tag, ">"))) ||
			slices.Contains(apacheDirectives, f[0]) {
			return "an Apache httpd configuration", i + 1
		}
	}
	if first == "{" || siteAddress.MatchString(first) && (strings.ContainsAny(first, ".:") || strings.HasPrefix(first, "localhost")) {
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 0 && slices.Contains(caddyDirectives, f[0]) {
				return "a Caddyfile", at
			}
		}
	}
	return "", 0
}

// ngxWord is a word of an nginx directive and the line it starts on.
type ngxWord struct {
	text   string
	line   int
	quoted bool
}

// The ends of a directive, as ngx_conf_read_token returns them.
const (
	ngxEnd        = iota // ';'
	ngxBlockStart        // '{'
	ngxBlockDone         // '}', with no word before it
	ngxFileDone          // the end of the file, with no word before it
)

// ngxScanner reads an nginx configuration directive by directive, as
// nginx's ngx_conf_read_token does (src/core/ngx_conf_file.c, alike in
// nginx 1.22 and 1.26).
type ngxScanner struct {
	data []byte
	pos  int
	line int
	// quoteLine is, at the end of the file, the line where a quoted string
	// that is not closed starts; 0 when none.
	quoteLine int
}

func isNgxSpace(ch byte) bool { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' }

// next reads the words of one directive up to its end. msg is nginx's
// error when there is one, reported at s.line (or at the end of the file);
// words are then the words read, the one unfinished at the end of the file
// included.
func (s *ngxScanner) next() (words []ngxWord, end int, msg string) {
	needSpace, lastSpace, comment, variable, escaped, sQuoted, dQuoted := false, true, false, false, false, false, false
	start, startLine := s.pos, s.line
	for {
		if s.pos >= len(s.data) {
			if len(words) == 0 && lastSpace {
				return nil, ngxFileDone, ""
			}
			if !lastSpace {
				words = append(words, ngxWord{text: string(s.data[start:]), line: startLine})
				if sQuoted || dQuoted {
					s.quoteLine = startLine
				}
			}
			return words, 0, `unexpected end of file, expecting ";" or "}"`
		}
		ch := s.data[s.pos]
		s.pos++
		if ch == '\n' {
			s.line++
			comment = false
		}
		if comment {
			continue
		}
		if escaped {
			escaped = false
			continue
		}
		if needSpace {
			switch {
			case isNgxSpace(ch):
				lastSpace, needSpace = true, false
				continue
			case ch == ';':
				return words, ngxEnd, ""
			case ch == '{':
				return words, ngxBlockStart, ""
			case ch == ')':
				lastSpace, needSpace = true, false
			default:
				return words, 0, fmt.Sprintf(`unexpected "%c"`, ch)
			}
		}
		if lastSpace {
			start, startLine = s.pos-1, s.line
			switch ch {
			case ' ', '\t', '\r', '\n':
			case ';', '{':
				if len(words) == 0 {
					return nil, 0, fmt.Sprintf(`unexpected "%c"`, ch)
				}
				if ch == '{' {
					return words, ngxBlockStart, ""
				}
				return words, ngxEnd, ""
			case '}':
				if len(words) > 0 {
					return words, 0, `unexpected "}"`
				}
				return nil, ngxBlockDone, ""
			case '#':
				comment = true
			case '\\':
				escaped, lastSpace = true, false
			case '"':
				start++
				dQuoted, lastSpace = true, false
			case '\'':
				start++
				sQuoted, lastSpace = true, false
			case '$':
				variable, lastSpace = true, false
			default:
				lastSpace = false
			}
			continue
		}
		if ch == '{' && variable {
			continue
		}
		variable = false
		found := false
		switch {
		case ch == '\\':
			escaped = true
			continue
		case ch == '$':
			variable = true
			continue
		case dQuoted:
			if ch == '"' {
				dQuoted, needSpace, found = false, true, true
			}
		case sQuoted:
			if ch == '\'' {
				sQuoted, needSpace, found = false, true, true
			}
		case isNgxSpace(ch) || ch == ';' || ch == '{':
			lastSpace, found = true, true
		}
		if found {
			words = append(words, ngxWord{text: string(s.data[start : s.pos-1]), line: startLine, quoted: needSpace})
			switch ch {
			case ';':
				return words, ngxEnd, ""
			case '{':
				return words, ngxBlockStart, ""
			}
		}
	}
}

// skipLua skips the Lua code of a *_by_lua_block after its '{' up to the
// '}' that closes it, as the Lua module reads it: braces count, except in
// strings, long brackets and comments. It reports whether that '}' is
// there.
func (s *ngxScanner) skipLua() bool {
	depth := 1
	for s.pos < len(s.data) {
		ch := s.data[s.pos]
		s.pos++
		switch {
		case ch == '\n':
			s.line++
		case ch == '{':
			depth++
		case ch == '}':
			if depth--; depth == 0 {
				return true
			}
		case ch == '"' || ch == '\'':
			for s.pos < len(s.data) {
				c := s.data[s.pos]
				s.pos++
				if c == '\\' && s.pos < len(s.data) {
					if s.data[s.pos] == '\n' {
						s.line++
					}
					s.pos++
					continue
				}
				if c == '\n' {
					s.line++
				}
				if c == ch || c == '\n' {
					break
				}
			}
		case ch == '[':
			s.longBracket()
		case ch == '-' && s.pos < len(s.data) && s.data[s.pos] == '-':
			s.pos++
			if s.pos < len(s.data) && s.data[s.pos] == '[' {
				s.pos++
				if s.longBracket() {
					continue
				}
			}
			for s.pos < len(s.data) && s.data[s.pos] != '\n' {
				s.pos++
			}
		}
	}
	return false
}

// longBracket skips a Lua long bracket ([[...]], [==[...]==]) whose first
// '[' s has just read; false, with nothing skipped, when none starts there.
func (s *ngxScanner) longBracket() bool {
	n := 0
	for s.pos+n < len(s.data) && s.data[s.pos+n] == '=' {
		n++
	}
	if s.pos+n >= len(s.data) || s.data[s.pos+n] != '[' {
		return false
	}
	body := s.data[s.pos+n+1:]
	i := bytes.Index(body, []byte("]"+strings.Repeat("=", n)+"]"))
	if i < 0 {
		i = len(body)
	} else {
		i += n + 2
	}
	s.line += bytes.Count(body[:i], []byte("\n"))
	s.pos += n + 1 + i
	return true
}

var (
	// ngxBlocks are nginx's block directives: a ';' ends none of them
	// (server only outside upstream {}, where it names a server).
	ngxBlocks = []string{"events", "http", "stream", "mail", "server", "location", "if", "limit_except", "upstream", "map",
		"geo", "types", "split_clients"}
	// ngxDataBlocks hold data, not directives.
	ngxDataBlocks = []string{"map", "geo", "types", "split_clients", "charset_map", "match"}
)

// nginxSyntax reads data as nginx's parser does before it looks at what
// directives mean: words, quotes, comments, ';', '{' and '}', each file on
// its own (an included file closes no block of the file including it).
// It returns the first directive's name, and the first error nginx
// reports, in nginx's words, at the line nginx reports it (an error at the
// end of the file at its last line with anything on it, or where the
// quoted string that is not closed starts), saying which directive lacks
// its ';' when one does. A directive whose words run on
// into the next line's directive (listen 80, then server_name x;) is
// reported in nginx's words for one followed by '{': nginx itself says
// then what the directive makes of the extra words (invalid parameter
// "server_name"). The Lua code of a *_by_lua_block is skipped, as the Lua
// module reads it.
func nginxSyntax(data []byte) (string, [][2]int, *ConfigError) {
	s := &ngxScanner{data: data, line: 1}
	var lua [][2]int
	first := ""
	var open []string // the blocks open, innermost last
	for {
		words, end, msg := s.next()
		if first == "" && len(words) > 0 {
			first = words[0].text
		}
		if msg != "" {
			line, eof := s.line, strings.HasPrefix(msg, "unexpected end of file")
			if eof {
				line = lastLine(data)
			}
			switch {
			case s.quoteLine > 0:
				line = s.quoteLine
				msg += " (the quoted string that starts on this line is not closed)"
			case len(words) > 0 && (eof || msg == `unexpected "}"`):
				msg += " (" + unterminated(words[0], line) + ")"
			}
			return first, nil, &ConfigError{Line: line, Msg: msg}
		}
		switch end {
		case ngxFileDone:
			if len(open) > 0 {
				return first, nil, &ConfigError{Line: lastLine(data), Msg: `unexpected end of file, expecting "}"`}
			}
			return first, lua, nil
		case ngxBlockDone:
			if len(open) == 0 {
				return first, nil, &ConfigError{Line: s.line, Msg: `unexpected "}"`}
			}
			open = open[:len(open)-1]
			continue
		}
		name := words[0].text
		block := slices.Contains(ngxBlocks, name) && (name != "server" || len(open) == 0 || open[len(open)-1] != "upstream")
		if len(open) == 0 || !slices.Contains(ngxDataBlocks, open[len(open)-1]) {
			if i := runOn(words, end == ngxBlockStart); i > 0 && !block {
				var rest []string
				for _, w := range words[i:] {
					rest = append(rest, w.text)
				}
				if end == ngxBlockStart {
					rest = append(rest, "{")
				}
				return first, nil, &ConfigError{Line: s.line, Msg: fmt.Sprintf(`directive %q is not terminated by ";" (it starts at line %d; nginx reads %q as more of its arguments)`,
					name, words[0].line, strings.Join(rest, " "))}
			}
			if block && end == ngxEnd {
				return first, nil, &ConfigError{Line: s.line, Msg: fmt.Sprintf(`directive %q has no opening "{"`, name)}
			}
		}
		if end == ngxBlockStart {
			if strings.HasSuffix(name, "_by_lua_block") {
				from := s.pos
				if !s.skipLua() {
					return first, nil, &ConfigError{Line: lastLine(data), Msg: `unexpected end of file, expecting "}"`}
				}
				lua = append(lua, [2]int{from, s.pos - 1})
				continue
			}
			open = append(open, name)
		}
	}
}

// unterminated says that the directive starting with word, whose error
// is reported at line, lacks its ';'.
func unterminated(word ngxWord, line int) string {
	if word.line == line {
		return fmt.Sprintf(`the directive %q is not terminated by ";"`, word.text)
	}
	return fmt.Sprintf(`the directive %q at line %d is not terminated by ";"`, word.text, word.line)
}

// runOn is the index of the first word of a directive that begins another
// directive: on a line of its own after the directive's first line, a
// directive's name unquoted, followed on its line by another word or, for
// a directive ended by '{', by that '{'. 0 when none does.
func runOn(words []ngxWord, blockStart bool) int {
	for i := 1; i < len(words); i++ {
		w := words[i]
		if w.quoted || w.line == words[i-1].line || w.text == "" {
			continue
		}
		if _, ok := parser.ValidDirectives[w.text]; !ok {
			continue
		}
		if blockStart || i+1 < len(words) && words[i+1].line == w.line {
			return i
		}
	}
	return 0
}
