package check

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
)

// pathFor derives a request path that a regular expression location
// matches (location ~ ^/api/v[0-9]+/ gets /api/v0/): the shortest string
// its syntax tree spells, with a "/" before it when it does not begin with
// one (or "/x" before a dot), checked against the expression itself (case-insensitive for ~*).
// ok is false for an expression Go's regexp cannot read (PCRE's
// look-arounds) or whose string is no path.
func pathFor(expr string, foldCase bool) (string, bool) {
	flags := syntax.Perl
	if foldCase {
		flags |= syntax.FoldCase
	}
	re, err := syntax.Parse(expr, flags)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	if !spell(&b, re.Simplify()) {
		return "", false
	}
	p := b.String()
	switch {
	case strings.HasPrefix(p, "."):
		// An unanchored \.php$: a file name, not a dotfile.
		p = "/x" + p
	case !strings.HasPrefix(p, "/"):
		p = "/" + p
	}
	prefix := ""
	if foldCase {
		prefix = "(?i)"
	}
	m, err := regexp.Compile(prefix + expr)
	if err != nil || !m.MatchString(p) || strings.ContainsAny(p, " ?#\n") {
		return "", false
	}
	return p, true
}

// spell writes a shortest string re matches; false when it cannot.
func spell(b *strings.Builder, re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpStar, syntax.OpQuest:
		return true
	case syntax.OpLiteral:
		lit := string(re.Rune)
		if re.Flags&syntax.FoldCase != 0 {
			lit = strings.ToLower(lit)
		}
		b.WriteString(lit)
		return true
	case syntax.OpCharClass:
		r, ok := classRune(re.Rune)
		if ok {
			b.WriteRune(r)
		}
		return ok
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		b.WriteByte('x')
		return true
	case syntax.OpCapture, syntax.OpPlus:
		return spell(b, re.Sub[0])
	case syntax.OpRepeat:
		for range re.Min {
			if !spell(b, re.Sub[0]) {
				return false
			}
		}
		return true
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !spell(b, s) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		return spell(b, re.Sub[0])
	}
	return false
}

// classRune picks a character of a class (pairs of range bounds): a
// letter or digit when the class has one, as a path segment would.
func classRune(ranges []rune) (rune, bool) {
	for i := 0; i+1 < len(ranges); i += 2 {
		for r := ranges[i]; r <= ranges[i+1] && r < 0x80; r++ {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return r, true
			}
		}
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		if r := ranges[i]; r > ' ' && r < 0x7f && r != '?' && r != '#' {
			return r, true
		}
	}
	return 0, false
}
