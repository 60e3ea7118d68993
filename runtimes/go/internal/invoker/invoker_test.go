package invoker

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"huaweicloud.com/go-runtime/go-api/context"
	"huaweicloud.com/go-runtime/internal/rtcontext"
	"huaweicloud.com/go-runtime/pkg/runtime/common"
)

type badJSON struct{}

func (badJSON) MarshalJSON() ([]byte, error) { panic("cannot marshal") }

type namedHandler func([]byte, context.RuntimeContext) (string, error)

func invoke(t *testing.T, h interface{}, payload []byte, header http.Header, env *rtcontext.Env) (*common.InvokeResponse, error) {
	t.Helper()
	wrapped, err := Wrap(h)
	if err != nil {
		t.Fatalf("Wrap: %v", err)
	}
	if env == nil {
		env = &rtcontext.Env{TimeoutSeconds: 3}
	}
	resp := &common.InvokeResponse{}
	err = New(wrapped, env).Invoke(&common.InvokeRequest{Payload: payload, Header: header}, resp)
	return resp, err
}

func decodeFailure(t *testing.T, err error) failureDoc {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error")
	}
	var doc failureDoc
	if jerr := json.Unmarshal([]byte(err.Error()), &doc); jerr != nil {
		t.Fatalf("error text is not JSON: %q", err.Error())
	}
	return doc
}

func TestResultEncoding(t *testing.T) {
	cases := []struct {
		result interface{}
		want   string
	}{
		{"text", "text"},
		{[]byte("raw"), "raw"},
		{map[string]int{"a": 1}, `{"a":1}`},
		{struct {
			X int `json:"x"`
		}{7}, `{"x":7}`},
	}
	for _, c := range cases {
		result := c.result
		resp, err := invoke(t, func([]byte, context.RuntimeContext) (interface{}, error) { return result, nil }, []byte("{}"), nil, nil)
		if err != nil || resp.StatusCode != 200 || string(resp.Payload) != c.want {
			t.Errorf("%v: got %d %q %v", c.result, resp.StatusCode, resp.Payload, err)
		}
	}
}

func TestFailures(t *testing.T) {
	_, err := invoke(t, func([]byte, context.RuntimeContext) (interface{}, error) { return "x", errors.New("bad") }, []byte("{}"), nil, nil)
	if doc := decodeFailure(t, err); doc.ErrorType != "FunctionReturnError" || doc.ErrorMessage != "bad" {
		t.Errorf("returned error: %+v", doc)
	}
	if !strings.Contains(err.Error(), "\n    \"errorMessage\"") {
		t.Errorf("not indented with four spaces: %q", err.Error())
	}

	_, err = invoke(t, func([]byte, context.RuntimeContext) (interface{}, error) { return nil, nil }, []byte("{}"), nil, nil)
	if doc := decodeFailure(t, err); doc.ErrorMessage != "response is empty" {
		t.Errorf("nil result: %+v", doc)
	}

	_, err = invoke(t, func([]byte, context.RuntimeContext) (interface{}, error) { panic(errors.New("kaboom")) }, []byte("{}"), nil, nil)
	doc := decodeFailure(t, err)
	if doc.ErrorType != "panic" || doc.ErrorMessage != "kaboom" || len(doc.StackTrace) != 2 ||
		!strings.HasPrefix(doc.StackTrace[0], "invoker.TestFailures.func") || !strings.HasPrefix(doc.StackTrace[1], "    invoker_test.go:") {
		t.Errorf("panic: %+v", doc)
	}

	// Through the reflection adapter the adapter's own frames stay hidden.
	_, err = invoke(t, namedHandler(func([]byte, context.RuntimeContext) (string, error) { panic("named") }), []byte("{}"), nil, nil)
	doc = decodeFailure(t, err)
	if len(doc.StackTrace) != 2 || !strings.HasPrefix(doc.StackTrace[0], "invoker.TestFailures.func") {
		t.Errorf("panic via adapter: %+v", doc)
	}

	_, err = invoke(t, func([]byte, context.RuntimeContext) (interface{}, error) { return badJSON{}, nil }, []byte("{}"), nil, nil)
	if doc := decodeFailure(t, err); doc.ErrorType != "FunctionResultInvalid" {
		t.Errorf("unencodable result: %+v", doc)
	}

	_, err = invoke(t, func([]byte, context.RuntimeContext) (interface{}, error) { return "12345", nil }, []byte("{}"), nil,
		&rtcontext.Env{TimeoutSeconds: 3, MaxResponseSize: 4})
	if doc := decodeFailure(t, err); doc.ErrorType != "FunctionResponseTooLarge" {
		t.Errorf("too large: %+v", doc)
	}

	_, err = invoke(t, func([]byte, context.RuntimeContext) (interface{}, error) { return "x", nil }, nil, nil, nil)
	if err == nil || err.Error() != "bad request parameters" {
		t.Errorf("nil payload: %v", err)
	}
}

func TestAsyncReplyIsEmpty(t *testing.T) {
	h := http.Header{}
	h.Set("X-Cff-Invoke-Type", "async")
	resp, err := invoke(t, func([]byte, context.RuntimeContext) (interface{}, error) { return "result", nil }, []byte("{}"), h, nil)
	if err != nil || resp.StatusCode != 200 || len(resp.Payload) != 0 {
		t.Errorf("async: %d %q %v", resp.StatusCode, resp.Payload, err)
	}
}

func TestWrapAcceptsCompatibleShapes(t *testing.T) {
	named := namedHandler(func(p []byte, _ context.RuntimeContext) (string, error) { return "n:" + string(p), nil })
	resp, err := invoke(t, named, []byte("hi"), nil, nil)
	if err != nil || string(resp.Payload) != "n:hi" {
		t.Errorf("named handler: %q %v", resp.Payload, err)
	}
	for _, bad := range []interface{}{nil, 42, func(string) string { return "" }, func([]byte) (interface{}, error) { return nil, nil }} {
		if _, err := Wrap(bad); err == nil {
			t.Errorf("Wrap(%T) accepted", bad)
		}
	}
}
