// Package jsonpos turns encoding/json errors into file:line:column
// errors, so bad input names the place to fix.
package jsonpos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Error wraps err (from decoding data) with name:line:col when the error
// carries an offset, and with name otherwise.
func Error(name string, data []byte, err error) error {
	offset := int64(-1)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the offending byte as read; point at it.
		offset = max(syn.Offset-1, 0)
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	if offset < 0 {
		return fmt.Errorf("%s: %w", name, err)
	}
	line, col := Position(data, offset)
	return fmt.Errorf("%s:%d:%d: %w", name, line, col, err)
}

// Position converts a byte offset into a 1-based line and column.
func Position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}
