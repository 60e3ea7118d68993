package com.huawei.services.runtime.stratus;

/**
 * ISO-8601 UTC timestamps with milliseconds ({@code 2024-06-01T08:30:00.123Z}),
 * computed by hand: java.time and String.format are slow to load and every
 * cold start would pay for them.
 */
final class Clock {

    private Clock() {
    }

    static String now() {
        return iso(System.currentTimeMillis());
    }

    static String iso(long epochMs) {
        long secs = Math.floorDiv(epochMs, 1000L);
        int millis = (int) Math.floorMod(epochMs, 1000L);
        long days = Math.floorDiv(secs, 86400L);
        int secOfDay = (int) Math.floorMod(secs, 86400L);

        // Civil date from a day count (days since 1970-01-01), proleptic Gregorian.
        long z = days + 719468;
        long era = (z >= 0 ? z : z - 146096) / 146097;
        long dayOfEra = z - era * 146097;
        long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365;
        long year = yearOfEra + era * 400;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long mp = (5 * dayOfYear + 2) / 153;
        int day = (int) (dayOfYear - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        if (month <= 2) {
            year++;
        }

        StringBuilder b = new StringBuilder(24);
        pad(b, year, 4).append('-');
        pad(b, month, 2).append('-');
        pad(b, day, 2).append('T');
        pad(b, secOfDay / 3600, 2).append(':');
        pad(b, (secOfDay / 60) % 60, 2).append(':');
        pad(b, secOfDay % 60, 2).append('.');
        pad(b, millis, 3).append('Z');
        return b.toString();
    }

    private static StringBuilder pad(StringBuilder b, long value, int width) {
        String s = Long.toString(value);
        for (int i = s.length(); i < width; i++) {
            b.append('0');
        }
        return b.append(s);
    }
}
