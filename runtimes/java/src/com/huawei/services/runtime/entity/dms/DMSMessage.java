package com.huawei.services.runtime.entity.dms;

import com.huawei.services.runtime.stratus.Json;
import java.util.Map;

/**
 * Body and attributes of a {@link DMSEvent}.
 */
public class DMSMessage {
    private String body;
    private Map<String, String> attributes;

    public DMSMessage() {
    }

    /** Message body. */
    public String getBody() {
        return body;
    }

    public void setBody(String value) {
        this.body = value;
    }

    /** Message attributes. */
    public Map<String, String> getAttributes() {
        return attributes;
    }

    public void setAttributes(Map<String, String> value) {
        this.attributes = value;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
