package com.huawei.services.runtime.entity.lts;

import com.huawei.services.runtime.stratus.Json;
import java.io.UnsupportedEncodingException;
import java.util.Base64;

/** The {@code lts} object of an LTS trigger event. */
public class LTSBody {
    private String data;

    public LTSBody() {
    }

    /** Base64 of the log document. */
    public String getData() {
        return data;
    }

    public void setData(String data) {
        this.data = data;
    }

    /**
     * The log document: {@link #getData()} Base64-decoded as UTF-8 (a JSON
     * document with {@code logs}, {@code owner}, {@code log_group_id},
     * {@code log_topic_id}).
     */
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
