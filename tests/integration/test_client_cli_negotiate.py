"""`gatehouse request --auth negotiate` and its httpx-gssapi options, from the command line,
against Apache httpd mod_auth_gssapi and a throwaway MIT KDC (krb.py): success with mutual
authentication REQUIRED, MutualAuthenticationError from a server that sends no token (exit 1),
sanitized and unsanitized error bodies, opportunistic mode, --target-name, no ticket → exit 1
with a clear message, and -v never printing the Negotiate token.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

import gh
import krb


class NegotiateCliTest(krb.RealmAndApacheTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gatehouse-cli-krb-")
        self.env = self.realm.env(HOME=self.tmp, XDG_CONFIG_HOME=os.path.join(self.tmp, "xdg"))
        self.env.pop("GATEHOUSE_API_KEY", None)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def gh(self, *args, env=None):
        return subprocess.run([gh.BIN, "request"] + list(args), capture_output=True, text=True,
                              env=env or self.env, timeout=60, start_new_session=True)

    def test_mutual_required_succeeds_and_verbose_masks_the_token(self):
        proc = self.gh("-v", "--auth", "negotiate", "--mutual", "required",
                       self.apache.url("/krb/ok"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("> Authorization: Negotiate ****", proc.stderr)
        self.assertIn("< HTTP/1.1 200", proc.stderr)
        self.assertIn("X-Remote-User: user1@" + krb.REALM, proc.stderr)
        # The client's token (base64 of a DER blob starting 0x60: "YII…") never appears.
        for line in proc.stderr.splitlines():
            if line.startswith("> Authorization"):
                self.assertNotIn("YI", line)

    def test_mutual_required_without_a_server_token_fails(self):
        proc = self.gh("--auth", "negotiate", "--mutual", "required", self.apache.url("/notoken/ok"))
        self.assertEqual(proc.returncode, 1)
        self.assertIn("MutualAuthenticationError", proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_error_bodies_are_sanitized_unless_asked_not_to(self):
        # An error response that cannot be mutually authenticated (REQUIRED, no server token).
        url = self.apache.url("/notoken/missing")
        proc = self.gh("-v", "--auth", "negotiate", "--mutual", "required", url)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("HTTP 404", proc.stderr)
        self.assertEqual(proc.stdout, "")  # stripped to content-length: 0
        proc = self.gh("--auth", "negotiate", "--mutual", "required", "--no-sanitize", url)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(krb.ERROR_BODY, proc.stdout)

    def test_opportunistic_sends_the_token_first(self):
        proc = self.gh("-v", "--auth", "negotiate", "--opportunistic", self.apache.url("/krb/ok"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        first_request = proc.stderr.split("\n>\n")[0]
        self.assertIn("> Authorization: Negotiate ****", first_request)
        self.assertNotIn("< HTTP/1.1 401", proc.stderr)

    def test_target_name_override(self):
        # The URL's host has no service principal of its own; the override names one that exists.
        url = self.apache.url("/krb/ok", host="localhost")
        proc = self.gh("--auth", "negotiate", "--target-name", "HTTP@alias.example", url)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # A service the KDC does not know: no token can be made, the 401 stands.
        proc = self.gh("--auth", "negotiate", "--target-name", "HTTP@nowhere.example", url)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("gatehouse: HTTP 401", proc.stderr)

    def test_no_ticket_is_a_clean_error(self):
        env = self.realm.env(ccache="FILE:" + os.path.join(self.tmp, "empty-ccache"),
                             HOME=self.tmp, XDG_CONFIG_HOME=os.path.join(self.tmp, "xdg"))
        proc = self.gh("--auth", "negotiate", self.apache.url("/krb/ok"), env=env)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertTrue(proc.stderr.startswith("gatehouse: "), proc.stderr)


if __name__ == "__main__":
    unittest.main()
