package com.huawei.services.runtime.entity.dis;

import com.huawei.services.runtime.stratus.Json;

/**
 * The event a DIS (stream) trigger sends. Field names are the JSON keys of the event
 * (PascalCase at the top, snake_case inside).
 */
public class DISTriggerEvent {
    private String ShardID;
    private DISMessage Message;
    private String Tag;
    private String StreamName;

    public DISTriggerEvent() {
    }

    /** Partition the records come from. */
    public String getShardID() {
        return ShardID;
    }

    public void setShardID(String shardID) {
        this.ShardID = shardID;
    }

    /** The records. */
    public DISMessage getMessage() {
        return Message;
    }

    public void setMessage(DISMessage message) {
        this.Message = message;
    }

    /** Function version. */
    public String getTag() {
        return Tag;
    }

    public void setTag(String tag) {
        this.Tag = tag;
    }

    /** Name of the stream. */
    public String getStreamName() {
        return StreamName;
    }

    public void setStreamName(String streamName) {
        this.StreamName = streamName;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
