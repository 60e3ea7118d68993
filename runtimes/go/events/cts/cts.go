// Package cts holds the event types of CTS (cloud trace) triggers.
package cts

import (
	"encoding/json"
	"fmt"
)

// CTSTriggerEvent is the event a CTS trigger sends for one trace.
type CTSTriggerEvent struct {
	Cts CTS `json:"cts"`
}

// String renders the event for logging.
func (e *CTSTriggerEvent) String() string {
	return fmt.Sprintf("CTSTriggerEvent{cts=%+v}", e.Cts)
}

// CTS is one audit trace.
type CTS struct {
	// Time is when the operation happened, epoch milliseconds.
	Time json.Number `json:"time"`
	// User is the caller.
	User User `json:"user"`
	// Request is the request body of the traced operation.
	Request map[string]interface{} `json:"request"`
	// Response is the response body of the traced operation.
	Response map[string]interface{} `json:"response"`
	// Code is the HTTP status of the operation.
	Code int `json:"code"`
	// ServiceType is the traced service, e.g. "FunctionGraph".
	ServiceType string `json:"service_type"`
	// ResourceType is the resource type, e.g. "Functions".
	ResourceType string `json:"resource_type"`
	// ResourceName is the resource name.
	ResourceName string `json:"resource_name"`
	// ResourceId is the resource id.
	ResourceId string `json:"resource_id"`
	// TraceName is the operation name, e.g. "createFunction".
	TraceName string `json:"trace_name"`
	// TraceType is ConsoleAction, ApiCall or SystemAction.
	TraceType string `json:"trace_type"`
	// TraceRating is normal, warning or incident.
	TraceRating string `json:"trace_rating"`
	// TraceStatus is the status of the trace.
	TraceStatus string `json:"trace_status"`
	// RecordTime is when CTS recorded the trace, epoch milliseconds.
	RecordTime json.Number `json:"record_time"`
	// TraceId is the trace's id.
	TraceId string `json:"trace_id"`
	// SourceIp is the caller's address.
	SourceIp string `json:"source_ip"`
	// ApiVersion is the version of the called API.
	ApiVersion string `json:"api_version"`
	// DomainId is the account id.
	DomainId string `json:"domain_id"`
	// ProjectId is the project id.
	ProjectId string `json:"project_id"`
	// OperationId is the operation id, e.g. "CreateFunction".
	OperationId string `json:"operation_id"`
	// Message is a human-readable description.
	Message string `json:"message"`
	// ReadOnly tells whether the operation was read-only.
	ReadOnly bool `json:"read_only"`
	// ResourceAccountId is the account owning the resource.
	ResourceAccountId string `json:"resource_account_id"`
}

// User is the caller of a traced operation.
type User struct {
	Name   string `json:"name"`
	Id     string `json:"id"`
	Domain Domain `json:"domain"`
}

// Domain is the account of a caller.
type Domain struct {
	Name string `json:"name"`
	Id   string `json:"id"`
}
