"""The web UI in a real headless Chromium (Debian's `chromium` + `chromedriver`, installed by
scripts/test.sh), driven over WebDriver with selenium, on a hub started with `--demo`.

Journeys: search -> model -> lineage -> parent -> diff -> leaderboard (with the hide-merges
toggle); sign up -> token -> create repo -> fork -> log out; a forged form post is refused.
Screenshots of the main pages are kept in tests/hf_client/artifacts/ui/ (look at them)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import requests
from huggingface_hub import HfApi
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "ui"
DEMO_JOBS = 21


@pytest.fixture
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_bin = shutil.which("chromedriver")
    if not chromium or not driver_bin:
        pytest.fail("chromium and chromedriver are needed (scripts/test.sh installs them)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000", "--disable-gpu"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_bin), options=opts)
    driver.implicitly_wait(5)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    # The whole page, not just the viewport.
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1280, min(max(height, 800), 6000))
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    driver.set_window_size(1280, 1000)


def wait_demo(hub) -> None:
    """Until the demo's eval jobs are finished and its lineage scans are done."""
    deadline = time.time() + 300
    while True:
        done = requests.get(f"{hub.url}/api/evals/jobs", params={"status": "finished", "limit": 100}, timeout=30).json()
        scan = requests.get(f"{hub.url}/api/models/ada/rechts-tiny/lineage", timeout=30)
        scanned = scan.status_code == 200 and (scan.json().get("scan") or {}).get("state") == "done"
        if len(done) >= DEMO_JOBS and scanned:
            return
        assert time.time() < deadline, f"demo not ready: {len(done)} jobs finished; scan {scan.text[:200]}"
        time.sleep(1)


def wait(driver) -> WebDriverWait:
    # Mid-navigation the old page's elements go stale: keep polling instead of failing.
    return WebDriverWait(driver, 30, ignored_exceptions=(StaleElementReferenceException, WebDriverException))


def until_url(driver, fragment: str) -> None:
    """Waits for a navigation (form submits and clicks return before the next page loads)."""
    wait(driver).until(lambda d: fragment in d.current_url and d.execute_script("return document.readyState") == "complete")


def text(driver) -> str:
    """The visible text of the current page (read in one script call: no element to go stale)."""
    return driver.execute_script("return document.body ? document.body.innerText : ''") or ""


def test_search_model_lineage_parent_diff_leaderboard(start_hub, browser):
    hub = start_hub("--demo")
    wait_demo(hub)
    b = browser
    b.get(hub.url + "/")
    assert "Trending" in text(b) and "grove-lab/tiny-base" in text(b)
    shot(b, "home")

    box = b.find_element(By.ID, "q")
    box.send_keys("legal", Keys.ENTER)
    until_url(b, "/models?search=legal")
    assert "ada/rechts-tiny" in text(b)
    shot(b, "search")
    b.find_element(By.LINK_TEXT, "ada/rechts-tiny").click()
    until_url(b, "/ada/rechts-tiny")
    page = text(b)
    assert "Vertragsrecht" in page, "the card is rendered"
    assert "finetune of" in page and "verified" in page, "the lineage panel shows the verified parent"
    assert b.find_elements(By.CSS_SELECTOR, "svg.dag"), "the family graph is drawn"
    assert "grove-arith" in page, "eval results are listed"
    shot(b, "model")

    b.find_element(By.LINK_TEXT, "model.safetensors").click()
    until_url(b, "/blob/")
    assert "Tensors (" in text(b) and "model.layers.0.self_attn.q_proj.weight" in text(b)
    shot(b, "file")
    b.back()
    until_url(b, "/ada/rechts-tiny")
    b.find_element(By.LINK_TEXT, "History").click()
    until_url(b, "/commits")
    assert "Upload from the demo seeder" in text(b)
    b.back()
    until_url(b, "/ada/rechts-tiny")

    b.find_element(By.CSS_SELECTOR, ".lineage a[href='/grove-lab/tiny-base']").click()
    until_url(b, "/grove-lab/tiny-base")
    graph = b.find_element(By.CSS_SELECTOR, "svg.dag").get_attribute("outerHTML")
    for child in ("grove-lab/tiny-chat", "ada/rechts-tiny", "lin/tiny-lora", "grove-lab/tiny-base-q8"):
        assert child in graph, child
    shot(b, "family")

    b.get(hub.url + "/ada/rechts-tiny")
    b.find_element(By.PARTIAL_LINK_TEXT, "Compare the weights").click()
    until_url(b, "/diff")
    diff = text(b)
    assert "Tensor diff" in diff and "Changed tensors" in diff and "byte-identical" in diff
    shot(b, "diff")

    b.get(hub.url + "/ada/rechts-tiny")
    b.find_element(By.CSS_SELECTOR, "a[href='/leaderboards/grove-lab/grove-arith']").click()
    until_url(b, "/leaderboards/grove-lab/grove-arith")
    board = text(b)
    assert "Leaderboard" in board and "grove-lab/tiny-merge" in board
    rows = b.find_elements(By.CSS_SELECTOR, "table.board tbody tr")
    assert len(rows) == 7
    shot(b, "leaderboard")
    b.find_element(By.NAME, "exclude_relation").click()
    b.find_element(By.CSS_SELECTOR, "form.filters button").click()
    until_url(b, "exclude_relation=merge")
    assert "grove-lab/tiny-merge" not in text(b)
    assert len(b.find_elements(By.CSS_SELECTOR, "table.board tbody tr")) == 6

    b.find_element(By.LINK_TEXT, "Gain over parent").click()
    until_url(b, "order=gain")
    first = b.find_elements(By.CSS_SELECTOR, "table.board tbody tr")[0].text
    assert "+" in first, first

    # A phone-sized window: the layout stacks and nothing overflows the page.
    b.set_window_size(390, 844)
    b.get(hub.url + "/ada/rechts-tiny")
    overflow = b.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a phone screen"
    b.save_screenshot(str(ARTIFACTS / "model-phone.png"))
    b.set_window_size(1280, 1000)

    b.get(hub.url + "/leaderboards/grove-lab/grove-basics")
    assert "suite board" in text(b)
    b.get(hub.url + "/evals/jobs/1")
    assert "finished" in text(b) and "Provenance" in text(b)
    shot(b, "job")


