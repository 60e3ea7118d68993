// Package kafka holds the event types of DMS for Kafka and open-source Kafka
// triggers (DMS for RocketMQ uses the same shape).
package kafka

import "fmt"

// KAFKATriggerEvent is a batch of messages pulled from a topic.
type KAFKATriggerEvent struct {
	// InstanceId is the Kafka instance's id.
	InstanceId string `json:"instance_id"`
	// Records groups the messages by topic.
	Records []KAFKARecord `json:"records"`
	// TriggerType is "KAFKA" (or "ROCKETMQ").
	TriggerType string `json:"trigger_type"`
	// Region is the instance's region.
	Region string `json:"region"`
	// EventTime is the event time in Unix seconds.
	EventTime int64 `json:"event_time"`
	// EventVersion is "v1.0".
	EventVersion string `json:"event_version"`
}

// String renders the event for logging.
func (e *KAFKATriggerEvent) String() string {
	return fmt.Sprintf("KAFKATriggerEvent{instance_id=%q, records=%+v, trigger_type=%q, region=%q, event_time=%d, event_version=%q}",
		e.InstanceId, e.Records, e.TriggerType, e.Region, e.EventTime, e.EventVersion)
}

// KAFKARecord holds the messages of one topic.
type KAFKARecord struct {
	// Messages are the message values.
	Messages []string `json:"messages"`
	// TopicId is the topic's name.
	TopicId string `json:"topic_id"`
}
