"""Every file parsed under a wall-time and a memory cap, in a worker process that is replaced when it breaks
one (issue 13).

One long-lived worker per parse batch (`IsolatedParser`), not a process per file: the worker imports the
readers once and parses file after file, so isolation costs a pipe round trip per file. The worker sets
RLIMIT_AS on itself before each file (its size then + ETL_PARSE_MEMORY_MB, or ETL_OCR_MEMORY_MB for a PDF or image), so a file that grows the heap past the cap
gets a MemoryError (or a failed allocation in C) instead of taking the machine down; the parent kills it
when a file runs past its wall time. Either way the file is `rejected` naming the cap it hit, a fresh
worker is started, and the rest of the batch goes on.

A worker that has parsed other files may be near its cap through fragmentation, so a file that breaks the
memory cap (or kills its worker) in a used worker is tried once more in a fresh one before it is rejected.

Protocol: length-prefixed pickles over the child's stdin and a dup of its stdout (its own stdout and
stderr both go to the parent's stderr, so a reader that prints cannot corrupt the protocol).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import resource
import select
import signal
import struct
import subprocess
import sys
import time
import traceback
from pathlib import Path

from etl.config import ParseLimits, load_parse_limits

_HEADER = struct.Struct(">Q")
_MB = 1 << 20
_MEMORY_EXIT = 3  # the worker's exit status after a MemoryError it could not even report
_YEAR_MISSING = "report year not found (no 统计期限 or title year)"


# -- framing -----------------------------------------------------------------------------------------------
def _write_msg(fd: int, obj) -> None:
    body = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(body)) + body)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes | None:
    """n bytes from fd, None on EOF; TimeoutError past the deadline (monotonic)."""
    chunks, left = [], n
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_msg(fd: int, deadline: float | None = None):
    head = _read_exact(fd, _HEADER.size, deadline)
    if head is None:
        return None
    body = _read_exact(fd, _HEADER.unpack(head)[0], deadline)
    return None if body is None else pickle.loads(body)


# -- the worker (child side) ----------------------------------------------------------------------------------
def _vm_bytes(field: str = "VmSize") -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


_OCR_FORMATS = ("pdf", "image")  # formats that may need OCR: their own time and memory budgets
_NEAR_CAP = 0.75  # a parser error after the heap reached this share of the headroom is the memory cap
_cap_floor: list[int] = []  # the worker's address-space floor (start-up size) and cap, once set


def parse_one(path: str, file_format: str | None, require_year: bool) -> dict:
    """One file -> {"report": dict} | {"rejected": reason}, plus parse_ms (and the traceback of a parser
    bug). Runs inside the worker; also the in-process path of fuzzing and `--no-isolation` debugging."""
    from etl.extract import fetch_hints
    from etl.model import RejectedInput
    from etl.parse import parse_bytes
    from etl.parse.caps import check_file

    started = time.perf_counter()
    out: dict = {}
    try:
        check_file(path)
        with open(path, "rb") as f:
            data = f.read()
        # the fetch sidecar's hints beside the file (etl.extract.fetch_hints): evidence for the metadata
        rep = parse_bytes(data, Path(path).name, file_format, fetch_hints(Path(path)))
        if require_year and rep.meta.year is None:
            raise RejectedInput(_YEAR_MISSING)
        out["report"] = rep.to_dict()
    except RejectedInput as e:
        out["rejected"] = str(e)
    except MemoryError:
        raise
    except RecursionError as e:  # deep nesting in a hostile file: a clean rejection, the worker is fine
        out["rejected"] = f"parser error: RecursionError: {str(e)[:200]}"
        out["traceback"] = traceback.format_exc()
    except Exception as e:  # a parser bug must not lose the file: reject it with the reason
        out["rejected"] = f"parser error: {type(e).__name__}: {str(e)[:300]}"
        out["traceback"] = traceback.format_exc()
    out["parse_ms"] = round((time.perf_counter() - started) * 1000, 3)  # observability, benchmarks
    return out


def _hit_memory_cap() -> bool:
    if not _cap_floor:
        return False
    floor, cap = _cap_floor
    return _vm_bytes("VmPeak") >= floor + _NEAR_CAP * (cap - floor)


def _budget_mb(limits: ParseLimits, file_format: str | None) -> int:
    """What one file may add to the worker: a scan (OCR's models and page images) gets its own budget."""
    return max(limits.memory_mb, limits.ocr_memory_mb) if file_format in _OCR_FORMATS else limits.memory_mb


def _cap_address_space(budget_mb: int) -> None:
    """RLIMIT_AS (soft) = the worker's size now + this file's budget, set before each file: a reader loaded
    by an earlier file (OCR's runtime maps ~1.5 GB of address space) is not charged to the next file, and
    the hard limit stays open so the soft one can be raised again."""
    if budget_mb <= 0:
        return
    floor = _vm_bytes()
    cap = floor + budget_mb * _MB
    resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    _cap_floor[:] = [floor, cap]


def worker_main() -> None:
    """The child: cap its own address space, then answer requests until stdin closes."""
    proto_out = os.dup(1)
    os.dup2(2, 1)  # anything a reader prints goes to stderr, never into the protocol
    sys.stdout = sys.stderr
    import etl.parse  # noqa: F401 - the readers, imported once per worker, before the cap is measured
    import etl.parse.docx  # noqa: F401
    import etl.parse.html  # noqa: F401
    import etl.parse.pdf  # noqa: F401

    limits = load_parse_limits()
    _write_msg(proto_out, {"ready": os.getpid()})
    while True:
        req = _read_msg(0)
        if req is None:
            return
        _cap_address_space(_budget_mb(limits, req[1]))
        try:
            resp = parse_one(*req)
        except MemoryError:
            # the heap may be half-built: answer while the emergency memory lasts, then exit
            resp = None
        if resp is not None and "traceback" in resp and _hit_memory_cap():
            resp = None  # C code (libxml2, pdfium) reports a failed allocation as an error of its own
        if resp is None:
            try:
                _write_msg(proto_out, {"cap": "memory"})
            finally:
                os._exit(_MEMORY_EXIT)
        _write_msg(proto_out, resp)


# -- the parent side ---------------------------------------------------------------------------------------
_PEAK_KB = [0]  # the largest peak RSS of any worker this process ran (benchmarks charge it to parse)


def peak_worker_kb() -> int:
    return _PEAK_KB[0]


class _Worker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "etl.parse.isolation"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
            start_new_session=True,  # a kill -9 of a batch's process group does not leave parsers behind
        )
        self.served = 0
        ready = _read_msg(self.proc.stdout.fileno(), time.monotonic() + 120)
        if not ready or "ready" not in ready:
            self.kill()
            raise RuntimeError("the parse worker did not start")

    def request(self, req: tuple, timeout_s: float) -> dict | None:
        """The worker's answer; None when it died; TimeoutError past the wall-time cap."""
        self.served += 1
        try:
            _write_msg(self.proc.stdin.fileno(), req)
        except (BrokenPipeError, OSError):
            return None
        return _read_msg(self.proc.stdout.fileno(), time.monotonic() + timeout_s)

    def death(self) -> str:
        code = self.proc.wait(timeout=10)
        if code == _MEMORY_EXIT:
            return "memory"
        if code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit status {code}"

    def _record_peak(self) -> None:
        try:
            with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        _PEAK_KB[0] = max(_PEAK_KB[0], int(line.split()[1]))
        except OSError:
            pass  # already gone

    def kill(self) -> None:
        self._record_peak()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()

    def close(self) -> None:
        self._record_peak()
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


