"""Safe rendering (issue #4 item 5): the packet loads only the app's static files and the case's
own documents; user-entered HTML prints as text."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from weasyprint import HTML

from billing.packet import packet_create
from billing.pdf_fetch import BASE_URL, PacketURLFetcher, RefusedResource, document_url, static_url
from tests.billing.conftest import pdf_text
from tests.billing.helpers import sign_letter


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).hits.append(self.path)
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    _Recorder.hits = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    server.shutdown()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:8102/",
        "https://example.org/x.css",
        "data:text/css,body{}",
        f"{BASE_URL}static/../../config/settings.py",
        f"{BASE_URL}static/billing/packet.css?x=1",
        f"{BASE_URL}documents/999",
        "https://packet.genegate.internal.evil.example/static/billing/packet.css",
    ],
)
def test_the_fetcher_refuses_anything_outside_the_allow_list(url):
    fetcher = PacketURLFetcher({1: (b"x", "image/png")})
    with pytest.raises(RefusedResource):
        fetcher.fetch(url)
    assert fetcher.refused


def test_the_fetcher_serves_the_apps_static_files_and_the_cases_documents(db):
    fetcher = PacketURLFetcher({7: (b"PNGDATA", "image/png")})
    css = fetcher.fetch(static_url("billing/packet.css"))
    assert b"@page" in css.read() and css.content_type == "text/css"
    assert fetcher.fetch(document_url(7)).read() == b"PNGDATA"


def test_weasyprint_loads_nothing_from_file_http_or_a_redirect(local_server, tmp_path):
    base, hits = local_server
    secret = tmp_path / "secret.css"
    secret.write_text("body { background: url(SECRET-MARK) }")
    html = f"""<html><head>
      <link rel="stylesheet" href="file://{secret}">
      <link rel="stylesheet" href="{base}/direct.css">
      <link rel="stylesheet" href="{base}/redirect">
      </head><body><img src="file:///etc/passwd"><img src="{base}/img.png">
      <iframe src="{base}/frame"></iframe><p>body</p></body></html>"""
    fetcher = PacketURLFetcher()
    pdf = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()
    assert hits == []
    assert len(fetcher.refused) >= 5
    assert "root:" not in pdf_text(pdf, tmp_path)


def test_html_in_free_text_prints_as_text_and_loads_nothing(ready_case, cast, local_server, tmp_path):
    base, hits = local_server
    payer = ready_case.payer
    payer.oba_terms = f'<img src="file:///etc/passwd"><link rel="stylesheet" href="{base}/redirect"><b>bold</b>'
    payer.key_documentation = f'<iframe src="{base}/x"></iframe>'
    payer.documentation_checklist = [f'<img src="{base}/check.png">']
    payer.save()
    ready_case.ordering_physician_name = f'Dr. <script>alert(1)</script><img src="{base}/doc.png">'
    ready_case.plan_name = "</div><div class='watermark'>VOID</div>"
    ready_case.save()
    sign_letter(ready_case, cast.physician)  # the facts changed: the letter is signed again
    packet = packet_create(case=ready_case, by=cast.billing, final=True)
    text = re.sub(r"\s+", " ", pdf_text(packet.file.read(), tmp_path))
    assert hits == []
    assert '<img src="file:///etc/passwd">' in text
    assert "<b>bold</b>" in text
    assert "<script>alert(1)</script>" in text
    assert "</div><div class='watermark'>VOID</div>" in text
    assert "root:" not in text
