package com.huawei.services.runtime.entity.smn;

import com.huawei.services.runtime.stratus.Json;

/**
 * One entry of {@link SMNTriggerEvent#getRecord()}.
 */
public class SMNRecord {
    private String event_version;
    private String event_subscription_urn;
    private String event_source;
    private SMNBody smn;

    public SMNRecord() {
    }

    /** Event format version ({@code 1.0}). */
    public String getEventVersion() {
        return event_version;
    }

    public void setEventVersion(String eventVersion) {
        this.event_version = eventVersion;
    }

    /** URN of the subscription. */
    public String getEventSubscriptionUrn() {
        return event_subscription_urn;
    }

    public void setEventSubscriptionUrn(String eventSubscriptionUrn) {
        this.event_subscription_urn = eventSubscriptionUrn;
    }

    /** {@code smn}. */
    public String getEventSource() {
        return event_source;
    }

    public void setEventSource(String eventSource) {
        this.event_source = eventSource;
    }

    /** The message. */
    public SMNBody getSmn() {
        return smn;
    }

    public void setSmn(SMNBody value) {
        this.smn = value;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
