"""The browser playground (zoo/serving/playground/) in headless Chromium driven by Selenium, against ``zoo serve``.

One shipped model of each kind is served; each view is loaded, submits its default request and the rendered
result is checked. First-result times are printed (not asserted); screenshots go to docs/playground/.
Skips, saying why, where Selenium or a Chromium with its driver is missing (``make test`` installs them).
"""
import json
import shutil
import time
from pathlib import Path

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "playground"
MODELS = {"char-rnn-shakespeare": "generator", "vae-binarized-mnist": "image", "nvdm-20news-50": "document",
          "memn2n-babi-1k": "memory", "skipgram-ptb": "skipgram", "sentence-vae-ptb-bowman": "sentence"}
TIMINGS = {}


def _browser_paths():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    return chromium, driver


@pytest.fixture(scope="module")
def server():
    from zoo.serving import serve

    missing = [n for n in MODELS if not (ROOT / "saved_models" / n / "1" / "saved_model.pb").exists()]
    if missing:
        pytest.skip(f"shipped models missing: {missing}")
    srv = serve(list(MODELS), models_dir=ROOT / "saved_models", rest_port=0, grpc_port=None, batching=False)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    chromium, driver = _browser_paths()
    if not chromium or not driver:
        pytest.skip("no Chromium and chromedriver on this machine (make test installs them with apt-get)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1000,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))
    drv.set_script_timeout(30)
    yield drv
    drv.quit()
    if TIMINGS:
        print("\nplayground first-result times (ms, in the browser):", json.dumps(TIMINGS))


def open_view(browser, server, name):
    browser.get(f"{server.rest_url}/models/{name}")
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == name)
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-kind") == MODELS[name]


def click_and_wait(browser, button, result, condition, timeout=30):
    browser.find_element(By.ID, button).click()
    WebDriverWait(browser, timeout).until(
        lambda d: condition(d.find_element(By.ID, result)) or d.find_element(By.ID, "error").is_displayed())
    error = browser.find_element(By.ID, "error")
    assert not error.is_displayed(), error.text


def record(browser, name, view):
    timings = browser.execute_script("return Api.timings")
    TIMINGS[name] = {k: round(v) for k, v in timings.items()}
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(SHOTS / f"{view}.png"))


def no_js_errors(browser):
    """JavaScript errors only: the browser also logs the intended 400 answer (source "network")."""
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and e.get("source") != "network"]
    assert not errors, errors


def test_every_shipped_model_has_a_view(server, browser):
    """The page's own selection logic, run in the browser on every shipped card's signature names."""
    browser.get(server.rest_url + "/")
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    cards = {p.parent.name: json.loads(p.read_text()) for p in (ROOT / "saved_models").glob("*/card.json")}
    kinds = {name: browser.execute_script("return viewKind(arguments[0])", sorted(card["signatures"]))
             for name, card in cards.items()}
    assert all(kinds.values()), {n: k for n, k in kinds.items() if not k}
    assert browser.execute_script("return viewKind(['serving_default','encode','decode','decode_beam','sample',"
                                  "'interpolate','score'])") == "sentence"  # SentenceVAE.export_endpoints' names
    for name, kind in MODELS.items():
        assert kinds[name] == kind
    no_js_errors(browser)


def test_generator(server, browser):
    open_view(browser, server, "char-rnn-shakespeare")
    click_and_wait(browser, "run", "result", lambda e: "log p" in e.text)
    generated = browser.find_element(By.ID, "result").text.split("\n\nlog p")[0]
    assert generated.startswith("ROMEO:") and len(generated) > 30, generated
    assert "curl -d" in browser.find_element(By.ID, "request").text
    click_and_wait(browser, "run_score", "scores", lambda e: "total log p" in e.text)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#scores .tok")) > 10
    record(browser, "char-rnn-shakespeare", "generator")
    # a bad request: the server's message, as a client gets it
    box = browser.find_element(By.ID, "max_tokens")
    box.clear()
    box.send_keys("1.5")
    browser.find_element(By.ID, "run").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "error").is_displayed())
    assert "HTTP 400" in browser.find_element(By.ID, "error").text
    assert "not of expected type: int32" in browser.find_element(By.ID, "error").text
    no_js_errors(browser)


