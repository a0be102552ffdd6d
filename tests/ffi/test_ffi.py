"""The canteen flow and misuse probes through the C ABI from Python (ctypes, standard library).

Usage: python3 tests/ffi/test_ffi.py LIBCONSENTRY_SO FIXTURE_DIR
(FIXTURE_DIR is written by `cargo run --example ffi_fixtures -- FIXTURE_DIR`.)
Ends with "N passed, M failed"; exits non-zero on any failure or if too few tests ran.
"""

import ctypes
import json
import os
import sys
import threading
import unittest
import uuid
from ctypes import POINTER, byref, c_char_p, c_int32, c_size_t, c_uint8, c_uint64, c_void_p

LIB_PATH, FIXTURES = (sys.argv[1], sys.argv[2]) if len(sys.argv) == 3 else (None, None)

# consentry_status
OK, NULL_ARGUMENT, INVALID_UTF8, INVALID_JSON, INVALID_INPUT = 0, 1, 2, 3, 4
BEYOND_CEILING, DENIED, REFUSED, PROOF_INVALID, INTERNAL, PANIC = 5, 6, 7, 8, 9, 10
VERIFY_FAILED, STORAGE, UNSUPPORTED = 11, 12, 13


class Buf(ctypes.Structure):
    _fields_ = [("ptr", POINTER(c_uint8)), ("len", c_size_t)]


