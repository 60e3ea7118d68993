package com.huawei.services.runtime.entity.kafka;

import com.huawei.services.runtime.stratus.Json;

/**
 * Messages of one topic in a {@link KafkaTriggerEvent}.
 */
public class KafkaRecord {
    private String[] messages;
    private String topic_id;

    public KafkaRecord() {
    }

    /** Message values. */
    public String[] getMessages() {
        return messages;
    }

    public void setMessages(String[] value) {
        this.messages = value;
    }

    /** Topic name. */
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
