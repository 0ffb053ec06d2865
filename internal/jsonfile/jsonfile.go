// Package jsonfile decodes a JSON configuration file strictly, with errors
// that name the file, line and column and say what was expected.
package jsonfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Decode decodes data, read from the file name, into v: one JSON object,
// unknown fields rejected, nothing after it.
func Decode(name string, data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syntaxErr *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntaxErr):
			line, col := position(data, syntaxErr.Offset)
			return fmt.Errorf("%s:%d:%d: %w", name, line, col, err)
		case errors.As(err, &typeErr):
			line, col := position(data, typeErr.Offset)
			return fmt.Errorf("%s:%d:%d: %s: expected %s, got %s",
				name, line, col, typeErr.Field, describe(typeErr.Type), typeErr.Value)
		case errors.Is(err, io.EOF):
			return fmt.Errorf("%s: empty file, expected a JSON object", name)
		case errors.Is(err, io.ErrUnexpectedEOF):
			line, col := position(data, int64(len(data)))
			return fmt.Errorf("%s:%d:%d: unexpected end of file", name, line, col)
		}
		// Unknown fields: encoding/json gives no position for them.
		return fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "json: "))
	}
	end := dec.InputOffset()
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		rest := data[end:]
		skipped := len(rest) - len(bytes.TrimLeft(rest, " \t\r\n"))
		line, col := position(data, end+int64(skipped)+1)
		return fmt.Errorf("%s:%d:%d: unexpected data after the config object", name, line, col)
	}
	return nil
}

// position turns the offset encoding/json reports, the number of bytes read
// when the error was found, into the 1-based line and column of the last
// byte read.
func position(data []byte, offset int64) (line, col int) {
	pos := int(min(max(offset-1, 0), int64(len(data))))
	head := data[:pos]
	line = 1 + bytes.Count(head, []byte("\n"))
	col = pos - bytes.LastIndexByte(head, '\n')
	return line, col
}

// describe names the JSON value a Go type decodes from.
func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}
