"""The Gradio UI: rendering and upload safety (fast), then the real app on 127.0.0.1 (slow).

The slow tests start the app on a free port against a fresh index of the bundled samples and drive it
with gradio_client (20 concurrent questions) and headless Chromium via selenium (chat, citation cards,
uploads, escaping of hostile articles, login). Screenshots go to eval/results/ui/. The browser tests
skip only when Chromium or chromedriver is not installed (`apt-get install chromium chromium-driver`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rag.config import Config
from rag.errors import BadFileError, ConfigError
from rag.schema import Answer, Citation, Hit
from ui import render
from ui.cli_ui import add_ui_command, parse_auth, run_ui
from ui.uploads import safe_filename, store_upload, uploads_folder

SCREENSHOTS = Path(__file__).resolve().parent.parent / "eval" / "results" / "ui"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
XSS_TITLE = "熊猫快递在成都开通无人机送货<script>window.__xss=1</script>"
XSS_ARTICLE = f"""{XSS_TITLE}
2024-05-01 来源：测试日报
据报道，熊猫快递公司5月1日在成都高新区开通了无人机送货服务，首批航线共有12条。<img src=x onerror="window.__xss=2">
该公司负责人表示，无人机单次最多可以运送5公斤包裹，平均送达时间为15分钟。<script>window.__xss=1</script>
"""
NEW_ARTICLE = """青岛港开通首条北极航线集装箱班轮
2024-03-15 来源：新华社
新华社青岛3月15日电 记者从青岛港获悉，首条经北极东北航道前往欧洲的集装箱班轮“海鸥号”于15日从青岛港启航，\
预计航程18天，比传统航线缩短约12天。
据介绍，“海鸥号”装载了约3000个标准集装箱，货物主要为家电、服装和机械设备，目的港为荷兰鹿特丹。
"""


def _answer(text="会谈持续了约90分钟[1]。", abstained=False, fallback=None, title="美俄外长在日内瓦举行会谈",
            passage="双方会谈持续了约90分钟。", quote="持续了约90分钟") -> Answer:
    hit = Hit("a.txt#0", "a.txt", title, "2022-01-24", "新华社", passage, 1.0)
    citations = [] if abstained else [Citation(1, "a.txt#0", "a.txt", title, "2022-01-24", "新华社", quote)]
    return Answer("q", text, abstained, citations, [hit], {"total_ms": 1234.0}, "extractive", fallback=fallback)


# ---------------------------------------------------------------------------------------------- rendering


def test_answer_links_markers_to_cards_with_highlighted_quote():
    html = render.answer_html(_answer(), turn=2)
    assert '<a class="rag-cite" href="#rag-t2-c1"' in html
    assert 'id="rag-t2-c1"' in html
    assert "双方会谈<mark>持续了约90分钟</mark>。" in html
    assert "美俄外长在日内瓦举行会谈" in html and "2022-01-24 · 新华社" in html
    assert "answered by <b>extractive</b> · 1.2 s" in html
    assert "rag-abstained" not in html


def test_unknown_markers_stay_plain_text():
    html = render.answer_html(_answer(text="见[1]和[7]。"), turn=1)
    assert html.count('class="rag-cite"') == 1 and "[7]" in html


@pytest.mark.parametrize("payload", ['<script>window.__xss=1</script>', '<img src=x onerror="window.__xss=2">',
                                     '"><svg onload=alert(1)>', "</details></div><script>x()</script>"])
def test_article_text_is_always_escaped(payload):
    answer = _answer(text=f"答案{payload}[1]", title=f"标题{payload}", passage=f"前文{payload}持续了约90分钟。",
                     quote=f"{payload}持续了约90分钟", fallback=f"local failed ({payload})")
    answer.standalone_question = payload
    html = render.answer_html(answer, turn=1)
    assert payload not in html
    assert "<script" not in html and "<img" not in html and "<svg" not in html
    assert render.escape(payload) in html


def test_abstention_looks_different_and_has_no_cards():
    html = render.answer_html(_answer(text="资料中没有相关信息。", abstained=True), turn=1)
    assert "rag-abstained" in html and render.ABSTAIN_BADGE in html
    assert "rag-card" not in html


def test_fallback_is_visible():
    html = render.answer_html(_answer(fallback="local backend unavailable (no model); answered extractively"), 1)
    assert 'class="rag-fallback"' in html and "answered extractively" in html


def test_highlight_ignores_white_space_and_quote_elsewhere_is_shown():
    assert render.highlight("会谈 持续了\n约90分钟", "持续了约90分钟") == "会谈 <mark>持续了<br>约90分钟</mark>"
    card = render.citation_card(Citation(1, "c", "d.txt", None, None, None, "不在段落里"), "段落<b>", turn=1)
    assert "<mark>不在段落里</mark>" in card and "段落&lt;b&gt;" in card and "d.txt" in card


def test_streaming_text_is_escaped():
    assert "&lt;script&gt;" in render.streaming_html("<script>x</script>")
    assert "Searching" in render.streaming_html("")
    assert render.DRAFT_NOTE in render.streaming_html("The talks lasted")  # not yet verified: says so


# ---------------------------------------------------------------------------------------------- uploads


@pytest.mark.parametrize("name, expected", [
    ("../../evil.txt", "evil.txt"), ("..\\..\\evil.txt", "evil.txt"), ("/etc/passwd", "passwd"),
    ("C:\\Windows\\win.ini", "win.ini"), (".bashrc", "bashrc"), ("..", "upload"), ("", "upload"),
    ("新闻 稿(1).html", "新闻_稿_1_.html"), ("a\x00b.txt", "a_b.txt"), ("a..b.txt", "a.b.txt"),
])
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_limits_length_and_keeps_the_suffix():
    name = safe_filename("长" * 300 + ".html")
    assert name.endswith(".html") and len(name) <= 100


def test_store_upload_stays_inside_the_folder(tmp_path):
    source = tmp_path / "tmp-upload"
    source.write_text("正文", encoding="utf-8")
    folder = tmp_path / "home" / "uploads" / "idx"
    for hostile in ("../../evil.txt", "..\\..\\evil.txt", "/tmp/evil.txt", "../../../../../../etc/evil.txt"):
        stored = store_upload(source, hostile, folder, max_bytes=1000)
        assert stored.parent == folder.resolve() and stored.name == "evil.txt"
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "home" / "evil.txt").exists()


def test_store_upload_refuses_files_over_the_limit(tmp_path):
    source = tmp_path / "big.txt"
    source.write_bytes(b"x" * 2001)
    with pytest.raises(BadFileError, match=r"file too large \(2,001 bytes; the limit is 2,000\)"):
        store_upload(source, "big.txt", tmp_path / "uploads", max_bytes=2000)
    assert not (tmp_path / "uploads" / "big.txt").exists()


def test_uploads_folder_is_per_index_under_home(tmp_path):
    config = Config.load(home=tmp_path)
    a, b = uploads_folder(config, tmp_path / "a" / "idx"), uploads_folder(config, tmp_path / "b" / "idx")
    assert a != b and a.parent == b.parent == tmp_path / "uploads"


# ---------------------------------------------------------------------------------------------- command line


def _ui_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rag")
    add_ui_command(parser.add_subparsers(dest="command"))
    return parser.parse_args(["ui", *argv])


def test_ui_command_defaults_to_loopback():
    args = _ui_args()
    assert (args.host, args.port, args.auth, args.index, args.llm) == ("127.0.0.1", 7860, None, None, None)


def test_auth_parsing():
    assert parse_auth("alice:pa:ss") == ("alice", "pa:ss")
    for bad in ("alice", ":pw", "alice:"):
        with pytest.raises(ConfigError, match="USER:PASS"):
            parse_auth(bad)


def test_run_ui_rejects_bad_arguments_before_starting():
    with pytest.raises(ConfigError, match="--port"):
        run_ui(_ui_args("--port", "70000"), Config.load())
    with pytest.raises(ConfigError, match="--auth"):
        run_ui(_ui_args("--auth", "nopassword"), Config.load())


def test_read_write_lock_lets_a_writer_wait_for_readers():
    from ui.app import ReadWriteLock

    lock, events = ReadWriteLock(), []

    def write() -> None:
        with lock.writing():
            events.append("write")

    with lock.reading():
        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(0.1)
        events.append("read done")
    writer.join(2)
    assert events == ["read done", "write"]


# ---------------------------------------------------------------------------------------------- the running app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code in (200, 401):
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def ui_index(tmp_path_factory) -> Path:
    import rag

    folder = tmp_path_factory.mktemp("ui-index")
    report = rag.ingest([rag.sample_articles_dir()], index=folder, progress=False)
    assert report.ok, report.failed
    return folder


@pytest.fixture(scope="module")
def ui_config() -> Config:
    return Config.load(llm="extractive", progress=False)


@pytest.fixture(scope="module")
def ui_server(ui_index, ui_config):
    """The app on 127.0.0.1:<free port> (extractive backend by default); yields its URL."""
    from ui.app import launch

    port = _free_port()
    demo = launch(ui_config, index=ui_index, port=port, block=False, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    _wait_until_up(url)
    yield url
    demo.close()


def _last_reply(messages: list[dict]) -> str:
    return "".join(part["text"] for part in messages[-1]["content"] if part.get("type") == "text")


@pytest.mark.slow
def test_20_concurrent_questions_are_all_answered_with_citations(ui_server):
    from gradio_client import Client

    questions = ["美俄外长在哪里会谈？", "How long did the Geneva talks last?", "王毅和拉夫罗夫2020年在哪里会谈？",
                 "布林肯和拉夫罗夫在哪里会谈？"] * 5

    def ask_as_new_user(question: str) -> tuple[str, float]:
        started = time.perf_counter()
        client = Client(ui_server, verbose=False)  # one client = one browser session
        _, messages = client.predict(question, [], "extractive", 5, api_name="/chat")
        return _last_reply(messages), time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(ask_as_new_user, questions))
    wall = time.perf_counter() - started
    assert len(replies) == 20
    for reply, _ in replies:
        assert 'class="rag-cite"' in reply and 'class="rag-card"' in reply, reply[:300]
    slowest = max(seconds for _, seconds in replies)
    print(f"\n20 concurrent questions: {wall:.1f} s wall, slowest {slowest:.1f} s")


def _call_add_files(url: str, files: list[tuple[str, bytes]]) -> list[list]:
    """Upload `files` (name, bytes) and run the add_files API; returns the per-file result rows."""
    import httpx

    paths = httpx.post(f"{url}gradio_api/upload", files=[("files", (n, b, "text/plain")) for n, b in files])
    paths.raise_for_status()
    data = [{"path": p, "meta": {"_type": "gradio.FileData"}} for p in paths.json()]
    event = httpx.post(f"{url}gradio_api/call/add_files", json={"data": [data]}).json()["event_id"]
    stream = httpx.get(f"{url}gradio_api/call/add_files/{event}", timeout=120).text
    assert "event: complete" in stream, stream[-500:]
    return json.loads(stream.split("event: complete\ndata: ")[1].splitlines()[0])[1]["value"]["data"]


@pytest.mark.slow
def test_hostile_upload_name_lands_inside_the_uploads_folder(ui_server, ui_index, ui_config):
    """A multipart upload named ../../evil.txt, then the add_files API: the copy stays in the uploads folder."""
    body = "基辅3月2日电 乌克兰能源部称，当地一座风电场当天恢复供电，装机容量为48兆瓦。".encode()
    rows = _call_add_files(ui_server, [("../../evil.txt", body)])
    assert rows == [["evil.txt", "indexed", "as evil.txt: 1 passage"]]
    uploads = uploads_folder(ui_config, ui_index)
    assert (uploads / "evil.txt").is_file()
    for outside in (uploads.parent / "evil.txt", uploads.parent.parent / "evil.txt", ui_index / "evil.txt",
                    ui_index.parent / "evil.txt"):
        assert not outside.exists()


@pytest.mark.slow
def test_oversized_file_fails_with_its_reason_and_the_rest_is_indexed(ui_server, ui_config):
    limit = ui_config.max_file_bytes
    small = "新华社北京5月20日电 国家气象局称，今年首个台风“白鹭”将于22日在海南文昌登陆。".encode()
    rows = _call_add_files(ui_server, [("huge.txt", b"x" * (limit + 1)), ("typhoon.txt", small)])
    assert rows[0][:2] == ["huge.txt", "failed"]
    assert rows[0][2] == f"file too large ({limit + 1:,} bytes; the limit is {limit:,})"
    assert rows[1][:2] == ["typhoon.txt", "indexed"]


# ---------------------------------------------------------------------------------------------- the browser


def _chromium_missing() -> str | None:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return "Chromium is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    return None


browser = pytest.mark.skipif(_chromium_missing() is not None, reason=_chromium_missing() or "")


@pytest.fixture(scope="module")
def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="rag-ui-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--window-size=1280,1100", "--lang=zh-CN"):
        options.add_argument(flag)
    chrome = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    chrome.set_page_load_timeout(60)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield chrome
    chrome.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _wait(driver, condition, timeout: float = 60.0, message: str = ""):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition, message)


def _css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def _open_app(driver, url: str) -> None:
    driver.get(url)
    _wait(driver, lambda d: _css(d, "#rag-question textarea"), message="the chat did not load")


def _tab(driver, name: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.XPATH, f"//button[@role='tab' and contains(., '{name}')]").click()


def _ask(driver, question: str) -> int:
    """Type and send a question; returns how many answers were on the page before it."""
    before = len(_css(driver, "#rag-chat .rag-meta, #rag-chat .rag-error"))
    box = _css(driver, "#rag-question textarea")[0]
    _wait(driver, lambda d: box.is_enabled(), message="the question box stays disabled")
    box.send_keys(question)
    _css(driver, "#rag-send")[0].click()
    return before


def _wait_answer(driver, before: int, timeout: float = 90.0):
    _wait(driver, lambda d: len(_css(d, "#rag-chat .rag-meta, #rag-chat .rag-error")) > before, timeout,
          "no answer appeared")
    return _css(driver, "#rag-chat .message-row, #rag-chat .message")[-1]


def _shot(driver, name: str) -> None:
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


@browser
@pytest.mark.slow
def test_browser_chat_cites_and_highlights(driver, ui_server):
    from selenium.webdriver.common.by import By

    _open_app(driver, ui_server)
    _shot(driver, "01_start")
    # One click on an example asks it.
    driver.find_element(By.XPATH, "//*[@id='rag-examples']//button[contains(., '美俄外长在哪里会谈')]").click()
    _wait_answer(driver, 0)
    assert "美俄外长在哪里会谈？" in driver.find_element(By.ID, "rag-chat").text
    link = _css(driver, "#rag-chat a.rag-cite")[-1]
    card_id = link.get_attribute("href").split("#")[1]
    card = _css(driver, f"#{card_id}")[0]
    assert card.get_attribute("open") is None  # collapsed until asked for
    link.click()
    _wait(driver, lambda d: card.get_attribute("open") is not None, 5, "clicking [n] did not open the card")
    mark = card.find_element("css selector", "mark")
    assert mark.is_displayed() and len(mark.text) > 5
    assert card.find_element("css selector", ".rag-title").text
    _shot(driver, "02_answer_with_open_citation")

    # A new conversation forgets the last one; an off-topic question abstains in its own style.
    _css(driver, "#rag-new-chat")[0].click()
    _wait(driver, lambda d: not _css(d, "#rag-chat .rag-meta"), 10, "New conversation did not clear the chat")
    before = _ask(driver, "火星上现在住着多少人？")
    _wait_answer(driver, before)
    assert _css(driver, "#rag-chat .rag-abstained")
    _shot(driver, "03_abstention")


@browser
@pytest.mark.slow
def test_browser_upload_then_ask_and_hostile_article_stays_text(driver, ui_server, ui_config, ui_index, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    new, hostile, broken = tmp_path / "qingdao_arctic.txt", tmp_path / "panda_drones.txt", tmp_path / "empty.txt"
    new.write_text(NEW_ARTICLE, encoding="utf-8")
    hostile.write_text(XSS_ARTICLE, encoding="utf-8")
    broken.write_bytes(b"")
    _open_app(driver, ui_server)
    _tab(driver, "Documents")
    upload = _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#rag-upload input[type=file]"))
    upload.send_keys("\n".join(str(p) for p in (new, hostile, broken)))
    _wait(driver, lambda d: len(_css(d, "#rag-upload .file-preview-holder tr, #rag-upload .file")) >= 3
          or "empty.txt" in d.find_element(By.ID, "rag-upload").text, 30, "the files did not upload")
    _css(driver, "#rag-add")[0].click()
    _wait(driver, lambda d: "qingdao_arctic.txt" in d.find_element(By.ID, "rag-results").text, 120,
          "no upload results")
    results = driver.find_element(By.ID, "rag-results").text
    assert "indexed" in results and "failed" in results  # the empty file failed, with its reason
    _wait(driver, lambda d: "panda_drones.txt" in d.find_element(By.ID, "rag-documents").text, 30)
    documents = driver.find_element(By.ID, "rag-documents").text
    assert "<script>window.__xss=1</script>" in documents  # the hostile title is shown as text
    driver.execute_script("document.getElementById('rag-results').scrollIntoView()")
    _shot(driver, "04_documents_after_upload")

    _tab(driver, "Chat")
    before = _ask(driver, "海鸥号从青岛港启航后预计航程多少天？")
    reply = _wait_answer(driver, before)
    assert "18天" in reply.text
    assert "qingdao_arctic.txt" in driver.page_source
    before = _ask(driver, "熊猫快递在哪里开通了无人机送货服务？")
    _wait_answer(driver, before)
    link = _css(driver, "#rag-chat a.rag-cite")[-1]
    link.click()
    card = _css(driver, f"#{link.get_attribute('href').split('#')[1]}")[0]
    _wait(driver, lambda d: card.get_attribute("open") is not None, 5)
    assert "<script>" in card.text or "<img src=x" in card.text  # the payload is visible as text...
    assert driver.execute_script("return typeof window.__xss") == "undefined"  # ...and never ran
    assert driver.execute_script("return document.querySelectorAll('#rag-chat img[src=\"x\"]').length") == 0
    assert not _css(driver, "#rag-chat script")
    _shot(driver, "05_hostile_article_escaped")

    # Remove the hostile article again: pick it in the dropdown, press Remove, the table drops it.
    _tab(driver, "Documents")
    choice = _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#rag-remove-choice input"))
    choice.click()
    choice.send_keys("panda_drones.txt", Keys.ENTER)
    _css(driver, "#rag-remove")[0].click()
    _wait(driver, lambda d: "panda_drones.txt" not in d.find_element(By.ID, "rag-documents").text, 60,
          "the removed document is still listed")
    assert "qingdao_arctic.txt" in driver.find_element(By.ID, "rag-documents").text
    assert not (uploads_folder(ui_config, ui_index) / "panda_drones.txt").exists()  # its upload is deleted too
    _shot(driver, "06_document_removed")


@browser
@pytest.mark.slow
def test_browser_streams_the_local_llm_answer(driver, ui_server):
    """The one test with the local LLM: partial text appears before the verified answer replaces it."""
    _open_app(driver, ui_server)
    _tab(driver, "Settings")
    _css(driver, "#rag-backend input[value='local']")[0].click()
    _shot(driver, "07_settings")
    _tab(driver, "Chat")
    started = time.perf_counter()
    before = _ask(driver, "How long did the Geneva talks last?")
    seen_partial = {}

    def partial_or_done(d) -> bool:
        streaming = _css(d, "#rag-chat .rag-streaming")
        if streaming and "first" not in seen_partial:
            seen_partial["first"] = time.perf_counter() - started
            seen_partial["text"] = streaming[0].text
            _shot(d, "08_streaming")
        return len(_css(d, "#rag-chat .rag-meta, #rag-chat .rag-error")) > before

    _wait(driver, partial_or_done, 240, "the local answer did not finish")
    total = time.perf_counter() - started
    reply = _css(driver, "#rag-chat .rag-meta")[-1].text
    _shot(driver, "09_local_answer")
    if "answered by local" not in reply:
        fallback = _css(driver, "#rag-chat .rag-fallback")
        pytest.fail(f"the local backend did not answer: {reply} {fallback[-1].text if fallback else ''}")
    assert "first" in seen_partial, "no partial answer was shown while generating"
    assert seen_partial["text"].startswith(render.DRAFT_NOTE), "the unverified text was not marked as a draft"
    assert not _css(driver, "#rag-chat .rag-draft"), "the verified answer did not replace the draft"
    print(f"\nlocal LLM in the browser: first streamed text after {seen_partial['first']:.1f} s, "
          f"verified answer after {total:.1f} s")


@browser
@pytest.mark.slow
def test_browser_login_is_required_with_auth(driver, ui_index, ui_config):
    from selenium.webdriver.common.by import By

    from ui.app import launch

    port = _free_port()
    demo = launch(ui_config, index=ui_index, port=port, auth=("reader", "s3cret-pw"), block=False, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url)
        import httpx

        assert httpx.get(f"{url}config").status_code == 401  # the API needs the login too
        assert httpx.post(f"{url}gradio_api/upload", files=[("files", ("a.txt", b"x"))]).status_code == 401
        driver.delete_all_cookies()
        driver.get(url)
        _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "input[type=password]"), 30, "no login form")
        assert not _css(driver, "#rag-question textarea")
        _shot(driver, "10_login")

        def log_in(password: str) -> None:
            user = driver.find_element(By.CSS_SELECTOR, "input[type=text], input[name=username]")
            secret = driver.find_element(By.CSS_SELECTOR, "input[type=password]")
            user.clear()
            user.send_keys("reader")
            secret.clear()
            secret.send_keys(password)
            driver.find_element(By.XPATH, "//button[contains(translate(., 'LOGIN', 'login'), 'login')]").click()

        log_in("wrong-password")
        _wait(driver, lambda d: "incorrect" in d.page_source.lower(), 15, "a wrong password was not rejected")
        assert not _css(driver, "#rag-question textarea")
        _shot(driver, "11_login_rejected")
        log_in("s3cret-pw")
        _wait(driver, lambda d: _css(d, "#rag-question textarea"), 30, "the right password did not log in")
    finally:
        demo.close()
