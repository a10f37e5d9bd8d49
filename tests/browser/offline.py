"""What the offline journeys need beyond Selenium: a relay that can make the service unreachable
while the browser believes it is online, and DevTools network emulation that reaches the
service worker too.

**Relay.** The browser talks to the service through a TCP relay on another port. ``up()`` passes
bytes both ways (and counts those the service sends: what the phone's radio would carry);
``down()`` cuts every connection and resets new ones at once (no route to the service, as on a
weak signal, while ``navigator.onLine`` stays true); ``lose_answers()`` passes requests on but
drops the service's answers, resetting the connection once the answer starts: the request was
done, the phone never learns it.

**Emulation.** ``Network.emulateNetworkConditions`` sent through Selenium (``execute_cdp_cmd``)
reaches the page's DevTools session only: a service worker's own fetches still get through and
at full speed (measured: a page "offline" still loaded from the network through its worker, and
a "slow 3G" navigation took 0.03 s). DevTools applies its throttling to every target, workers
included; :class:`Emulation` does the same through the browser's DevTools endpoint, attaching
to each service worker as it starts, and also collects the worker's ``Network.loadingFinished``
sizes for the page-weight figure.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import socket
import struct
import threading
import urllib.request
from collections.abc import Callable

#: DevTools' "Slow 3G" preset: 400 ms × 5 latency, 500 kbit/s × 0.8 down and up
SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
OFFLINE = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
ONLINE = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


class Relay:
    """A TCP relay from a port of its own to the service's (see the module docstring)."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.mode = "up"
        self.answered = 0  # bytes the service sent towards the browser while up
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, name="relay", daemon=True).start()

    def up(self) -> None:
        self.mode = "up"
        self._cut_all()  # a connection kept open from another mode would keep its ways

    def down(self) -> None:
        self.mode = "down"
        self._cut_all()

    def lose_answers(self) -> None:
        self.mode = "lose"
        self._cut_all()

    def close(self) -> None:
        self._listener.close()
        self._cut_all()

    def _accept(self) -> None:
        while True:
            try:
                browser, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "down":
                _reset(browser)
                continue
            try:
                service = socket.create_connection(self.target, timeout=10)
            except OSError:
                _reset(browser)
                continue
            service.settimeout(None)
            with self._lock:
                self._open |= {browser, service}
            mode = self.mode
            threading.Thread(target=self._pump, args=(browser, service, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(service, browser, mode), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, answers: str | None) -> None:
        """Copy ``source`` to ``sink``; ``answers`` is set on the service-to-browser direction."""
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if answers == "lose":
                    _reset(sink)
                    break
                sink.sendall(data)
                if answers is not None:
                    with self._lock:
                        self.answered += len(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
                with self._lock:
                    self._open.discard(s)

    def _cut_all(self) -> None:
        with self._lock:
            cut, self._open = list(self._open), set()
        for s in cut:
            _reset(s)


def _reset(s: socket.socket) -> None:
    """Close with a reset (RST), as a dropped link looks to the browser."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


class Emulation:
    """Network conditions on the page (Selenium's DevTools session) and on every service worker
    (sessions of its own on the browser's DevTools endpoint)."""

    def __init__(self, driver) -> None:
        import websocket  # websocket-client, which Selenium brings

        self.driver = driver
        self.conditions = dict(ONLINE)
        self.worker_bytes: dict[str, int] = {}  # requestId → encodedDataLength, the workers' requests
        self._workers: dict[str, str] = {}  # session → worker URL
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urllib.request.urlopen(f"http://{address}/json/version", timeout=10) as answer:
            endpoint = json.loads(answer.read())["webSocketDebuggerUrl"]
        self._socket = websocket.create_connection(endpoint, suppress_origin=True, timeout=None)
        threading.Thread(target=self._read, name="devtools", daemon=True).start()
        driver.execute_cdp_cmd("Network.enable", {})
        self._send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True,
                                            "filter": [{"type": "service_worker", "exclude": False},
                                                       {"exclude": True}]})

    @property
    def workers(self) -> list[str]:
        return list(self._workers.values())

    def set(self, conditions: dict) -> None:
        self.conditions = dict(conditions)
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", self.conditions)
        for session in list(self._workers):
            self._send("Network.emulateNetworkConditions", self.conditions, session)

    def close(self) -> None:
        self._socket.close()

    def _send(self, method: str, params: dict, session: str | None = None) -> None:
        message = {"id": next(self._ids), "method": method, "params": params}
        if session:
            message["sessionId"] = session
        with self._lock:
            self._socket.send(json.dumps(message))

    def _read(self) -> None:
        handlers: dict[str, Callable[[dict], None]] = {
            "Target.attachedToTarget": self._attached, "Target.detachedFromTarget": self._detached,
            "Network.loadingFinished": self._loaded}
        while True:
            try:
                message = json.loads(self._socket.recv())
            except Exception:  # the browser went away: nothing more to read
                return
            handler = handlers.get(message.get("method", ""))
            if handler:
                handler(message)

    def _attached(self, message: dict) -> None:
        session, info = message["params"]["sessionId"], message["params"]["targetInfo"]
        self._workers[session] = info["url"]
        self._send("Network.enable", {}, session)
        self._send("Network.emulateNetworkConditions", self.conditions, session)
        self._send("Runtime.runIfWaitingForDebugger", {}, session)

    def _detached(self, message: dict) -> None:
        self._workers.pop(message["params"].get("sessionId", ""), None)

    def _loaded(self, message: dict) -> None:
        if message.get("sessionId") in self._workers:
            params = message["params"]
            self.worker_bytes[params["requestId"]] = int(params.get("encodedDataLength", 0))


# --- what the browser tests and the benchmark (bench/cadre_bench.py) measure and choose ---------------

def choose_cadre(rows: list[dict]) -> tuple[str, str]:
    """From the overdue-visit report's rows: the cadre with the most households overdue for a
    whole quarter (an active pairing older than the visit window), and the county of their first."""
    quarter_ago = (dt.date.today() - dt.timedelta(days=90)).isoformat()
    due = [r for r in rows if r["cadre_no"] and r["pairing_ended_on"] is None and r["pairing_started_on"] < quarter_ago]
    if not due:
        raise AssertionError(f"the tiny demo county has no household overdue for a quarter: {rows}")
    counts: dict[str, int] = {}
    for r in due:
        counts[r["cadre_no"]] = counts.get(r["cadre_no"], 0) + 1
    cadre_no = max(sorted(counts), key=counts.get)
    return cadre_no, next(r["region_code"][:6] for r in due if r["cadre_no"] == cadre_no)


def page_bytes(driver) -> int:
    """``encodedDataLength`` of every request the page finished since the log was last read."""
    total = 0
    for item in driver.get_log("performance"):
        message = json.loads(item["message"])["message"]
        if message["method"] == "Network.loadingFinished":
            total += int(message["params"].get("encodedDataLength", 0))
    return total


def navigation_ms(driver) -> float:
    """The last navigation's time from its start to the end of its load event."""
    return driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime;")