def test_image(server, browser):
    open_view(browser, server, "vae-binarized-mnist")
    click_and_wait(browser, "run", "result", lambda e: len(e.find_elements(By.TAG_NAME, "canvas")) == 16)
    dark = browser.execute_script("""return [...document.querySelectorAll('#result canvas')].map(c => {
        const d = c.getContext('2d').getImageData(0, 0, 28, 28).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) n += d[i] < 128; return n; })""")
    assert all(n > 10 for n in dark), dark
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "run_recon"))
    click_and_wait(browser, "run_recon", "recon", lambda e: len(e.find_elements(By.TAG_NAME, "canvas")) == 8)
    click_and_wait(browser, "run_interp", "strip", lambda e: len(e.find_elements(By.TAG_NAME, "canvas")) == 8)
    record(browser, "vae-binarized-mnist", "image")
    no_js_errors(browser)


def test_document(server, browser):
    open_view(browser, server, "nvdm-20news-50")
    click_and_wait(browser, "run", "topics", lambda e: len(e.find_elements(By.TAG_NAME, "tr")) == 50)
    click_and_wait(browser, "run_doc", "result", lambda e: "perplexity" in e.text)
    assert "nearest topics" in browser.find_element(By.ID, "result").text
    record(browser, "nvdm-20news-50", "document")
    no_js_errors(browser)


def test_memory(server, browser):
    open_view(browser, server, "memn2n-babi-1k")
    click_and_wait(browser, "run", "result", lambda e: "answer:" in e.text)
    assert "office" in browser.find_element(By.ID, "result").text
    rows = browser.execute_script("""return [...document.querySelectorAll('#attention tr.hop')].map(
        tr => [...tr.querySelectorAll('td')].map(td => Number(td.textContent)))""")
    assert len(rows) == 3
    for row in rows:
        assert len(row) == 3 and abs(sum(row) - 1) < 0.01, row
    record(browser, "memn2n-babi-1k", "memory")
    no_js_errors(browser)


def test_skipgram(server, browser):
    open_view(browser, server, "skipgram-ptb")
    click_and_wait(browser, "run", "result", lambda e: len(e.find_elements(By.TAG_NAME, "tr")) == 11)
    record(browser, "skipgram-ptb", "skipgram")
    no_js_errors(browser)


def test_sentence(server, browser):
    """The homotopy of the view's two sentences: steps + 2 lines (both ends included), numbered from 0."""
    open_view(browser, server, "sentence-vae-ptb-bowman")
    click_and_wait(browser, "run", "result", lambda e: e.text.strip() != "", timeout=60)
    lines = browser.find_element(By.ID, "result").text.strip().splitlines()
    assert [line.split(".")[0] for line in lines] == [str(i) for i in range(5 + 2)], lines
    assert sum(len(line) > 4 for line in lines) >= 5, lines  # sentences, not empty decodes
    record(browser, "sentence-vae-ptb-bowman", "sentence")
    no_js_errors(browser)


def test_cancel_and_no_list(server, browser):
    """Cancelling shows 'request cancelled'; the page degrades to a typed name when models.json is absent."""
    open_view(browser, server, "char-rnn-shakespeare")
    browser.execute_script("""const s = document.getElementById('max_tokens'); s.value = 900;
        document.getElementById('run').click(); setTimeout(() => document.getElementById('cancel').click(), 20);""")
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "error").is_displayed())
    assert browser.find_element(By.ID, "error").text == "request cancelled"
    browser.execute_script("Api.models = async () => null; document.getElementById('model').replaceChildren(); main()")
    assert browser.find_element(By.ID, "model-name").is_displayed()
