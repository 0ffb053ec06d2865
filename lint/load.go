package lint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/tufanbarisyildirim/gonginx/config"
	"github.com/tufanbarisyildirim/gonginx/parser"
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
}

func (e *ConfigError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

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

// parse parses an nginx configuration with gonginx, which checks its
// syntax only: directives of any module are welcome.
func parse(text string) (*config.Config, error) {
	return parser.NewStringParser(text, parser.WithSkipValidDirectivesErr(), parser.WithSkipComments()).Parse()
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
	unexpectedToken = regexp.MustCompile(`^unexpected token \w+ \((.*)\) on line (\d+), column \d+$`)
	// gonginx's "... starting at line 3, column 12" and the like.
	atLine = regexp.MustCompile(`line (\d+)`)
)

// parseError turns a gonginx error for file into a ConfigError with the
// line, in nginx's words where gonginx's are obscure.
func parseError(file string, data []byte, err error) *ConfigError {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if m := unexpectedToken.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[2])
		return &ConfigError{File: file, Line: line, Msg: fmt.Sprintf("unexpected %q", m[1])}
	}
	if msg == "unexpected eof in block" {
		lines := strings.Count(strings.TrimRight(string(data), "\n"), "\n") + 1
		return &ConfigError{File: file, Line: lines, Msg: `unexpected end of file, expecting "}"`}
	}
	e := &ConfigError{File: file, Msg: msg}
	if m := atLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
	}
	return e
}