class Consentry:
    """A thin binding: each handle is a c_void_p; each output a bytes object."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        u8p, bufp, handle, handlep = c_char_p, POINTER(Buf), c_void_p, POINTER(c_void_p)
        sigs = {
            "consentry_version": ([], c_char_p),
            "consentry_status_name": ([c_int32], c_char_p),
            "consentry_last_error": ([bufp], c_int32),
            "consentry_buf_free": ([bufp], None),
            "consentry_digest_hex": ([u8p, c_size_t, bufp], c_int32),
            "consentry_directory_from_json": ([u8p, c_size_t, handlep], c_int32),
            "consentry_directory_from_cbor": ([u8p, c_size_t, handlep], c_int32),
            "consentry_directory_to_json": ([handle, bufp], c_int32),
            "consentry_directory_to_cbor": ([handle, bufp], c_int32),
            "consentry_directory_free": ([handle], None),
            "consentry_ceilings_from_json": ([u8p, c_size_t, handlep], c_int32),
            "consentry_ceilings_free": ([handle], None),
            "consentry_signing_key_from_seed": ([u8p, c_size_t, handlep], c_int32),
            "consentry_signing_key_from_pkcs8": ([u8p, c_size_t, handlep], c_int32),
            "consentry_signing_key_generate": ([bufp], c_int32),
            "consentry_signing_key_public_key": ([handle, bufp], c_int32),
            "consentry_signing_key_free": ([handle], None),
            "consentry_ledger_new": ([handlep], c_int32),
            "consentry_ledger_take_decisions": ([handle, bufp], c_int32),
            "consentry_ledger_free": ([handle], None),
            "consentry_issue_grant": ([u8p, c_size_t, handle, handle, bufp], c_int32),
            "consentry_issue_habilitation": ([u8p, c_size_t, handle, handle, bufp], c_int32),
            "consentry_issue_statement": ([u8p, c_size_t, handle, bufp], c_int32),
            "consentry_issue_request": ([u8p, c_size_t, handle, bufp], c_int32),
            "consentry_object_inspect": ([u8p, c_size_t, bufp], c_int32),
            "consentry_decide": (
                [handle, handle, handle, c_char_p, u8p, c_size_t, u8p, c_size_t, c_uint64, bufp],
                c_int32,
            ),
            "consentry_apply_statement": (
                [handle, handle, handle, c_char_p, u8p, c_size_t, u8p, c_size_t, c_uint64, bufp],
                c_int32,
            ),
            "consentry_log_new": ([handlep], c_int32),
            "consentry_log_free": ([handle], None),
            "consentry_log_append": ([handle, u8p, c_size_t, POINTER(c_uint64)], c_int32),
            "consentry_log_size": ([handle, POINTER(c_uint64)], c_int32),
            "consentry_log_root": ([handle, c_uint64, bufp], c_int32),
            "consentry_log_inclusion_proof": ([handle, c_uint64, c_uint64, bufp], c_int32),
            "consentry_log_consistency_proof": ([handle, c_uint64, c_uint64, bufp], c_int32),
            "consentry_log_verify_inclusion": (
                [u8p, c_size_t, c_uint64, c_uint64, u8p, c_size_t, u8p, c_size_t],
                c_int32,
            ),
            "consentry_log_verify_consistency": (
                [c_uint64, c_uint64, u8p, c_size_t, u8p, c_size_t, u8p, c_size_t],
                c_int32,
            ),
            # The service's whole job.
            "consentry_crypto_providers": ([bufp], c_int32),
            "consentry_signing_key_from_seed_with": ([c_char_p, u8p, c_size_t, handlep], c_int32),
            "consentry_signing_key_from_pkcs8_with": ([c_char_p, u8p, c_size_t, handlep], c_int32),
            "consentry_ledger_open_sqlite": ([c_char_p, handlep], c_int32),
            "consentry_directory_history_load": ([u8p, c_size_t, u8p, c_size_t, handlep], c_int32),
            "consentry_directory_history_apply": ([handle, u8p, c_size_t, POINTER(c_uint64)], c_int32),
            "consentry_directory_history_version": ([handle, POINTER(c_uint64)], c_int32),
            "consentry_directory_history_at": ([handle, c_uint64, handlep], c_int32),
            "consentry_directory_history_current": ([handle, handlep], c_int32),
            "consentry_directory_history_checkpoint": ([handle, c_uint64, handle, bufp], c_int32),
            "consentry_directory_history_free": ([handle], None),
            "consentry_verifier_new": ([c_char_p, c_char_p, handle, handlep], c_int32),
            "consentry_verifier_free": ([handle], None),
            "consentry_verifier_decide": (
                [handle, handle, handle, handle, u8p, c_size_t, u8p, c_size_t, c_uint64, bufp,
                 handlep],
                c_int32,
            ),
            "consentry_verifier_apply_statement": (
                [handle, handle, handle, handle, u8p, c_size_t, u8p, c_size_t, c_uint64, bufp],
                c_int32,
            ),
            "consentry_decision_to_json": ([handle, bufp], c_int32),
            "consentry_decision_receipt": ([handle, bufp], c_int32),
            "consentry_decision_denial_entry": ([handle, bufp], c_int32),
            "consentry_decision_free": ([handle], None),
            "consentry_receipt_issue": ([handle, handle, c_char_p, c_uint64, bufp], c_int32),
            "consentry_log_entry_receipt": ([u8p, c_size_t, bufp], c_int32),
            "consentry_log_entry_grant_issued": ([u8p, c_size_t, bufp], c_int32),
            "consentry_log_entry_statement": ([u8p, c_size_t, u8p, c_size_t, bufp], c_int32),
            "consentry_log_entry_inspect": ([u8p, c_size_t, bufp], c_int32),
            "consentry_log_append_entry": ([handle, u8p, c_size_t, POINTER(c_uint64)], c_int32),
            "consentry_log_entry": ([handle, c_uint64, bufp], c_int32),
            "consentry_log_sign_head": ([handle, handle, c_char_p, c_uint64, bufp], c_int32),
            "consentry_log_access_history": ([handle, c_char_p, c_uint64, bufp], c_int32),
            "consentry_tree_head_verify": ([u8p, c_size_t, c_char_p, u8p, c_size_t, bufp], c_int32),
            "consentry_tree_head_verify_inclusion": (
                [u8p, c_size_t, c_char_p, u8p, c_size_t, u8p, c_size_t, c_uint64, u8p, c_size_t],
                c_int32,
            ),
            "consentry_verify_history": (
                [u8p, c_size_t, u8p, c_size_t, c_char_p, u8p, c_size_t, bufp], c_int32
            ),
            "consentry_ledger_log_size": ([handle, POINTER(c_uint64)], c_int32),
            "consentry_ledger_log_entry": ([handle, c_uint64, bufp], c_int32),
            "consentry_ledger_log_root": ([handle, c_uint64, bufp], c_int32),
            "consentry_ledger_log_inclusion_proof": ([handle, c_uint64, c_uint64, bufp], c_int32),
            "consentry_ledger_log_consistency_proof": ([handle, c_uint64, c_uint64, bufp], c_int32),
            "consentry_ledger_sign_head": ([handle, handle, c_char_p, c_uint64, bufp], c_int32),
            "consentry_ledger_latest_head": ([handle, bufp], c_int32),
            "consentry_ledger_access_history": ([handle, c_char_p, c_uint64, bufp], c_int32),
            # Notifications, deletion evidence, statistics, derivations.
            "consentry_verifier_apply_statement_notifying": (
                [handle, handle, handle, handle, u8p, c_size_t, u8p, c_size_t, c_uint64, handle,
                 bufp],
                c_int32,
            ),
            "consentry_ledger_outbox_pending": ([handle, c_size_t, bufp], c_int32),
            "consentry_ledger_outbox_acknowledge": (
                [handle, c_char_p, c_char_p, c_uint64, POINTER(c_uint64)], c_int32
            ),
            "consentry_ledger_outbox_last_seq": (
                [handle, c_char_p, c_char_p, POINTER(c_uint64)], c_int32
            ),
            "consentry_inbox_new": ([c_char_p, handlep], c_int32),
            "consentry_inbox_free": ([handle], None),
            "consentry_inbox_last_seq": ([handle, c_char_p, POINTER(c_uint64)], c_int32),
            "consentry_inbox_receive_statement": (
                [handle, handle, handle, handle, handle, u8p, c_size_t, c_uint64, bufp], c_int32
            ),
            "consentry_inbox_receive_update": ([handle, handle, u8p, c_size_t, bufp], c_int32),
            "consentry_inbox_take_changed": ([handle, bufp], c_int32),
            "consentry_inbox_resume": ([handle, u8p, c_size_t], c_int32),
            "consentry_deletion_issue": (
                [u8p, c_size_t, handle, c_uint64, c_uint64, bufp], c_int32
            ),
            "consentry_ledger_log_deletion": ([handle, handle, u8p, c_size_t], c_int32),
            "consentry_log_append_deletion": (
                [handle, handle, u8p, c_size_t, POINTER(c_uint64)], c_int32
            ),
            "consentry_verify_history_retention": (
                [u8p, c_size_t, u8p, c_size_t, c_char_p, u8p, c_size_t, handle, c_uint64, bufp],
                c_int32,
            ),
            "consentry_ledger_log_entries": ([handle, c_uint64, bufp], c_int32),
            "consentry_log_entries": ([handle, c_uint64, bufp], c_int32),
            "consentry_ledger_overdue_report": (
                [handle, u8p, c_size_t, c_char_p, u8p, c_size_t, handle, c_uint64, bufp], c_int32
            ),
            "consentry_verify_overdue": (
                [u8p, c_size_t, u8p, c_size_t, c_char_p, u8p, c_size_t, handle, bufp], c_int32
            ),
            "consentry_ledger_usage_report": (
                [handle, u8p, c_size_t, c_char_p, u8p, c_size_t, c_uint64, c_uint64, c_uint64,
                 bufp],
                c_int32,
            ),
            "consentry_usage_report_csv": ([u8p, c_size_t, bufp], c_int32),
            "consentry_usage_report_verify": (
                [u8p, c_size_t, u8p, c_size_t, u8p, c_size_t, c_char_p, u8p, c_size_t], c_int32
            ),
            "consentry_ceilings_define_derivations": ([handle, u8p, c_size_t], c_int32),
        }
        for name, (args, res) in sigs.items():
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = args, res
        self.lib = lib

    def __getattr__(self, name):
        return getattr(self.lib, "consentry_" + name)

    def take(self, buf):
        """The buffer's bytes, then frees it (and checks the free reset it)."""
        data = ctypes.string_at(buf.ptr, buf.len) if buf.ptr else b""
        self.buf_free(byref(buf))
        assert not buf.ptr and buf.len == 0
        return data

    def last_error(self):
        buf = Buf()
        assert self.lib.consentry_last_error(byref(buf)) == OK
        return self.take(buf).decode()

    def call_buf(self, fn, *args):
        """Calls a function whose last argument is a buffer out-pointer: (status, bytes)."""
        buf = Buf()
        status = getattr(self.lib, "consentry_" + fn)(*args, byref(buf))
        return status, self.take(buf)

    def new_handle(self, fn, *args):
        h = c_void_p()
        status = getattr(self.lib, "consentry_" + fn)(*args, byref(h))
        return status, h


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


