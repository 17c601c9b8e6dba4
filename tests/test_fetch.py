"""etl.fetch against a local HTTP server (127.0.0.1:0), reached only because ETL_FETCH_ALLOW_HOSTS lists it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fetch_site import Site, html

from etl.config import load_fetch_settings
from etl.fetch.client import Fetcher, FetchError
from etl.fetch.guard import RefusedURL, check_url
from etl.fetch.manifest import Entry, ManifestError, parse_manifest
from etl.fetch.run import fetch

PROJECT = Path(__file__).resolve().parents[1]
SEED = PROJECT / "sample" / "landing" / "suichang-2021.txt"


@pytest.fixture
def site():
    s = Site().start()
    yield s
    s.stop()


@pytest.fixture
def fetch_env(monkeypatch):
    for key, value in {
        "ETL_FETCH_ALLOW_HOSTS": "127.0.0.1",
        "ETL_FETCH_DELAY": "0",
        "ETL_FETCH_BACKOFF": "0.01",
        "ETL_FETCH_TIMEOUT": "1",
        "ETL_FETCH_RETRIES": "2",
    }.items():
        monkeypatch.setenv(key, value)


def landing_files(landing: Path) -> list[str]:
    return sorted(p.relative_to(landing).as_posix() for p in (landing / "web").rglob("*") if p.is_file())


def sidecars(landing: Path) -> list[dict]:
    return [
        json.loads(p.read_text(encoding="utf-8")) for p in sorted((landing / "web").rglob("*.fetch.json"))
    ]


# -- the guard --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/r.pdf",
        "http://10.1.2.3/r.pdf",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/r.pdf",
        "http://[::ffff:127.0.0.1]/r.pdf",
        "http://localhost/r.pdf",  # a name that resolves to loopback
        "http://192.168.0.1/",
        "http://0.0.0.0/",
        "http://2130706433/",  # 127.0.0.1 as one number
        "http://0x7f000001/",
        "http://[fe80::1%25eth0]/",
        "file:///etc/passwd",
        "ftp://example.com/r.pdf",
        "gopher://example.com/",
    ],
)
def test_guard_refuses_non_public_targets_and_other_schemes(url):
    with pytest.raises(RefusedURL):
        check_url(url, frozenset())


def test_guard_allows_a_listed_host_only_by_its_own_name():
    check_url("http://127.0.0.1:8080/x", frozenset({"127.0.0.1"}))
    with pytest.raises(RefusedURL):  # localhost resolves to 127.0.0.1 but is not listed itself
        check_url("http://localhost:8080/x", frozenset({"127.0.0.1"}))
    with pytest.raises(RefusedURL):
        check_url("file:///etc/passwd", frozenset({"127.0.0.1", ""}))


def test_default_settings_allow_no_host(monkeypatch):
    monkeypatch.delenv("ETL_FETCH_ALLOW_HOSTS", raising=False)
    assert load_fetch_settings().allow_hosts == frozenset()


def test_local_server_is_refused_unless_allowed(site, monkeypatch, tmp_path):
    site.routes["/r.txt"] = (200, {"Content-Type": "text/plain"}, SEED.read_bytes())
    monkeypatch.delenv("ETL_FETCH_ALLOW_HOSTS", raising=False)
    urls = [
        site.url("/r.txt"),
        site.url("/r.txt", host="localhost"),
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
    ]
    summary = fetch([Entry(u) for u in urls], tmp_path, progress=False)
    assert summary["totals"]["fetched"] == 0
    assert summary["totals"]["failed"] == 4
    assert {f["status"] for f in summary["failures"]} == {"refused"}
    assert site.hits == {}  # not one request reached the server
    assert not (tmp_path / "web").exists()


def test_the_connection_itself_is_guarded(monkeypatch):
    """Past the URL check (DNS rebinding): the backend checks the address it connects to."""
    monkeypatch.setenv("ETL_FETCH_ALLOW_HOSTS", "")
    import etl.fetch.client as client

    monkeypatch.setattr(client, "check_url", lambda url, allow: None)  # as if the name had looked public
    with Fetcher(load_fetch_settings()) as f, pytest.raises(RefusedURL):
        f._once("http://127.0.0.1:9/x", {})


# -- the client -------------------------------------------------------------------------------------------


def test_retry_500_then_200(site, fetch_env, tmp_path):
    replies = iter([(500, {}, b"busy"), (503, {}, b"busy")])
    site.routes["/r.txt"] = lambda h: next(replies, (200, {"Content-Type": "text/plain"}, SEED.read_bytes()))
    summary = fetch([Entry(site.url("/r.txt"))], tmp_path, progress=False)
    assert summary["totals"]["fetched"] == 1 and summary["totals"]["failed"] == 0
    assert site.hits["/r.txt"] == 3


def test_persistent_500_fails_with_its_status(site, fetch_env, tmp_path):
    site.routes["/r.txt"] = (500, {}, b"broken")
    summary = fetch([Entry(site.url("/r.txt"))], tmp_path, progress=False)
    assert summary["hosts"]["127.0.0.1"]["failed"] == {"500": 1}
    assert site.hits["/r.txt"] == 3  # 1 + ETL_FETCH_RETRIES


def test_slow_site_meets_the_time_cap(site, fetch_env, monkeypatch, tmp_path):
    monkeypatch.setenv("ETL_FETCH_RETRIES", "0")
    site.routes["/slow.txt"] = (200, {"Content-Type": "text/plain", "X-Slow": "0.2"}, SEED.read_bytes())
    summary = fetch([Entry(site.url("/slow.txt"))], tmp_path, progress=False)
    assert summary["hosts"]["127.0.0.1"]["failed"] == {"timeout": 1}
    assert not (tmp_path / "web").exists()


def test_size_cap(site, fetch_env, monkeypatch, tmp_path):
    monkeypatch.setenv("ETL_FETCH_MAX_BYTES", "1000")
    site.routes["/big.txt"] = (200, {"Content-Type": "text/plain"}, SEED.read_bytes())
    summary = fetch([Entry(site.url("/big.txt"))], tmp_path, progress=False)
    assert summary["hosts"]["127.0.0.1"]["failed"] == {"too large": 1}
    assert site.hits["/big.txt"] == 1  # a size refusal is not retried


def test_redirect_chain_is_followed_hop_by_hop(site, fetch_env, tmp_path):
    site.routes["/a"] = (301, {"Location": "/b"}, b"")
    site.routes["/b"] = (302, {"Location": site.url("/c")}, b"")
    site.routes["/c"] = (200, {"Content-Type": "text/plain"}, SEED.read_bytes())
    summary = fetch([Entry(site.url("/a"))], tmp_path, progress=False)
    assert summary["totals"]["fetched"] == 1
    (meta,) = sidecars(tmp_path)
    (source,) = meta["sources"]
    assert source["url"] == site.url("/a") and source["final_url"] == site.url("/c")
    assert source["redirects"] == [site.url("/b"), site.url("/c")]


@pytest.mark.parametrize(
    "target",
    ["http://10.0.0.7/r.pdf", "http://169.254.169.254/", "http://localhost:{port}/c", "file:///etc/passwd"],
)
def test_redirect_to_a_refused_target(site, fetch_env, tmp_path, target):
    site.routes["/a"] = (302, {"Location": target.format(port=site.port)}, b"")
    site.routes["/c"] = (200, {"Content-Type": "text/plain"}, SEED.read_bytes())
    summary = fetch([Entry(site.url("/a"))], tmp_path, progress=False)
    assert summary["hosts"]["127.0.0.1"]["failed"] == {"refused": 1}
    assert site.hits["/c"] == 0


def test_redirect_loop_is_capped(site, fetch_env, tmp_path):
    site.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    summary = fetch([Entry(site.url("/loop"))], tmp_path, progress=False)
    assert summary["hosts"]["127.0.0.1"]["failed"] == {"too many redirects": 1}


def test_robots_txt_disallow(site, fetch_env, tmp_path):
    site.routes["/robots.txt"] = (
        200,
        {"Content-Type": "text/plain"},
        b"User-agent: *\nDisallow: /private/\n",
    )
    site.routes["/private/r.txt"] = (200, {}, SEED.read_bytes())
    site.routes["/public/r.txt"] = (200, {"Content-Type": "text/plain"}, SEED.read_bytes())
    summary = fetch(
        [Entry(site.url("/private/r.txt")), Entry(site.url("/public/r.txt"))], tmp_path, progress=False
    )
    assert summary["hosts"]["127.0.0.1"]["failed"] == {"refused": 1}
    assert summary["totals"]["fetched"] == 1
    assert site.hits["/private/r.txt"] == 0
    assert site.hits["/robots.txt"] == 1  # once per host


def test_politeness_delay_between_requests(site, monkeypatch, fetch_env, tmp_path):
    monkeypatch.setenv("ETL_FETCH_DELAY", "0.2")
    for i in range(3):
        site.routes[f"/{i}.txt"] = (200, {"Content-Type": "text/plain"}, f"{i}".encode() + SEED.read_bytes())
    import time

    t0 = time.monotonic()
    fetch([Entry(site.url(f"/{i}.txt")) for i in range(3)], tmp_path, progress=False)
    # robots.txt + 3 files, one start every 0.2 s on this host
    assert time.monotonic() - t0 >= 0.6


# -- conditional GET, versions ----------------------------------------------------------------------------


def test_304_etag_refetch_costs_one_request_and_no_new_file(site, fetch_env, tmp_path, monkeypatch):
    body = SEED.read_bytes()

    def report(h):
        if h.get("if-none-match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return (
            200,
            {"Content-Type": "text/plain", "ETag": '"v1"', "Last-Modified": "Mon, 01 Mar 2021 00:00:00 GMT"},
            body,
        )

    site.routes["/r.txt"] = report
    first = fetch([Entry(site.url("/r.txt"))], tmp_path, progress=False)
    files = landing_files(tmp_path)
    assert first["totals"]["fetched"] == 1

    import etl.parse

    monkeypatch.setattr(etl.parse, "parse_bytes", lambda *a, **k: pytest.fail("a fetch parsed a report"))
    second = fetch([Entry(site.url("/r.txt"))], tmp_path, progress=False)
    assert second["hosts"]["127.0.0.1"]["unchanged"] == 1 and second["totals"]["fetched"] == 0
    assert site.hits["/r.txt"] == 2  # one request per fetch
    last = site.requests[-1][1]
    assert last["if-none-match"] == '"v1"' and last["if-modified-since"] == "Mon, 01 Mar 2021 00:00:00 GMT"
    assert landing_files(tmp_path) == files


def test_same_bytes_without_validators_is_unchanged(site, fetch_env, tmp_path):
    site.routes["/r.txt"] = (200, {"Content-Type": "text/plain"}, SEED.read_bytes())
    fetch([Entry(site.url("/r.txt"))], tmp_path, progress=False)
    files = landing_files(tmp_path)
    again = fetch([Entry(site.url("/r.txt"))], tmp_path, progress=False)
    assert again["totals"]["unchanged"] == 1 and landing_files(tmp_path) == files


def test_changed_report_becomes_a_new_version_and_the_old_is_kept(site, fetch_env, tmp_path):
    v1 = SEED.read_bytes()
    v2 = v1 + "\n（本报告于次年更正了一处错字。）\n".encode()
    site.routes["/r.txt"] = (200, {"Content-Type": "text/plain", "ETag": '"1"'}, v1)
    fetch([Entry(site.url("/r.txt"), hints={"year": 2021})], tmp_path, progress=False)
    site.routes["/r.txt"] = (200, {"Content-Type": "text/plain", "ETag": '"2"'}, v2)
    summary = fetch([Entry(site.url("/r.txt"), hints={"year": 2021})], tmp_path, progress=False)
    assert summary["hosts"]["127.0.0.1"]["changed"] == 1
    (current,) = [p for p in (tmp_path / "web").rglob("*.txt")]
    assert current.read_bytes() == v2
    (meta,) = sidecars(tmp_path)
    assert meta["sources"][0]["version"] == 2 and meta["sources"][0]["hints"] == {"year": 2021}
    kept = list((tmp_path / ".fetch" / "versions").rglob("*.txt"))
    assert [p.read_bytes() for p in kept] == [v1]
    state = json.loads((tmp_path / ".fetch" / "state.json").read_text())
    assert [v["version"] for v in state[site.url("/r.txt")]["versions"]] == [1, 2]


# -- pages, listings, encodings ---------------------------------------------------------------------------


def test_gbk_listing_page_and_report_page_attachments(site, fetch_env, tmp_path):
    # page 1 of the column links a report page and page 2; page 2 links a PDF directly; all GBK
    site.routes["/col/index.html"] = html(
        '<a href="/col/2021/r1.html">遂昌县2021年政府信息公开工作年度报告</a>'
        '<a href="/about.html">关于我们</a><a href="index_1.html">下一页</a><a href="index_1.html">2</a>',
        charset="gbk",
        declare=False,
    )
    site.routes["/col/index_1.html"] = html(
        '<a href="/files/r2.pdf">2020年度报告（PDF）</a><a href="index.html">上一页</a>', charset="gbk"
    )
    site.routes["/col/2021/r1.html"] = html(
        '<p>正文</p><a href="/files/r1.pdf">附件：年报.pdf</a><img src="/img/logo.png"><a href="/other.html">x</a>',
        charset="gbk",
    )
    site.routes["/files/r1.pdf"] = (200, {"Content-Type": "application/octet-stream"}, b"%PDF-1.4 r1")
    site.routes["/files/r2.pdf"] = (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 r2")
    summary = fetch(
        [Entry(site.url("/col/index.html"), "listing", {"issuer": "遂昌县人民政府", "adcode": "331123"})],
        tmp_path,
        progress=False,
    )
    assert summary["hosts"]["127.0.0.1"]["listing_pages"] == 2
    assert summary["totals"]["fetched"] == 3 and summary["totals"]["failed"] == 0
    assert site.hits["/about.html"] == site.hits["/other.html"] == site.hits["/img/logo.png"] == 0
    by_url = {s["url"]: s for m in sidecars(tmp_path) for s in m["sources"]}
    page, att, direct = (by_url[site.url(p)] for p in ("/col/2021/r1.html", "/files/r1.pdf", "/files/r2.pdf"))
    assert att["page_url"] == site.url("/col/2021/r1.html") and page["page_url"] is None
    assert page["hints"] == att["hints"] == {"issuer": "遂昌县人民政府", "adcode": "331123", "year": 2021}
    assert direct["hints"]["year"] == 2020
    assert {
        p.suffix for p in (tmp_path / "web").rglob("*") if p.is_file() and not p.name.endswith(".json")
    } == {".html", ".pdf"}


def test_listing_pagination_is_capped(site, fetch_env, monkeypatch, tmp_path):
    monkeypatch.setenv("ETL_FETCH_MAX_PAGES", "3")
    for i in range(10):
        site.routes[f"/col/{i}.html"] = html(f'<a href="/col/{i + 1}.html">下一页</a>')
    summary = fetch([Entry(site.url("/col/0.html"), "listing")], tmp_path, progress=False)
    assert summary["hosts"]["127.0.0.1"]["listing_pages"] == 3


def test_manifest_csv_and_jsonl():
    csv_rows = parse_manifest(
        "url,kind,issuer,adcode,year\nhttp://a/r.pdf,,某县,331123,2021\nhttp://a/col/,listing,,,\n"
    )
    assert csv_rows == [
        Entry("http://a/r.pdf", "report", {"issuer": "某县", "adcode": "331123", "year": 2021}),
        Entry("http://a/col/", "listing", {}),
    ]
    jsonl = parse_manifest(
        '{"url": "http://a/r.pdf", "year": 2021}\n\n{"url": "http://a/c", "kind": "listing"}\n'
    )
    assert [e.kind for e in jsonl] == ["report", "listing"] and jsonl[0].hints == {"year": 2021}
    for bad in (
        "name\nx\n",
        '{"kind": "report"}\n',
        "url,kind\nhttp://a,feed\n",
        "url,year\nhttp://a,soon\n",
    ):
        with pytest.raises(ManifestError):
            parse_manifest(bad)


def test_command_line_prints_a_json_summary_last(site, tmp_path):
    site.routes["/r.txt"] = (200, {"Content-Type": "text/plain"}, SEED.read_bytes())
    site.routes["/col.html"] = html('<a href="/r.txt">2021年年报</a>')
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"url\n{site.url('/r.txt')}\nhttp://10.0.0.1/x.pdf\n", encoding="utf-8")
    env = {"ETL_FETCH_ALLOW_HOSTS": "127.0.0.1", "ETL_FETCH_DELAY": "0", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "etl",
            "fetch",
            str(manifest),
            "--landing",
            str(tmp_path / "landing"),
            "--listing",
            site.url("/col.html"),
        ],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    host = summary["hosts"]["127.0.0.1"]
    assert (host["fetched"], host["listing_pages"]) == (1, 1)
    assert summary["hosts"]["10.0.0.1"]["failed"] == {"refused": 1}
    assert "failed (refused)" in proc.stderr


def test_fetch_errors_never_stop_the_crawl(site, fetch_env, tmp_path):
    site.routes["/ok.txt"] = (200, {"Content-Type": "text/plain"}, SEED.read_bytes())
    summary = fetch([Entry(site.url("/missing.txt")), Entry(site.url("/ok.txt"))], tmp_path, progress=False)
    assert summary["hosts"]["127.0.0.1"]["failed"] == {"404": 1}
    assert summary["totals"]["fetched"] == 1
    with pytest.raises(FetchError), Fetcher(load_fetch_settings()) as f:
        f.get(site.url("/missing.txt"))


def test_decide_merges_a_page_and_its_attachment_whatever_their_metadata():
    from etl.outcomes import Candidate, decide

    def cand(f, fmt, issuer, n_unresolved=0):
        return Candidate(f, f, fmt, f, issuer, 2021, n_unresolved, ())

    # the attachment misread as another issuer, who also has a report of its own
    cands = [
        cand("p.html", "html", "甲县人民政府", 3),
        cand("a.pdf", "pdf", "乙县人民政府"),
        cand("z.txt", "text", "乙县人民政府", 5),
    ]
    out = {o.source_file: o for o in decide(cands, {"a.pdf": "p.html"})}
    assert [f for f, o in out.items() if o.status == "loaded"] == ["a.pdf"]  # one slot: the richest copy kept
    assert "a report page and its attachment" in out["p.html"].detail
    assert "same issuer-year" in out["z.txt"].detail
    plain = {o.source_file: o.status for o in decide(cands)}
    assert plain == {"p.html": "loaded", "a.pdf": "loaded", "z.txt": "duplicate"}


def test_a_status_without_report_bytes_is_a_failure(site, fetch_env, tmp_path):
    site.routes["/empty"] = (204, {}, b"")
    site.routes["/unasked"] = (304, {}, b"")  # not modified, though nothing was asked
    summary = fetch([Entry(site.url("/empty")), Entry(site.url("/unasked"))], tmp_path, progress=False)
    assert summary["hosts"]["127.0.0.1"]["failed"] == {"204": 1, "304": 1}
    assert not (tmp_path / "web").exists()


def test_robots_crawl_delay_slows_the_host(site, fetch_env, tmp_path):
    site.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nCrawl-delay: 1\n")
    for i in range(2):
        site.routes[f"/{i}.txt"] = (200, {"Content-Type": "text/plain"}, f"{i}".encode() + SEED.read_bytes())
    import time

    t0 = time.monotonic()
    summary = fetch([Entry(site.url(f"/{i}.txt")) for i in range(2)], tmp_path, progress=False)
    assert summary["totals"]["fetched"] == 2
    # robots.txt at once, then the two files 1 s apart (the standard parser reads whole seconds only)
    assert time.monotonic() - t0 >= 1.0


def test_a_page_that_is_no_report_alone_is_its_attachments_duplicate():
    from etl.outcomes import Outcome, counted_with_partner, fetched_pages

    files = [
        {"path": "web/h/p.html", "source_url": "http://h/p.html", "page_url": None},
        {"path": "web/h/a.pdf", "source_url": "http://h/a.pdf", "page_url": "http://h/p.html"},
        {
            "path": "web/h/s.png",
            "source_url": "http://h/s.png",
            "page_url": "http://h/q.html",
        },  # page not here
        {"path": "manual.txt"},
    ]
    pages = fetched_pages(files)
    assert pages == {"web/h/a.pdf": "web/h/p.html"}
    outcomes = [
        Outcome("web/h/p.html", "1", "html", "rejected", "no tables"),
        Outcome("web/h/a.pdf", "2", "pdf", "loaded"),
        Outcome("web/h/s.png", "3", "unknown", "rejected", "unsupported format"),
    ]
    out = {o.source_file: o for o in counted_with_partner(outcomes, pages)}
    assert out["web/h/p.html"].status == "duplicate" and "alone: no tables" in out["web/h/p.html"].detail
    assert out["web/h/s.png"].status == "rejected"