def test_sign_up_token_create_repo_fork_and_csrf(start_hub, browser):
    hub = start_hub("--demo")
    wait_demo(hub)
    b = browser
    b.get(hub.url + "/signup")
    b.find_element(By.ID, "username").send_keys("eve")
    b.find_element(By.ID, "password").send_keys("a long passphrase")
    shot(b, "signup")
    b.find_element(By.CSS_SELECTOR, "form.stack button").click()
    until_url(b, "/settings/tokens")
    assert "eve" in text(b)

    b.find_element(By.NAME, "name").send_keys("laptop")
    b.find_element(By.CSS_SELECTOR, "form.filters button").click()
    secret = wait(b).until(lambda d: d.find_elements(By.ID, "new-token"))[0].text
    assert secret.startswith("grove_")
    shot(b, "tokens")
    assert HfApi(endpoint=hub.url, token=secret).whoami()["name"] == "eve"
    b.find_element(By.CSS_SELECTOR, "button.danger").click()
    wait(b).until(lambda d: "You have no tokens yet" in text(d))
    with pytest.raises(Exception):
        HfApi(endpoint=hub.url, token=secret).whoami()

    b.get(hub.url + "/organizations/new")
    b.find_element(By.ID, "name").send_keys("eve-lab")
    b.find_element(By.CSS_SELECTOR, "form.stack button").click()
    until_url(b, "/eve-lab")
    assert "organisation" in text(b) and "1 member" in text(b)
    b.get(hub.url + "/new")
    owner = b.find_element(By.ID, "owner")
    owner.clear()
    owner.send_keys("eve-lab")
    b.find_element(By.ID, "name").send_keys("team-model")
    b.find_element(By.CSS_SELECTOR, "form.stack button").click()
    until_url(b, "/eve-lab/team-model")

    b.get(hub.url + "/new")
    b.find_element(By.ID, "name").send_keys("scratch")
    b.find_element(By.CSS_SELECTOR, "form.stack button").click()
    until_url(b, "/eve/scratch")
    assert "no card" in text(b)

    b.get(hub.url + "/grove-lab/tiny-base")
    name = b.find_element(By.ID, "fork-name")
    name.clear()
    name.send_keys("my-base")
    b.find_element(By.CSS_SELECTOR, "form[action$='/fork'] button").click()
    until_url(b, "/eve/my-base")
    deadline = time.time() + 60
    while "fork of" not in text(b):
        assert time.time() < deadline, text(b)
        time.sleep(0.5)
        b.refresh()
    shot(b, "fork")

    # A form posted from elsewhere (with the session cookie, without the CSRF token) is refused.
    cookies = {c["name"]: c["value"] for c in b.get_cookies()}
    forged = requests.post(f"{hub.url}/new", data={"owner": "eve", "name": "forged", "kind": "model"},
                           cookies={"grove_session": cookies["grove_session"]}, timeout=30, allow_redirects=False)
    assert forged.status_code == 403
    assert requests.get(f"{hub.url}/eve/forged", cookies={"grove_session": cookies["grove_session"]}, timeout=30).status_code == 404

    b.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    wait(b).until(lambda d: "Log in" in text(d))
    b.get(hub.url + "/settings/tokens")
    until_url(b, "/login")
