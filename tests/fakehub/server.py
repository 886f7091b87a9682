#!/usr/bin/env python3
"""A fake Hugging Face Hub for tests and benchmarks: serves the repositories under --repos on 127.0.0.1.

Standard library only. See tests/fakehub/README.md for the repository format, the routes and the faults.

    server.py --repos DIR --port-file FILE [--stats-file FILE] [--tls CERT KEY] [--latency-ms N]
"""

import argparse
import hashlib
import json
import os
import re
import signal
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERBOSE = bool(os.environ.get("FAKEHUB_VERBOSE"))

# Bytes per element of the safetensors dtypes; the 4-bit ones pack two elements per byte, rounded up per tensor.
DTYPE_BYTES = {
    "F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2, "I16": 2, "U16": 2,
    "I8": 1, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1, "F4": 0.5, "I4": 0.5, "U4": 0.5,
}

COMMIT_RE = re.compile(r"[0-9a-f]{40}")
CHUNK = 1 << 20
ZEROS = bytes(CHUNK)


def log(msg):
    if VERBOSE:
        sys.stderr.write("fakehub: %s\n" % msg)
        sys.stderr.flush()


def atomic_write(path, text):
    tmp = "%s.tmp.%d.%d" % (path, os.getpid(), threading.get_ident())
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------------------------------------
# File contents: real files (bytes in memory; they are small) and virtual safetensors files (a header, then
# zeros up to the total size, never allocated).


class RealFile:
    virtual = False

    def __init__(self, data):
        self.data = data
        self.size = len(data)
        self.sha256 = hashlib.sha256(data).hexdigest()

    def chunks(self, start, end):
        """Yields the bytes [start, end) as memoryviews."""
        view = memoryview(self.data)
        while start < end:
            n = min(CHUNK, end - start)
            yield view[start:start + n]
            start += n


class VirtualSafetensors:
    virtual = True

    def __init__(self, name, spec, header_length=None):
        tensors = spec.get("tensors")
        if not isinstance(tensors, dict):
            raise ValueError("virtual file %s: \"tensors\" must be an object" % name)
        header = {}
        metadata = spec.get("metadata", {"format": "pt"})
        if metadata is not None:
            header["__metadata__"] = metadata
        offset = 0
        for tname, t in tensors.items():
            dtype = t["dtype"]
            shape = [int(d) for d in t["shape"]]
            if dtype not in DTYPE_BYTES:
                raise ValueError("virtual file %s: tensor %s: unknown dtype %s" % (name, tname, dtype))
            elements = 1
            for d in shape:
                elements *= d
            per = DTYPE_BYTES[dtype]
            nbytes = (elements + 1) // 2 if per < 1 else elements * per
            header[tname] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + nbytes]}
            offset += nbytes
        text = json.dumps(header, separators=(",", ":")).encode("utf-8")
        # Like the safetensors library: pad the header with spaces to a multiple of 8, plus any extra padding.
        text += b" " * ((-len(text)) % 8 + int(spec.get("header_pad", 0)))
        self.header_json = text
        self.data_bytes = offset
        prefix_value = len(text) if header_length is None else int(header_length)
        self.head = prefix_value.to_bytes(8, "little") + text
        self.size = len(self.head) + offset
        digest = hashlib.sha256(text)
        digest.update(str(self.size).encode())
        self.sha256 = digest.hexdigest()

    def chunks(self, start, end):
        head = memoryview(self.head)
        while start < end:
            if start < len(self.head):
                n = min(len(self.head), end) - start
                yield head[start:start + n]
            else:
                n = min(CHUNK, end - start)
                yield memoryview(ZEROS)[:n]
            start += n


