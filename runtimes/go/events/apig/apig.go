// Package apig holds the event and response types of API Gateway (APIG)
// triggers.
package apig

import (
	"encoding/base64"
	"fmt"
)

// APIGTriggerEvent is the event an APIG trigger sends to the function.
type APIGTriggerEvent struct {
	// IsBase64Encoded tells whether Body is Base64 (true by default).
	IsBase64Encoded bool `json:"isBase64Encoded"`
	// HttpMethod is the request method.
	HttpMethod string `json:"httpMethod"`
	// Path is the full request path.
	Path string `json:"path"`
	// Body is the request body, Base64 encoded when IsBase64Encoded is set.
	Body string `json:"body"`
	// PathParameters holds the path parameters defined on the API.
	PathParameters map[string]string `json:"pathParameters"`
	// RequestContext describes the API and the gateway's request.
	RequestContext APIGRequestContext `json:"requestContext"`
	// Headers holds the request headers under lower-case names.
	Headers map[string]string `json:"headers"`
	// QueryStringParameters holds the query parameters.
	QueryStringParameters map[string]string `json:"queryStringParameters"`
	// UserData is the value set by an APIG custom authorizer.
	UserData string `json:"user_data"`
}

// GetRawBody returns the Base64-decoded body, or "" if Body is not valid
// Base64.
func (e *APIGTriggerEvent) GetRawBody() string {
	raw, err := base64.StdEncoding.DecodeString(e.Body)
	if err != nil {
		return ""
	}
	return string(raw)
}

// String renders the event for logging.
func (e *APIGTriggerEvent) String() string {
	return fmt.Sprintf("APIGTriggerEvent{httpMethod=%q, path=%q, isBase64Encoded=%v, body=%q, pathParameters=%v, requestContext=%v, headers=%v, queryStringParameters=%v, user_data=%q}",
		e.HttpMethod, e.Path, e.IsBase64Encoded, e.Body, e.PathParameters, e.RequestContext, e.Headers, e.QueryStringParameters, e.UserData)
}

// APIGRequestContext identifies the API and the gateway request.
type APIGRequestContext struct {
	// ApiId is the API's id.
	ApiId string `json:"apiId"`
	// RequestId is the gateway's request id (same as the x-request-id header).
	RequestId string `json:"requestId"`
	// Stage is the environment the API is published in, e.g. RELEASE.
	Stage string `json:"stage"`
	// SourceIp is the client address.
	SourceIp string `json:"sourceIp"`
}

// String renders the request context for logging.
func (rc APIGRequestContext) String() string {
	return fmt.Sprintf("APIGRequestContext{apiId=%q, requestId=%q, stage=%q, sourceIp=%q}", rc.ApiId, rc.RequestId, rc.Stage, rc.SourceIp)
}

// APIGTriggerResponse is the result shape APIG expects from the function.
type APIGTriggerResponse struct {
	// Body is the response body; Base64 encoded when IsBase64Encoded is set.
	Body string `json:"body"`
	// Headers are the response headers.
	Headers map[string]string `json:"headers"`
	// StatusCode is the HTTP status; it must not be 0.
	StatusCode int `json:"statusCode"`
	// IsBase64Encoded makes APIG decode Body before replying.
	IsBase64Encoded bool `json:"isBase64Encoded"`
}

// SetBase64EncodedBody stores body Base64 encoded. It does not set
// IsBase64Encoded; callers that want APIG to decode the body set it too.
func (r *APIGTriggerResponse) SetBase64EncodedBody(body string) {
	r.Body = base64.StdEncoding.EncodeToString([]byte(body))
}
