package bench

import (
	"bytes"
	"strings"

	"github.com/pinward/pinward/internal/cli"
)

// testEnv is a process environment with the given variables, capturing
// stdout and stderr.
func testEnv(vars map[string]string) (Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }}, &out, &errb
}
