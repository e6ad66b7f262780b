"""The tracker's XML-RPC endpoint (SPEC §9) driven by Python's own xmlrpc.client, as Roundup's
documentation drives Roundup (seeds/roundup-xmlrpc.txt), plus hostile input."""
import base64
import http.client
import os
import tempfile
import unittest
import xmlrpc.client

import gh


def proxy(server, user=None, password=None):
    auth = f"{user}:{password}@" if user else ""
    return xmlrpc.client.ServerProxy(f"http://{auth}127.0.0.1:{server.port}/demo/xmlrpc",
                                     allow_none=True)


def post(server, body, content_type="text/xml", auth=("admin", "admin"), headers=None):
    """POSTs raw bytes to /demo/xmlrpc; returns (status, headers dict, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    h = {"Content-Type": content_type}
    if auth:
        h["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    h.update(headers or {})
    try:
        conn.request("POST", "/demo/xmlrpc", body=body, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except (BrokenPipeError, ConnectionResetError) as e:
        return 0, {}, str(e).encode()
    finally:
        conn.close()


def fault_of(body):
    try:
        xmlrpc.client.loads(body)
    except xmlrpc.client.Fault as f:
        return f
    raise AssertionError(f"not a fault: {body[:300]!r}")


class SampleSession(unittest.TestCase):
    """Roundup's "Sample Python Client", verbatim apart from the port."""

    def test_roundup_documented_session(self):
        with gh.Server() as server:
            roundup_server = proxy(server, "admin", "admin")
            schema = roundup_server.schema()
            self.assertIn(["username", "<roundup.hyperdb.String>"], schema["user"])
            self.assertIn(["status", '<roundup.hyperdb.Link to "status">'], schema["issue"])
            self.assertEqual(roundup_server.list("user"), ["admin", "anonymous", "demo"])
            self.assertEqual(roundup_server.list("issue", "id"), ["1"])
            issue = roundup_server.display("issue1")
            self.assertIsNone(issue["assignedto"])
            self.assertEqual(issue["files"], [])
            self.assertTrue(issue["title"].startswith("yes, "))
            self.assertEqual(roundup_server.display("issue1", "priority", "status"),
                             {"priority": "1", "status": "2"})
            self.assertIsNone(roundup_server.set("issue1", "status=3"))
            self.assertEqual(roundup_server.display("issue1", "status"), {"status": "3"})
            self.assertEqual(roundup_server.create("issue", "title='another bug'", "status=2"), "2")
            self.assertEqual(roundup_server.filter("user", None, {"username": "adm"}), ["1"])
            self.assertEqual(roundup_server.filter("user", ["1", "2"], {"username": "adm"}), ["1"])
            self.assertEqual(roundup_server.filter("user", ["2"], {"username": "adm"}), [])
            self.assertEqual(roundup_server.filter("user", [], {"username": "adm"}), [])
            self.assertEqual(roundup_server.lookup("user", "admin"), "1")

    def test_advanced_client_with_anti_csrf_headers(self):
        # Roundup's "Advanced Python Client", over http and with this server's own origin.
        with gh.Server() as server:
            origin = f"http://127.0.0.1:{server.port}"
            xmlrpclib = xmlrpc.client

            class SpecialTransport(xmlrpclib.Transport):
                def send_content(self, connection, request_body):
                    connection.putheader("Referer", origin + "/demo/")
                    connection.putheader("Origin", origin)
                    connection.putheader("X-Requested-With", "XMLHttpRequest")
                    connection.putheader("Content-Type", "text/xml")
                    connection.putheader("Content-Length", str(len(request_body)))
                    connection.endheaders()
                    if request_body:
                        connection.send(request_body)

            s = xmlrpclib.ServerProxy(f"http://admin:admin@127.0.0.1:{server.port}/demo/xmlrpc",
                                      transport=SpecialTransport(), allow_none=True)
            self.assertIn("user", s.schema())
            self.assertEqual(s.display("user2", "username"), {"username": "anonymous"})
            self.assertEqual(s.display("issue1", "status"), {"status": "2"})
            self.assertEqual(s.filter("user", ["1", "2", "3"], {"username": "demo"}), ["3"])
            with self.assertRaises(xmlrpclib.Fault) as caught:
                s.filter("usr", ["0", "2", "3"], {"username": "demo"})
            self.assertEqual(caught.exception.faultCode, 1)
            self.assertIn("There is no class called", caught.exception.faultString)

    def test_changes_survive_a_restart(self):
        with gh.Server() as first:
            proxy(first, "admin", "admin").set("issue1", "title=kept across restarts")
            data_dir = first.data_dir
            first.stop()
            with gh.Server(data_dir=data_dir) as second:
                self.assertEqual(proxy(second, "demo", "demo").display("issue1", "title"),
                                 {"title": "kept across restarts"})


