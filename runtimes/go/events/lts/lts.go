// Package lts holds the event types of LTS (log subscription) triggers.
package lts

import (
	"encoding/base64"
	"fmt"
)

// LTSTriggerEvent is the event an LTS trigger sends.
type LTSTriggerEvent struct {
	Lts LTSBody `json:"lts"`
}

// String renders the event for logging.
func (e *LTSTriggerEvent) String() string {
	return fmt.Sprintf("LTSTriggerEvent{lts=%v}", e.Lts.Data)
}

// LTSBody carries the Base64 encoded log document.
type LTSBody struct {
	// Data is Base64 of a JSON document with the fields logs, owner,
	// log_group_id and log_topic_id.
	Data string `json:"data"`
}

// GetRawData returns the decoded log document, or "" if Data is not valid
// Base64.
func (b *LTSBody) GetRawData() string {
	raw, err := base64.StdEncoding.DecodeString(b.Data)
	if err != nil {
		return ""
	}
	return string(raw)
}
