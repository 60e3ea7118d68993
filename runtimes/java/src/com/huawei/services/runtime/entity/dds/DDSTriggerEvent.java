package com.huawei.services.runtime.entity.dds;

import com.huawei.services.runtime.stratus.Json;

/**
 * The event a DDS (document database) trigger sends.
 */
public class DDSTriggerEvent {
    private DDSRecord[] records;

    public DDSTriggerEvent() {
    }

    /** The change records. */
    public DDSRecord[] getRecords() {
        return records;
    }

    public void setRecords(DDSRecord[] value) {
        this.records = value;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
