// Package timer holds the event type of timer triggers.
package timer

import "fmt"

// TimerTriggerEvent is the event a timer trigger sends on each tick.
type TimerTriggerEvent struct {
	// Version is the event version ("v1.0").
	Version string `json:"version"`
	// Time is the firing time, RFC 3339 with offset.
	Time string `json:"time"`
	// TriggerType is "TIMER".
	TriggerType string `json:"trigger_type"`
	// TriggerName is the trigger's name.
	TriggerName string `json:"trigger_name"`
	// UserEvent is the trigger's "additional information", passed as a string.
	UserEvent string `json:"user_event"`
}

// String renders the event for logging.
func (e *TimerTriggerEvent) String() string {
	return fmt.Sprintf("TimerTriggerEvent{version=%q, time=%q, trigger_type=%q, trigger_name=%q, user_event=%q}",
		e.Version, e.Time, e.TriggerType, e.TriggerName, e.UserEvent)
}