class Canteen(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = c = Consentry(LIB_PATH)
        d = fixture("directory.json")
        st, cls.directory = c.new_handle("directory_from_json", d, len(d))
        assert st == OK, c.last_error()
        j = fixture("ceilings.json")
        st, cls.ceilings = c.new_handle("ceilings_from_json", j, len(j))
        assert st == OK, c.last_error()
        cls.keys = {}
        for name in ("parent", "mairie", "authority"):
            seed = fixture(name + ".seed")
            st, cls.keys[name] = c.new_handle("signing_key_from_seed", seed, len(seed))
            assert st == OK, c.last_error()
        cls.provider = fixture("provider.id")
        cls.now = int(fixture("now"))

    @classmethod
    def tearDownClass(cls):
        for k in cls.keys.values():
            cls.c.signing_key_free(k)
        cls.c.ceilings_free(cls.ceilings)
        cls.c.directory_free(cls.directory)

    def setUp(self):
        st, self.ledger = self.c.new_handle("ledger_new")
        self.assertEqual(st, OK)

    def tearDown(self):
        self.c.ledger_free(self.ledger)

    # helpers

    def issue(self, kind, doc, key, *extra):
        text = json.dumps(doc).encode()
        return self.c.call_buf("issue_" + kind, text, len(text), self.keys[key], *extra)

    def issue_ok(self, kind, doc, key, *extra):
        st, out = self.issue(kind, doc, key, *extra)
        self.assertEqual(st, OK, self.c.last_error())
        return out

    def inspect(self, obj):
        st, out = self.c.call_buf("object_inspect", obj, len(obj))
        self.assertEqual(st, OK, self.c.last_error())
        return json.loads(out)

    def decide(self, request, basis, now):
        st, out = self.c.call_buf(
            "decide", self.directory, self.ceilings, self.ledger, self.provider,
            request, len(request), basis, len(basis), now,
        )
        return st, json.loads(out)

    def apply(self, statement, basis, now):
        st, out = self.c.call_buf(
            "apply_statement", self.directory, self.ceilings, self.ledger, self.provider,
            statement, len(statement), basis, len(basis), now,
        )
        return st, json.loads(out)

    def request_for(self, basis, categories=None, issued_at=None, subject=None):
        """A request built from the basis's own claims, as a binding would."""
        info = self.inspect(basis)
        claims = info["claims"]
        provider = self.provider.decode()
        covered = next(e["categories"] for e in claims["scope"] if e["provider"] == provider)
        return {
            "id": str(uuid.uuid4()),
            "basis": claims["id"],
            "basis_digest": info["digest"],
            "consumer": claims["consumer"],
            "provider": provider,
            "subject": subject or claims.get("subject") or fixture("parent.id").decode(),
            "categories": sorted(categories or covered),
            "purpose": claims["purpose"],
            "data_range": claims.get("data_range") or {"from": 1735689600, "until": 1767225600},
            "issued_at": issued_at or self.now,
        }

    def grant(self):
        return self.issue_ok("grant", json.loads(fixture("grant.json")), "parent", self.ceilings)

    # the flow

    def test_grant_bytes_match_the_rust_library(self):
        grant = self.grant()
        st, digest = self.c.call_buf("digest_hex", grant, len(grant))
        self.assertEqual(st, OK)
        self.assertEqual(digest, fixture("grant.digest"))
        self.assertEqual(self.inspect(grant)["kind"], "grant")

    def test_canteen_flow(self):
        grant = self.grant()
        # An extra category: denied, with every reason.
        extra = self.issue_ok(
            "request",
            self.request_for(grant, ["dgfip:revenu_fiscal_reference", "dgfip:composition_foyer"]),
            "mairie",
        )
        st, d = self.decide(extra, grant, self.now)
        self.assertEqual(st, DENIED)
        self.assertEqual(d["decision"], "deny")
        self.assertEqual([r["code"] for r in d["reasons"]], ["categories_not_covered"])
        self.assertIn("dgfip:composition_foyer", d["reasons"][0]["message"])
        self.assertIn("categories_not_covered", self.c.last_error())
        # As granted: allowed, with exactly what may be sent.
        req = self.issue_ok("request", self.request_for(grant), "mairie")
        st, d = self.decide(req, grant, self.now)
        self.assertEqual(st, OK, d)
        self.assertEqual(d["decision"], "allow")
        self.assertEqual(d["categories"], ["dgfip:revenu_fiscal_reference"])
        self.assertEqual(self.c.last_error(), "")
        # Again the same month: the quota is used up.
        again = self.issue_ok("request", self.request_for(grant), "mairie")
        st, d = self.decide(again, grant, self.now)
        self.assertEqual((st, [r["code"] for r in d["reasons"]]), (DENIED, ["frequency_exhausted"]))
        # The parent revokes.
        digest = self.inspect(grant)["digest"]
        revoke = {
            "basis": self.inspect(grant)["claims"]["id"],
            "basis_digest": digest,
            "action": "revoke",
            "issued_by": fixture("parent.id").decode(),
            "issued_at": self.now + 86400,
        }
        stmt = self.issue_ok("statement", revoke, "parent")
        st, outcome = self.apply(stmt, grant, self.now + 86400)
        self.assertEqual(st, OK, outcome)
        self.assertEqual(outcome["status"]["status"], "revoked")
        # Someone else may not resume it; a resume by the parent is refused: revocation is final.
        resume = dict(revoke, action="resume", issued_at=self.now + 2 * 86400)
        st, outcome = self.apply(
            self.issue_ok("statement", dict(resume, issued_by=fixture("mairie.id").decode()), "mairie"),
            grant, self.now + 2 * 86400,
        )
        self.assertEqual((st, outcome["refusal"]["code"]), (REFUSED, "signer_not_entitled"))
        st, outcome = self.apply(self.issue_ok("statement", resume, "parent"), grant, self.now + 2 * 86400)
        self.assertEqual((st, outcome["refusal"]["code"]), (REFUSED, "already_revoked"))
        # Forty days later: denied, revoked.
        later = self.now + 40 * 86400
        req = self.issue_ok("request", self.request_for(grant, issued_at=later), "mairie")
        st, d = self.decide(req, grant, later)
        self.assertEqual((st, [r["code"] for r in d["reasons"]]), (DENIED, ["revoked"]))
        # The ledger kept the five decisions.
        st, out = self.c.call_buf("ledger_take_decisions", self.ledger)
        self.assertEqual([x["allowed"] for x in json.loads(out)], [False, True, False, False])

    def test_habilitation_flow(self):
        hab = self.issue_ok(
            "habilitation", json.loads(fixture("habilitation.json")), "authority", self.ceilings
        )
        self.assertEqual(self.inspect(hab)["kind"], "habilitation")
        req = self.issue_ok("request", self.request_for(hab), "mairie")
        st, d = self.decide(req, hab, self.now)
        self.assertEqual(st, OK, d)
        self.assertEqual(d["basis_kind"], "habilitation")
        self.assertIn("L114-8", d["legal_reference"])

    def test_beyond_ceiling_is_refused_unsigned(self):
        st, out = self.issue("grant", json.loads(fixture("grant_beyond.json")), "parent", self.ceilings)
        self.assertEqual((st, out), (BEYOND_CEILING, b""))
        err = self.c.last_error()
        excesses = json.loads(err[err.index("["):])
        self.assertEqual(sorted(e["excess"] for e in excesses), ["categories", "retention"])

    def test_wrong_signer_is_denied(self):
        # A grant signed with the city hall's key names the parent as signer: not validly signed.
        grant = self.issue_ok("grant", json.loads(fixture("grant.json")), "mairie", self.ceilings)
        req = self.issue_ok("request", self.request_for(grant), "mairie")
        st, d = self.decide(req, grant, self.now)
        self.assertEqual((st, [r["code"] for r in d["reasons"]]), (DENIED, ["key_not_valid"]))

    def test_log(self):
        c = self.c
        st, log = c.new_handle("log_new")
        self.assertEqual(st, OK)
        try:
            entries = [b"entry %d" % i for i in range(7)]
            for i, e in enumerate(entries):
                idx = c_uint64(99)
                self.assertEqual(c.log_append(log, e, len(e), byref(idx)), OK)
                self.assertEqual(idx.value, i)
            st, root = c.call_buf("log_root", log, 7)
            self.assertEqual((st, len(root)), (OK, 32))
            for i, e in enumerate(entries):
                st, proof = c.call_buf("log_inclusion_proof", log, i, 7)
                self.assertEqual(st, OK)
                self.assertEqual(c.log_verify_inclusion(e, len(e), i, 7, proof, len(proof), root, 32), OK)
                self.assertEqual(
                    c.log_verify_inclusion(e + b"!", len(e) + 1, i, 7, proof, len(proof), root, 32),
                    PROOF_INVALID,
                )
            st, old = c.call_buf("log_root", log, 4)
            st, proof = c.call_buf("log_consistency_proof", log, 4, 7)
            self.assertEqual(c.log_verify_consistency(4, 7, proof, len(proof), old, 32, root, 32), OK)
            self.assertEqual(
                c.log_verify_consistency(4, 7, proof, len(proof), root, 32, old, 32), PROOF_INVALID
            )
            # One-leaf tree: an empty proof, passed as NULL with length 0.
            st, root1 = c.call_buf("log_root", log, 1)
            self.assertEqual(c.log_verify_inclusion(entries[0], len(entries[0]), 0, 1, None, 0, root1, 32), OK)
        finally:
            c.log_free(log)

    def test_threads_share_a_ledger(self):
        # Rounds of sixteen threads, released together by a barrier, each asking once under a
        # new one-time grant: each round allows exactly one, and every denial is one_time_used.
        doc = json.loads(fixture("grant.json"))
        doc["access"] = "one_time"
        for round_ in range(20):
            doc["id"] = str(uuid.UUID(int=0x5E5510 + round_))
            grant = self.issue_ok("grant", doc, "parent", self.ceilings)
            requests = [self.issue_ok("request", self.request_for(grant), "mairie") for _ in range(16)]
            barrier = threading.Barrier(len(requests))
            results = []

            def run(req):
                barrier.wait()
                st, d = self.decide(req, grant, self.now)
                results.append((st, d["decision"], [r["code"] for r in d.get("reasons", [])]))

            threads = [threading.Thread(target=run, args=(r,)) for r in requests]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(
                sorted(results),
                [(OK, "allow", [])] + [(DENIED, "deny", ["one_time_used"])] * 15,
                f"round {round_}",
            )


class Misuse(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = Consentry(LIB_PATH)

    def test_null_pointers(self):
        c = self.c
        h = c_void_p(1)
        self.assertEqual(c.directory_from_json(None, 5, byref(h)), NULL_ARGUMENT)
        self.assertIsNone(h.value, "the out handle is reset")
        self.assertEqual(c.directory_from_json(b"{}", 2, None), NULL_ARGUMENT)
        self.assertIn("out is NULL", c.last_error())
        self.assertEqual(c.signing_key_public_key(None, None), NULL_ARGUMENT)
        self.assertEqual(c.lib.consentry_last_error(None), NULL_ARGUMENT)
        buf = Buf()
        self.assertEqual(c.decide(None, None, None, None, None, 0, None, 0, 0, byref(buf)), NULL_ARGUMENT)
        self.assertEqual(c.issue_request(b"{}", 2, None, byref(buf)), NULL_ARGUMENT)
        self.assertEqual(c.log_size(None, None), NULL_ARGUMENT)

    def test_zero_lengths_and_garbage(self):
        c = self.c
        h = c_void_p()
        self.assertEqual(c.directory_from_json(b"", 0, byref(h)), INVALID_JSON)
        self.assertEqual(c.directory_from_cbor(b"", 0, byref(h)), INVALID_INPUT)
        self.assertEqual(c.directory_from_cbor(os.urandom(64), 64, byref(h)), INVALID_INPUT)
        self.assertEqual(c.ceilings_from_json(b"{", 1, byref(h)), INVALID_JSON)
        self.assertEqual(c.ceilings_from_json(b'[{"publisher":1}]', 17, byref(h)), INVALID_INPUT)
        self.assertEqual(c.signing_key_from_seed(b"\0" * 31, 31, byref(h)), INVALID_INPUT)
        self.assertEqual(c.signing_key_from_pkcs8(b"\x30\x00", 2, byref(h)), INVALID_INPUT)
        self.assertIsNone(h.value)
        st, out = c.call_buf("object_inspect", b"\xd2\x84", 2)
        self.assertEqual((st, out), (INVALID_INPUT, b""))
        for n in range(0, 200, 7):
            junk = os.urandom(n)
            st, out = c.call_buf("object_inspect", junk, n)
            self.assertIn(st, (INVALID_INPUT,))

    def test_invalid_utf8(self):
        c = self.c
        h = c_void_p()
        bad = b'{"version":"\xff\xfe"}'
        self.assertEqual(c.directory_from_json(bad, len(bad), byref(h)), INVALID_UTF8)
        self.assertIn("UTF-8", c.last_error())

    def test_unsorted_request_categories_are_refused(self):
        c = self.c
        seed = fixture("mairie.seed")
        st, key = c.new_handle("signing_key_from_seed", seed, 32)
        try:
            doc = json.loads(fixture("request_extra.json"))
            doc["categories"].reverse()
            text = json.dumps(doc).encode()
            st, out = c.call_buf("issue_request", text, len(text), key)
            self.assertEqual((st, out), (INVALID_INPUT, b""))
            self.assertIn("categories", c.last_error())
            doc["unknown_field"] = 1
            text = json.dumps(doc).encode()
            self.assertEqual(c.call_buf("issue_request", text, len(text), key)[0], INVALID_INPUT)
        finally:
            c.signing_key_free(key)

    def test_free_null_twice(self):
        c = self.c
        for name in ("directory", "ceilings", "signing_key", "ledger", "log"):
            getattr(c, name + "_free")(None)
            getattr(c, name + "_free")(None)
        c.buf_free(None)
        c.buf_free(None)
        buf = Buf()
        c.buf_free(byref(buf))
        c.buf_free(byref(buf))

    def test_status_names(self):
        self.assertEqual(self.c.status_name(DENIED), b"DENIED")
        self.assertEqual(self.c.status_name(12345), b"UNKNOWN")
        self.assertTrue(self.c.version())


class ServiceStory(unittest.TestCase):
    """The canteen story as a provider's service runs it through the ABI: the directory from its
    operator's signed version and a key rotation, a verifier with receipts on a SQLite ledger,
    the receipt, a denial entry, a pause, the signed head, an inclusion proof, the parent's
    history checked against the head, and the ledger reopened with its state."""

    @classmethod
    def setUpClass(cls):
        cls.c = Consentry(LIB_PATH)

    def key(self, name, crypto=None):
        seed = fixture(name + ".seed")
        st, k = self.c.new_handle("signing_key_from_seed_with", crypto, seed, len(seed))
        self.assertEqual(st, OK, self.c.last_error())
        self.addCleanup(self.c.signing_key_free, k)
        return k

    def public(self, key):
        st, pub = self.c.call_buf("signing_key_public_key", key)
        self.assertEqual(st, OK)
        return pub

    def issue(self, kind, name, key, *extra):
        doc = fixture(name)
        st, out = self.c.call_buf("issue_" + kind, doc, len(doc), key, *extra)
        self.assertEqual(st, OK, self.c.last_error())
        return out

    def decide(self, request, *, keep=False):
        d, buf = c_void_p(), Buf()
        st = self.c.verifier_decide(
            self.verifier, self.directory, self.ceilings, self.ledger, request, len(request),
            self.grant, len(self.grant), self.now, byref(buf), byref(d) if keep else None,
        )
        out = self.c.take(buf)
        if keep:
            self.addCleanup(self.c.decision_free, d)
            return st, json.loads(out), d
        return st, json.loads(out)

    def codes(self, decision):
        return [r["code"] for r in decision.get("reasons", [])]

    def setUp(self):
        c = self.c
        self.now = int(fixture("now"))
        self.provider = fixture("provider.id")
        self.parent_id = fixture("parent.id")
        anchor = fixture("operator.pub")
        signed = fixture("directory.signed")
        st, self.history = c.new_handle("directory_history_load", signed, len(signed), anchor, 32)
        self.assertEqual(st, OK, c.last_error())
        self.addCleanup(c.directory_history_free, self.history)
        update = fixture("directory_update.cose")
        version = c_uint64(99)
        self.assertEqual(c.directory_history_apply(self.history, update, len(update), byref(version)), OK)
        self.assertEqual(version.value, 1)
        self.assertEqual(c.directory_history_apply(self.history, update, len(update), None), REFUSED)
        self.assertTrue(c.last_error().startswith("update/already_applied"))
        st, self.directory = c.new_handle("directory_history_at", self.history, self.now)
        self.assertEqual(st, OK)
        self.addCleanup(c.directory_free, self.directory)
        j = fixture("ceilings.json")
        st, self.ceilings = c.new_handle("ceilings_from_json", j, len(j))
        self.addCleanup(c.ceilings_free, self.ceilings)
        self.dgfip = self.key("dgfip", b"ring")
        self.parent, self.mairie = self.key("parent"), self.key("mairie2")
        st, self.verifier = c.new_handle("verifier_new", self.provider, b"ring", self.dgfip)
        self.assertEqual(st, OK, c.last_error())
        self.addCleanup(c.verifier_free, self.verifier)
        self.db = os.path.join(FIXTURES, "python-story-%d.db" % os.getpid())
        self.addCleanup(self.remove_db)
        self.remove_db()
        st, self.ledger = c.new_handle("ledger_open_sqlite", self.db.encode())
        self.assertEqual(st, OK, c.last_error())
        self.grant = self.issue("grant", "grant.json", self.parent, self.ceilings)

    def remove_db(self):
        for end in ("", "-wal", "-shm"):
            try:
                os.remove(self.db + end)
            except FileNotFoundError:
                pass

    def tearDown(self):
        self.c.ledger_free(self.ledger)

    def test_the_whole_story(self):
        c = self.c
        # The rotated-out key signs nothing new.
        old = self.issue("request", "request_old_key.json", self.key("mairie"))
        st, d = self.decide(old)
        self.assertEqual((st, self.codes(d)), (DENIED, ["key_not_valid"]))
        # As granted, with the new key: allowed, with the receipt the verifier signed.
        st, d, decision = self.decide(self.issue("request", "request.json", self.mairie), keep=True)
        self.assertEqual(st, OK, d)
        st, receipt = c.call_buf("decision_receipt", decision)
        self.assertEqual(st, OK)
        self.assertEqual(receipt.hex(), d["receipt"])
        st, info = c.call_buf("object_inspect", receipt, len(receipt))
        self.assertEqual(json.loads(info)["kind"], "receipt")
        self.assertEqual(c.call_buf("decision_denial_entry", decision)[0], INVALID_INPUT)
        rid = fixture("receipt.id")
        st, issued = c.call_buf("receipt_issue", decision, self.dgfip, rid, self.now)
        self.assertEqual(st, OK, c.last_error())
        st, entry = c.call_buf("log_entry_receipt", issued, len(issued))
        st, info = c.call_buf("log_entry_inspect", entry, len(entry))
        info = json.loads(info)
        self.assertEqual((info["kind"], info["about"]["id"], info["subject"]),
                         ("receipt", rid.decode(), self.parent_id.decode()))
        # An extra category: denied; its denial entry names the subject and the codes.
        st, d, decision = self.decide(self.issue("request", "request_extra.json", self.mairie), keep=True)
        self.assertEqual((st, self.codes(d)), (DENIED, ["categories_not_covered", "frequency_exhausted"]))
        st, entry = c.call_buf("decision_denial_entry", decision)
        self.assertEqual(st, OK)
        st, info = c.call_buf("log_entry_inspect", entry, len(entry))
        info = json.loads(info)
        self.assertEqual((info["kind"], info["about"]["reasons"], info["subject"]),
                         ("denial", ["categories_not_covered", "frequency_exhausted"],
                          self.parent_id.decode()))
        self.assertEqual(c.call_buf("decision_receipt", decision)[0], INVALID_INPUT)
        # The parent pauses; the next request is denied for it.
        pause = self.issue("statement", "pause.json", self.parent)
        st, out = c.call_buf("verifier_apply_statement", self.verifier, self.directory, self.ceilings,
                             self.ledger, pause, len(pause), self.grant, len(self.grant), self.now)
        self.assertEqual((st, json.loads(out)["status"]["status"]), (OK, "paused"))
        st, d = self.decide(self.issue("request", "request_paused.json", self.mairie))
        self.assertEqual((st, self.codes(d)), (DENIED, ["paused", "frequency_exhausted"]))
        # The ledger's log: denial, receipt, denial, statement, denial; the head signed.
        size = c_uint64()
        self.assertEqual(c.ledger_log_size(self.ledger, byref(size)), OK)
        self.assertEqual(size.value, 5)
        kinds = []
        for i in range(5):
            st, e = c.call_buf("ledger_log_entry", self.ledger, i)
            kinds.append(json.loads(c.call_buf("log_entry_inspect", e, len(e))[1])["kind"])
        self.assertEqual(kinds, ["denial", "receipt", "denial", "statement", "denial"])
        st, head = c.call_buf("ledger_sign_head", self.ledger, self.dgfip, self.provider, self.now)
        self.assertEqual(st, OK, c.last_error())
        pub = self.public(self.dgfip)
        st, claims = c.call_buf("tree_head_verify", head, len(head), self.provider, pub, 32)
        self.assertEqual((st, json.loads(claims)["tree_size"]), (OK, 5))
        st, root = c.call_buf("ledger_log_root", self.ledger, 5)
        self.assertEqual(json.loads(claims)["root_hash"], root.hex())
        other = self.public(self.parent)
        self.assertEqual(c.call_buf("tree_head_verify", head, len(head), self.provider, other, 32)[0],
                         VERIFY_FAILED)
        self.assertTrue(c.last_error().startswith("log/wrong_key"))
        # The receipt's inclusion under the head.
        st, e1 = c.call_buf("ledger_log_entry", self.ledger, 1)
        st, proof = c.call_buf("ledger_log_inclusion_proof", self.ledger, 1, 5)
        args = (head, len(head), self.provider, pub, 32)
        self.assertEqual(c.tree_head_verify_inclusion(*args, e1, len(e1), 1, proof, len(proof)), OK)
        self.assertEqual(c.tree_head_verify_inclusion(*args, e1, len(e1), 3, proof, len(proof)),
                         PROOF_INVALID)
        # The parent's history, checked against the head with the provider's public key alone.
        st, history = c.call_buf("ledger_access_history", self.ledger, self.parent_id, 5)
        self.assertEqual(st, OK)
        self.assertEqual([i["index"] for i in json.loads(history)["items"]], [0, 1, 2, 3, 4])
        st, report = c.call_buf("verify_history", history, len(history), *args)
        report = json.loads(report)
        self.assertEqual((st, report["clean"], len(report["verified"])), (OK, True, 5))
        self.assertEqual([v["entry"]["kind"] for v in report["verified"]], kinds)
        # An entry left out and one moved: the moved one fails, with its code.
        doc = json.loads(history)
        doc["items"] = [doc["items"][0], dict(doc["items"][1], index=2)]
        forged = json.dumps(doc).encode()
        st, report = c.call_buf("verify_history", forged, len(forged), *args)
        report = json.loads(report)
        self.assertEqual((st, report["clean"]), (VERIFY_FAILED, False))
        self.assertEqual([f["position"] for f in report["failures"]], [1])
        # Closed and opened again: the log, its head, the pause and the use are kept.
        c.ledger_free(self.ledger)
        st, self.ledger = c.new_handle("ledger_open_sqlite", self.db.encode())
        self.assertEqual(st, OK, c.last_error())
        self.assertEqual(c.ledger_log_size(self.ledger, byref(size)), OK)
        self.assertEqual(size.value, 5)
        self.assertEqual(c.call_buf("ledger_latest_head", self.ledger), (OK, head))
        st, d = self.decide(self.issue("request", "request_paused.json", self.mairie))
        self.assertIn("paused", self.codes(d))
        self.assertEqual(c.call_buf("ledger_take_decisions", self.ledger)[0], UNSUPPORTED)

    def test_a_log_kept_apart(self):
        c = self.c
        st, log = c.new_handle("log_new")
        self.addCleanup(c.log_free, log)
        st, entry = c.call_buf("log_entry_grant_issued", self.grant, len(self.grant))
        self.assertEqual(c.log_append_entry(log, entry, len(entry), None), OK)
        pause = self.issue("statement", "pause.json", self.parent)
        st, entry = c.call_buf("log_entry_statement", pause, len(pause), self.grant, len(self.grant))
        self.assertEqual(c.log_append_entry(log, entry, len(entry), None), OK)
        self.assertEqual(c.log_append_entry(log, b"raw", 3, None), INVALID_INPUT)
        self.assertEqual(c.log_append(log, b"raw", 3, None), OK)  # raw bytes: nobody's history
        st, head = c.call_buf("log_sign_head", log, self.dgfip, self.provider, self.now)
        st, history = c.call_buf("log_access_history", log, self.parent_id, 3)
        self.assertEqual(len(json.loads(history)["items"]), 2)
        pub = self.public(self.dgfip)
        st, report = c.call_buf("verify_history", history, len(history), head, len(head),
                                self.provider, pub, 32)
        self.assertEqual((st, json.loads(report)["clean"]), (OK, True))

    def test_checkpoint_and_crypto_by_name(self):
        c = self.c
        operator = self.key("operator")
        st, cp = c.call_buf("directory_history_checkpoint", self.history, self.now, operator)
        st, h2 = c.new_handle("directory_history_load", cp, len(cp), fixture("operator.pub"), 32)
        self.assertEqual(st, OK, c.last_error())
        v = c_uint64()
        self.assertEqual(c.directory_history_version(h2, byref(v)), OK)
        self.assertEqual(v.value, 1)
        c.directory_history_free(h2)
        wrong = self.public(self.parent)
        signed = fixture("directory.signed")
        self.assertEqual(c.new_handle("directory_history_load", signed, len(signed), wrong, 32)[0],
                         VERIFY_FAILED)
        st, names = c.call_buf("crypto_providers")
        names = json.loads(names)
        self.assertEqual(names[0], "ring")
        want = OK if "aws-lc-rs" in names else UNSUPPORTED
        st, v2 = c.new_handle("verifier_new", self.provider, b"aws-lc-rs", None)
        self.assertEqual(st, want)
        c.verifier_free(v2)
        self.assertEqual(c.new_handle("verifier_new", self.provider, b"rot13", None)[0], INVALID_INPUT)
        self.assertEqual(c.new_handle("ledger_open_sqlite", b"/nonexistent/dir/x.db")[0], STORAGE)


class Round(unittest.TestCase):
    """Notifications, deletion evidence, the overdue query, usage statistics and derivations:
    DGFiP pauses the two-provider grant with notifications, CNAF receives its own, the city hall
    deletes what it received, an auditor asks which receipts are overdue, a publisher counts."""

    @classmethod
    def setUpClass(cls):
        cls.c = Consentry(LIB_PATH)

    def key(self, name):
        seed = fixture(name + ".seed")
        st, k = self.c.new_handle("signing_key_from_seed", seed, len(seed))
        self.assertEqual(st, OK, self.c.last_error())
        self.addCleanup(self.c.signing_key_free, k)
        return k

    def handle(self, fn, *args, free):
        st, h = self.c.new_handle(fn, *args)
        self.assertEqual(st, OK, self.c.last_error())
        self.addCleanup(getattr(self.c, free), h)
        return h

    def issue(self, kind, name, key, *extra):
        doc = fixture(name)
        st, out = self.c.call_buf("issue_" + kind, doc, len(doc), key, *extra)
        self.assertEqual(st, OK, self.c.last_error())
        return out

    def setUp(self):
        c = self.c
        self.now = int(fixture("now"))
        self.provider, self.cnaf_id = fixture("provider.id"), fixture("cnaf.id")
        self.mairie_id, self.parent_id = fixture("mairie.id"), fixture("parent.id")
        d = fixture("directory.json")
        self.directory = self.handle("directory_from_json", d, len(d), free="directory_free")
        j = fixture("ceilings.json")
        self.ceilings = self.handle("ceilings_from_json", j, len(j), free="ceilings_free")
        self.parent, self.mairie = self.key("parent"), self.key("mairie")
        self.dgfip, self.cnaf = self.key("dgfip"), self.key("cnaf")
        self.v_dgfip = self.handle("verifier_new", self.provider, None, self.dgfip,
                                   free="verifier_free")
        self.v_cnaf = self.handle("verifier_new", self.cnaf_id, None, self.cnaf,
                                  free="verifier_free")
        self.l_dgfip = self.handle("ledger_new", free="ledger_free")
        self.l_cnaf = self.handle("ledger_new", free="ledger_free")
        self.grant = self.issue("grant", "grant_notified.json", self.parent, self.ceilings)

    def decide(self, verifier, ledger, request, basis):
        d, buf = c_void_p(), Buf()
        st = self.c.verifier_decide(verifier, self.directory, self.ceilings, ledger, request,
                                    len(request), basis, len(basis), self.now, byref(buf),
                                    byref(d))
        out = json.loads(self.c.take(buf))
        self.addCleanup(self.c.decision_free, d)
        return st, out, d

    def receipt(self, request_name, basis):
        request = self.issue("request", request_name, self.mairie)
        st, out, d = self.decide(self.v_dgfip, self.l_dgfip, request, basis)
        self.assertEqual(st, OK, out)
        st, receipt = self.c.call_buf("decision_receipt", d)
        self.assertEqual(st, OK)
        return receipt

    def receive(self, inbox, note):
        return self.c.call_buf("inbox_receive_statement", inbox, self.v_cnaf, self.directory,
                               self.ceilings, self.l_cnaf, note, len(note), self.now)

    def test_notifications_deletion_overdue_and_statistics(self):
        c = self.c
        hab = self.issue("habilitation", "habilitation.json", self.key("authority"), self.ceilings)
        receipt = self.receipt("request_notified.json", self.grant)
        self.receipt("request_habilitation.json", hab)
        # DGFiP applies the parent's pause with notifications for the city hall and CNAF.
        pause = self.issue("statement", "pause_notified.json", self.parent)
        args = (self.v_dgfip, self.directory, self.ceilings, self.l_dgfip, pause, len(pause),
                self.grant, len(self.grant), self.now, None)
        st, out = c.call_buf("verifier_apply_statement_notifying", *args)
        out = json.loads(out)
        self.assertEqual((st, out["applied"], out["status"]["status"]), (OK, True, "paused"))
        want = sorted([self.cnaf_id.decode(), self.mairie_id.decode()])
        self.assertEqual(sorted(n["recipient"] for n in out["notifications"]), want)
        st, out = c.call_buf("verifier_apply_statement_notifying", *args)
        self.assertEqual((st, json.loads(out)["applied"]), (REFUSED, False))
        # The outbox lists exactly those two, each numbered 1 in its stream.
        st, pending = c.call_buf("ledger_outbox_pending", self.l_dgfip, 10)
        pending = json.loads(pending)
        self.assertEqual(sorted((n["recipient"], n["seq"], n["emitter"]) for n in pending),
                         [(r, 1, self.provider.decode()) for r in want])
        notes = {n["recipient"]: bytes.fromhex(n["bytes"]) for n in pending}
        to_cnaf, to_mairie = notes[self.cnaf_id.decode()], notes[self.mairie_id.decode()]
        st, info = c.call_buf("object_inspect", to_cnaf, len(to_cnaf))
        info = json.loads(info)
        self.assertEqual((info["kind"], info["claims"]["recipient"], info["claims"]["seq"]),
                         ("notification", self.cnaf_id.decode(), 1))
        # CNAF's inbox: misaddressed and forged refused with their codes, its own applied.
        inbox = self.handle("inbox_new", self.cnaf_id, free="inbox_free")
        self.assertEqual(self.receive(inbox, to_mairie), (REFUSED, b""))
        self.assertTrue(c.last_error().startswith("notification/misaddressed"))
        forged = to_cnaf[:-1] + bytes([to_cnaf[-1] ^ 1])
        self.assertEqual(self.receive(inbox, forged)[0], VERIFY_FAILED)
        self.assertTrue(c.last_error().startswith("notification/forged"))
        st, out = self.receive(inbox, to_cnaf)
        self.assertEqual((st, json.loads(out)),
                         (OK, {"outcome": "applied",
                               "status": {"status": "paused", "since": self.now}}))
        seq = c_uint64(9)
        self.assertEqual(c.inbox_last_seq(inbox, self.provider, byref(seq)), OK)
        self.assertEqual(seq.value, 1)
        # CNAF now denies a request under the grant as paused; a redelivery is ignored.
        request = self.issue("request", "request_cnaf.json", self.mairie)
        st, out, _ = self.decide(self.v_cnaf, self.l_cnaf, request, self.grant)
        self.assertEqual((st, [r["code"] for r in out["reasons"]]), (DENIED, ["paused"]))
        st, out = self.receive(inbox, to_cnaf)
        self.assertEqual((st, json.loads(out)), (OK, {"outcome": "already_applied"}))
        # The service saves the stream that changed, restarts and resumes from it: the
        # redelivery is still recognised. A truncated state is refused, the inbox unchanged.
        st, saved = c.call_buf("inbox_take_changed", inbox)
        emitter = uuid.UUID(self.provider.decode()).bytes
        self.assertEqual((st, saved[:24], len(saved)), (OK, emitter + (1).to_bytes(8, "big"), 56))
        self.assertEqual(c.call_buf("inbox_take_changed", inbox), (OK, b""))
        restarted = self.handle("inbox_new", self.cnaf_id, free="inbox_free")
        self.assertEqual(c.inbox_resume(restarted, saved, len(saved) - 32), STORAGE)
        self.assertTrue(c.last_error().startswith("ledger_corrupt: "))
        self.assertEqual(c.inbox_resume(restarted, saved, len(saved)), OK)
        self.assertEqual(c.inbox_last_seq(restarted, self.provider, byref(seq)), OK)
        self.assertEqual(seq.value, 1)
        st, out = self.receive(restarted, to_cnaf)
        self.assertEqual((st, json.loads(out)), (OK, {"outcome": "already_applied"}))
        removed = c_uint64(9)
        self.assertEqual(c.ledger_outbox_acknowledge(self.l_dgfip, self.provider, self.cnaf_id, 1,
                                                     byref(removed)), OK)
        self.assertEqual(removed.value, 1)
        st, left = c.call_buf("ledger_outbox_pending", self.l_dgfip, 10)
        self.assertEqual([n["recipient"] for n in json.loads(left)], [self.mairie_id.decode()])
        # The city hall deletes the data of the grant's transfer; logged once.
        deleted_at = int(fixture("deleted_at"))
        st, deletion = c.call_buf("deletion_issue", receipt, len(receipt), self.mairie,
                                  deleted_at, deleted_at)
        self.assertEqual(st, OK, c.last_error())
        self.assertEqual(c.ledger_log_deletion(self.l_dgfip, self.directory, deletion,
                                               len(deletion)), OK)
        self.assertEqual(c.ledger_log_deletion(self.l_dgfip, self.directory, deletion,
                                               len(deletion)), REFUSED)
        self.assertTrue(c.last_error().startswith("deletion/already_deleted"))
        # The parent's history: one line "deleted on", one "not deleted yet".
        overdue_at = int(fixture("overdue_at"))
        st, head = c.call_buf("ledger_sign_head", self.l_dgfip, self.dgfip, self.provider,
                              overdue_at)
        st, pub = c.call_buf("signing_key_public_key", self.dgfip)
        st, history = c.call_buf("ledger_access_history", self.l_dgfip, self.parent_id, 4)
        st, report = c.call_buf("verify_history_retention", history, len(history), head,
                                len(head), self.provider, pub, 32, self.directory, deleted_at)
        report = json.loads(report)
        self.assertEqual(st, OK, c.last_error())
        self.assertEqual([r["state"] for r in report["retention"]], ["deleted", "not_yet"])
        self.assertIn(", deleted on ", report["retention"][0]["line"])
        self.assertEqual(report["retention"][0]["deleted"]["deleted_at"], deleted_at)
        # The overdue query: exactly the habilitation's receipt, entry 1.
        hargs = (head, len(head), self.provider, pub, 32, self.directory)
        st, overdue = c.call_buf("ledger_overdue_report", self.l_dgfip, *hargs, overdue_at)
        self.assertEqual(st, OK, c.last_error())
        self.assertEqual([i["index"] for i in json.loads(overdue)["items"]], [1])
        st, entries = c.call_buf("ledger_log_entries", self.l_dgfip, 4)
        self.assertEqual(len(json.loads(entries)), 4)
        vargs = (self.provider, pub, 32, self.directory)
        st, confirmed = c.call_buf("verify_overdue", overdue, len(overdue), entries,
                                   len(entries), *vargs)
        self.assertEqual((st, [r["index"] for r in json.loads(confirmed)]), (OK, [1]))
        dropped = json.dumps(json.loads(entries)[:3]).encode()
        st, _ = c.call_buf("verify_overdue", overdue, len(overdue), dropped, len(dropped), *vargs)
        self.assertEqual(st, VERIFY_FAILED)
        self.assertTrue(c.last_error().startswith("overdue/entry_count"))
        # Usage statistics over the story's day, threshold 1.
        st, usage = c.call_buf("ledger_usage_report", self.l_dgfip, head, len(head),
                               self.provider, pub, 32, self.now, self.now + 86400, 1)
        self.assertEqual(st, OK, c.last_error())
        counts = {b["dimension"]: (b["total"], {r["key"]: r["count"] for r in b["rows"]})
                  for b in json.loads(usage)["breakdowns"]}
        legal = counts["legal_basis"][1]
        self.assertEqual(counts["provider"], (2, {self.provider.decode(): 2}))
        self.assertEqual(counts["consumer"], (2, {self.mairie_id.decode(): 2}))
        self.assertEqual(counts["purpose"], (2, {"education:tarification_cantine": 2}))
        self.assertEqual((counts["legal_basis"][0], legal["consent"], sorted(legal.values())),
                         (2, 1, [1, 1]))
        self.assertEqual(counts["denial_reason"], (0, {}))
        st, csv = c.call_buf("usage_report_csv", usage, len(usage))
        self.assertEqual(st, OK)
        self.assertTrue(csv.startswith(b"section,key,value\r\n"))
        self.assertIn(b"provider,total,2\r\n", csv)
        vargs = (entries, len(entries), head, len(head), self.provider, pub, 32)
        self.assertEqual(c.usage_report_verify(usage, len(usage), *vargs), OK)
        doc = json.loads(usage)
        doc["breakdowns"][0]["total"] = 3
        forged = json.dumps(doc).encode()
        self.assertEqual(c.usage_report_verify(forged, len(forged), *vargs), VERIFY_FAILED)
        self.assertTrue(c.last_error().startswith("stats/report_mismatch"))

    def test_derivations(self):
        c = self.c
        j = fixture("ceilings.json")
        ceilings = self.handle("ceilings_from_json", j, len(j), free="ceilings_free")
        doc = fixture("grant_derived.json")
        st, _ = c.call_buf("issue_grant", doc, len(doc), self.parent, ceilings)
        self.assertEqual(st, BEYOND_CEILING)
        vocabulary = fixture("derivations.json")
        self.assertEqual(c.ceilings_define_derivations(ceilings, vocabulary, len(vocabulary)), OK)
        clash = json.dumps([dict(json.loads(vocabulary)[1], kind="below", max_bounds=None)])
        clash = json.dumps([{k: v for k, v in json.loads(clash)[0].items() if v is not None}])
        self.assertEqual(c.ceilings_define_derivations(ceilings, clash.encode(), len(clash)),
                         INVALID_INPUT)
        self.assertTrue(c.last_error().startswith("derivation/redefined"))
        derived = self.issue("grant", "grant_derived.json", self.parent, ceilings)
        request = self.issue("request", "request_derived.json", self.mairie)
        st, out = c.call_buf("decide", self.directory, ceilings, self.l_dgfip, self.provider,
                             request, len(request), derived, len(derived), self.now)
        self.assertEqual(st, OK, out)
        self.assertIn(b"dgfip:tranche_rfr", out)
        # Ceilings releasing the income only as a bracket: the plain grant is refused.
        j = fixture("ceilings_derived_only.json")
        only = self.handle("ceilings_from_json", j, len(j), free="ceilings_free")
        self.assertEqual(c.ceilings_define_derivations(only, vocabulary, len(vocabulary)), OK)
        plain = self.issue("grant", "grant.json", self.parent, self.ceilings)
        doc = fixture("grant.json")
        self.assertEqual(c.call_buf("issue_grant", doc, len(doc), self.parent, only)[0],
                         BEYOND_CEILING)
        request = self.issue("request", "request_raw.json", self.mairie)
        st, out = c.call_buf("decide", self.directory, only, self.l_cnaf, self.provider,
                             request, len(request), plain, len(plain), self.now)
        self.assertEqual((st, [r["code"] for r in json.loads(out)["reasons"]]),
                         (DENIED, ["raw_where_derived_only"]))

    def test_misuse(self):
        c = self.c
        h = c_void_p(1)
        self.assertEqual(c.inbox_new(None, byref(h)), NULL_ARGUMENT)
        self.assertIsNone(h.value)
        self.assertEqual(c.call_buf("deletion_issue", b"\xd2", 1, self.mairie, 0, 0)[0],
                         INVALID_INPUT)
        self.assertTrue(c.last_error().startswith("log/malformed_object"))
        self.assertEqual(c.ledger_log_deletion(self.l_dgfip, None, b"x", 1), NULL_ARGUMENT)
        self.assertEqual(c.call_buf("usage_report_csv", b"{}", 2)[0], INVALID_INPUT)
        self.assertEqual(c.call_buf("ledger_log_entries", self.l_dgfip, 1)[0], INVALID_INPUT)
        self.assertEqual(c.ceilings_define_derivations(None, b"[]", 2), NULL_ARGUMENT)



def main():
    if LIB_PATH is None:
        print(__doc__, file=sys.stderr)
        return 2
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"python-ffi: {passed} passed, {failed} failed")
    if result.testsRun < 16:
        print("too few tests ran", file=sys.stderr)
        return 1
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
