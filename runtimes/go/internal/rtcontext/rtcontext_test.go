package rtcontext

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestReadEnv(t *testing.T) {
	vars := map[string]string{
		"RUNTIME_FUNC_NAME": "demo",
		"RUNTIME_MEMORY":    "512",
		"RUNTIME_CPU":       "600",
		"RUNTIME_USERDATA":  `{"a":"x","n":5,"o":{"k":true}}`,
	}
	e := readEnv(func(k string) string { return vars[k] })
	if e.FunctionName != "demo" || e.MemoryMB != 512 || e.CPU != 600 {
		t.Errorf("env: %+v", e)
	}
	if e.TimeoutSeconds != defaultTimeoutSeconds {
		t.Errorf("default timeout: %d", e.TimeoutSeconds)
	}
	if e.UserData["a"] != "x" || e.UserData["n"] != "5" || e.UserData["o"] != `{"k":true}` {
		t.Errorf("user data: %v", e.UserData)
	}
	if len(readEnv(func(k string) string {
		if k == "RUNTIME_USERDATA" {
			return "not json"
		}
		return ""
	}).UserData) != 0 {
		t.Error("invalid user data should be ignored")
	}
}

func TestContextFromHeader(t *testing.T) {
	h := http.Header{}
	h.Set("X-CFF-Request-Id", "rid")
	h.Set("X-Cff-Origin-Version-Tag", "!blue")
	env := &Env{TimeoutSeconds: 10, Alias: "fallback"}
	c := New(env, h, time.Now())
	if c.GetRequestID() != "rid" || c.GetAlias() != "blue" || c.InvokeType() != "sync" {
		t.Errorf("context: id=%q alias=%q type=%q", c.GetRequestID(), c.GetAlias(), c.InvokeType())
	}
	if r := c.GetRemainingTimeInMilliSeconds(); r < 9000 || r > 10000 {
		t.Errorf("remaining %d", r)
	}
	if New(env, nil, time.Now()).GetAlias() != "fallback" {
		t.Error("alias should fall back to RUNTIME_ALIAS")
	}
	if New(env, nil, time.Now().Add(-time.Minute)).GetRemainingTimeInMilliSeconds() != 0 {
		t.Error("remaining time should clamp at 0")
	}
}

func TestLoggerTagsEveryLine(t *testing.T) {
	var buf bytes.Buffer
	outputMu.Lock()
	saved := output
	output = &buf
	outputMu.Unlock()
	defer func() {
		outputMu.Lock()
		output = saved
		outputMu.Unlock()
	}()

	NewLogger("r-1").Logf("value %d\nnext", 3)
	NewLogger("").Logf("untagged")
	NewLogger("bad\x1fid").Logf("also untagged")

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("lines: %q", lines)
	}
	first := regexp.MustCompile(`^\x1er-1\x1f\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z r-1 value 3$`)
	if !first.MatchString(lines[0]) {
		t.Errorf("first line %q", lines[0])
	}
	if lines[1] != "\x1er-1\x1fnext" {
		t.Errorf("second line %q", lines[1])
	}
	if !strings.HasSuffix(lines[2], "Z  untagged") || strings.HasPrefix(lines[2], "\x1e") {
		t.Errorf("third line %q", lines[2])
	}
	if strings.HasPrefix(lines[3], "\x1e") {
		t.Errorf("fourth line %q", lines[3])
	}
}
