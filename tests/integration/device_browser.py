#!/usr/bin/python3
"""A scripted "browser" for the RFC 8628 device flow tests: `gatehouse login --device` runs it as
$BROWSER with verification_uri_complete as its last argument. It follows the provider's pages
with a real cookie jar (python3-requests): the auto-submitted user-code form, the device confirm
form, the login form (user name and password) and the consent form, like a person would.

Environment: DEVICE_BROWSER_ACTION=approve|deny|ignore, DEVICE_BROWSER_USER,
DEVICE_BROWSER_PASSWORD, DEVICE_BROWSER_LOG (a file that gets "opened URL" and then "approved",
"denied", "ignored" or "failed: why").
"""
import html.parser
import os
import sys
import urllib.parse

import requests


class Forms(html.parser.HTMLParser):
    """Every <form> with its action, method and named inputs/buttons (name → value)."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"id": a.get("id"), "action": a.get("action", ""),
                               "method": a.get("method", "get").lower(), "fields": {}})
        elif tag in ("input", "button") and a.get("name"):
            form = next((f for f in self.forms if f["id"] == a.get("form")), None) if a.get("form") \
                else (self.forms[-1] if self.forms else None)
            if form is not None:
                form["fields"].setdefault(a["name"], a.get("value", ""))


def forms_of(response):
    parser = Forms()
    parser.feed(response.text)
    return parser.forms


def main():
    url = sys.argv[-1]
    action = os.environ.get("DEVICE_BROWSER_ACTION", "approve")
    log_path = os.environ.get("DEVICE_BROWSER_LOG")

    def log(line):
        if log_path:
            with open(log_path, "a") as f:
                f.write(line + "\n")

    log("opened " + url)
    if action == "ignore":
        log("ignored")
        return 0
    session = requests.Session()
    session.trust_env = False  # the provider is on loopback; no proxies
    page = session.get(url, timeout=10)
    for _ in range(12):
        if "Sign-in Success" in page.text:
            log("approved")
            return 0
        forms = forms_of(page)
        if not forms:
            log(f"failed: no form at {page.url} ({page.status_code}): {page.text[:200]!r}")
            return 1
        form = forms[0]
        fields = dict(form["fields"])
        if "login" in fields or "password" in fields:
            fields["login"] = os.environ["DEVICE_BROWSER_USER"]
            fields["password"] = os.environ["DEVICE_BROWSER_PASSWORD"]
        elif "confirm" in fields:
            fields.pop("abort", None)
            if action == "deny":
                fields.pop("confirm")
                fields["abort"] = "yes"
        target = urllib.parse.urljoin(page.url, form["action"])
        page = session.post(target, data=fields, timeout=10)
        if action == "deny" and "abort" in fields:
            log("denied" if page.status_code < 500 else f"failed: {page.status_code}")
            return 0
    log("failed: too many pages")
    return 1


if __name__ == "__main__":
    sys.exit(main())
