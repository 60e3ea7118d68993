package com.huawei.services.runtime.entity.dms;

import com.huawei.services.runtime.stratus.Json;

/**
 * The event a DMS trigger sends. DMS for Kafka/RocketMQ/RabbitMQ sends
 * {@code event_version, event_time, trigger_type, region, instance_id, records};
 * the older DMS queue trigger sends {@code events} and {@code queue_id}. Both are read.
 */
public class DMSTriggerEvent {
    private String event_version;
    private long event_time;
    private String trigger_type;
    private String region;
    private String instance_id;
    private DMSRecord[] records;
    private String queue_id;
    private DMSEvent[] events;

    public DMSTriggerEvent() {
    }

    /** Event format version ({@code v1.0}). */
    public String getEventVersion() {
        return event_version;
    }

    public void setEventVersion(String eventVersion) {
        this.event_version = eventVersion;
    }

    /** When the batch was taken, Unix seconds. */
    public long getEventTime() {
        return event_time;
    }

    public void setEventTime(long eventTime) {
        this.event_time = eventTime;
    }

    /** {@code KAFKA}, {@code ROCKETMQ}, {@code RABBITMQ}, {@code DMS}. */
    public String getTriggerType() {
        return trigger_type;
    }

    public void setTriggerType(String triggerType) {
        this.trigger_type = triggerType;
    }

    /** Region of the instance. */
    public String getRegion() {
        return region;
    }

    public void setRegion(String value) {
        this.region = value;
    }

    /** ID of the instance. */
    public String getInstanceId() {
        return instance_id;
    }

    public void setInstanceId(String instanceId) {
        this.instance_id = instanceId;
    }

    /** The messages, grouped by topic. */
    public DMSRecord[] getRecords() {
        return records;
    }

    public void setRecords(DMSRecord[] value) {
        this.records = value;
    }

    /** Queue ID (DMS queue trigger). */
    public String getQueueId() {
        return queue_id;
    }

    public void setQueueId(String queueId) {
        this.queue_id = queueId;
    }

    /** The messages (DMS queue trigger). */
    public DMSEvent[] getEvents() {
        return events;
    }

    public void setEvents(DMSEvent[] value) {
        this.events = value;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
