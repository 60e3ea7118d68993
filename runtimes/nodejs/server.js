'use strict';
// Stratus Node.js runtime shim.
//
// Started by the platform as `node $RUNTIME_ROOT/nodejs/server.js` with the
// configuration in the environment (docs/runtime-protocol.md).  It loads the
// user's handler, runs the optional initializer once, then serves invocations
// it fetches from the instance's runtime API, RUNTIME_CONCURRENT_NUM at a time.
// CommonJS, built-in modules only.

const http = require('http');
const path = require('path');
const fs = require('fs');
const util = require('util');
const { AsyncLocalStorage } = require('async_hooks');

const API_PREFIX = '/v1/runtime';
// How long the runtime API may stay unreachable before we assume the
// platform is gone and exit.
const UNREACHABLE_LIMIT_MS = 10000;
const RETRY_PAUSE_MS = 50;
// A partial line longer than this is emitted as its own line.
const MAX_PENDING_CHARS = 256 * 1024;

// ---------------------------------------------------------------------------
// Configuration

function envStr(name, dflt) {
  const v = process.env[name];
  return v === undefined ? (dflt === undefined ? '' : dflt) : v;
}

function envInt(name, dflt) {
  const v = parseInt(envStr(name).trim(), 10);
  return Number.isFinite(v) ? v : dflt;
}

// Filled from the environment at start, or again once a pre-heated instance has
// been given its function (see awaitFunction).
const config = {};
function readConfig() {
  const memory = envInt('RUNTIME_MEMORY', 128);
  Object.assign(config, {
  apiAddr: envStr('RUNTIME_API_ADDR'),
  codeRoot: path.resolve(envStr('RUNTIME_CODE_ROOT') || process.cwd()),
  projectId: envStr('RUNTIME_PROJECT_ID'),
  funcName: envStr('RUNTIME_FUNC_NAME'),
  version: envStr('RUNTIME_FUNC_VERSION', 'latest'),
  packageName: envStr('RUNTIME_PACKAGE', 'default'),
  handler: envStr('RUNTIME_HANDLER').trim() || 'index.handler',
  timeout: envInt('RUNTIME_TIMEOUT', 3),
  memory: memory,
  cpu: envInt('RUNTIME_CPU', 200 + Math.floor((memory * 100) / 128)),
  initializer: envStr('RUNTIME_INITIALIZER_HANDLER').trim(),
  initializerTimeout: envInt('RUNTIME_INITIALIZER_TIMEOUT', 300),
  alias: envStr('RUNTIME_ALIAS'),
  concurrency: Math.max(1, Math.min(1000, envInt('RUNTIME_CONCURRENT_NUM', 1))),
  });
}
readConfig();

let userData = null;
function getUserDataMap() {
  if (userData === null) {
    userData = {};
    const text = envStr('RUNTIME_USERDATA');
    if (text.trim()) {
      try {
        const parsed = JSON.parse(text);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) userData = parsed;
      } catch (_) {
        // leave it empty
      }
    }
  }
  return userData;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// Runtime API client: one keep-alive agent, one socket per concurrent loop.

class ApiUnreachable extends Error {}

function splitAddr(addr) {
  const i = addr.lastIndexOf(':');
  const host = (i >= 0 ? addr.slice(0, i) : addr).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = i >= 0 ? parseInt(addr.slice(i + 1), 10) : 80;
  return { host, port };
}

const target = splitAddr(config.apiAddr);
const agent = new http.Agent({
  keepAlive: true,
  maxSockets: Infinity,
  maxFreeSockets: config.concurrency + 4,
});

function exchange(method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (method !== 'GET') headers['Content-Length'] = body ? body.length : 0;
    const req = http.request(
      { host: target.host, port: target.port, method, path: urlPath, agent, headers },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) reject(new Error('runtime API connection closed mid-response'));
        });
      });
    req.on('error', (err) => {
      err.reusedSocket = req.reusedSocket;
      reject(err);
    });
    req.end(body && body.length ? body : undefined);
  });
}

