package com.huawei.services.runtime.entity.timer;

import com.huawei.services.runtime.stratus.Json;

/**
 * The event a timer trigger sends. Field names are the JSON keys of the event.
 */
public class TimerTriggerEvent {
    private String version;
    private String time;
    private String trigger_type;
    private String trigger_name;
    private String user_event;

    public TimerTriggerEvent() {
    }

    /** Event format version ({@code v1.0}). */
    public String getVersion() {
        return version;
    }

    public void setVersion(String version) {
        this.version = version;
    }

    /** When the timer fired, RFC 3339 with offset. */
    public String getTime() {
        return time;
    }

    public void setTime(String time) {
        this.time = time;
    }

    /** {@code TIMER}. */
    public String getTriggerType() {
        return trigger_type;
    }

    public void setTriggerType(String triggerType) {
        this.trigger_type = triggerType;
    }

    /** Name of the trigger. */
    public String getTriggerName() {
        return trigger_name;
    }

    public void setTriggerName(String triggerName) {
        this.trigger_name = triggerName;
    }

    /** The "additional information" text configured on the trigger. */
    public String getUserEvent() {
        return user_event;
    }

    public void setUserEvent(String userEvent) {
        this.user_event = userEvent;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
