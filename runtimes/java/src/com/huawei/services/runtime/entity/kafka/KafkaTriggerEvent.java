package com.huawei.services.runtime.entity.kafka;

import com.huawei.services.runtime.stratus.Json;

/**
 * The event a Kafka trigger (DMS for Kafka or open-source Kafka) sends.
 * Field names are the JSON keys of the event.
 */
public class KafkaTriggerEvent {
    private String event_version;
    private long event_time;
    private String trigger_type;
    private String region;
    private String instance_id;
    private KafkaRecord[] records;

    public KafkaTriggerEvent() {
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

    /** {@code KAFKA}. */
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

    /** ID of the Kafka instance. */
    public String getInstanceId() {
        return instance_id;
    }

    public void setInstanceId(String instanceId) {
        this.instance_id = instanceId;
    }

    /** The messages, grouped by topic. */
    public KafkaRecord[] getRecords() {
        return records;
    }

    public void setRecords(KafkaRecord[] value) {
        this.records = value;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
