// Package invoker implements the net/rpc service that the platform calls:
// Function.Invoke runs the user's handler and Function.HealthCheck answers
// liveness probes.
package invoker

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"time"

	"huaweicloud.com/go-runtime/go-api/context"
	"huaweicloud.com/go-runtime/internal/rtcontext"
	"huaweicloud.com/go-runtime/pkg/runtime/common"
)

// Handler is the signature of a FunctionGraph Go handler.
type Handler func(payload []byte, ctx context.RuntimeContext) (interface{}, error)

// Error types reported in the errorType field of failure documents.
const (
	errTypeReturn       = "FunctionReturnError"
	errTypePanic        = "panic"
	errTypeTooLarge     = "FunctionResponseTooLarge"
	errTypeResultFormat = "FunctionResultInvalid"
)

// rpcError is returned to net/rpc; only its text travels over the wire.
type rpcError struct {
	code int
	text string
}

func (e *rpcError) Error() string { return e.text }

// failureDoc is the JSON document sent as the RPC error string.
type failureDoc struct {
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType,omitempty"`
	StackTrace   []string `json:"stackTrace,omitempty"`
}

// failure builds an RPC error whose text is the 4-space indented JSON
// description of the failure.
func failure(code int, errType, message string, stack []string) error {
	doc, err := json.MarshalIndent(failureDoc{ErrorMessage: message, ErrorType: errType, StackTrace: stack}, "", "    ")
	if err != nil {
		// Cannot happen for strings and string slices, but never send an
		// empty error text: net/rpc would read it as success.
		doc = []byte(fmt.Sprintf("{\n    \"errorMessage\": %q,\n    \"errorType\": %q\n}", message, errType))
	}
	return &rpcError{code: code, text: string(doc)}
}

// Function is the RPC service registered under the name "Function".
type Function struct {
	handler Handler
	env     *rtcontext.Env
}

// New returns the service for a handler.
func New(h Handler, env *rtcontext.Env) *Function {
	return &Function{handler: h, env: env}
}

// Invoke runs the handler once. The reply carries status 200 and the encoded
// result; failures are reported through the returned error.
func (f *Function) Invoke(req *common.InvokeRequest, resp *common.InvokeResponse) error {
	start := time.Now()
	if req.Payload == nil {
		return &rpcError{code: http.StatusBadRequest, text: "bad request parameters"}
	}
	ctx := rtcontext.New(f.env, req.Header, start)
	async := ctx.InvokeType() == "async"

	result, err, crash := f.call(req.Payload, ctx)
	if crash != nil {
		ctx.GetLogger().Logf("invoke function failed for function code panic, error=%s", crash.message)
		if len(crash.stack) > 0 {
			writeStack(ctx.GetRequestID(), crash.stack)
		}
		return failure(555, errTypePanic, crash.message, crash.stack)
	}
	if result == nil {
		// FunctionGraph's SDK treats a nil result as a failure, whatever the
		// error value says.
		ctx.GetLogger().Logf("response is empty")
		return failure(http.StatusInternalServerError, errTypeReturn, "response is empty", nil)
	}
	if err != nil {
		ctx.GetLogger().Logf("%s", err.Error())
		return failure(http.StatusInternalServerError, errTypeReturn, err.Error(), nil)
	}
	if async {
		resp.StatusCode = http.StatusOK
		resp.Payload = []byte{}
		return nil
	}
	body, encErr := encodeResult(result)
	if encErr != nil {
		msg := fmt.Sprintf("cannot serialize the function result: %v", encErr)
		ctx.GetLogger().Logf("%s", msg)
		return failure(http.StatusInternalServerError, errTypeResultFormat, msg, nil)
	}
	if limit := f.env.MaxResponseSize; limit > 0 && len(body) > limit {
		msg := fmt.Sprintf("Response body size '%d' larger than max value '%d'.", len(body), limit)
		ctx.GetLogger().Logf("%s", msg)
		return failure(http.StatusInsufficientStorage, errTypeTooLarge, msg, nil)
	}
	resp.StatusCode = http.StatusOK
	resp.Payload = body
	return nil
}

// HealthCheck answers with an empty reply while the process is serving.
func (f *Function) HealthCheck(req *common.HealthCheckRequest, resp *common.HealthCheckResponse) error {
	*resp = common.HealthCheckResponse{}
	return nil
}

// call runs the handler and converts a panic into a crash report.
func (f *Function) call(payload []byte, ctx context.RuntimeContext) (result interface{}, err error, crash *panicReport) {
	defer func() {
		if v := recover(); v != nil {
			crash = &panicReport{message: fmt.Sprintf("%v", v), stack: panicStack()}
			result, err = nil, nil
		}
	}()
	result, err = f.handler(payload, ctx)
	return result, err, nil
}

// encodeResult turns a handler result into reply bytes: strings and byte
// slices are sent unchanged, anything else as JSON. A panic in a custom
// MarshalJSON method is reported as an error instead of killing the process.
func encodeResult(v interface{}) (body []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			body, err = nil, fmt.Errorf("panic while encoding: %v", p)
		}
	}()
	switch r := v.(type) {
	case string:
		return []byte(r), nil
	case []byte:
		if r == nil {
			return []byte{}, nil
		}
		return r, nil
	default:
		return json.Marshal(v)
	}
}

var (
	bytesType = reflect.TypeOf([]byte(nil))
	errorType = reflect.TypeOf((*error)(nil)).Elem()
	ctxType   = reflect.TypeOf((*rtcontext.Context)(nil))
)

// Wrap checks that h has the shape of a handler and adapts it. Besides the
// plain function type it accepts named function types and functions whose
// second parameter is any interface the context implements.
func Wrap(h interface{}) (Handler, error) {
	switch fn := h.(type) {
	case nil:
		return nil, errors.New("handler is nil")
	case Handler:
		return fn, nil
	case func([]byte, context.RuntimeContext) (interface{}, error):
		return fn, nil
	}
	v := reflect.ValueOf(h)
	t := v.Type()
	if t.Kind() != reflect.Func {
		return nil, fmt.Errorf("handler is a %s, not a function", t.Kind())
	}
	if t.NumIn() != 2 || t.NumOut() != 2 || t.IsVariadic() ||
		!bytesType.AssignableTo(t.In(0)) || !ctxType.AssignableTo(t.In(1)) ||
		!t.Out(1).Implements(errorType) {
		return nil, fmt.Errorf("handler has type %s; want func([]byte, context.RuntimeContext) (interface{}, error)", t)
	}
	return func(payload []byte, ctx context.RuntimeContext) (interface{}, error) {
		out := v.Call([]reflect.Value{reflect.ValueOf(payload), reflect.ValueOf(ctx)})
		var result interface{}
		if first := out[0]; !(first.Kind() == reflect.Interface && first.IsNil()) {
			result = first.Interface()
		}
		var err error
		if e := out[1]; !(e.Kind() == reflect.Interface && e.IsNil()) {
			err, _ = e.Interface().(error)
		}
		return result, err
	}, nil
}
