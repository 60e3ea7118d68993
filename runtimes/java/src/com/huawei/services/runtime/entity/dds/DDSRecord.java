package com.huawei.services.runtime.entity.dds;

import com.huawei.services.runtime.stratus.Json;

/**
 * One change record of a {@link DDSTriggerEvent}.
 */
public class DDSRecord {
    private String event_source;
    private String event_name;
    private String event_version;
    private String region;
    private String event_source_id;
    private DDSBody dds;

    public DDSRecord() {
    }

    /** {@code dds}. */
    public String getEventSource() {
        return event_source;
    }

    public void setEventSource(String eventSource) {
        this.event_source = eventSource;
    }

    /** Operation: {@code insert}, {@code update}, ... */
    public String getEventName() {
        return event_name;
    }

    public void setEventName(String eventName) {
        this.event_name = eventName;
    }

    /** Event format version. */
    public String getEventVersion() {
        return event_version;
    }

    public void setEventVersion(String eventVersion) {
        this.event_version = eventVersion;
    }

    /** Region of the instance. */
    public String getRegion() {
        return region;
    }

    public void setRegion(String value) {
        this.region = value;
    }

    /** ID of the instance. */
    public String getEventSourceId() {
        return event_source_id;
    }

    public void setEventSourceId(String eventSourceId) {
        this.event_source_id = eventSourceId;
    }

    /** The change. */
    public DDSBody getDds() {
        return dds;
    }

    public void setDds(DDSBody value) {
        this.dds = value;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