// Retries transport failures; throws ApiUnreachable after UNREACHABLE_LIMIT_MS.
async function api(method, urlPath, body) {
  let failingSince = 0;
  for (;;) {
    try {
      return await exchange(method, urlPath, body);
    } catch (err) {
      const now = Date.now();
      if (!failingSince) {
        failingSince = now;
        // A kept-alive socket the server had closed: retry at once.
        if (err.reusedSocket) continue;
      } else if (now - failingSince > UNREACHABLE_LIMIT_MS) {
        throw new ApiUnreachable(`runtime API ${config.apiAddr} unreachable: ${err.message}`);
      }
      await sleep(RETRY_PAUSE_MS);
    }
  }
}

function platformGone(err) {
  stderrTagger.emitLines('', [`stratus nodejs runtime: ${err.message}, exiting`]);
  process.exit(1);
}

// ---------------------------------------------------------------------------
// Output capture.  Each invocation runs inside an AsyncLocalStorage store;
// while one is active, stdout/stderr text is cut into lines and every line
// goes out as 0x1E <request id> 0x1F <line> \n.

const als = new AsyncLocalStorage();

class Tagger {
  constructor(stream, key) {
    this.stream = stream;
    this.key = key;
    this.original = stream.write.bind(stream);
    this.midLine = false; // last thing written did not end with a newline
    stream.on('error', () => {}); // a closed pipe must not kill the runtime
  }

  raw(text, tagged) {
    if (!text) return true;
    if (tagged && this.midLine) text = '\n' + text;
    this.midLine = !text.endsWith('\n');
    return this.original(text);
  }

  // Whole lines, tagged with rid (untagged when rid is empty).
  emitLines(rid, lines) {
    const text = rid
      ? lines.map((l) => `\x1e${rid}\x1f${l}\n`).join('')
      : lines.map((l) => `${l}\n`).join('');
    return this.raw(text, !!rid);
  }

  write(chunk, encoding, cb) {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    const store = als.getStore();
    if (!store) {
      if (typeof chunk === 'string') {
        if (chunk.length) this.midLine = !chunk.endsWith('\n');
      } else if (chunk && chunk.length) {
        this.midLine = chunk[chunk.length - 1] !== 0x0a;
      }
      return this.original(chunk, encoding, cb);
    }
    let text;
    if (typeof chunk === 'string') {
      text = encoding && !/^utf-?8$/i.test(encoding) ? Buffer.from(chunk, encoding).toString('utf8') : chunk;
    } else if (chunk instanceof Uint8Array) {
      text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
    } else {
      text = String(chunk);
    }
    this.addText(store, text);
    if (typeof cb === 'function') process.nextTick(cb);
    return true;
  }

  addText(store, text) {
    const pending = store.pending[this.key] + text;
    const nl = pending.lastIndexOf('\n');
    if (nl >= 0) {
      store.pending[this.key] = pending.slice(nl + 1);
      this.emitLines(store.rid, pending.slice(0, nl).split('\n'));
    } else {
      store.pending[this.key] = pending;
    }
    // Nobody flushes a finished invocation, and a huge partial line should
    // not grow without bound: write such leftovers out now.
    if (store.finished || store.pending[this.key].length > MAX_PENDING_CHARS) this.finish(store);
  }

  // Emit the invocation's partial line (if any) as a full line.
  finish(store) {
    const rest = store.pending[this.key];
    if (rest) {
      store.pending[this.key] = '';
      this.emitLines(store.rid, [rest]);
    }
  }
}

const stdoutTagger = new Tagger(process.stdout, 'out');
const stderrTagger = new Tagger(process.stderr, 'err');
process.stdout.write = stdoutTagger.write.bind(stdoutTagger);
process.stderr.write = stderrTagger.write.bind(stderrTagger);

// ---------------------------------------------------------------------------
// Logger and context (spec 2.1 / 2.4)

const LEVELS = { DEBUG: 10, INFO: 20, WARN: 30, WARNING: 30, ERROR: 40 };

class RuntimeLogger {
  constructor(rid) {
    this._rid = rid;
    this._level = LEVELS.INFO;
  }

