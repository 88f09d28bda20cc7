package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// vigilRun runs one command line in-process and returns its exit code and
// output streams.
func vigilRun(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	code = run(ctx, args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}
