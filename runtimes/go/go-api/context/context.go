// Package context declares the context object a FunctionGraph Go handler
// receives as its second argument.
//
// The package is named context for compatibility with FunctionGraph's SDK; it
// is unrelated to the standard library's context package.
package context

import "huaweicloud.com/go-runtime/pkg/runtime/common"

// RuntimeContext gives a handler access to its invocation metadata, the
// function's configuration and a request-scoped logger.
type RuntimeContext interface {
	// GetRequestID returns the id of the current invocation.
	GetRequestID() string

	// GetRemainingTimeInMilliSeconds returns how much of the invocation's time
	// budget is left, never less than 0.
	GetRemainingTimeInMilliSeconds() int

	// GetAccessKey returns the agency access key (deprecated, usually empty).
	GetAccessKey() string

	// GetSecretKey returns the agency secret key (deprecated, usually empty).
	GetSecretKey() string

	// GetSecurityAccessKey returns the temporary access key of the agency.
	GetSecurityAccessKey() string

	// GetSecuritySecretKey returns the temporary secret key of the agency.
	GetSecuritySecretKey() string

	// GetFunctionName returns the function's name.
	GetFunctionName() string

	// GetUserData returns the value of a user-defined environment variable,
	// or "" when it is not set.
	GetUserData(key string) string

	// GetLogger returns a logger that tags its lines with this invocation.
	GetLogger() common.RuntimeLogger

	// GetRunningTimeInSeconds returns the configured timeout in seconds.
	GetRunningTimeInSeconds() int

	// GetVersion returns the function version being executed.
	GetVersion() string

	// GetMemorySize returns the configured memory in MB.
	GetMemorySize() int

	// GetCPUNumber returns the CPU share in millicores.
	GetCPUNumber() int

	// GetProjectID returns the project (tenant) id.
	GetProjectID() string

	// GetPackage returns the application (function group) name.
	GetPackage() string

	// GetToken returns the IAM token of the agency.
	GetToken() string

	// GetSecurityToken returns the security token of the agency's temporary
	// credentials.
	GetSecurityToken() string

	// GetAlias returns the alias the function was invoked through, or "" when
	// it was invoked by version.
	GetAlias() string
}