  setLevel(level) {
    if (typeof level === 'number') {
      this._level = level;
    } else {
      const v = LEVELS[String(level).trim().toUpperCase()];
      if (v !== undefined) this._level = v;
    }
  }

  _log(level, label, args) {
    if (level < this._level) return;
    const line = `${new Date().toISOString()} ${this._rid} ${label} ${util.format(...args)}`;
    stdoutTagger.emitLines(this._rid, line.split('\n'));
  }

  debug(...args) { this._log(10, 'DEBUG', args); }
  info(...args) { this._log(20, 'INFO', args); }
  log(...args) { this._log(20, 'INFO', args); }
  warn(...args) { this._log(30, 'WARN', args); }
  warning(...args) { this._log(30, 'WARN', args); }
  error(...args) { this._log(40, 'ERROR', args); }
}

class Context {
  constructor(rid, headers, deadlineMs) {
    this.requestID = rid;
    this.invokeID = rid;
    this.traceID = rid;
    this.instanceID = '';
    this.invokeProperty = '';
    this.state = undefined;
    Object.defineProperty(this, '_headers', { value: headers, enumerable: false });
    Object.defineProperty(this, '_deadlineMs', { value: deadlineMs, enumerable: false });
    Object.defineProperty(this, '_logger', { value: null, enumerable: false, writable: true });
  }

  _header(name) {
    const v = this._headers[name];
    return v === undefined ? '' : String(v);
  }

  getRequestID() { return this.requestID; }
  getRemainingTimeInMilliSeconds() { return Math.max(0, this._deadlineMs - Date.now()); }
  getAccessKey() { return this._header('x-cff-access-key'); }
  getSecretKey() { return this._header('x-cff-secret-key'); }
  getSecurityAccessKey() { return this._header('x-cff-security-access-key'); }
  getSecuritySecretKey() { return this._header('x-cff-security-secret-key'); }
  getSecurityToken() { return this._header('x-cff-security-token'); }
  getToken() { return this._header('x-cff-auth-token'); }
  getUserData(key) {
    const map = getUserDataMap();
    return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
  }
  getFunctionName() { return config.funcName; }
  getRunningTimeInSeconds() { return config.timeout; }
  getVersion() { return config.version; }
  getMemorySize() { return config.memory; }
  getCPUNumber() { return config.cpu; }
  getProjectID() { return config.projectId; }
  getPackage() { return config.packageName; }
  getLogger() {
    if (this._logger === null) this._logger = new RuntimeLogger(this.requestID);
    return this._logger;
  }
  getAlias() {
    const tag = this._headers['x-cff-origin-version-tag'];
    if (tag === undefined) return config.alias;
    return tag.startsWith('!') ? tag.slice(1) : tag;
  }
  getInvokeProperty() { return this.invokeProperty; }
  getInvokeID() { return this.invokeID; }
  getTraceID() { return this.traceID; }
  getInstanceID() { return this.instanceID; }
  getState() { return this.state; }
  setState(state) { this.state = state; }
  getWorkflowID() { return this._header('x-cff-workflow-id'); }
  getWorkflowRunID() { return this._header('x-cff-workflow-run-id'); }
  getWorkflowStateID() { return this._header('x-cff-workflow-state-id'); }
}

// ---------------------------------------------------------------------------
// Errors

// The `at ...` lines of a stack, up to the first frame of this file (the
// frames below the user's code are the shim's, of no interest to the user).
function stackFrames(stack) {
  if (typeof stack !== 'string') return [];
  const frames = [];
  for (const line of stack.split('\n')) {
    if (!/^\s+at /.test(line)) continue;
    if (line.includes(__filename)) break;
    frames.push(line.trim());
  }
  return frames;
}

// Drop the "- .../server.js" entry of a "Require stack:" list.
function stripShimPath(message) {
  if (!message.includes(__filename)) return message;
  const lines = message.split('\n').filter((l) => l !== `- ${__filename}`);
  if (lines.length > 1 && lines[lines.length - 1] === 'Require stack:') lines.pop();
  return lines.join('\n');
}

