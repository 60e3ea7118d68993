// Package smn holds the event types of SMN (topic) triggers.
package smn

import "fmt"

// SMNTriggerEvent is the event an SMN trigger sends for a published message.
type SMNTriggerEvent struct {
	// Record holds the notifications (note the singular JSON key).
	Record []SMNRecord `json:"record"`
	// FunctionName is the name of the subscribed function.
	FunctionName string `json:"functionname"`
	// RequestId is the id of the delivery.
	RequestId string `json:"requestId"`
	// TimeStamp is the delivery time, JavaScript Date style.
	TimeStamp string `json:"timestamp"`
}

// String renders the event for logging.
func (e *SMNTriggerEvent) String() string {
	return fmt.Sprintf("SMNTriggerEvent{record=%+v, functionname=%q, requestId=%q, timestamp=%q}", e.Record, e.FunctionName, e.RequestId, e.TimeStamp)
}

// SMNRecord is one notification.
type SMNRecord struct {
	// EventVersion is "1.0".
	EventVersion string `json:"event_version"`
	// EventSubscriptionUrn is the URN of the subscription.
	EventSubscriptionUrn string `json:"event_subscription_urn"`
	// EventSource is "smn".
	EventSource string `json:"event_source"`
	// Smn is the message itself.
	Smn SMNBody `json:"smn"`
}

// SMNBody is a published SMN message.
type SMNBody struct {
	// TopicUrn is the URN of the topic.
	TopicUrn string `json:"topic_urn"`
	// TimeStamp is the publication time.
	TimeStamp string `json:"timestamp"`
	// MessageAttributes holds the message attributes (nil when absent).
	MessageAttributes map[string]string `json:"message_attributes"`
	// Message is the message content.
	Message string `json:"message"`
	// Type is the message type, e.g. "notification".
	Type string `json:"type"`
	// MessageId is the unique id of the message.
	MessageId string `json:"message_id"`
	// Subject is the message subject.
	Subject string `json:"subject"`
}
