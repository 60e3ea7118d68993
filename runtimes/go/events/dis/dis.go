// Package dis holds the event types of DIS (data ingestion stream) triggers.
package dis

import (
	"encoding/base64"
	"fmt"
)

// DISTriggerEvent is a batch of stream records.
type DISTriggerEvent struct {
	// ShardID is the partition the records come from.
	ShardID string `json:"ShardID"`
	// Message holds the records.
	Message DISMessage `json:"Message"`
	// Tag is the function version.
	Tag string `json:"Tag"`
	// StreamName is the stream's name.
	StreamName string `json:"StreamName"`
}

// String renders the event for logging.
func (e *DISTriggerEvent) String() string {
	return fmt.Sprintf("DISTriggerEvent{ShardID=%q, Message=%+v, Tag=%q, StreamName=%q}", e.ShardID, e.Message, e.Tag, e.StreamName)
}

// DISMessage is the record batch of a DIS event.
type DISMessage struct {
	// NextPartitionCursor is the cursor of the next batch.
	NextPartitionCursor string `json:"next_partition_cursor"`
	// Records are the data records.
	Records []DISRecord `json:"records"`
	// MillisBehindLatest is reserved.
	MillisBehindLatest string `json:"millis_behind_latest"`
}

// DISRecord is one stream record.
type DISRecord struct {
	// PartitionKey is the record's partition key.
	PartitionKey string `json:"partition_key"`
	// Data is the record content, Base64 encoded.
	Data string `json:"data"`
	// SequenceNumber is the record's sequence number.
	SequenceNumber string `json:"sequence_number"`
}

// GetRawData returns the decoded record content, or "" if Data is not valid
// Base64.
func (r *DISRecord) GetRawData() string {
	raw, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		return ""
	}
	return string(raw)
}