function describeError(err) {
  if (err && typeof err === 'object') {
    const name = typeof err.name === 'string' && err.name ? err.name : 'Error';
    const message = err.message !== undefined ? String(err.message) : util.inspect(err);
    return { name, message: stripShimPath(message), stack: stackFrames(err.stack) };
  }
  if (typeof err === 'string') return { name: 'Error', message: err, stack: [] };
  return { name: 'Error', message: util.inspect(err), stack: [] };
}

function errorBody(errorType, errorMessage, stackTrace, phase) {
  const body = { errorMessage, errorType, stackTrace };
  if (phase) body.phase = phase;
  return Buffer.from(JSON.stringify(body));
}

async function reportInitError(errorType, message, stack, phase) {
  stderrTagger.emitLines('', [`${errorType}: ${message}`].concat(stack.map((l) => `    ${l}`)));
  try {
    await api('POST', `${API_PREFIX}/init/error`, errorBody(errorType, message, stack, phase));
  } catch (_) {
    // the platform is gone; nothing left to tell
  }
  process.exit(1);
}

class LoadError extends Error {
  constructor(errorType, message, stack) {
    super(message);
    this.errorType = errorType;
    this.stackLines = stack || [];
  }
}

// ---------------------------------------------------------------------------
// Loading user code: `file.function`, where file may carry a path prefix
// (`src/index.handler`) and is resolved against the code root.

async function loadFunction(spec, what) {
  const dot = spec.lastIndexOf('.');
  if (dot <= 0 || dot === spec.length - 1) {
    throw new LoadError('InvalidHandler', `${what} '${spec}' is not of the form file.function`);
  }
  const file = spec.slice(0, dot);
  const name = spec.slice(dot + 1);
  const base = path.resolve(config.codeRoot, file);
  let mod;
  try {
    const exists = (p) => fs.existsSync(p);
    if (!exists(base) && !exists(`${base}.js`) && !exists(`${base}.cjs`) && exists(`${base}.mjs`)) {
      mod = await importEsm(`${base}.mjs`);
    } else if (!exists(base) && !exists(`${base}.js`) && exists(`${base}.cjs`)) {
      mod = require(`${base}.cjs`);
    } else {
      try {
        mod = require(base);
      } catch (err) {
        if (err && (err.code === 'ERR_REQUIRE_ESM' || err.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
          mod = await importEsm(require.resolve(base));
        } else {
          throw err;
        }
      }
    }
  } catch (err) {
    const d = describeError(err);
    let where = '';
    if (err && err.name === 'SyntaxError' && typeof err.stack === 'string') {
      // V8 puts `file:line` of a syntax error on the first stack line.
      const first = err.stack.split('\n')[0];
      if (/:\d+$/.test(first)) where = ` (${first})`;
    }
    throw new LoadError(d.name, `failed to load ${what} '${spec}': ${d.message}${where}`, d.stack);
  }
  let fn = mod ? mod[name] : undefined;
  if (typeof fn !== 'function' && mod && mod.default && typeof mod.default === 'object') {
    fn = mod.default[name];
  }
  if (typeof fn !== 'function') {
    throw new LoadError('HandlerNotFound',
      `${what} '${spec}': function '${name}' not found in module '${file}'`);
  }
  return fn;
}

function importEsm(file) {
  const { pathToFileURL } = require('url');
  return import(pathToFileURL(file).href);
}

// ---------------------------------------------------------------------------
// Calling user functions in any of the supported styles: callback (the last
// parameter), promise/async, or a plain synchronous return.  The first of
// callback / resolution / throw wins; later ones are ignored.

function callUser(fn, args, hooks) {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome) => {
      if (!settled) {
        settled = true;
        resolve(outcome);
      }
    };
    hooks.fail = (err) => settle({ ok: false, kind: 'throw', err });
    const callback = (err, data) => {
      if (err !== null && err !== undefined) settle({ ok: false, kind: 'callback', err });
      else settle({ ok: true, value: data });
    };
    let ret;
    try {
      ret = fn(...args, callback);
    } catch (err) {
      settle({ ok: false, kind: 'throw', err });
      return;
    }
    if (ret !== null && (typeof ret === 'object' || typeof ret === 'function') && typeof ret.then === 'function') {
      Promise.resolve(ret).then(
        (value) => settle({ ok: true, value }),
        (err) => settle({ ok: false, kind: 'throw', err }));
    } else if (fn.length <= args.length) {
      // No callback parameter: the plain return value is the result.
      settle({ ok: true, value: ret });
    }
    // Otherwise the function declared the callback: wait for it (whatever it
    // returned, e.g. `return setTimeout(...)`, is not the result).
  });
}