class Repo:
    def __init__(self, directory, dirname):
        self.dirname = dirname
        if "--" in dirname:
            org, name = dirname.split("--", 1)
            self.repo_id = org + "/" + name
        else:
            self.repo_id = dirname
        with open(os.path.join(directory, "_repo.json"), encoding="utf-8") as f:
            desc = json.load(f)
        self.refs = dict(desc.get("refs", {}))
        self.base_refs = dict(self.refs)
        if not self.refs:
            raise ValueError("%s: _repo.json needs \"refs\"" % dirname)
        for ref, commit in self.refs.items():
            if not COMMIT_RE.fullmatch(commit):
                raise ValueError("%s: ref %s: %r is not a 40-hex commit" % (dirname, ref, commit))
        self.commits = set(self.refs.values())
        self.gated_token = desc.get("gated_token")
        redirect = desc.get("redirect_lfs", False)
        self.redirect_lfs = bool(redirect)
        # "http" or "https": the redirect's scheme whatever the server speaks (true: the server's own).
        self.redirect_scheme = redirect if isinstance(redirect, str) else None
        self.faults = dict(desc.get("faults", {}))
        self.files = {}
        for root, _dirs, names in os.walk(directory):
            for n in sorted(names):
                full = os.path.join(root, n)
                rel = os.path.relpath(full, directory).replace(os.sep, "/")
                if rel == "_repo.json":
                    continue
                with open(full, "rb") as f:
                    data = f.read()
                # A body too large yet valid JSON: the file followed by this many spaces.
                pad = int(self.faults.get(rel, {}).get("pad_bytes", 0))
                self.files[rel] = RealFile(data + b" " * pad)
        self.generate_shards(desc.get("generated_shards"))
        for vname, spec in desc.get("virtual_files", {}).items():
            header_length = self.faults.get(vname, {}).get("header_length")
            self.files[vname] = VirtualSafetensors(vname, spec, header_length)

    def generate_shards(self, spec):
        """{"count": N, "dtype": "BF16", "shape": [a, b]}: N virtual shards of one tensor each and the
        model.safetensors.index.json naming them, made here so that the repository stays small on disk."""
        if not spec:
            return
        count, dtype, shape = int(spec["count"]), spec.get("dtype", "BF16"), spec.get("shape", [64, 64])
        weight_map = {}
        for i in range(count):
            shard = "model-%05d-of-%05d.safetensors" % (i + 1, count)
            tensor = "model.layers.%d.weight" % i
            self.files[shard] = VirtualSafetensors(shard, {"tensors": {tensor: {"dtype": dtype, "shape": shape}}})
            weight_map[tensor] = shard
        total = sum(f.data_bytes for name, f in self.files.items() if name in weight_map.values())
        index = {"metadata": {"total_size": total}, "weight_map": weight_map}
        self.files["model.safetensors.index.json"] = RealFile(json.dumps(index, indent=1).encode("utf-8"))

    def move_refs(self, moved):
        """_repo.json's refs with `moved` ({ref: commit}, from the control file) on top; every commit stays valid."""
        for ref, commit in moved.items():
            if not COMMIT_RE.fullmatch(commit):
                raise ValueError("%s: moved ref %s: %r is not a 40-hex commit" % (self.dirname, ref, commit))
        self.refs = dict(self.base_refs, **moved)
        self.commits |= set(self.refs.values())

    def resolve_revision(self, revision):
        if revision in self.refs:
            return self.refs[revision]
        if revision in self.commits:
            return revision
        return None


class Hub:
    def __init__(self, repos_dir):
        self.repos = {}
        for d in sorted(os.listdir(repos_dir)):
            full = os.path.join(repos_dir, d)
            if os.path.isdir(full) and os.path.isfile(os.path.join(full, "_repo.json")):
                repo = Repo(full, d)
                self.repos[repo.repo_id] = repo
        self.by_dirname = {r.dirname: r for r in self.repos.values()}
        self.lock = threading.Lock()
        self.fault_counts = {}
        self.control_path = None
        self.control_seen = None  # (inode, mtime, size) of the control file last applied
        self.ignore_if_none_match = False

    def apply_control(self):
        """Rereads the control file when it changed: {"ignore_if_none_match": bool, "refs": {repo_id: {ref:
        commit}}}. The C++ fixture replaces it atomically between client runs, so every request sees a whole file."""
        if not self.control_path:
            return
        try:
            st = os.stat(self.control_path)
        except FileNotFoundError:
            return
        seen = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self.lock:
            if seen == self.control_seen:
                return
            with open(self.control_path, encoding="utf-8") as f:
                control = json.load(f)
            self.ignore_if_none_match = bool(control.get("ignore_if_none_match", False))
            moved = control.get("refs", {})
            for repo in self.repos.values():
                repo.move_refs(moved.get(repo.repo_id, {}))
            self.control_seen = seen

    def next_fault_status(self, repo, path):
        """The injected status for this request of `path`, or None (statuses are consumed in order)."""
        fault = repo.faults.get(path)
        if not fault or not fault.get("statuses"):
            return None
        key = (repo.dirname, path)
        with self.lock:
            n = self.fault_counts.get(key, 0)
            self.fault_counts[key] = n + 1
        statuses = fault["statuses"]
        return int(statuses[n]) if n < len(statuses) else None