class Authentication(unittest.TestCase):
    def test_faults_for_login_and_access(self):
        with gh.Server() as server:
            with self.assertRaises(xmlrpc.client.Fault) as caught:
                proxy(server).list("user")  # anonymous: no Xmlrpc Access, as in Roundup
            self.assertEqual((caught.exception.faultCode, caught.exception.faultString),
                             (403, "Forbidden"))
            with self.assertRaises(xmlrpc.client.Fault) as caught:
                proxy(server, "admin", "wrong").list("user")
            self.assertEqual(caught.exception.faultCode, 401)
            with self.assertRaises(xmlrpc.client.Fault) as caught:
                proxy(server, "demo", "demo").display("user1")
            self.assertEqual(caught.exception.faultString,
                             "<class 'roundup.exceptions.Unauthorised'>:"
                             "Permission to view address of user1 denied")
            self.assertEqual(proxy(server, "demo", "demo").display("user1", "username"),
                             {"username": "admin"})

    def test_bearer_tokens_and_api_keys_identify_the_user(self):
        with gh.Server() as server, gh.http_client() as c:
            token = c.post(server.url + "/auth/login",
                           json={"username": "demo", "password": "demo"}).json()["access_token"]
            body = xmlrpc.client.dumps(("issue", "title=via bearer"), "create").encode()
            r = c.post(server.url + "/demo/xmlrpc", content=body,
                       headers={"Content-Type": "text/xml", "Authorization": f"Bearer {token}"})
            self.assertEqual(r.status_code, 200)
            (new_id,), _ = xmlrpc.client.loads(r.content)
            key, _ = server.create_key("demo")
            gh.wait_status(server.url + "/auth/whoami", 200, headers={"X-API-Key": key})
            body = xmlrpc.client.dumps((f"issue{new_id}", "creator", "title"), "display").encode()
            r = c.post(server.url + "/demo/xmlrpc", content=body,
                       headers={"Content-Type": "text/xml", "X-API-Key": key})
            (shown,), _ = xmlrpc.client.loads(r.content)
            self.assertEqual(shown, {"creator": "3", "title": "via bearer"})

    def test_a_new_gatehouse_user_gets_a_user_item(self):
        with gh.Server() as server:
            server.cli(["user", "add", "carol", "--role", "User", "--password-stdin"], stdin="carol-pass\n")
            # A user added by the CLI reaches the running server within its refresh interval.
            gh.wait_status(server.url + "/auth/whoami", 200, auth=("carol", "carol-pass"))
            carol = proxy(server, "carol", "carol-pass")
            new_id = carol.create("issue", "title=carol's")
            admin = proxy(server, "admin", "admin")
            carol_id = admin.lookup("user", "carol")
            self.assertEqual(admin.display(f"issue{new_id}", "creator"), {"creator": carol_id})
            self.assertEqual(admin.display(f"user{carol_id}", "roles"), {"roles": "User"})


