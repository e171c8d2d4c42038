// Package readfile reads the files nri-guard takes from the node (policy
// files, seccomp profiles) with a bound on their size: each is read at
// every container start or reload, and none legitimately comes near the
// bound, so a larger one is an error and never a read of all of it.
package readfile

import (
	"errors"
	"io"
	"os"
)

// ErrTooLarge is the error of a file beyond the bound.
var ErrTooLarge = errors.New("file too large")

// Bounded reads path, failing with ErrTooLarge when it holds more than
// max bytes; it never reads more than max+1.
func Bounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, ErrTooLarge
	}
	return data, nil
}
