package com.huawei.services.runtime.entity.dis;

import com.huawei.services.runtime.stratus.Json;

/**
 * The {@code Message} of a {@link DISTriggerEvent}.
 */
public class DISMessage {
    private String next_partition_cursor;
    private DISRecord[] records;
    private int millis_behind_latest;

    public DISMessage() {
    }

    /** Cursor of the next batch. */
    public String getNextPartitionCursor() {
        return next_partition_cursor;
    }

    public void setNextPartitionCursor(String nextPartitionCursor) {
        this.next_partition_cursor = nextPartitionCursor;
    }

    /** The records. */
    public DISRecord[] getRecords() {
        return records;
    }

    public void setRecords(DISRecord[] value) {
        this.records = value;
    }

    /** Reserved (0). */
    public int getMillisBehindLatest() {
        return millis_behind_latest;
    }

    public void setMillisBehindLatest(int millisBehindLatest) {
        this.millis_behind_latest = millisBehindLatest;
    }

    /** Same as {@link #getNextPartitionCursor()} (FunctionGraph's spelling). */
    public String getNextPatitionCursor() {
        return next_partition_cursor;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