// Invocations in flight (their ALS stores), for errors raised outside any
// invocation's async context.
const inFlight = new Set();
let initHooks = null;

function routeStrayError(kind, err) {
  const d = describeError(err);
  const store = als.getStore();
  if (store) {
    if (!store.finished) {
      store.fail(err);
    } else {
      // Leftover work of an invocation that has already answered.
      stderrTagger.emitLines(store.rid, [`${kind} after the invocation finished: ${d.name}: ${d.message}`]
        .concat(d.stack.map((l) => `    ${l}`)));
    }
    return;
  }
  if (initHooks && initHooks.fail) {
    initHooks.fail(err);
    return;
  }
  if (inFlight.size > 0) {
    // Cannot tell which invocation caused it: fail all that are running
    // rather than let the process die with them.
    for (const s of inFlight) s.fail(err);
    return;
  }
  stderrTagger.emitLines('', [`stratus nodejs runtime: ${kind} outside an invocation: ${d.name}: ${d.message}`]
    .concat(d.stack.map((l) => `    ${l}`)));
}

process.on('uncaughtException', (err) => routeStrayError('uncaught exception', err));
process.on('unhandledRejection', (reason) => routeStrayError('unhandled rejection', reason));

// ---------------------------------------------------------------------------
// Invocation loop

function decodeEvent(body) {
  const text = body.toString('utf8');
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch (_) {
    return text;
  }
}

function serialise(value) {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const json = JSON.stringify(value);
  return json === undefined ? Buffer.alloc(0) : Buffer.from(json, 'utf8');
}

async function invoke(handler, rid, headers, body) {
  const deadline = parseInt(headers['x-cff-deadline-ms'] || '', 10);
  const deadlineMs = Number.isFinite(deadline) ? deadline : Date.now() + config.timeout * 1000;
  const store = { rid, pending: { out: '', err: '' }, finished: false, fail: null };
  const ctx = new Context(rid, headers, deadlineMs);
  const event = decodeEvent(body);

  inFlight.add(store);
  let outcome;
  try {
    outcome = await als.run(store, () => callUser(handler, [event, ctx], store));
  } finally {
    store.finished = true;
    inFlight.delete(store);
    stdoutTagger.finish(store);
    stderrTagger.finish(store);
  }

  let urlPath = `${API_PREFIX}/invocation/response/${encodeURIComponent(rid)}`;
  let payload;
  if (outcome.ok) {
    try {
      payload = serialise(outcome.value);
    } catch (err) {
      urlPath = `${API_PREFIX}/invocation/error/${encodeURIComponent(rid)}`;
      payload = errorBody('FunctionResultInvalid',
        `function result is not serialisable: ${describeError(err).message}`, []);
    }
  } else {
    const d = describeError(outcome.err);
    const prefix = outcome.kind === 'callback'
      ? 'function entry exception, error: '
      : 'function invocation exception, error: ';
    urlPath = `${API_PREFIX}/invocation/error/${encodeURIComponent(rid)}`;
    payload = errorBody(d.name, prefix + d.message, d.stack);
  }
  await api('POST', urlPath, payload);
}

async function pollLoop(handler) {
  const pollPath = `${API_PREFIX}/invocation/request`;
  for (;;) {
    const res = await api('GET', pollPath);
    if (res.status !== 200) {
      if (res.status !== 204) await sleep(RETRY_PAUSE_MS);
      continue;
    }
    const rid = res.headers['x-cff-request-id'];
    if (!rid) {
      await sleep(RETRY_PAUSE_MS);
      continue;
    }
    try {
      await invoke(handler, String(rid), res.headers, res.body);
    } catch (err) {
      if (err instanceof ApiUnreachable) throw err;
      // A bug in the shim itself: fail the request, keep serving.
      const text = `runtime internal error: ${err && err.message}`;
      stderrTagger.emitLines('', [`stratus nodejs runtime: ${text}`]);
      await api('POST', `${API_PREFIX}/invocation/error/${encodeURIComponent(String(rid))}`,
        errorBody('RuntimeInternalError', text, []));
    }
  }
}

