"""Headless Chromium for the project's browser tests (test tooling: not part of the package).

Used by `tools/test` (is a browser there?), by `tools/jupyterlab_test.py` (the widgets in JupyterLab) and by the
demo notebook's browser test (`nbs/15_demo.ipynb`, through a hidden cell that puts `tools/` on `sys.path`).
The browser and its driver come from Debian's packages (`apt-get install chromium chromium-driver`), or from the
paths in $CHROMIUM and $CHROMEDRIVER; Selenium from PyPI (the dev requirements). Nothing is downloaded.

`python tools/browser.py` exits with status 0 when both are found, 1 otherwise (and says which is missing).
"""
import os, shutil, sys
from pathlib import Path

BROWSERS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']
DRIVERS = ['chromedriver']
DRIVER_PATHS = ['/usr/lib/chromium/chromedriver']     # where Debian's chromium-driver puts it besides PATH
INSTALL_HINT = 'apt-get install chromium chromium-driver, or set CHROMIUM and CHROMEDRIVER'

# a fresh profile with the background network features off: works offline, no downloads, no update checks
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--disable-dev-shm-usage', '--window-size=1300,1100']


def _first_existing(paths):
    return next((p for p in paths if p and Path(p).exists()), None)


def find_chromium():
    "(chromium binary, chromedriver) found on this machine, or None for each that is missing."
    browser = _first_existing([os.environ.get('CHROMIUM')] + [shutil.which(n) for n in BROWSERS])
    driver = _first_existing([os.environ.get('CHROMEDRIVER')] + [shutil.which(n) for n in DRIVERS] + DRIVER_PATHS)
    return browser, driver


def missing_message(browser, driver, what='the browser test'):
    "One line naming what is missing for `what` and how to install it."
    return (f"{what} needs Chromium and chromedriver (chromium: {browser or 'MISSING'}, "
            f"chromedriver: {driver or 'MISSING'}): {INSTALL_HINT}.")


def headless_chromium(profile_dir):
    "A Selenium driver for the system's headless Chromium, with `profile_dir` (a new, empty folder) as its profile."
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    browser, driver = find_chromium()
    if browser is None or driver is None:
        raise FileNotFoundError(missing_message(browser, driver, 'a headless browser'))
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for a in CHROMIUM_FLAGS + [f'--user-data-dir={profile_dir}']:
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(executable_path=driver), options=opts)


if __name__ == '__main__':
    found = find_chromium()
    if None in found:
        sys.exit(missing_message(*found))
    print('chromium: {}\nchromedriver: {}'.format(*found))