class Guards(unittest.TestCase):
    """Throttling and CSRF answer in XML-RPC's own terms: faults with HTTP 200, as Roundup."""

    def test_failed_logins_become_fault_429_even_with_the_right_password(self):
        with gh.Server(guard=None) as server:  # the real defaults: 4 per 600 s
            for _ in range(4):
                with self.assertRaises(xmlrpc.client.Fault) as caught:
                    proxy(server, "demo", "wrong").list("user")
                self.assertEqual(caught.exception.faultCode, 401)
            status, headers, body = post(server, xmlrpc.client.dumps((), "schema").encode(),
                                         auth=("demo", "demo"))
            self.assertEqual(status, 200)
            fault = fault_of(body)
            self.assertEqual(fault.faultCode, 429)
            self.assertIn("Logins occurring too fast", fault.faultString)
            self.assertGreater(int(headers["retry-after"]), 0)
            self.assertIn("x-ratelimit-limit", headers)
            # Other users are not affected.
            self.assertEqual(proxy(server, "admin", "admin").lookup("user", "demo"), "3")

    def test_cross_site_writes_with_browser_credentials_are_fault_1(self):
        with gh.Server() as server:
            body = xmlrpc.client.dumps(("issue1", "title=forged"), "set").encode()
            status, _, answer = post(server, body, headers={"Origin": "https://evil.example",
                                                            "Sec-Fetch-Site": "cross-site"})
            self.assertEqual(status, 200)
            fault = fault_of(answer)
            self.assertEqual(fault.faultCode, 1)
            self.assertIn("roundup.exceptions.Unauthorised", fault.faultString)
            # Same origin passes; nothing of the forged call was stored.
            origin = f"http://127.0.0.1:{server.port}"
            self.assertEqual(proxy(server, "admin", "admin").display("issue1", "title")["title"],
                             "yes, the demo tracker works")
            status, _, answer = post(server, xmlrpc.client.dumps(("issue1", "title=mine"), "set").encode(),
                                     headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"})
            self.assertEqual((status, xmlrpc.client.loads(answer)[0]), (200, (None,)))


class HostileInput(unittest.TestCase):
    """Each is a fault or a 4xx; nothing is stored; the server lives on."""

    def assert_nothing_stored(self, server):
        admin = proxy(server, "admin", "admin")
        self.assertEqual(admin.list("issue", "id"), ["1"])
        self.assertEqual(admin.display("issue1", "title")["title"], "yes, the demo tracker works")
        self.assertTrue(server.alive())

    def test_entity_attacks(self):
        secret_dir = tempfile.mkdtemp()
        secret = os.path.join(secret_dir, "secret.txt")
        with open(secret, "w") as f:
            f.write("TOP-SECRET-CONTENT")
        laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">'
                            for i in range(10))
                  + ']><methodCall><methodName>create</methodName><params><param><value>'
                  '<string>issue</string></value></param><param><value><string>title=&lol9;'
                  '</string></value></param></params></methodCall>')
        xxe = (f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'
               '<methodCall><methodName>create</methodName><params><param><value><string>issue'
               '</string></value></param><param><value><string>title=&e;</string></value>'
               '</param></params></methodCall>')
        external_dtd = ('<?xml version="1.0"?><!DOCTYPE methodCall SYSTEM "http://127.0.0.1:9/x.dtd">'
                        '<methodCall><methodName>schema</methodName></methodCall>')
        with gh.Server() as server:
            for name, body in (("billion laughs", laughs), ("XXE", xxe), ("external DTD", external_dtd)):
                with self.subTest(name):
                    status, _, answer = post(server, body.encode())
                    self.assertEqual(status, 200)
                    fault = fault_of(answer)
                    self.assertEqual(fault.faultCode, 1)
                    self.assertNotIn(b"TOP-SECRET", answer)
                    self.assertNotIn(b"lollol", answer)
            self.assert_nothing_stored(server)

    def test_size_depth_types_and_encoding(self):
        deep = ("<methodCall><methodName>display</methodName><params><param>"
                + "<value><array><data>" * 10000 + "</data></array></value>" * 10000
                + "</param></params></methodCall>")
        call = lambda method, *params: xmlrpc.client.dumps(params, method, allow_none=True).encode()
        with gh.Server() as server:
            status, _, _ = post(server, b"<methodCall>" + b"x" * (50 * 1024 * 1024))
            self.assertIn(status, (413, 0))  # refused (or the connection cut while sending)
            status, _, answer = post(server, deep.encode())
            self.assertEqual((status, fault_of(answer).faultCode), (200, 1))
            status, _, answer = post(server, b"<methodCall><methodName>display</methodName>"
                                             b"<params><param><value><string>issue1\xff\xfe"
                                             b"</string></value></param></params></methodCall>")
            self.assertEqual((status, fault_of(answer).faultCode), (200, 1))
            status, _, answer = post(server, b"<methodCall><methodName>list</methodName")
            self.assertEqual((status, fault_of(answer).faultCode), (200, 1))
            cases = [
                (call("display", 1), "TypeError"),
                (call("display", "issue1", ["nested"]), "TypeError"),
                (call("create", "issue", 42), "UsageError"),
                (call("create", "nosuchclass", "a=b"), "KeyError"),
                (call("create", "issue", "nosuchprop=1"), "UsageError"),
                (call("set", "issue1", "status=notastatus"), "UsageError"),
                (call("set", "issue1", "nosy=1,2,999"), "UsageError"),
                (call("display", "issue999"), "IndexError"),
                (call("display", "!!!"), "DesignatorError"),
                (call("display", "nosuchclass1"), "KeyError"),
                (call("display", "issue1", "nosuchprop"), "KeyError"),
                (call("filter", "issue", "notalist", {}), "TypeError"),
                (call("filter", "issue", None, {"nosuchprop": "x"}), "KeyError"),
                (call("lookup", "user"), "TypeError"),
                (call("no.such.method"), "Exception"),
            ]
            for body, exception in cases:
                with self.subTest(body=body[:120]):
                    status, _, answer = post(server, body)
                    self.assertEqual(status, 200)
                    fault = fault_of(answer)
                    self.assertEqual(fault.faultCode, 1)
                    self.assertIn(exception, fault.faultString)
            status, headers, _ = post(server, call("schema"), content_type="application/json")
            self.assertEqual(status, 415)
            self.assert_nothing_stored(server)


if __name__ == "__main__":
    unittest.main()