async function runInitializer(fn) {
  const timeoutS = Math.max(1, config.initializerTimeout);
  const ctx = new Context('', {}, Date.now() + timeoutS * 1000);
  initHooks = {};
  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, kind: 'timeout' }), timeoutS * 1000);
  });
  const outcome = await Promise.race([callUser(fn, [ctx], initHooks), timedOut]);
  clearTimeout(timer);
  initHooks = null;
  if (outcome.ok) return;
  if (outcome.kind === 'timeout') {
    await reportInitError('InitializerTimeout',
      `function initialization exception: initializer timed out after ${timeoutS} s`, [], 'initializer');
  }
  const d = describeError(outcome.err);
  await reportInitError(outcome.kind === 'callback' ? 'HandledInitializationError' : d.name,
    `function initialization exception: ${d.message}`, d.stack, 'initializer');
}

// Pre-heated mode: this runtime was started before any function needed it. Wait
// for the platform's specialise message, then take on the function's environment
// and arguments exactly as a normal start would have set them. Returns the request
// id to acknowledge once the function is loaded.
async function awaitFunction() {
  let res;
  for (;;) {
    res = await api('GET', `${API_PREFIX}/invocation/request`);
    if (res.status === 200 && res.headers['x-stratus-specialise'] === '1') break;
    if (res.status !== 204) await sleep(RETRY_PAUSE_MS);
  }
  const message = JSON.parse(res.body.toString('utf8'));
  const next = new Map(message.env);
  for (const key of Object.keys(process.env)) {
    if (!next.has(key)) delete process.env[key];
  }
  // Values that stay are not assigned again: assigning or deleting TZ, even to the
  // value it had, makes Node reload the time zone (5-10 ms here).
  for (const [key, value] of next) {
    if (process.env[key] !== value) process.env[key] = value;
  }
  process.argv.splice(1, process.argv.length - 1, ...message.args);
  readConfig();
  agent.maxFreeSockets = config.concurrency + 4;
  return String(res.headers['x-cff-request-id'] || '');
}

async function main() {
  let specialised = null;
  if (process.argv[process.argv.length - 1] === '--stratus-preheat') {
    try {
      specialised = await awaitFunction();
    } catch (err) {
      if (err instanceof ApiUnreachable) platformGone(err);
      throw err;
    }
  }
  if (!config.apiAddr) {
    stderrTagger.emitLines('', ['stratus nodejs runtime: RUNTIME_API_ADDR is not set']);
    process.exit(2);
  }
  let handler;
  try {
    handler = await loadFunction(config.handler, 'handler');
  } catch (err) {
    if (!(err instanceof LoadError)) throw err;
    await reportInitError(err.errorType, err.message, err.stackLines, 'load');
  }
  if (config.initializer) {
    let init;
    try {
      init = await loadFunction(config.initializer, 'initializer');
    } catch (err) {
      if (!(err instanceof LoadError)) throw err;
      await reportInitError(err.errorType, `function initialization exception: ${err.message}`,
        err.stackLines, 'initializer');
    }
    await runInitializer(init);
  }
  if (specialised !== null) {
    await api('POST', `${API_PREFIX}/invocation/response/${encodeURIComponent(specialised)}`,
      Buffer.from('{}'));
  }
  for (let i = 0; i < config.concurrency; i++) {
    pollLoop(handler).catch((err) => {
      if (err instanceof ApiUnreachable) platformGone(err);
      stderrTagger.emitLines('', [`stratus nodejs runtime: internal error: ${err && err.stack}`]);
      process.exit(1);
    });
  }
}

main().catch((err) => {
  stderrTagger.emitLines('', [`stratus nodejs runtime: internal error: ${err && err.stack}`]);
  process.exit(1);
});
