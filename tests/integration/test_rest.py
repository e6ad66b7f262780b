"""Roundup's REST interface at /demo/rest/ (SPEC §9, reference/seed-systems.md A3) on the real
server, driven by curl and by Python's httpx: Basic admin:admin and a bearer token from
POST /auth/login, the walkthrough of Roundup's REST documentation (list, get with ETag, PUT with
If-Match and a stale etag, POST, search, paging, DELETE), and the refusals (anonymous 403, a wrong
password 401 text/plain).
"""
import json
import subprocess
import unittest

import gh


class RestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.curl_bin = gh.require_tool("curl")
        cls.server = gh.Server().start()
        cls.rest = cls.server.url + "/demo/rest"
        cls.client = gh.http_client()
        r = cls.client.post(cls.server.url + "/auth/login", auth=("admin", "admin"))
        if r.status_code != 200:
            raise AssertionError(f"login failed: {r.status_code} {r.text}")
        cls.bearer = {"Authorization": "Bearer " + r.json()["access_token"]}

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.server.__exit__(None, None, None)

    def setUp(self):
        self.assertTrue(self.server.alive(), "the server died during an earlier test")

    # ---- helpers ----------------------------------------------------------------------------

    def curl(self, *args):
        """curl ARGS → (status, {lower-case header: [values]}, body text)."""
        out = subprocess.run([self.curl_bin, "-sS", "--noproxy", "*", "-D", "-", *args],
                             capture_output=True, timeout=60, env=gh.clean_env())
        self.assertEqual(out.returncode, 0, out.stderr)
        head, _, body = out.stdout.decode().partition("\r\n\r\n")
        lines = head.split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        return int(lines[0].split()[1]), headers, body

    def curl_json(self, *args):
        status, headers, body = self.curl(*args)
        return status, headers, json.loads(body) if body else None

    def ids(self, data):
        return [e["id"] for e in data["data"]["collection"]]

    # ---- the walkthrough with curl and Basic -----------------------------------------------

    def test_curl_walkthrough_with_basic(self):
        admin = ["-u", "admin:admin"]
        # The root and the classes.
        status, _, body = self.curl_json(*admin, self.rest + "/")
        self.assertEqual(status, 200)
        self.assertEqual(body["data"]["default_version"], 1)
        self.assertEqual([l["rel"] for l in body["data"]["links"]], ["self", "data", "summary"])
        status, _, body = self.curl_json(*admin, self.rest + "/data")
        self.assertIn("issue", body["data"])

        # List the issues.
        status, headers, body = self.curl_json(*admin, self.rest + "/data/issue")
        self.assertEqual(status, 200)
        self.assertIn("1", self.ids(body))
        self.assertEqual(headers["x-count-total"], [str(body["data"]["@total_size"])])

        # issue1 with its ETag, then PUT with If-Match, then again with the stale etag.
        status, headers, body = self.curl_json(*admin, self.rest + "/data/issue/1")
        self.assertEqual(status, 200)
        etag = headers["etag"][0]
        self.assertRegex(etag, r'^"[0-9a-f]{64}"$')
        self.assertEqual(body["data"]["@etag"], etag)
        self.assertEqual(body["data"]["attributes"]["status"]["id"], "2")
        status, _, body = self.curl_json(*admin, "-X", "PUT", "-H", "If-Match: " + etag,
                                         "-H", "Content-Type: application/json",
                                         "--data", json.dumps({"title": "renamed by curl"}),
                                         self.rest + "/data/issue/1")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"]["attribute"], {"title": "renamed by curl"})
        status, _, body = self.curl_json(*admin, "-X", "PUT", "-H", "If-Match: " + etag,
                                         "--data-urlencode", "title=stale",
                                         self.rest + "/data/issue/1")
        self.assertEqual(status, 412, body)
        self.assertEqual(body["error"]["status"], 412)
        status, _, body = self.curl_json(*admin, self.rest + "/data/issue/1/title")
        self.assertEqual(body["data"]["data"], "renamed by curl")

        # POST a new issue from a form: 201 with a Location.
        status, headers, body = self.curl_json(*admin, "--data-urlencode", "title=another one",
                                               "--data-urlencode", "status=chatting",
                                               self.rest + "/data/issue")
        self.assertEqual(status, 201, body)
        new_id = body["data"]["id"]
        self.assertTrue(headers["location"][0].endswith("/demo/rest/data/issue/" + new_id))

        # Search.
        _, _, body = self.curl_json(*admin, self.rest + "/data/issue?title=another")
        self.assertEqual(self.ids(body), [new_id])
        _, _, body = self.curl_json(*admin, self.rest + "/data/issue?status=deferred")
        self.assertIn("1", self.ids(body))
        self.assertNotIn(new_id, self.ids(body))

        # DELETE retires: it leaves the collection.
        _, headers, _ = self.curl_json(*admin, self.rest + "/data/issue/" + new_id)
        status, _, body = self.curl_json(*admin, "-X", "DELETE", "-H",
                                         "If-Match: " + headers["etag"][0],
                                         self.rest + "/data/issue/" + new_id)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"], {"status": "ok"})
        _, _, body = self.curl_json(*admin, self.rest + "/data/issue")
        self.assertNotIn(new_id, self.ids(body))

    # ---- the walkthrough with httpx and a bearer token -------------------------------------

    def test_httpx_walkthrough_with_bearer(self):
        c = self.client
        r = c.post(self.rest + "/data/issue", headers=self.bearer,
                   json={"title": "bearer issue", "status": "deferred", "nosy": ["demo"]})
        self.assertEqual(r.status_code, 201, r.text)
        issue = r.json()["data"]["id"]
        self.assertEqual(r.headers["location"], r.json()["data"]["link"])

        r = c.get(self.rest + f"/data/issue/{issue}", headers=self.bearer,
                  params={"@verbose": "2"})
        self.assertEqual(r.status_code, 200)
        attributes = r.json()["data"]["attributes"]
        self.assertEqual(attributes["status"]["name"], "deferred")
        self.assertEqual(attributes["nosy"][0]["username"], "demo")
        etag = r.headers["etag"]

        r = c.put(self.rest + f"/data/issue/{issue}", headers={**self.bearer, "If-Match": etag},
                  json={"title": "bearer issue, renamed"})
        self.assertEqual(r.status_code, 200, r.text)
        r = c.put(self.rest + f"/data/issue/{issue}", headers={**self.bearer, "If-Match": etag},
                  json={"title": "stale"})
        self.assertEqual(r.status_code, 412)
        self.assertEqual(r.json()["error"]["status"], 412)
        # The etag may also come in the body; a "-gzip" suffix is ignored.
        etag = c.get(self.rest + f"/data/issue/{issue}", headers=self.bearer).headers["etag"]
        r = c.patch(self.rest + f"/data/issue/{issue}",
                    headers={**self.bearer, "If-Match": etag[:-1] + '-gzip"'},
                    json={"@op": "add", "nosy": ["admin"]})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["attribute"], {"nosy": ["1", "3"]})

        r = c.get(self.rest + "/data/issue", headers=self.bearer,
                  params={"title": "bearer", "@fields": "title"})
        self.assertEqual([e["title"] for e in r.json()["data"]["collection"]],
                         ["bearer issue, renamed"])

        # Retire, then restore with PATCH @op=action.
        etag = c.get(self.rest + f"/data/issue/{issue}", headers=self.bearer).headers["etag"]
        r = c.delete(self.rest + f"/data/issue/{issue}", headers={**self.bearer, "If-Match": etag})
        self.assertEqual(r.status_code, 200, r.text)
        r = c.get(self.rest + "/data/issue", headers=self.bearer)
        self.assertNotIn(issue, self.ids(r.json()))
        etag = c.get(self.rest + f"/data/issue/{issue}", headers=self.bearer).headers["etag"]
        r = c.patch(self.rest + f"/data/issue/{issue}", headers=self.bearer,
                    json={"@op": "action", "@action_name": "restore", "@etag": etag})
        self.assertEqual(r.status_code, 200, r.text)
        r = c.get(self.rest + "/data/issue", headers=self.bearer)
        self.assertIn(issue, self.ids(r.json()))

    def test_paging_headers_and_links(self):
        c = self.client
        for i in range(3):
            r = c.post(self.rest + "/data/issue", auth=("demo", "demo"),
                       json={"title": f"paging {i}"})
            self.assertEqual(r.status_code, 201, r.text)
        r = c.get(self.rest + "/data/issue", auth=("demo", "demo"),
                  params={"title": "paging", "@page_size": "2", "@page_index": "1"})
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.headers["x-count-total"], "3")
        data = r.json()["data"]
        self.assertEqual(len(data["collection"]), 2)
        self.assertEqual(data["@total_size"], 3)
        self.assertEqual(sorted(data["@links"]), ["next", "self"])
        # Following "next" gives the last item and a "prev" link.
        r = c.get(data["@links"]["next"][0]["uri"].replace("http://localhost:8000",
                                                           self.server.url),
                  auth=("demo", "demo"))
        self.assertEqual(r.status_code, 200, r.text)
        page2 = r.json()["data"]
        self.assertEqual(len(page2["collection"]), 1)
        self.assertEqual(sorted(page2["@links"]), ["prev", "self"])

    # ---- permissions and refusals ----------------------------------------------------------

    def test_anonymous_is_forbidden(self):
        status, _, body = self.curl_json(self.rest + "/data/issue")
        self.assertEqual(status, 403)
        self.assertEqual(body, {"error": {"status": 403, "msg": "Forbidden."}})
        r = self.client.get(self.rest + "/")
        self.assertEqual(r.status_code, 403)

    def test_wrong_password_is_401_text_plain(self):
        status, headers, body = self.curl("-u", "demo:wrong", self.rest + "/data/issue")
        self.assertEqual(status, 401)
        self.assertEqual(headers["content-type"], ["text/plain"])
        self.assertTrue(body.startswith("Invalid Login - "), body)
        self.assertEqual(headers["www-authenticate"],
                         [gh.APIKEY_CHALLENGE, gh.BEARER_CHALLENGE, gh.BASIC_CHALLENGE])
        r = self.client.get(self.rest + "/data/issue",
                            headers={"Authorization": "Bearer not.a.token"})
        self.assertEqual(r.status_code, 401)
        self.assertTrue(r.text.startswith("Invalid Login - "), r.text)

    def test_user_permissions(self):
        demo = ("demo", "demo")
        c = self.client
        # Another user's record shows only what User may view.
        r = c.get(self.rest + "/data/user/1", auth=demo)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(sorted(r.json()["data"]["attributes"]),
                         ["organisation", "phone", "realname", "timezone", "username"])
        # Own realname: yes; own roles: no; statuses: view only.
        etag = c.get(self.rest + "/data/user/3", auth=demo).headers["etag"]
        r = c.put(self.rest + "/data/user/3", auth=demo, headers={"If-Match": etag},
                  json={"roles": "Admin"})
        self.assertEqual(r.status_code, 403)
        r = c.put(self.rest + "/data/user/3", auth=demo, headers={"If-Match": etag},
                  json={"realname": "Demo Person"})
        self.assertEqual(r.status_code, 200, r.text)
        etag = c.get(self.rest + "/data/status/1", auth=demo).headers["etag"]
        r = c.put(self.rest + "/data/status/1", auth=demo, headers={"If-Match": etag},
                  json={"name": "x"})
        self.assertEqual(r.status_code, 403)

    def test_options_methods_and_bad_input(self):
        status, headers, body = self.curl("-u", "demo:demo", "-X", "OPTIONS",
                                          self.rest + "/data/issue/1")
        self.assertEqual(status, 204)
        self.assertEqual(headers["allow"], ["OPTIONS, GET, PUT, DELETE, PATCH"])
        self.assertEqual(body, "")
        status, headers, body = self.curl_json("-u", "demo:demo", "-X", "POST",
                                               self.rest + "/data/issue/1")
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], ["DELETE, GET, OPTIONS, PATCH, PUT"])
        status, _, body = self.curl_json("-u", "demo:demo", "-H", "Content-Type: text/plain",
                                         "--data", "title=x", self.rest + "/data/issue")
        self.assertEqual(status, 415)
        status, _, body = self.curl_json("-u", "demo:demo", "-H",
                                         "Content-Type: application/json", "--data", "{nope",
                                         self.rest + "/data/issue")
        self.assertEqual(status, 400)
        status, _, body = self.curl_json("-u", "demo:demo", self.rest + "/data/issue?bogus=1")
        self.assertEqual(status, 400)
        status, _, body = self.curl_json("-u", "demo:demo", self.rest + "/data/nonesuch")
        self.assertEqual(status, 404)
        self.assertEqual(body["error"]["msg"], "Class nonesuch not found")
        status, _, body = self.curl_json("-u", "demo:demo", "-H", "X-HTTP-Method-Override: DELETE",
                                         self.rest + "/data/issue/1")
        self.assertEqual(status, 400)
        status, _, body = self.curl_json("-u", "demo:demo",
                                         self.rest + "/data/issue?@page_size=x")
        self.assertEqual(status, 400)


if __name__ == "__main__":
    unittest.main()
