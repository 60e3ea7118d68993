package com.huawei.services.runtime.entity.dms;

import com.huawei.services.runtime.stratus.Json;

/**
 * One message of the DMS queue trigger.
 */
public class DMSEvent {
    private String id;
    private DMSMessage message;

    public DMSEvent() {
    }

    /** Message ID. */
    public String getId() {
        return id;
    }

    public void setId(String value) {
        this.id = value;
    }

    /** The message. */
    public DMSMessage getMessage() {
        return message;
    }

    public void setMessage(DMSMessage value) {
        this.message = value;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
