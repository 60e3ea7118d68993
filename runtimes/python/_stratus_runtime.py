# Stratus Python runtime shim.
#
# Started by the platform as
#     python3 $RUNTIME_ROOT/python/server.py $RUNTIME_API_ADDR $RUNTIME_CODE_ROOT
# (server.py only imports this module and calls main()), it loads the user's handler, runs the optional initializer once, and then
# serves invocations it fetches from the instance's runtime API
# (see docs/runtime-protocol.md).  Standard library only; runs on 3.7+.
#
# Start-up time matters (every cold start pays for it), so only cheap modules
# are imported, all of them here: once the code root is on sys.path a late
# import could pick up a user file of the same name.  The HTTP client is a few
# lines over a plain socket because http.client drags in the email package
# and ssl (~12 ms); it uses _socket because socket.py pulls in enum and
# selectors (~4 ms), and JSON goes through the C accelerator _json because
# the json package imports re (~7 ms).

import os
import sys
import threading
import time

try:
    import _json
    import _socket
except ImportError:  # not CPython: the plain modules do the same work
    _json = None
    import json
    import socket as _socket

API_PREFIX = "/v1/runtime"
# How long the runtime API may stay unreachable before we assume the
# platform is gone and exit.
UNREACHABLE_LIMIT_S = 10.0
RETRY_PAUSE_S = 0.05
# Socket timeout; a long poll is answered (204) by the platform within 30 s.
SOCKET_TIMEOUT_S = 120.0
# A partial line longer than this is emitted as its own line.
MAX_PENDING_CHARS = 256 * 1024


def _env(name, default=""):
    value = os.environ.get(name)
    return default if value is None else value


def _env_int(name, default):
    try:
        return int(_env(name).strip())
    except ValueError:
        return default


def _now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------
# JSON with the same results as json.loads / json.dumps (default arguments).


class _ScanContext(object):
    """The settings _json.make_scanner reads, as json.JSONDecoder has them."""

    def __init__(self):
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = None
        self.parse_float = float
        self.parse_int = int
        self.parse_constant = {
            "-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan"),
        }.__getitem__


_JSON_SPACE = " \t\n\r"


def _not_serialisable(value):
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


if _json is not None:
    _scan_once = _json.make_scanner(_ScanContext())

    def _json_loads(text):
        start = len(text) - len(text.lstrip(_JSON_SPACE))
        try:
            value, end = _scan_once(text, start)
        except StopIteration as stop:
            raise ValueError("Expecting value: char %s" % (stop.value,))
        except ValueError:
            raise
        except Exception as exc:
            # The scanner imports json.decoder for its error type; a user
            # module named json can make that import fail.
            raise ValueError("invalid JSON: %s" % (exc,))
        if end != len(text) and text[end:].strip(_JSON_SPACE):
            raise ValueError("Extra data: char %d" % end)
        return value

    def _json_dumps(value):
        if isinstance(value, str):
            return _json.encode_basestring_ascii(value)
        # A fresh markers dict per call, as json does: the cycle check keeps
        # state in it.
        encode = _json.make_encoder({}, _not_serialisable, _json.encode_basestring_ascii,
                                    None, ": ", ", ", False, False, True)
        return "".join(encode(value, 0))
else:
    _json_loads = json.loads
    _json_dumps = json.dumps


# ---------------------------------------------------------------------------
# Minimal HTTP/1.1 client (one keep-alive connection per worker).


class ApiUnreachable(Exception):
    pass


