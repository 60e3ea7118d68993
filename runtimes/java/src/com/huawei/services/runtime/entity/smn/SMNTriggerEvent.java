package com.huawei.services.runtime.entity.smn;

import com.huawei.services.runtime.stratus.Json;

/**
 * The event an SMN (topic) trigger sends. Field names are the JSON keys of the event.
 */
public class SMNTriggerEvent {
    private SMNRecord[] record;
    private String functionname;
    private String requestId;
    private String timestamp;

    public SMNTriggerEvent() {
    }

    /** The notifications (the JSON key is the singular {@code record}). */
    public SMNRecord[] getRecord() {
        return record;
    }

    public void setRecord(SMNRecord[] value) {
        this.record = value;
    }

    /** Name of the function. */
    public String getFunctionname() {
        return functionname;
    }

    public void setFunctionname(String value) {
        this.functionname = value;
    }

    /** ID of the request. */
    public String getRequestId() {
        return requestId;
    }

    public void setRequestId(String value) {
        this.requestId = value;
    }

    /** When SMN sent the event (JavaScript Date text). */
    public String getTimestamp() {
        return timestamp;
    }

    public void setTimestamp(String value) {
        this.timestamp = value;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
