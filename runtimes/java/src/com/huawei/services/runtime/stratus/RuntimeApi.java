package com.huawei.services.runtime.stratus;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One keep-alive HTTP/1.1 connection to the instance's runtime API, written
 * over a plain socket (HttpURLConnection costs start-up time and has its own
 * keep-alive pool we do not want). Each worker thread owns one.
 */
final class RuntimeApi {

    static final String PREFIX = "/v1/runtime";

    /** How long the API may stay unreachable before we assume the platform is gone. */
    private static final long UNREACHABLE_LIMIT_NS = 10_000_000_000L;
    private static final long RETRY_PAUSE_MS = 50;
    /** Read timeout; a long poll is answered (204) within 30 s. */
    private static final int READ_TIMEOUT_MS = 120_000;
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    private static final int MAX_LINE = 64 * 1024;

    /** The runtime API could not be reached for {@link #UNREACHABLE_LIMIT_NS}. */
    static final class Unreachable extends Exception {
        private static final long serialVersionUID = 1L;

        Unreachable(String message) {
            super(message);
        }
    }

    static final class Response {
        final int status;
        /** Lower-case header names. */
        final Map<String, String> headers;
        final byte[] body;

        Response(int status, Map<String, String> headers, byte[] body) {
            this.status = status;
            this.headers = headers;
            this.body = body;
        }

        String header(String lowerName) {
            return headers.get(lowerName);
        }
    }

    private final String addr;
    private final String host;
    private final int port;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    RuntimeApi(String addr) {
        this.addr = addr;
        int colon = addr.lastIndexOf(':');
        String h = colon >= 0 ? addr.substring(0, colon) : addr;
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        this.host = h.isEmpty() ? "127.0.0.1" : h;
        int p;
        try {
            p = Integer.parseInt(addr.substring(colon + 1).trim());
        } catch (NumberFormatException e) {
            p = 80;
        }
        this.port = p;
    }

    /**
     * Sends a request and reads the answer, reconnecting and retrying while
     * the API is unreachable.
     *
     * @throws Unreachable after about 10 s without reaching the API
     */
    Response request(String method, String path, byte[] body) throws Unreachable {
        long failingSince = 0;
        boolean failing = false;
        while (true) {
            boolean reused = socket != null;
            try {
                return exchange(method, path, body);
            } catch (IOException e) {
                close();
                long now = System.nanoTime();
                if (!failing) {
                    failing = true;
                    failingSince = now;
                    if (reused) {
                        // A kept-alive socket the server had closed: retry at once.
                        continue;
                    }
                } else if (now - failingSince > UNREACHABLE_LIMIT_NS) {
                    throw new Unreachable("runtime API " + addr + " unreachable: " + e);
                }
                pause(RETRY_PAUSE_MS);
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }
    }

    static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void close() {
        Socket s = socket;
        socket = null;
        in = null;
        out = null;
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                // already gone
            }
        }
    }

    private void connect() throws IOException {
        // NO_PROXY: a direct connection, without the SOCKS/proxy-selector machinery.
        Socket s = new Socket(Proxy.NO_PROXY);
        try {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
            s.setSoTimeout(READ_TIMEOUT_MS);
            in = new BufferedInputStream(s.getInputStream(), 16 * 1024);
            out = s.getOutputStream();
            socket = s;
        } catch (IOException e) {
            try {
                s.close();
            } catch (IOException ignored) {
                // nothing more to do
            }
            throw e;
        }
    }

    private Response exchange(String method, String path, byte[] body) throws IOException {
        if (socket == null) {
            connect();
        }
        StringBuilder head = new StringBuilder(128);
        head.append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(addr).append("\r\n");
        if (body != null) {
            head.append("Content-Type: application/octet-stream\r\nContent-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (body == null || body.length == 0) {
            out.write(headBytes);
        } else if (body.length <= 64 * 1024) {
            byte[] all = new byte[headBytes.length + body.length];
            System.arraycopy(headBytes, 0, all, 0, headBytes.length);
            System.arraycopy(body, 0, all, headBytes.length, body.length);
            out.write(all);
        } else {
            out.write(headBytes);
            out.write(body);
        }
        out.flush();

        String statusLine = readLine(true);
        int status = parseStatus(statusLine);
        HashMap<String, String> headers = new HashMap<String, String>();
        while (true) {
            String line = readLine(false);
            if (line.isEmpty()) {
                break;
            }
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
        }
        boolean keepAlive = !"close".equalsIgnoreCase(value(headers, "connection"));
        byte[] data;
        String te = value(headers, "transfer-encoding");
        String cl = headers.get("content-length");
        if (method.equals("HEAD") || status == 204 || status == 304 || (status >= 100 && status < 200)) {
            data = new byte[0];
        } else if (te.toLowerCase(Locale.ROOT).contains("chunked")) {
            data = readChunked();
        } else if (cl != null) {
            int n;
            try {
                n = Integer.parseInt(cl.trim());
            } catch (NumberFormatException e) {
                throw new IOException("bad Content-Length from runtime API: " + cl);
            }
            data = readExactly(n);
        } else {
            data = readToEnd();
            keepAlive = false;
        }
        if (!keepAlive) {
            close();
        }
        return new Response(status, headers, data);
    }

    private static String value(Map<String, String> headers, String name) {
        String v = headers.get(name);
        return v == null ? "" : v;
    }

    private static int parseStatus(String line) throws IOException {
        // HTTP/1.1 200 OK
        if (!line.startsWith("HTTP/")) {
            throw new IOException("bad status line from runtime API: " + line);
        }
        int sp = line.indexOf(' ');
        if (sp < 0) {
            throw new IOException("bad status line from runtime API: " + line);
        }
        int end = line.indexOf(' ', sp + 1);
        String code = end < 0 ? line.substring(sp + 1) : line.substring(sp + 1, end);
        try {
            return Integer.parseInt(code.trim());
        } catch (NumberFormatException e) {
            throw new IOException("bad status line from runtime API: " + line);
        }
    }

    /** One line without its CR LF; EOF before the first byte of a status line is an error. */
    private String readLine(boolean first) throws IOException {
        StringBuilder b = new StringBuilder(64);
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException(first && b.length() == 0
                        ? "connection closed by runtime API" : "connection closed in the middle of a line");
            }
            if (c == '\n') {
                int n = b.length();
                if (n > 0 && b.charAt(n - 1) == '\r') {
                    b.setLength(n - 1);
                }
                return b.toString();
            }
            if (b.length() >= MAX_LINE) {
                throw new IOException("header line too long from runtime API");
            }
            b.append((char) c);
        }
    }

    private byte[] readExactly(int n) throws IOException {
        byte[] data = new byte[n];
        int got = 0;
        while (got < n) {
            int r = in.read(data, got, n - got);
            if (r < 0) {
                throw new EOFException("short body from runtime API");
            }
            got += r;
        }
        return data;
    }

    private byte[] readChunked() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = readLine(false);
            int semi = sizeLine.indexOf(';');
            String hex = (semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim();
            int size;
            try {
                size = Integer.parseInt(hex, 16);
            } catch (NumberFormatException e) {
                throw new IOException("bad chunk size from runtime API: " + sizeLine);
            }
            if (size == 0) {
                while (!readLine(false).isEmpty()) {
                    // trailers
                }
                return all.toByteArray();
            }
            all.write(readExactly(size));
            readLine(false);
        }
    }

    private byte[] readToEnd() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int r;
        while ((r = in.read(buf)) >= 0) {
            all.write(buf, 0, r);
        }
        return all.toByteArray();
    }
}
