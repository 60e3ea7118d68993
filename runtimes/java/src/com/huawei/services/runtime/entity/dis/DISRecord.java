package com.huawei.services.runtime.entity.dis;

import com.huawei.services.runtime.stratus.Json;
import java.io.UnsupportedEncodingException;
import java.util.Base64;

/**
 * One record of a {@link DISMessage}.
 */
public class DISRecord {
    private String partition_key;
    private String data;
    private String sequence_number;
    private long timestamp;
    private String timestamp_type;

    public DISRecord() {
    }

    /** Partition key of the record. */
    public String getPartitionKey() {
        return partition_key;
    }

    public void setPartitionKey(String partitionKey) {
        this.partition_key = partitionKey;
    }

    /** Base64 of the record data. */
    public String getData() {
        return data;
    }

    public void setData(String value) {
        this.data = value;
    }

    /** Sequence number of the record. */
    public String getSequenceNumber() {
        return sequence_number;
    }

    public void setSequenceNumber(String sequenceNumber) {
        this.sequence_number = sequenceNumber;
    }

    /** When the record was written, epoch milliseconds (0 when absent). */
    public long getTimestamp() {
        return timestamp;
    }

    public void setTimestamp(long value) {
        this.timestamp = value;
    }

    /** Kind of timestamp. */
    public String getTimestampType() {
        return timestamp_type;
    }

    public void setTimestampType(String timestampType) {
        this.timestamp_type = timestampType;
    }

    /** The record data: {@link #getData()} Base64-decoded as UTF-8. */
    public String getRawData() throws UnsupportedEncodingException {
        if (data == null) {
            return null;
        }
        try {
            return new String(Base64.getDecoder().decode(data.trim()), "UTF-8");
        } catch (IllegalArgumentException e) {
            return new String(Base64.getMimeDecoder().decode(data), "UTF-8");
        }
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
