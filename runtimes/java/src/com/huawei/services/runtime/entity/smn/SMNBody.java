package com.huawei.services.runtime.entity.smn;

import com.huawei.services.runtime.stratus.Json;
import java.util.Map;

/**
 * The {@code smn} object of an {@link SMNRecord}: the published message.
 */
public class SMNBody {
    private String topic_urn;
    private String timestamp;
    private Map<String, Object> message_attributes;
    private String message;
    private String type;
    private String message_id;
    private String subject;

    public SMNBody() {
    }

    /** URN of the topic. */
    public String getTopicUrn() {
        return topic_urn;
    }

    public void setTopicUrn(String topicUrn) {
        this.topic_urn = topicUrn;
    }

    /** When the message was published. */
    public String getTimestamp() {
        return timestamp;
    }

    public void setTimestamp(String value) {
        this.timestamp = value;
    }

    /** Message attributes, null when there are none. */
    public Map<String, Object> getMessageAttributes() {
        return message_attributes;
    }

    public void setMessageAttributes(Map<String, Object> messageAttributes) {
        this.message_attributes = messageAttributes;
    }

    /** Message text. */
    public String getMessage() {
        return message;
    }

    public void setMessage(String value) {
        this.message = value;
    }

    /** Message type ({@code notification}). */
    public String getType() {
        return type;
    }

    public void setType(String value) {
        this.type = value;
    }

    /** ID of the message. */
    public String getMessageId() {
        return message_id;
    }

    public void setMessageId(String messageId) {
        this.message_id = messageId;
    }

    /** Subject of the message. */
    public String getSubject() {
        return subject;
    }

    public void setSubject(String value) {
        this.subject = value;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
