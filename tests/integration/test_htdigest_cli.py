"""`gatehouse htdigest FILE REALM USER`: writes the lines Apache's htdigest writes (MD5), and the
gatehouse extension lines for SHA-256 and SHA-512-256.

Apache's htdigest reads the password only from a terminal, so it is driven through a
pseudo-terminal (python's pty module). apache2-utils is required: a missing tool fails the test.
"""
import hashlib
import os
import pty
import select
import shutil
import stat
import tempfile
import time
import unittest

import gh


def apache_htdigest(path, realm, user, password, create=False):
    """Runs Apache's htdigest [-c] PATH REALM USER, typing PASSWORD at both prompts."""
    tool = shutil.which("htdigest")
    if tool is None:
        raise AssertionError("Apache's htdigest (apache2-utils) is required for this test")
    args = [tool] + (["-c"] if create else []) + [path, realm, user]
    pid, fd = pty.fork()
    if pid == 0:  # child: exec the tool on the pty
        try:
            os.execv(tool, args)
        finally:
            os._exit(127)
    output = b""
    answered = 0
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                data = os.read(fd, 1024)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            output += data
            # "New password: " then "Re-type new password: ", each after echo is turned off.
            while output.count(b"password:") > answered:
                os.write(fd, password.encode() + b"\n")
                answered += 1
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or answered != 2:
        raise AssertionError(f"htdigest {args} failed: {output!r}")
    return output


def h(algorithm, text):
    return hashlib.new(algorithm, text.encode()).hexdigest()


class HtdigestCliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gatehouse-htdigest-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def gatehouse(self, *args, password=None):
        stdin = None if password is None else password + "\n"
        return gh.run_cli(list(args), stdin=stdin, check=False)

    def add(self, file, realm, user, password, *extra):
        out = self.gatehouse("htdigest", file, realm, user, "--password-stdin", *extra,
                             password=password)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out

    @staticmethod
    def read(path):
        with open(path, "rb") as f:
            return f.read()

    def test_same_lines_as_apache(self):
        cases = [("gatehouse", "alice", "alice pw"), ("gatehouse", "bob", "p:ss wörd"),
                 ("other realm", "alice", "second"), ("Grüße", "jürgen", "pässwörd"),
                 ("testrealm@host.com", "Mufasa", "Circle Of Life")]
        ours, apache = self.path("ours"), self.path("apache")
        for i, (realm, user, password) in enumerate(cases):
            out = self.add(ours, realm, user, password)
            self.assertIn("added", out.stdout)
            apache_htdigest(apache, realm, user, password, create=(i == 0))
        self.assertEqual(self.read(ours), self.read(apache))
        # RFC 2617 §3.5's example user, as a known answer.
        self.assertIn(b"Mufasa:testrealm@host.com:939e7578ed9e3c518a452acee763bce9\n",
                      self.read(ours))
        self.assertEqual(stat.S_IMODE(os.stat(ours).st_mode), 0o600)
        self.assertFalse(os.path.exists(ours + ".tmp"))

    def test_updates_in_place_like_apache(self):
        ours, apache = self.path("ours"), self.path("apache")
        for file, tool in ((ours, False), (apache, True)):
            for i, (user, password) in enumerate([("alice", "one"), ("bob", "two"),
                                                  ("carol", "three")]):
                if tool:
                    apache_htdigest(file, "gatehouse", user, password, create=(i == 0))
                else:
                    self.add(file, "gatehouse", user, password)
        out = self.add(ours, "gatehouse", "bob", "new bob pw")
        self.assertIn("updated", out.stdout)
        apache_htdigest(apache, "gatehouse", "bob", "new bob pw")
        self.assertEqual(self.read(ours), self.read(apache))
        lines = self.read(ours).decode().splitlines()
        self.assertEqual([line.split(":")[0] for line in lines], ["alice", "bob", "carol"])
        self.assertEqual(lines[1], "bob:gatehouse:" + h("md5", "bob:gatehouse:new bob pw"))

    def test_apache_reads_back_what_it_did_not_write(self):
        # Apache's htdigest updates a line gatehouse wrote (same format), and keeps the rest.
        file = self.path("f")
        self.add(file, "gatehouse", "alice", "one")
        self.add(file, "gatehouse", "bob", "two")
        apache_htdigest(file, "gatehouse", "alice", "changed")
        self.assertEqual(self.read(file).decode().splitlines(), [
            "alice:gatehouse:" + h("md5", "alice:gatehouse:changed"),
            "bob:gatehouse:" + h("md5", "bob:gatehouse:two"),
        ])

    def test_extension_algorithms(self):
        file = self.path("f")
        self.add(file, "gatehouse", "alice", "alice pw")
        out = self.add(file, "gatehouse", "alice", "alice pw", "--algorithm", "SHA-256")
        self.assertIn("added", out.stdout)
        self.add(file, "gatehouse", "alice", "alice pw", "--algorithm", "sha-512-256")
        self.add(file, "gatehouse", "alice", "alice pw", "--algorithm", "MD5")  # same MD5 line
        expected = [
            "alice:gatehouse:" + h("md5", "alice:gatehouse:alice pw"),
            "alice:gatehouse:SHA-256:" + h("sha256", "alice:gatehouse:alice pw"),
            "alice:gatehouse:SHA-512-256:" + h("sha512_256", "alice:gatehouse:alice pw"),
        ]
        self.assertEqual(self.read(file).decode().splitlines(), expected)
        self.assertEqual(len(expected[1].split(":")[3]), 64)

        # Updating one algorithm leaves the others alone.
        out = self.add(file, "gatehouse", "alice", "new", "--algorithm", "SHA-256")
        self.assertIn("updated", out.stdout)
        expected[1] = "alice:gatehouse:SHA-256:" + h("sha256", "alice:gatehouse:new")
        self.assertEqual(self.read(file).decode().splitlines(), expected)

    def test_foreign_lines_are_kept(self):
        file = self.path("f")
        original = ("# digest users\n"
                    "zed:gatehouse:" + h("md5", "zed:gatehouse:z") + "\n"
                    "not a valid line\n"
                    "alice:elsewhere:" + h("md5", "alice:elsewhere:x") + "\n")
        with open(file, "w") as f:
            f.write(original)
        self.add(file, "gatehouse", "alice", "a")
        self.assertEqual(self.read(file).decode(),
                         original + "alice:gatehouse:" + h("md5", "alice:gatehouse:a") + "\n")

    def test_bad_arguments_exit_2_and_write_nothing(self):
        file = self.path("f")
        for extra in (["--algorithm", "SHA-512"], ["--algorithm", "MD5-sess"],
                      ["--algorithm", ""], ["--algorithm", "SHA-256-sess"]):
            out = self.gatehouse("htdigest", file, "gatehouse", "alice", "--password-stdin",
                                 *extra, password="pw")
            self.assertEqual(out.returncode, 2, (extra, out.stderr))
            self.assertIn("algorithm", out.stderr)
        for realm, user in (("gatehouse", "a:b"), ("gate:house", "alice"), ("", "alice"),
                            ("gatehouse", ""), ("gate\nhouse", "alice"), ("gatehouse", "a\tb")):
            out = self.gatehouse("htdigest", file, realm, user, "--password-stdin",
                                 password="pw")
            self.assertEqual(out.returncode, 2, (realm, user, out.stderr))
        out = self.gatehouse("htdigest", file, "gatehouse", "alice", "--password-stdin",
                             password="")
        self.assertEqual(out.returncode, 2, out.stderr)
        out = self.gatehouse("htdigest", file, "gatehouse", password="pw")  # USER missing
        self.assertEqual(out.returncode, 2, out.stderr)
        # The password is never an argument.
        out = self.gatehouse("htdigest", file, "gatehouse", "alice", "pw")
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertFalse(os.path.exists(file))


if __name__ == "__main__":
    unittest.main()
