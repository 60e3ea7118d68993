package com.huawei.services.runtime.entity.lts;

import com.huawei.services.runtime.stratus.Json;

/** The event an LTS (log subscription) trigger sends: {@code {"lts":{"data":"<base64>"}}}. */
public class LTSTriggerEvent {
    private LTSBody lts;

    public LTSTriggerEvent() {
    }

    public LTSBody getLts() {
        return lts;
    }

    public void setLts(LTSBody lts) {
        this.lts = lts;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
