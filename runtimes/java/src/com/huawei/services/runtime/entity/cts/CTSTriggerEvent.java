package com.huawei.services.runtime.entity.cts;

import com.huawei.services.runtime.stratus.Json;

/**
 * The event a CTS (audit trace) trigger sends: {@code {"cts":{...}}}.
 */
public class CTSTriggerEvent {
    private CTS cts;

    public CTSTriggerEvent() {
    }

    /** The trace. */
    public CTS getCts() {
        return cts;
    }

    public void setCts(CTS value) {
        this.cts = value;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
