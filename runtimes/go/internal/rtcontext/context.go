package rtcontext

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"huaweicloud.com/go-runtime/pkg/runtime/common"
)

// Names of the per-invocation headers, in canonical form (http.Header.Get
// canonicalises the key it is given, so the spelling here is only for
// readability).
const (
	HeaderRequestID         = "X-Cff-Request-Id"
	HeaderInvokeType        = "X-Cff-Invoke-Type"
	HeaderAccessKey         = "X-Cff-Access-Key"
	HeaderSecretKey         = "X-Cff-Secret-Key"
	HeaderAuthToken         = "X-Cff-Auth-Token"
	HeaderSecurityAccessKey = "X-Cff-Security-Access-Key"
	HeaderSecuritySecretKey = "X-Cff-Security-Secret-Key"
	HeaderSecurityToken     = "X-Cff-Security-Token"
	HeaderOriginVersionTag  = "X-Cff-Origin-Version-Tag"
	HeaderWorkflowID        = "X-Cff-Workflow-Id"
	HeaderWorkflowRunID     = "X-Cff-Workflow-Run-Id"
	HeaderWorkflowStateID   = "X-Cff-Workflow-State-Id"
	// HeaderDeadlineMs is a Stratus extension: the absolute deadline of the
	// invocation in Unix milliseconds. When present it takes precedence over
	// start time + RUNTIME_TIMEOUT.
	HeaderDeadlineMs = "X-Cff-Deadline-Ms"
)

// Context is the RuntimeContext of one invocation.
type Context struct {
	env      *Env
	header   http.Header
	deadline time.Time
	logger   *Logger
}

// New builds the context of an invocation that started at start.
func New(env *Env, header http.Header, start time.Time) *Context {
	if header == nil {
		header = http.Header{}
	}
	deadline := start.Add(time.Duration(env.TimeoutSeconds) * time.Second)
	if ms, err := strconv.ParseInt(strings.TrimSpace(header.Get(HeaderDeadlineMs)), 10, 64); err == nil && ms > 0 {
		deadline = time.UnixMilli(ms)
	}
	return &Context{
		env:      env,
		header:   header,
		deadline: deadline,
		logger:   NewLogger(header.Get(HeaderRequestID)),
	}
}

// GetRequestID returns the id of the current invocation.
func (c *Context) GetRequestID() string { return c.header.Get(HeaderRequestID) }

// GetRemainingTimeInMilliSeconds returns the time left before the deadline,
// clamped at 0.
func (c *Context) GetRemainingTimeInMilliSeconds() int {
	left := time.Until(c.deadline).Milliseconds()
	if left < 0 {
		return 0
	}
	return int(left)
}

// GetAccessKey returns the (deprecated) agency access key.
func (c *Context) GetAccessKey() string { return c.header.Get(HeaderAccessKey) }

// GetSecretKey returns the (deprecated) agency secret key.
func (c *Context) GetSecretKey() string { return c.header.Get(HeaderSecretKey) }

// GetSecurityAccessKey returns the temporary access key of the agency.
func (c *Context) GetSecurityAccessKey() string { return c.header.Get(HeaderSecurityAccessKey) }

// GetSecuritySecretKey returns the temporary secret key of the agency.
func (c *Context) GetSecuritySecretKey() string { return c.header.Get(HeaderSecuritySecretKey) }

// GetSecurityToken returns the security token of the agency.
func (c *Context) GetSecurityToken() string { return c.header.Get(HeaderSecurityToken) }

// GetToken returns the IAM token of the agency.
func (c *Context) GetToken() string { return c.header.Get(HeaderAuthToken) }

// GetFunctionName returns the function's name.
func (c *Context) GetFunctionName() string { return c.env.FunctionName }

// GetUserData returns a user-defined environment variable or "".
func (c *Context) GetUserData(key string) string { return c.env.UserData[key] }

// GetLogger returns the logger of this invocation.
func (c *Context) GetLogger() common.RuntimeLogger { return c.logger }

// GetRunningTimeInSeconds returns the configured timeout in seconds.
func (c *Context) GetRunningTimeInSeconds() int { return c.env.TimeoutSeconds }

// GetVersion returns the version being executed.
func (c *Context) GetVersion() string { return c.env.Version }

// GetMemorySize returns the configured memory in MB.
func (c *Context) GetMemorySize() int { return c.env.MemoryMB }

// GetCPUNumber returns the CPU share in millicores.
func (c *Context) GetCPUNumber() int { return c.env.CPU }

// GetProjectID returns the project id.
func (c *Context) GetProjectID() string { return c.env.ProjectID }

// GetPackage returns the application (function group).
func (c *Context) GetPackage() string { return c.env.Package }

// GetAlias returns the alias of this call: taken from the origin version tag
// header ("!alias") when present, else from RUNTIME_ALIAS.
func (c *Context) GetAlias() string {
	if a := c.GetAlias2(); a != "" {
		return a
	}
	return c.env.Alias
}

// GetAlias2 returns the alias derived from the X-Cff-Origin-Version-Tag header
// only ("" when the call did not go through an alias).
func (c *Context) GetAlias2() string {
	tag := c.header.Get(HeaderOriginVersionTag)
	if strings.HasPrefix(tag, "!") {
		return tag[1:]
	}
	return ""
}

// GetWorkflowID returns the function-flow id of the call, if any.
func (c *Context) GetWorkflowID() string { return c.header.Get(HeaderWorkflowID) }

// GetWorkflowRunID returns the function-flow run id of the call, if any.
func (c *Context) GetWorkflowRunID() string { return c.header.Get(HeaderWorkflowRunID) }

// GetWorkflowStateID returns the function-flow state id of the call, if any.
func (c *Context) GetWorkflowStateID() string { return c.header.Get(HeaderWorkflowStateID) }

// GetOriginVersionTag returns the raw X-Cff-Origin-Version-Tag header.
func (c *Context) GetOriginVersionTag() string { return c.header.Get(HeaderOriginVersionTag) }

// GetHandler returns RUNTIME_HANDLER.
func (c *Context) GetHandler() string { return c.env.Handler }

// GetInitializerHandler returns RUNTIME_INITIALIZER_HANDLER.
func (c *Context) GetInitializerHandler() string { return c.env.InitializerHandler }

// InvokeType returns "sync" or "async" (sync when the header is missing).
func (c *Context) InvokeType() string {
	if t := c.header.Get(HeaderInvokeType); t != "" {
		return t
	}
	return "sync"
}
