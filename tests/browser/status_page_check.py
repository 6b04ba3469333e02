#!/usr/bin/env python3
"""Drives a park server's status page in headless Chromium (Selenium), for
tests/integration/status_page_test.cpp:

1. the page asks for a login; a wrong password is refused (the status stays hidden);
2. the right one shows the status page; prints "LEADER <address>" (the leader it shows)
   and "ROWS <n>" (servers in the group table, all up);
3. waits for the test to write the new leader's address into --expect-file (after it
   killed the old leader), then, without reloading (the page refreshes itself), waits
   until the page shows that leader and the old one as down; prints "NEW_LEADER_SHOWN".

Exit code 0 when every step held; otherwise 1 with the reason on stdout.
"""
import argparse
import os
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def say(*words):
    print(*words, flush=True)


def fail(why):
    say("FAIL", why)
    sys.exit(1)


def text_of(driver, css):
    """The text of the first element matching css, or None (the page may be reloading)."""
    try:
        elements = driver.find_elements(By.CSS_SELECTOR, css)
        return elements[0].text.strip() if elements else None
    except WebDriverException:
        return None


def rows(driver):
    """{address: (role, state)} of the group table, or None while reloading."""
    try:
        out = {}
        for row in driver.find_elements(By.CSS_SELECTOR, "#group tr[data-server]"):
            cells = row.find_elements(By.TAG_NAME, "td")
            out[row.get_attribute("data-server")] = (cells[1].text.strip(), cells[5].text.strip())
        return out
    except WebDriverException:
        return None


def wait_for(what, seconds, check):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    fail("timed out waiting for " + what)


def log_in(driver, user, password):
    driver.find_element(By.ID, "user").clear()
    driver.find_element(By.ID, "user").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login").click()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--expect-file", required=True)
    parser.add_argument("--servers", type=int, required=True)
    args = parser.parse_args()

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="fourinone-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--user-data-dir=" + profile):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.get(args.url + "/")
        if "/login" not in driver.current_url:
            fail("the page did not ask for a login: " + driver.current_url)

        log_in(driver, args.user, args.password + "-wrong")
        error = wait_for("the refusal of a wrong password", 10, lambda: text_of(driver, "#login-error"))
        if text_of(driver, "#leader") is not None or "/login" not in driver.current_url:
            fail("a wrong password got past the login")
        say("WRONG_PASSWORD_REFUSED", error)

        log_in(driver, args.user, args.password)
        leader = wait_for("the status page", 15, lambda: text_of(driver, "#leader"))
        table = wait_for("every server up in the group table", 15,
                         lambda: (lambda r: r if r and len(r) == args.servers and
                                  all(state == "up" for _, state in r.values()) else None)(rows(driver)))
        roles = [address for address, (role, _) in table.items() if role == "leader"]
        if roles != [leader]:
            fail("the group table names %s as leader(s), the header %s" % (roles, leader))
        say("LEADER", leader)
        say("ROWS", len(table))

        expected = wait_for("the test to name the new leader", 90,
                            lambda: open(args.expect_file).read().strip() if os.path.exists(args.expect_file) else None)
        page = driver.current_url
        wait_for("the page to show the new leader " + expected, 30,
                 lambda: text_of(driver, "#leader") == expected and
                 (rows(driver) or {}).get(leader, ("", ""))[1] == "down")
        if driver.current_url != page:
            fail("the page went elsewhere: " + driver.current_url)
        say("NEW_LEADER_SHOWN", expected)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