class Stats:
    """The request log. A request takes its place in the order when it arrives (so that requests a client made
    one after the other are listed in that order, whichever handler thread finishes first) and is written, with
    its final status and body byte count, once its response is complete."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.next_seq = 0
        self.done = []  # (seq, record), sorted by seq
        self.bytes_sent = 0
        self.token_leaked = False
        self.connections = 0  # open now
        self.max_connections = 0  # the most open at once
        self.write()

    def connection_opened(self):
        with self.lock:
            self.connections += 1
            self.max_connections = max(self.max_connections, self.connections)

    def connection_closed(self):
        with self.lock:
            self.connections -= 1

    def arrive(self):
        with self.lock:
            self.next_seq += 1
            return self.next_seq

    def add(self, seq, record, leaked=False):
        with self.lock:
            i = len(self.done)
            while i > 0 and self.done[i - 1][0] > seq:
                i -= 1
            self.done.insert(i, (seq, record))
            self.bytes_sent += record["body_bytes"]
            self.token_leaked = self.token_leaked or leaked
            self.write()

    def write(self):
        if self.path:
            atomic_write(self.path, json.dumps({"requests": [r for _, r in self.done], "bytes_sent": self.bytes_sent,
                                                "token_leaked": self.token_leaked,
                                                "max_connections": self.max_connections}, indent=1))


# ----------------------------------------------------------------------------------------------------------
# HTTP


def parse_range(value, size):
    """(start, end_inclusive), "unsatisfiable", or None when the header is absent or not a single byte range
    (then the whole file is served, as RFC 9110 allows)."""
    if value is None:
        return None
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value)
    if not m or (m.group(1) == "" and m.group(2) == ""):
        return None
    first, last = m.group(1), m.group(2)
    if first == "":  # suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            return "unsatisfiable"
        return (max(0, size - n), size - 1)
    start = int(first)
    if last != "" and int(last) < start:
        return None
    if start >= size:
        return "unsatisfiable"
    end = size - 1 if last == "" else min(int(last), size - 1)
    return (start, end)


class Response:
    def __init__(self, status, headers=None, body=b"", content=None, start=0, end=0):
        self.status = status
        self.headers = list(headers or [])
        self.body = body          # small bodies (errors)
        self.content = content    # or a file object, served [start, end)
        self.start = start
        self.end = end
        self.truncate = False

    @property
    def length(self):
        return self.end - self.start if self.content is not None else len(self.body)


def json_error(status, message, error_code=None, extra_headers=None):
    headers = [("Content-Type", "application/json")]
    if error_code:
        headers.append(("X-Error-Code", error_code))
    headers += extra_headers or []
    body = json.dumps({"error": message}).encode("utf-8")
    return Response(status, headers, body)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakehub/1.0"
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections end after this

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()  # in this thread, not the accept loop; failures go to handle_error
        super().setup()
        self.server.stats.connection_opened()  # finish() runs only when setup() succeeded

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.stats.connection_closed()

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):  # noqa: A003 (BaseHTTPRequestHandler's name)
        log("%s %s" % (self.address_string(), fmt % args))

    def do_GET(self):  # noqa: N802
        self.handle_request(head=False)

    def do_HEAD(self):  # noqa: N802
        self.handle_request(head=True)

    # -- dispatch --------------------------------------------------------------------------------------------

    def handle_request(self, head):
        server = self.server
        seq = server.stats.arrive()
        if server.latency_ms:
            time.sleep(server.latency_ms / 1000.0)
        leaked = False
        try:
            resp, leaked = self.route()
        except Exception as e:  # a bug in the fake hub: answer 500 rather than hang the client
            log("internal error: %r" % e)
            resp = json_error(500, "fake hub internal error: %r" % e)
        body_bytes = self.send(resp, head)
        server.stats.add(seq, {
            "method": self.command,
            "path": self.path,
            "host": self.headers.get("Host"),
            "range": self.headers.get("Range"),
            "auth": self.headers.get("Authorization") is not None,
            "status": resp.status,
            "body_bytes": body_bytes,
        }, leaked)

    def route(self):
        """Returns (Response, token_leaked)."""
        hub = self.server.hub
        hub.apply_control()
        raw_path = urllib.parse.urlsplit(self.path).path
        parts = raw_path.split("/")[1:]
        # /cdn/{org}--{name}/{commit}/{path...}
        if len(parts) >= 4 and parts[0] == "cdn":
            return self.route_cdn(hub, parts)
        # /api/models/{repo_id}[/revision/{revision}]
        if len(parts) >= 3 and parts[0] == "api" and parts[1] == "models":
            return self.route_api(hub, parts[2:]), False
        # /{org}/{name}/resolve/{revision}/{path...}   or   /{name}/resolve/{revision}/{path...}
        if len(parts) >= 5 and parts[2] == "resolve":
            repo_id, rest = parts[0] + "/" + parts[1], parts[3:]
        elif len(parts) >= 4 and parts[1] == "resolve":
            repo_id, rest = parts[0], parts[2:]
        else:
            return json_error(404, "Not Found: %s" % raw_path), False
        revision = urllib.parse.unquote(rest[0])
        path = urllib.parse.unquote("/".join(rest[1:]))
        return self.route_resolve(hub, urllib.parse.unquote(repo_id), revision, path), False

    def check_auth(self, repo):
        if not repo.gated_token:
            return None
        auth = self.headers.get("Authorization")
        if auth is None:
            return json_error(401, "Access to model %s is restricted. You must have access to it and be "
                              "authenticated to access it. Please log in." % repo.repo_id, "GatedRepo")
        if auth != "Bearer " + repo.gated_token:
            return json_error(403, "Access to model %s is restricted and you are not in the authorized list."
                              % repo.repo_id, "GatedRepo")
        return None

    def route_resolve(self, hub, repo_id, revision, path):
        repo = hub.repos.get(repo_id)
        if repo is None:
            return json_error(404, "Repository Not Found for url: %s." % self.path, "RepoNotFound")
        denied = self.check_auth(repo)
        if denied:
            return denied
        commit = repo.resolve_revision(revision)
        if commit is None:
            return json_error(404, "Invalid rev id: %s" % revision, "RevisionNotFound")
        content = repo.files.get(path)
        if content is None:
            return json_error(404, "Entry not found", "EntryNotFound", [("X-Repo-Commit", commit)])
        if repo.redirect_lfs and path.endswith(".safetensors"):
            scheme = repo.redirect_scheme or ("https" if self.server.tls else "http")
            location = "%s://localhost:%d/cdn/%s/%s/%s" % (
                scheme, self.server.port, repo.dirname, commit, urllib.parse.quote(path))
            return Response(302, [("Location", location), ("X-Repo-Commit", commit),
                                  ("ETag", '"%s"' % content.sha256), ("X-Linked-Size", str(content.size)),
                                  ("X-Linked-Etag", '"%s"' % content.sha256)])
        return self.serve_file(repo, commit, path, content)

    def route_cdn(self, hub, parts):
        repo = hub.by_dirname.get(parts[1])
        commit = parts[2]
        path = urllib.parse.unquote("/".join(parts[3:]))
        if self.headers.get("Authorization") is not None:
            return json_error(400, "Authorization header sent to the CDN host (token leaked)"), True
        if repo is None or commit not in repo.commits or path not in repo.files:
            return json_error(404, "Not Found"), False
        return self.serve_file(repo, commit, path, repo.files[path]), False

    def route_api(self, hub, parts):
        # parts: [org, name, ...] or [name, ...]; optional trailing "revision/<rev>"
        revision = "main"
        if len(parts) >= 2 and parts[-2] == "revision":
            revision = urllib.parse.unquote(parts[-1])
            parts = parts[:-2]
        repo = hub.repos.get(urllib.parse.unquote("/".join(parts)))
        if repo is None:
            return json_error(404, "Repository not found", "RepoNotFound")
        commit = repo.resolve_revision(revision)
        if commit is None:
            return json_error(404, "Invalid rev id: %s" % revision, "RevisionNotFound")
        siblings = []
        for name, content in sorted(repo.files.items()):
            entry = {"rfilename": name, "size": content.size}
            if name.endswith(".safetensors"):
                entry["lfs"] = {"sha256": content.sha256, "size": content.size, "pointerSize": 134}
            siblings.append(entry)
        body = json.dumps({
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24], "id": repo.repo_id,
            "modelId": repo.repo_id, "sha": commit, "private": False,
            "gated": "manual" if repo.gated_token else False, "disabled": False, "siblings": siblings,
        }).encode("utf-8")
        return Response(200, [("Content-Type", "application/json"), ("X-Repo-Commit", commit)], body)

    def serve_file(self, repo, commit, path, content):
        fault = repo.faults.get(path, {})
        injected = self.server.hub.next_fault_status(repo, path)
        if fault.get("slow_ms"):
            time.sleep(int(fault["slow_ms"]) / 1000.0)
        if injected is not None:
            extra = [("X-Repo-Commit", commit)]
            if injected in (429, 503):
                extra.append(("Retry-After", str(fault.get("retry_after", "1"))))
            return json_error(injected, "injected fault %d for %s" % (injected, path), None, extra)

        etag = '"%s"' % content.sha256
        headers = [("X-Repo-Commit", commit), ("ETag", etag), ("Accept-Ranges", "bytes")]
        if path.endswith(".safetensors"):
            headers += [("X-Linked-Size", str(content.size)), ("X-Linked-Etag", etag)]
        inm = self.headers.get("If-None-Match")
        if inm is not None and not self.server.hub.ignore_if_none_match:
            tags = [t.strip() for t in inm.split(",")]
            if "*" in tags or etag in tags or content.sha256 in tags or ("W/" + etag) in tags:
                return Response(304, headers)
        headers.append(("Content-Type", "application/json" if path.endswith(".json") else
                        "text/plain; charset=utf-8" if path.endswith((".md", ".txt")) else
                        "application/octet-stream"))
        rng = parse_range(self.headers.get("Range"), content.size)
        if rng == "unsatisfiable":
            resp = json_error(416, "Requested Range Not Satisfiable", None,
                              headers[:3] + [("Content-Range", "bytes */%d" % content.size)])
            return resp
        if rng is None:
            resp = Response(200, headers, content=content, start=0, end=content.size)
        else:
            start, end = rng
            headers.append(("Content-Range", "bytes %d-%d/%d" % (start, end, content.size)))
            resp = Response(206, headers, content=content, start=start, end=end + 1)
        resp.truncate = bool(fault.get("truncate"))
        return resp

    # -- output ----------------------------------------------------------------------------------------------

    def send(self, resp, head):
        """Writes the response; returns the body bytes actually written."""
        try:
            self.send_response(resp.status)
            for k, v in resp.headers:
                self.send_header(k, v)
            if resp.status != 304:
                self.send_header("Content-Length", str(resp.length))
            self.end_headers()
        except OSError:
            self.close_connection = True
            return 0
        if head or resp.status == 304:
            return 0
        limit = resp.length // 2 if resp.truncate else resp.length
        sent = 0
        try:
            if resp.content is None:
                self.wfile.write(resp.body[:limit])
                sent = limit
            else:
                for chunk in resp.content.chunks(resp.start, resp.start + limit):
                    self.wfile.write(chunk)
                    sent += len(chunk)
            self.wfile.flush()
        except OSError:  # the client went away (BrokenPipe, ConnectionReset, ssl errors)
            self.close_connection = True
        if resp.truncate:
            self.close_connection = True
        return sent


class FakeHubServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, hub, stats, tls_context, latency_ms):
        self.hub = hub
        self.stats = stats
        self.tls = tls_context
        self.latency_ms = latency_ms
        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        if VERBOSE:
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="Fake Hugging Face Hub for tests (binds 127.0.0.1).")
    ap.add_argument("--repos", required=True, help="directory of <org>--<name> repositories")
    ap.add_argument("--port-file", required=True, help="the listening port is written here once ready")
    ap.add_argument("--stats-file", help="JSON request log, rewritten after every request")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this certificate")
    ap.add_argument("--latency-ms", type=int, default=0, help="sleep this long before answering any request")
    ap.add_argument("--control", help="JSON file of behaviour switched at run time, reread when it changes")
    args = ap.parse_args()

    hub = Hub(args.repos)
    hub.control_path = args.control
    hub.apply_control()
    stats = Stats(args.stats_file)
    tls = None
    if args.tls:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls[0], args.tls[1])
    server = FakeHubServer(hub, stats, tls, args.latency_ms)

    stop = threading.Event()

    def on_signal(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    atomic_write(args.port_file, "%d\n" % server.port)
    log("%d repositories, listening on %s://127.0.0.1:%d" % (len(hub.repos), "https" if tls else "http",
                                                              server.port))
    parent = os.getppid()
    # Stop on a signal, or when the process that started us is gone (a crashed test binary).
    while not stop.wait(0.5):
        if os.getppid() != parent:
            break
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
