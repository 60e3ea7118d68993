package com.huawei.services.runtime.entity.dms;

import com.huawei.services.runtime.stratus.Json;

/**
 * Messages of one topic in a {@link DMSTriggerEvent}.
 */
public class DMSRecord {
    private String[] messages;
    private String topic_id;

    public DMSRecord() {
    }

    /** Message values. */
    public String[] getMessages() {
        return messages;
    }

    public void setMessages(String[] value) {
        this.messages = value;
    }

    /** Topic (or queue) name. */
    public String getTopicId() {
        return topic_id;
    }

    public void setTopicId(String topicId) {
        this.topic_id = topicId;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
