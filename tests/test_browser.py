"""The browser view end to end: `tumour-abm viz` serves the page, Debian's Chromium (driven by Selenium through
its chromedriver, no downloaded browser) loads it offline, the grid is drawn, Step advances the day, choosing
another scenario and pressing Reset rebuilds the model, and a screenshot is saved."""

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.browser

if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("CI must install Debian's chromium and chromium-driver (see .ci/run)")
    pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
                allow_module_level=True)

pytest.importorskip("solara")
from PIL import Image  # noqa: E402  (a dependency of matplotlib)
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

# Flags for a root, headless, offline Chromium: no sandbox, no GPU, no calls to Google's services.
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1500,1300"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tumour_abm.cli", "viz", "scenarios/tme_default.yaml",
                             "--port", str(port)], cwd=ROOT, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"the view did not start: {proc.stdout.read() if proc.stdout else ''}")
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def button(driver, label: str):
    return next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip().upper() == label)


def choose(driver, wait, select_label: str, option: str) -> None:
    """Open a Vuetify select by its label and click one of its options."""
    select = next(s for s in driver.find_elements(By.CSS_SELECTOR, ".v-select") if s.text.startswith(select_label))
    select.find_element(By.CSS_SELECTOR, ".v-select__slot").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".menuable__content__active .v-list-item"))
    items = driver.find_elements(By.CSS_SELECTOR, ".menuable__content__active .v-list-item")
    item = next(i for i in items if i.get_attribute("textContent").strip() == option)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", item)
    item.click()


def test_view_draws_steps_and_switches_scenario(server, browser, tmp_path):
    wait = WebDriverWait(browser, 90)
    text = lambda: browser.find_element(By.TAG_NAME, "body").text  # noqa: E731
    browser.get(server)
    wait.until(lambda d: "day 0.00" in text() and len(d.find_elements(By.TAG_NAME, "img")) >= 2)
    assert "innate microenvironment" in text()  # tme_default's description

    # The grid is drawn: the tissue image has many colours (cells, vessels, colour bars), not a blank frame.
    grid = np.asarray(Image.open(io.BytesIO(browser.find_elements(By.TAG_NAME, "img")[0].screenshot_as_png)))
    assert grid.shape[0] > 200 and grid.shape[1] > 200
    assert len(np.unique(grid.reshape(-1, grid.shape[-1]), axis=0)) > 100

    button(browser, "STEP").click()
    wait.until(lambda d: "day 0.02" in text())  # one step of 30 min

    choose(browser, wait, "scenario", "nk")
    button(browser, "RESET").click()
    wait.until(lambda d: "NK cells only" in text() and "day 0.00" in text())  # nk.yaml, rebuilt from day 0

    shot = tmp_path / "view.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    shutil.copy(shot, ROOT / "runs" / "browser-view.png")  # for a person to look at (runs/ is not tracked)
