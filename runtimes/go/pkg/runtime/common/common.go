// Package common holds the types shared between the RPC entry point and the
// context API: the request and reply of Function.Invoke, the empty health-check
// messages and the logger interface handed to user code.
package common

import "net/http"

// InvokeRequest is the argument of Function.Invoke. Payload is the raw event;
// Header carries the per-invocation metadata (X-Cff-Request-Id and friends)
// under canonical header keys.
type InvokeRequest struct {
	Payload []byte
	Header  http.Header
}

// InvokeResponse is the reply of Function.Invoke. A successful call always sets
// StatusCode to 200.
type InvokeResponse struct {
	StatusCode int
	Payload    []byte
}

// HealthCheckRequest is the (empty) argument of Function.HealthCheck.
type HealthCheckRequest struct{}

// HealthCheckResponse is the (empty) reply of Function.HealthCheck.
type HealthCheckResponse struct{}

// RuntimeLogger is the request-scoped logger returned by
// RuntimeContext.GetLogger.
type RuntimeLogger interface {
	// Logf formats its arguments like fmt.Sprintf and writes one log entry,
	// stamped with the current UTC time and the request id, to stdout.
	Logf(format string, args ...interface{})
}