class _SocketReader(object):
    """Buffered reading from a socket: the part of socket.makefile("rb") the
    client uses."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def readline(self, limit):
        while True:
            end = self.buf.find(b"\n", 0, limit)
            if end >= 0:
                end += 1
                break
            if len(self.buf) >= limit:
                end = limit
                break
            chunk = self.sock.recv(65536)
            if not chunk:
                end = len(self.buf)
                break
            self.buf += chunk
        line, self.buf = self.buf[:end], self.buf[end:]
        return line

    def read(self, size=-1):
        if size < 0:
            parts = [self.buf]
            self.buf = b""
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return b"".join(parts)
                parts.append(chunk)
        if len(self.buf) >= size:
            data, self.buf = self.buf[:size], self.buf[size:]
            return data
        out = bytearray(size)
        have = len(self.buf)
        out[:have] = self.buf
        self.buf = b""
        view = memoryview(out)
        while have < size:
            got = self.sock.recv_into(view[have:])
            if not got:
                break
            have += got
        view.release()
        return bytes(out[:have])


class _HttpConnection(object):
    def __init__(self, addr):
        host, _, port = addr.rpartition(":")
        self.host = host.strip("[]") or "127.0.0.1"
        self.port = int(port)
        self.addr = addr
        self.sock = None
        self.reader = None

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.reader = None

    def _connect(self):
        error = OSError("no address for %s" % self.addr)
        for family, kind, proto, _, address in _socket.getaddrinfo(
                self.host, self.port, 0, _socket.SOCK_STREAM):
            sock = _socket.socket(family, kind, proto)
            try:
                sock.settimeout(SOCKET_TIMEOUT_S)
                sock.connect(address)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            self.sock = sock
            self.reader = _SocketReader(sock)
            return
        raise error

    def _exchange(self, method, path, body):
        """One request/response on the current connection; raises OSError on
        any transport problem (the caller reconnects)."""
        if self.sock is None:
            self._connect()
        head = "%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, path, self.addr)
        if body is not None:
            head += "Content-Length: %d\r\n" % len(body)
        head = (head + "\r\n").encode("latin-1")
        if body and len(body) > 65536:
            self.sock.sendall(head)
            self.sock.sendall(body)
        else:
            self.sock.sendall(head + body if body else head)

        reader = self.reader
        line = reader.readline(65537)
        if not line:
            raise ConnectionError("connection closed by runtime API")
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ConnectionError("bad status line from runtime API")
        status = int(parts[1])
        headers = {}
        while True:
            line = reader.readline(65537)
            if not line:
                raise ConnectionError("connection closed in headers")
            if line in (b"\r\n", b"\n"):
                break
            key, sep, value = line.partition(b":")
            if sep:
                headers[key.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")

        keep = headers.get("connection", "").lower() != "close"
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            data = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size_line = reader.readline(65537)
                if not size_line:
                    raise ConnectionError("connection closed in chunked body")
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    # Skip trailers up to the empty line.
                    while True:
                        trailer = reader.readline(65537)
                        if not trailer or trailer in (b"\r\n", b"\n"):
                            break
                    break
                chunk = reader.read(size)
                if len(chunk) != size:
                    raise ConnectionError("short chunk from runtime API")
                chunks.append(chunk)
                reader.readline(65537)
            data = b"".join(chunks)
        elif "content-length" in headers:
            size = int(headers["content-length"])
            data = reader.read(size) if size else b""
            if len(data) != size:
                raise ConnectionError("short body from runtime API")
        else:
            data = reader.read()
            keep = False
        if not keep:
            self.close()
        return status, headers, data

    def request(self, method, path, body=None):
        """Send a request, reconnecting and retrying while the API is
        unreachable; gives up (ApiUnreachable) after UNREACHABLE_LIMIT_S."""
        failing_since = None
        while True:
            reused = self.sock is not None
            try:
                return self._exchange(method, path, body)
            except (OSError, ValueError):
                self.close()
                now = time.monotonic()
                if failing_since is None:
                    failing_since = now
                    if reused:
                        # A kept-alive socket the server had already closed:
                        # try again at once on a fresh connection.
                        continue
                elif now - failing_since > UNREACHABLE_LIMIT_S:
                    raise ApiUnreachable("runtime API %s unreachable" % self.addr)
                time.sleep(RETRY_PAUSE_S)


def _platform_gone(err):
    _write_untagged_line(_stderr, "stratus python runtime: %s, exiting" % (err,))
    os._exit(1)


# ---------------------------------------------------------------------------
# Output capture: lines written during an invocation get the request tag.

_request_local = threading.local()  # .rid = request id of the running handler


def _current_rid():
    return getattr(_request_local, "rid", None)


class _TaggingStream(object):
    """Stands in for sys.stdout / sys.stderr.

    Outside an invocation text passes straight through.  On a thread that
    runs a handler, text is collected per thread and every complete line is
    written as 0x1E <request id> 0x1F <line> \\n, so the platform can file it
    under its request even when several requests run at once."""

    def __init__(self, original, name):
        self._original = original
        raw = getattr(original, "buffer", None) if original is not None else None
        self._raw = raw
        self._name = name
        self._lock = threading.Lock()
        self._mid_line = False  # last byte written was not a newline
        self._local = threading.local()  # .pending = list of partial-line pieces

    # -- low level output -------------------------------------------------

    def _put(self, data, tagged):
        raw = self._raw
        if raw is None or not data:
            return
        with self._lock:
            try:
                if tagged and self._mid_line:
                    # A tag must start a line: end the stray partial line first.
                    raw.write(b"\n")
                raw.write(data)
                self._mid_line = not data.endswith(b"\n")
                if tagged or not self._mid_line or b"\n" in data:
                    raw.flush()
            except (OSError, ValueError):
                pass

    def emit_lines(self, rid, lines):
        """Write whole lines, tagged with rid (untagged when rid is empty)."""
        if rid:
            text = "".join("\x1e%s\x1f%s\n" % (rid, line) for line in lines)
        else:
            text = "".join(line + "\n" for line in lines)
        self._put(text.encode("utf-8", "backslashreplace"), bool(rid))

    # -- file-like interface --------------------------------------------

    def write(self, text):
        if not isinstance(text, str):
            if isinstance(text, (bytes, bytearray)):
                text = bytes(text).decode("utf-8", "replace")
            else:
                raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        rid = _current_rid()
        if not rid:
            self._put(text.encode("utf-8", "backslashreplace"), False)
            return len(text)
        local = self._local
        pending = getattr(local, "pending", None)
        if pending is None:
            pending = local.pending = []
            local.size = 0
        if "\n" in text:
            joined = "".join(pending) + text
            del pending[:]
            local.size = 0
            complete, _, rest = joined.rpartition("\n")
            self.emit_lines(rid, complete.split("\n"))
            if rest:
                pending.append(rest)
                local.size = len(rest)
        elif text:
            pending.append(text)
            local.size += len(text)
            if local.size > MAX_PENDING_CHARS:
                self.finish_thread(rid)
        return len(text)

    def finish_thread(self, rid):
        """Emit this thread's partial line (if any) as a full tagged line."""
        pending = getattr(self._local, "pending", None)
        if pending:
            line = "".join(pending)
            del pending[:]
            self._local.size = 0
            self.emit_lines(rid, [line])

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        # Partial lines of a running handler stay buffered until their newline
        # or the end of the invocation; everything else is already flushed.
        if self._raw is not None:
            with self._lock:
                try:
                    self._raw.flush()
                except (OSError, ValueError):
                    pass

    @property
    def buffer(self):
        return _BinaryView(self)

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "backslashreplace"

    @property
    def name(self):
        return self._name

    @property
    def closed(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def seekable(self):
        return False

    def isatty(self):
        try:
            return self._original.isatty()
        except Exception:
            return False

    def fileno(self):
        return self._original.fileno()

    def __getattr__(self, attr):
        # Anything we do not implement comes from the real stream.
        if attr == "_original":
            raise AttributeError(attr)
        return getattr(self._original, attr)


class _BinaryView(object):
    """sys.stdout.buffer replacement that routes bytes through the tagger."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, data):
        self._stream.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self):
        self._stream.flush()

    def writable(self):
        return True

    def fileno(self):
        return self._stream.fileno()

    def __getattr__(self, attr):
        return getattr(self._stream._raw, attr)


def _install_streams():
    for s in (sys.stdout, sys.stderr):
        try:
            if s is not None:
                s.flush()
        except Exception:
            pass
    out = _TaggingStream(sys.__stdout__, "<stdout>")
    err = _TaggingStream(sys.__stderr__, "<stderr>")
    sys.stdout = out
    sys.stderr = err
    return out, err


_stdout = None
_stderr = None


def _write_untagged_line(stream, text):
    if stream is not None:
        stream.emit_lines("", text.split("\n"))


# ---------------------------------------------------------------------------
# Context and logger (spec 2.1 / 2.4).


def _timestamp():
    ms = _now_ms()
    return "%s.%03dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)), ms % 1000)


_LEVELS = {"DEBUG": 10, "INFO": 20, "WARN": 30, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


class RuntimeLogger(object):
    """Request-scoped logger: `<time> <request id> <LEVEL> <message>` on
    stdout, tagged with its own request id whatever thread calls it."""

    def __init__(self, request_id):
        self._rid = request_id
        self._level = 20

    def setLevel(self, level):
        if isinstance(level, int):
            self._level = level
        else:
            self._level = _LEVELS.get(str(level).strip().upper(), self._level)

    set_level = setLevel

    def _log(self, level, label, msg, args):
        if level < self._level:
            return
        text = str(msg)
        if args:
            try:
                text = text % args
            except Exception:
                text = " ".join([text] + [str(a) for a in args])
        lines = ("%s %s %s %s" % (_timestamp(), self._rid, label, text)).split("\n")
        if _stdout is not None:
            _stdout.emit_lines(self._rid, lines)

    def debug(self, msg, *args):
        self._log(10, "DEBUG", msg, args)

    def info(self, msg, *args):
        self._log(20, "INFO", msg, args)

    def warn(self, msg, *args):
        self._log(30, "WARN", msg, args)

    warning = warn

    def error(self, msg, *args):
        self._log(40, "ERROR", msg, args)

    def critical(self, msg, *args):
        self._log(50, "CRITICAL", msg, args)


class _Config(object):
    """Instance-wide values read once from the environment."""

    def __init__(self):
        self.project_id = _env("RUNTIME_PROJECT_ID")
        self.func_name = _env("RUNTIME_FUNC_NAME")
        self.version = _env("RUNTIME_FUNC_VERSION", "latest")
        self.package = _env("RUNTIME_PACKAGE", "default")
        self.handler = _env("RUNTIME_HANDLER").strip() or "index.handler"
        self.timeout = _env_int("RUNTIME_TIMEOUT", 3)
        self.memory = _env_int("RUNTIME_MEMORY", 128)
        self.cpu = _env_int("RUNTIME_CPU", 200 + self.memory * 100 // 128)
        self.initializer = _env("RUNTIME_INITIALIZER_HANDLER").strip()
        self.initializer_timeout = _env_int("RUNTIME_INITIALIZER_TIMEOUT", 300)
        self.alias = _env("RUNTIME_ALIAS")
        self.concurrency = max(1, min(1000, _env_int("RUNTIME_CONCURRENT_NUM", 1)))
        self._userdata_text = _env("RUNTIME_USERDATA")
        self._userdata = None

    @property
    def userdata(self):
        if self._userdata is None:
            data = {}
            if self._userdata_text.strip():
                try:
                    parsed = _json_loads(self._userdata_text)
                    if isinstance(parsed, dict):
                        data = parsed
                except ValueError:
                    pass
            self._userdata = data
        return self._userdata


class Context(object):
    """The `context` argument handed to handlers and initializers."""

    def __init__(self, config, request_id, headers, deadline_ms):
        self._config = config
        self._rid = request_id
        self._headers = headers
        self._deadline_ms = deadline_ms
        self._logger = None
        self._state = None

    def _header(self, name):
        return self._headers.get(name, "")

    def getRequestID(self):
        return self._rid

    def getRemainingTimeInMilliSeconds(self):
        return max(0, self._deadline_ms - _now_ms())

    def getAccessKey(self):
        return self._header("x-cff-access-key")

    def getSecretKey(self):
        return self._header("x-cff-secret-key")

    def getSecurityAccessKey(self):
        return self._header("x-cff-security-access-key")

    def getSecuritySecretKey(self):
        return self._header("x-cff-security-secret-key")

    def getSecurityToken(self):
        return self._header("x-cff-security-token")

    def getToken(self):
        return self._header("x-cff-auth-token")

    def getUserData(self, key, default=None):
        return self._config.userdata.get(key, default)

    def getFunctionName(self):
        return self._config.func_name

    def getRunningTimeInSeconds(self):
        return self._config.timeout

    def getVersion(self):
        return self._config.version

    def getMemorySize(self):
        return self._config.memory

    def getCPUNumber(self):
        return self._config.cpu

    def getProjectID(self):
        return self._config.project_id

    def getPackage(self):
        return self._config.package

    def getLogger(self):
        if self._logger is None:
            self._logger = RuntimeLogger(self._rid)
        return self._logger

    def getAlias(self):
        tag = self._headers.get("x-cff-origin-version-tag")
        if tag is None:
            return self._config.alias
        return tag[1:] if tag.startswith("!") else tag

    def getInvokeProperty(self):
        return ""

    def getWorkflowID(self):
        return self._header("x-cff-workflow-id")

    def getWorkflowRunID(self):
        return self._header("x-cff-workflow-run-id")

    def getWorkflowStateID(self):
        return self._header("x-cff-workflow-state-id")

    # snake_case extras of the V2 runtime
    def get_invoke_property(self):
        return ""

    def get_invoke_id(self):
        return self._rid

    def get_trace_id(self):
        return self._rid

    def get_instance_id(self):
        return ""

    def get_state(self):
        return self._state

    def set_state(self, state):
        self._state = state


# ---------------------------------------------------------------------------
# Errors


def _source_line(filename, lineno, cache):
    """Line `lineno` of a source file, stripped ("" when unavailable)."""
    lines = cache.get(filename)
    if lines is None:
        try:
            with open(filename, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except (OSError, ValueError):
            lines = []
        cache[filename] = lines
    if 0 < lineno <= len(lines):
        return lines[lineno - 1].strip()
    return ""


def _stack_lines(exc, skip_frames=0):
    """Traceback of exc as a list of lines, in the usual Python layout.

    Written out by hand rather than with the traceback module: that module
    is slow to import and, imported late, could be shadowed by a user file
    of the same name in the code root."""
    tb = exc.__traceback__
    for _ in range(skip_frames):  # the shim's own frames
        if tb is not None:
            tb = tb.tb_next
    out = ["Traceback (most recent call last):"]
    cache = {}
    depth = 0
    while tb is not None and depth < 100:
        code = tb.tb_frame.f_code
        out.append('  File "%s", line %d, in %s' % (code.co_filename, tb.tb_lineno, code.co_name))
        src = _source_line(code.co_filename, tb.tb_lineno, cache)
        if src:
            out.append("    " + src)
        tb = tb.tb_next
        depth += 1
    text = _exc_text(exc)
    out.append("%s: %s" % (type(exc).__name__, text) if text else type(exc).__name__)
    return out


def _exc_text(exc):
    """str(exc), even for exceptions whose __str__ itself fails."""
    try:
        return str(exc)
    except Exception:
        try:
            return repr(exc)
        except Exception:
            return type(exc).__name__


def _error_body(error_type, message, stack, phase=None):
    body = {"errorMessage": message, "errorType": error_type, "stackTrace": stack}
    if phase is not None:
        body["phase"] = phase
    return _json_dumps(body).encode("utf-8")


class _LoadError(Exception):
    def __init__(self, error_type, message, stack=None):
        Exception.__init__(self, message)
        self.error_type = error_type
        self.message = message
        self.stack = stack or []


def _report_init_error(addr, error_type, message, stack, phase):
    _write_untagged_line(_stderr, "%s: %s" % (error_type, message))
    if stack:
        _write_untagged_line(_stderr, "\n".join(stack))
    conn = _HttpConnection(addr)
    try:
        conn.request("POST", API_PREFIX + "/init/error", _error_body(error_type, message, stack, phase))
    except ApiUnreachable:
        pass
    conn.close()
    if _stdout is not None:
        _stdout.flush()
    os._exit(1)


# ---------------------------------------------------------------------------
# Loading user code


def _load_function(code_root, spec, what):
    """Resolve `file.function` (`dir/file.function` and `pkg.mod.function`
    also work) to a callable; raises _LoadError."""
    module_part, dot, func_name = spec.rpartition(".")
    if not dot or not module_part or not func_name:
        raise _LoadError("InvalidHandler", "%s '%s' is not of the form file.function" % (what, spec))
    rel = module_part
    if rel.endswith(".py"):
        rel = rel[:-3]
    mod_name = rel.strip("/").replace("/", ".")
    try:
        module = sys.modules.get(mod_name)
        if module is None:
            __import__(mod_name)
            module = sys.modules[mod_name]
        expected = os.path.join(code_root, rel.replace(".", os.sep) + ".py")
        if not hasattr(module, func_name) and os.path.isfile(expected) and \
                os.path.abspath(getattr(module, "__file__", "") or "") != os.path.abspath(expected):
            # The name is shadowed by an already imported module (say the user
            # called the file json.py): load the user's file under its own name.
            alias = "_stratus_user_" + mod_name.replace(".", "_")
            module = type(sys)(alias)
            module.__file__ = expected
            sys.modules[alias] = module
            with open(expected, "rb") as f:
                source = f.read()
            exec(compile(source, expected, "exec"), module.__dict__)
    except _LoadError:
        raise
    except BaseException as exc:  # SyntaxError, ImportError, SystemExit, anything at import time
        raise _LoadError(type(exc).__name__,
                         "failed to load %s '%s': %s" % (what, spec, _exc_text(exc)),
                         _stack_lines(exc, 1))
    func = getattr(module, func_name, None)
    if func is None or not callable(func):
        raise _LoadError("HandlerNotFound",
                         "%s '%s': function '%s' not found in module '%s'" % (what, spec, func_name, mod_name))
    return func


def _run_initializer(config, init_func):
    """Run init(context) on a worker thread, bounded by the initializer
    timeout.  Returns None on success, else (errorType, message, stack)."""
    timeout_s = max(1, config.initializer_timeout)
    ctx = Context(config, "", {}, _now_ms() + timeout_s * 1000)
    outcome = []

    def target():
        try:
            init_func(ctx)
            outcome.append(None)
        except BaseException as exc:
            outcome.append((type(exc).__name__,
                            "function initialization exception: %s" % _exc_text(exc),
                            _stack_lines(exc, 1)))

    worker = threading.Thread(target=target, name="stratus-initializer")
    worker.daemon = True
    worker.start()
    worker.join(timeout_s)
    if not outcome:
        return ("InitializerTimeout",
                "function initialization exception: initializer timed out after %d s" % timeout_s,
                [])
    return outcome[0]


# ---------------------------------------------------------------------------
# Invocation loop


def _serialise(result):
    """The response body for a handler's return value (raises if the value
    cannot be turned into JSON)."""
    if result is None:
        return b""
    if isinstance(result, str):
        return result.encode("utf-8", "backslashreplace")
    if isinstance(result, (bytes, bytearray, memoryview)):
        return bytes(result)
    return _json_dumps(result).encode("utf-8")


def _decode_event(body):
    if not body or not body.strip():
        return {}
    try:
        return _json_loads(body.decode("utf-8"))
    except ValueError:
        return body.decode("utf-8", "replace")


def _finish_output(rid):
    for stream in (_stdout, _stderr):
        if stream is not None:
            stream.finish_thread(rid)
            stream.flush()


def _invoke(config, handler, conn, rid, headers, body):
    deadline_header = headers.get("x-cff-deadline-ms", "").strip()
    try:
        deadline_ms = int(deadline_header)
    except ValueError:
        deadline_ms = _now_ms() + config.timeout * 1000
    ctx = Context(config, rid, headers, deadline_ms)
    event = _decode_event(body)

    _request_local.rid = rid
    try:
        try:
            result = handler(event, ctx)
            error = None
        except BaseException as exc:
            result = None
            error = _error_body(type(exc).__name__,
                                "function invocation exception, error: %s" % _exc_text(exc),
                                _stack_lines(exc, 1))
        if error is None:
            try:
                payload = _serialise(result)
            except Exception as exc:
                error = _error_body("FunctionResultInvalid",
                                    "function result is not serialisable: %s" % _exc_text(exc),
                                    [])
    finally:
        _finish_output(rid)
        _request_local.rid = None

    if error is None:
        conn.request("POST", "%s/invocation/response/%s" % (API_PREFIX, rid), payload)
    else:
        conn.request("POST", "%s/invocation/error/%s" % (API_PREFIX, rid), error)


def _worker(config, handler, addr):
    conn = _HttpConnection(addr)
    poll_path = API_PREFIX + "/invocation/request"
    try:
        while True:
            status, headers, body = conn.request("GET", poll_path)
            if status != 200:
                if status != 204:
                    time.sleep(RETRY_PAUSE_S)
                continue
            rid = headers.get("x-cff-request-id", "")
            if not rid:
                time.sleep(RETRY_PAUSE_S)
                continue
            try:
                _invoke(config, handler, conn, rid, headers, body)
            except ApiUnreachable:
                raise
            except Exception as exc:
                # A bug in the shim itself: fail the request, keep serving.
                text = "runtime internal error: %s" % _exc_text(exc)
                _write_untagged_line(_stderr, "stratus python runtime: " + text)
                conn.request("POST", "%s/invocation/error/%s" % (API_PREFIX, rid),
                             _error_body("RuntimeInternalError", text, []))
    except ApiUnreachable as exc:
        _platform_gone(exc)


def _await_function(addr):
    """Pre-heated mode: this interpreter was started before any function needed
    it.  Wait for the platform's specialise message, then take on the function's
    environment and arguments exactly as a normal start would have set them.
    Returns the request id to acknowledge once the function is loaded."""
    # The first compile() in a process builds the compiler's own types (~1.5 ms of
    # CPU here). Pay it while idle: code without cached bytecode is compiled at load.
    compile("pass", "<stratus-preheat>", "exec")
    conn = _HttpConnection(addr)
    try:
        while True:
            status, headers, body = conn.request("GET", API_PREFIX + "/invocation/request")
            if status == 200 and headers.get("x-stratus-specialise") == "1":
                break
            if status != 204:
                time.sleep(RETRY_PAUSE_S)
    except ApiUnreachable as exc:
        _platform_gone(exc)
    conn.close()
    message = _json_loads(body.decode("utf-8"))
    program = message.get("exec")
    if program:
        # A custom runtime: this interpreter only held the sandbox ready; the
        # function's own program replaces it, with exactly its environment.
        env = {}
        for key, value in message["env"]:
            env[key] = value
        # Python ignores SIGXFSZ at start-up; ignored signals survive exec, and a
        # normally started program has the default action.
        import signal
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        try:
            os.execve(program[0], program, env)
        except OSError as exc:
            sys.stderr.write("stratus: cannot execute %s: %s\n" % (program[0], exc))
            os._exit(127)
    os.environ.clear()
    for key, value in message["env"]:
        os.environ[key] = value
    sys.argv[:] = list(message["args"])
    orig = getattr(sys, "orig_argv", None)
    if orig:
        orig[1:] = sys.argv
    return headers.get("x-cff-request-id", "")


def main():
    global _stdout, _stderr

    specialised = None
    if sys.argv[-1:] == ["--stratus-preheat"]:
        specialised = _await_function(_env("RUNTIME_API_ADDR"))
    argv = sys.argv
    addr = _env("RUNTIME_API_ADDR") or (argv[1] if len(argv) > 1 else "")
    code_root = _env("RUNTIME_CODE_ROOT") or (argv[2] if len(argv) > 2 else "")
    if not addr:
        sys.stderr.write("stratus python runtime: RUNTIME_API_ADDR is not set\n")
        sys.exit(2)
    code_root = os.path.abspath(code_root or os.getcwd())

    # User code comes first on the import path; the shim's own directory is
    # taken off it so nothing of ours shadows user modules.
    shim_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != shim_dir]
    sys.path.insert(0, code_root)

    _stdout, _stderr = _install_streams()
    config = _Config()

    try:
        handler = _load_function(code_root, config.handler, "handler")
    except _LoadError as err:
        _report_init_error(addr, err.error_type, err.message, err.stack, "load")

    if config.initializer:
        try:
            init_func = _load_function(code_root, config.initializer, "initializer")
        except _LoadError as err:
            _report_init_error(addr, err.error_type,
                               "function initialization exception: %s" % err.message,
                               err.stack, "initializer")
        failure = _run_initializer(config, init_func)
        if failure is not None:
            _report_init_error(addr, failure[0], failure[1], failure[2], "initializer")

    if specialised is not None:
        conn = _HttpConnection(addr)
        try:
            conn.request("POST", "%s/invocation/response/%s" % (API_PREFIX, specialised), b"{}")
        except ApiUnreachable as exc:
            _platform_gone(exc)
        conn.close()

    workers = []
    for i in range(config.concurrency):
        t = threading.Thread(target=_worker, args=(config, handler, addr),
                             name="stratus-worker-%d" % i)
        t.daemon = True
        t.start()
        workers.append(t)
    # The main thread only waits; handlers run on the workers (as in the V2
    # runtime, so asyncio.get_event_loop() there needs a new loop).
    try:
        while True:
            for t in workers:
                t.join(3600)
    except KeyboardInterrupt:
        pass