class IsolatedParser:
    """Parses files one at a time in a capped worker process, replaced whenever a file breaks a cap.

    with IsolatedParser() as parser:
        record = parser.parse(path, file_format)   # {"report": …} | {"rejected": …}, "parse_ms"
    """

    def __init__(self, limits: ParseLimits | None = None, require_year: bool = True) -> None:
        self.limits = limits or load_parse_limits()
        self.require_year = require_year
        self._worker: _Worker | None = None
        self.replaced = 0  # workers killed or lost (observability)

    def __enter__(self) -> IsolatedParser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def _drop_worker(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None
            self.replaced += 1

    def timeout_for(self, file_format: str | None) -> float:
        """A PDF may need OCR, which has its own (usually longer) wall-time budget."""
        if file_format in _OCR_FORMATS:
            return max(self.limits.timeout_s, self.limits.ocr_timeout_s)
        return self.limits.timeout_s

    def parse(self, path: str | os.PathLike, file_format: str | None = None) -> dict:
        if file_format is None:  # the budgets depend on the format: sniff it as the landing scan does
            file_format = _sniff(Path(path))
        timeout = self.timeout_for(file_format)
        req = (str(path), file_format, self.require_year)
        for attempt in (1, 2):
            if self._worker is None:
                self._worker = _Worker()
            worker = self._worker
            used = worker.served > 0
            started = time.perf_counter()
            try:
                resp = worker.request(req, timeout)
            except TimeoutError:
                self._drop_worker()
                return {"rejected": f"over the parse time cap ({timeout:g} s)", "parse_ms": _ms(started)}
            if resp is not None and "cap" not in resp:
                return resp
            # the memory cap, or the worker died (a failed allocation in C code, a reader crash)
            death = "memory" if resp is not None else worker.death()
            why = (
                f"over the parse memory cap ({_budget_mb(self.limits, file_format)} MB)"
                if death == "memory"
                else f"parser process died ({death})"
            )
            self._drop_worker()
            if attempt == 1 and used:
                continue  # maybe the worker's own history: once more in a fresh one
            return {"rejected": why, "parse_ms": _ms(started)}
        raise AssertionError("unreachable")


def _sniff(path: Path) -> str | None:
    from etl.extract import detect_format

    try:
        with open(path, "rb", opener=lambda p, fl: os.open(p, fl | os.O_NONBLOCK)) as f:
            head = f.read(8192)
    except OSError:
        return None  # the worker reports why it cannot be read
    return detect_format(path, head)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


if __name__ == "__main__":
    worker_main()
