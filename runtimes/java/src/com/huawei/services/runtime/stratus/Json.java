package com.huawei.services.runtime.stratus;

import java.lang.reflect.Array;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Collection;
import java.util.Date;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader and writer (the runtime must not depend on third-party
 * libraries).
 *
 * <p>{@link #parse(String)} gives a tree of {@code LinkedHashMap},
 * {@code ArrayList}, {@code String}, {@code Boolean}, {@code null} and numbers
 * ({@code Integer} or {@code Long} or {@code BigInteger} for integers, {@code Double}
 * otherwise). {@link Binder} turns such a tree into a typed object.
 *
 * <p>{@link #write(Object)} writes compact JSON. Objects that are not maps,
 * collections, arrays or JDK value types are written from their instance
 * fields, as Gson does: every non-static, non-transient field of the class and
 * its superclasses, under its own name (or the name in a Gson
 * {@code @SerializedName} / Jackson {@code @JsonProperty} annotation), with
 * null fields left out. A class without such fields is written from its public
 * getters instead.
 */
public final class Json {

    private static final int MAX_DEPTH = 1000;

    private Json() {
    }

    /**
     * The JSON text of {@code value}.
     *
     * @throws IllegalArgumentException if the value cannot be written (a cycle,
     *         NaN or an infinite number, or a getter that throws)
     */
    public static String toJson(Object value) {
        StringBuilder out = new StringBuilder(128);
        new Writer(out).value(value, 0);
        return out.toString();
    }

    /**
     * {@code toString()} for the event classes: their JSON text, or the class
     * name when that cannot be produced.
     */
    public static String describe(Object value) {
        try {
            return toJson(value);
        } catch (RuntimeException e) {
            return value.getClass().getName();
        }
    }

    /** Same as {@link #toJson(Object)}, for use inside the runtime. */
    static String write(Object value) {
        return toJson(value);
    }

    /**
     * Parses JSON text into a tree.
     *
     * @throws IllegalArgumentException if the text is not one JSON value
     */
    public static Object parse(String text) {
        Parser p = new Parser(text);
        p.skipSpace();
        Object value = p.value(0);
        p.skipSpace();
        if (p.pos != p.end) {
            throw p.error("unexpected text after the JSON value");
        }
        return value;
    }

    // ------------------------------------------------------------------
    // Reading

    private static final class Parser {
        private final String s;
        private final int end;
        private int pos;

        Parser(String s) {
            this.s = s;
            this.end = s.length();
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("invalid JSON at offset " + pos + ": " + what);
        }

        void skipSpace() {
            while (pos < end) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\uFEFF') {
                    pos++;
                } else {
                    break;
                }
            }
        }

        Object value(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("nested too deeply");
            }
            if (pos >= end) {
                throw error("unexpected end of input");
            }
            char c = s.charAt(pos);
            switch (c) {
                case '{':
                    return object(depth);
                case '[':
                    return array(depth);
                case '"':
                    return string();
                case 't':
                    word("true");
                    return Boolean.TRUE;
                case 'f':
                    word("false");
                    return Boolean.FALSE;
                case 'n':
                    word("null");
                    return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw error("unexpected character '" + c + "'");
            }
        }

        private void word(String w) {
            if (!s.startsWith(w, pos)) {
                throw error("unexpected character '" + s.charAt(pos) + "'");
            }
            pos += w.length();
        }

        private Map<String, Object> object(int depth) {
            pos++; // {
            LinkedHashMap<String, Object> map = new LinkedHashMap<String, Object>();
            skipSpace();
            if (pos < end && s.charAt(pos) == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipSpace();
                if (pos >= end || s.charAt(pos) != '"') {
                    throw error("expected a quoted key");
                }
                String key = string();
                skipSpace();
                if (pos >= end || s.charAt(pos) != ':') {
                    throw error("expected ':'");
                }
                pos++;
                skipSpace();
                map.put(key, value(depth + 1));
                skipSpace();
                if (pos >= end) {
                    throw error("unterminated object");
                }
                char c = s.charAt(pos++);
                if (c == '}') {
                    return map;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or '}'");
                }
            }
        }

        private List<Object> array(int depth) {
            pos++; // [
            ArrayList<Object> list = new ArrayList<Object>();
            skipSpace();
            if (pos < end && s.charAt(pos) == ']') {
                pos++;
                return list;
            }
            while (true) {
                skipSpace();
                list.add(value(depth + 1));
                skipSpace();
                if (pos >= end) {
                    throw error("unterminated array");
                }
                char c = s.charAt(pos++);
                if (c == ']') {
                    return list;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or ']'");
                }
            }
        }

        private String string() {
            pos++; // opening quote
            int start = pos;
            // Fast path: no escapes.
            while (pos < end) {
                char c = s.charAt(pos);
                if (c == '"') {
                    String plain = s.substring(start, pos);
                    pos++;
                    return plain;
                }
                if (c == '\\') {
                    break;
                }
                pos++;
            }
            StringBuilder b = new StringBuilder(pos - start + 16);
            b.append(s, start, pos);
            while (pos < end) {
                char c = s.charAt(pos++);
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                if (pos >= end) {
                    break;
                }
                char e = s.charAt(pos++);
                switch (e) {
                    case '"':
                    case '\\':
                    case '/':
                        b.append(e);
                        break;
                    case 'b':
                        b.append('\b');
                        break;
                    case 'f':
                        b.append('\f');
                        break;
                    case 'n':
                        b.append('\n');
                        break;
                    case 'r':
                        b.append('\r');
                        break;
                    case 't':
                        b.append('\t');
                        break;
                    case 'u':
                        if (pos + 4 > end) {
                            throw error("short \\u escape");
                        }
                        int code = 0;
                        for (int i = 0; i < 4; i++) {
                            int d = Character.digit(s.charAt(pos + i), 16);
                            if (d < 0) {
                                throw error("bad \\u escape");
                            }
                            code = code * 16 + d;
                        }
                        pos += 4;
                        b.append((char) code);
                        break;
                    default:
                        pos--;
                        throw error("bad escape '\\" + e + "'");
                }
            }
            throw error("unterminated string");
        }

        private Object number() {
            int start = pos;
            if (s.charAt(pos) == '-') {
                pos++;
            }
            int digitsStart = pos;
            while (pos < end && isDigit(s.charAt(pos))) {
                pos++;
            }
            if (pos == digitsStart) {
                throw error("bad number");
            }
            boolean integral = true;
            if (pos < end && s.charAt(pos) == '.') {
                integral = false;
                pos++;
                int fracStart = pos;
                while (pos < end && isDigit(s.charAt(pos))) {
                    pos++;
                }
                if (pos == fracStart) {
                    throw error("bad number");
                }
            }
            if (pos < end && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
                integral = false;
                pos++;
                if (pos < end && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                    pos++;
                }
                int expStart = pos;
                while (pos < end && isDigit(s.charAt(pos))) {
                    pos++;
                }
                if (pos == expStart) {
                    throw error("bad number");
                }
            }
            String text = s.substring(start, pos);
            if (!integral) {
                return Double.valueOf(text);
            }
            int digits = pos - digitsStart;
            if (digits <= 9) {
                return Integer.valueOf(Integer.parseInt(text));
            }
            if (digits <= 18) {
                long v = Long.parseLong(text);
                return narrow(v);
            }
            BigInteger big = new BigInteger(text);
            if (big.bitLength() < 64) {
                return narrow(big.longValue());
            }
            return big;
        }

        private static Object narrow(long v) {
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
                return Integer.valueOf((int) v);
            }
            return Long.valueOf(v);
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }
    }

    // ------------------------------------------------------------------
    // Writing

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    static void quote(StringBuilder out, String s) {
        out.append('"');
        int n = s.length();
        int run = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            String esc = null;
            if (c < 0x20 || c == '"' || c == '\\' || c == '\u2028' || c == '\u2029') {
                switch (c) {
                    case '"':
                        esc = "\\\"";
                        break;
                    case '\\':
                        esc = "\\\\";
                        break;
                    case '\n':
                        esc = "\\n";
                        break;
                    case '\r':
                        esc = "\\r";
                        break;
                    case '\t':
                        esc = "\\t";
                        break;
                    case '\b':
                        esc = "\\b";
                        break;
                    case '\f':
                        esc = "\\f";
                        break;
                    default:
                        esc = null;
                }
                out.append(s, run, i);
                run = i + 1;
                if (esc != null) {
                    out.append(esc);
                } else {
                    out.append("\\u").append(HEX[(c >> 12) & 0xF]).append(HEX[(c >> 8) & 0xF])
                            .append(HEX[(c >> 4) & 0xF]).append(HEX[c & 0xF]);
                }
            }
        }
        out.append(s, run, n);
        out.append('"');
    }

    private static final class Writer {
        private final StringBuilder out;
        private final IdentityHashMap<Object, Boolean> open = new IdentityHashMap<Object, Boolean>();

        Writer(StringBuilder out) {
            this.out = out;
        }

        void value(Object v, int depth) {
            if (v == null) {
                out.append("null");
                return;
            }
            if (v instanceof String) {
                quote(out, (String) v);
                return;
            }
            if (v instanceof Boolean) {
                out.append(((Boolean) v).booleanValue() ? "true" : "false");
                return;
            }
            if (v instanceof Number) {
                number((Number) v);
                return;
            }
            if (v instanceof Character) {
                quote(out, v.toString());
                return;
            }
            if (v instanceof Enum) {
                quote(out, ((Enum<?>) v).name());
                return;
            }
            if (depth > MAX_DEPTH) {
                throw new IllegalArgumentException("value nested too deeply (a cycle?)");
            }
            if (v instanceof Map) {
                enter(v);
                map((Map<?, ?>) v, depth);
                open.remove(v);
                return;
            }
            if (v instanceof Collection) {
                enter(v);
                out.append('[');
                boolean first = true;
                for (Iterator<?> it = ((Collection<?>) v).iterator(); it.hasNext();) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    value(it.next(), depth + 1);
                }
                out.append(']');
                open.remove(v);
                return;
            }
            Class<?> cls = v.getClass();
            if (cls.isArray()) {
                enter(v);
                out.append('[');
                int n = Array.getLength(v);
                for (int i = 0; i < n; i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    value(Array.get(v, i), depth + 1);
                }
                out.append(']');
                open.remove(v);
                return;
            }
            if (v instanceof Date) {
                quote(out, Clock.iso(((Date) v).getTime()));
                return;
            }
            if (v instanceof Calendar) {
                quote(out, Clock.iso(((Calendar) v).getTimeInMillis()));
                return;
            }
            if (Beans.isJsonTree(cls)) {
                // Gson JsonElement, Jackson JsonNode, org.json: their toString() is JSON.
                out.append(v.toString());
                return;
            }
            if (Beans.isJdkType(cls)) {
                Object unwrapped = Beans.unwrapOptional(v);
                if (unwrapped != v) {
                    value(unwrapped, depth + 1);
                } else {
                    quote(out, v.toString());
                }
                return;
            }
            enter(v);
            bean(v, cls, depth);
            open.remove(v);
        }

        private void enter(Object v) {
            if (open.put(v, Boolean.TRUE) != null) {
                throw new IllegalArgumentException(
                        "circular reference through a " + v.getClass().getName());
            }
        }

        private void number(Number n) {
            if (n instanceof Double || n instanceof Float) {
                double d = n.doubleValue();
                if (Double.isNaN(d) || Double.isInfinite(d)) {
                    throw new IllegalArgumentException(d + " is not a valid JSON number");
                }
                out.append(n.toString());
                return;
            }
            String text = n.toString();
            if (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte
                    || n instanceof BigInteger || n instanceof java.math.BigDecimal) {
                out.append(text);
                return;
            }
            // Atomic*, LongAdder and user Number classes: make sure the text is a number.
            try {
                Double.parseDouble(text);
                out.append(text);
            } catch (NumberFormatException e) {
                quote(out, text);
            }
        }

        private void map(Map<?, ?> m, int depth) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                Object k = e.getKey();
                String key;
                if (k instanceof String) {
                    key = (String) k;
                } else if (k instanceof Enum) {
                    key = ((Enum<?>) k).name();
                } else {
                    key = String.valueOf(k);
                }
                quote(out, key);
                out.append(':');
                value(e.getValue(), depth + 1);
            }
            out.append('}');
        }

        private void bean(Object v, Class<?> cls, int depth) {
            Beans.Reader[] readers = Beans.of(cls).readers();
            out.append('{');
            boolean first = true;
            for (Beans.Reader r : readers) {
                Object fieldValue;
                try {
                    fieldValue = r.get(v);
                } catch (Exception e) {
                    throw new IllegalArgumentException("cannot read " + cls.getName() + "." + r.name + ": " + e, e);
                }
                if (fieldValue == null) {
                    continue;
                }
                if (!first) {
                    out.append(',');
                }
                first = false;
                quote(out, r.name);
                out.append(':');
                value(fieldValue, depth + 1);
            }
            out.append('}');
        }
    }
}
