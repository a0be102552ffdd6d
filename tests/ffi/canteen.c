/*
 * The canteen flow through the C ABI, then misuse probes. Every probe must return a status,
 * never crash; the run ends with "N passed, M failed" and exits non-zero on any failure.
 *
 * Usage: canteen FIXTURE_DIR   (the directory written by `cargo run --example ffi_fixtures`)
 */
#define _GNU_SOURCE
#include "consentry.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed = 0, failed = 0;
static const char *fixtures;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (cond) {                                                       \
            passed++;                                                     \
        } else {                                                          \
            failed++;                                                     \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);          \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
        }                                                                 \
    } while (0)

/* Checks a call's status; on a mismatch prints both names and the last error. */
#define EXPECT(call, want)                                                              \
    do {                                                                                \
        consentry_status got_ = (call);                                                 \
        if (got_ != (want)) {                                                           \
            char *err_ = last_error();                                                  \
            CHECK(0, "%s returned %s, expected %s (%s)", #call,                         \
                  consentry_status_name(got_), consentry_status_name(want), err_);      \
            free(err_);                                                                 \
        } else {                                                                        \
            passed++;                                                                   \
        }                                                                               \
    } while (0)

/* The last error as a NUL-terminated string (malloc'd). */
static char *last_error(void) {
    consentry_buf b = {0};
    char *s;
    if (consentry_last_error(&b) != CONSENTRY_STATUS_OK) return strdup("<no message>");
    s = malloc(b.len + 1);
    if (b.len) memcpy(s, b.ptr, b.len);
    s[b.len] = '\0';
    consentry_buf_free(&b);
    return s;
}

static int contains(consentry_buf b, const char *needle) {
    return b.ptr != NULL && memmem(b.ptr, b.len, needle, strlen(needle)) != NULL;
}

static int error_contains(const char *needle) {
    char *e = last_error();
    int found = strstr(e, needle) != NULL;
    free(e);
    return found;
}

/* A fixture file's bytes, NUL-terminated (the terminator is not counted in *len). */
static uint8_t *fixture(const char *name, size_t *len) {
    char path[4096];
    FILE *f;
    long size;
    uint8_t *data;
    snprintf(path, sizeof path, "%s/%s", fixtures, name);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)size + 1);
    if (fread(data, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    data[size] = 0;
    if (len) *len = (size_t)size;
    return data;
}

static uint64_t fixture_u64(const char *name) {
    uint8_t *text = fixture(name, NULL);
    uint64_t v = strtoull((const char *)text, NULL, 10);
    free(text);
    return v;
}

static consentry_signing_key *key_from_seed(const char *name) {
    size_t len;
    uint8_t *seed = fixture(name, &len);
    consentry_signing_key *key = NULL;
    EXPECT(consentry_signing_key_from_seed(seed, len, &key), CONSENTRY_STATUS_OK);
    free(seed);
    return key;
}

/* Issues a request from a JSON fixture. */
static consentry_buf issue_request(const char *name, const consentry_signing_key *key) {
    size_t len;
    uint8_t *json = fixture(name, &len);
    consentry_buf out = {0};
    EXPECT(consentry_issue_request(json, len, key, &out), CONSENTRY_STATUS_OK);
    free(json);
    return out;
}

static consentry_directory *directory;
static consentry_ceilings *ceilings;
static char *provider;

static consentry_status decide(const consentry_ledger *ledger, consentry_buf request,
                               consentry_buf basis, uint64_t now, consentry_buf *out) {
    return consentry_decide(directory, ceilings, ledger, provider, request.ptr, request.len,
                            basis.ptr, basis.len, now, out);
}

/* ---- the canteen flow ---- */

static void canteen_flow(void) {
    size_t len;
    uint8_t *json;
    uint64_t now = fixture_u64("now"), revoke_at = fixture_u64("revoke_at"),
             later = fixture_u64("later");
    consentry_signing_key *parent = key_from_seed("parent.seed");
    consentry_signing_key *mairie = key_from_seed("mairie.seed");
    consentry_signing_key *authority = key_from_seed("authority.seed");
    consentry_ledger *ledger = NULL;
    consentry_buf grant = {0}, digest = {0}, out = {0}, request = {0}, extra = {0},
                  later_req = {0}, revoke = {0}, hab = {0};
    uint8_t *expected_digest;

    EXPECT(consentry_ledger_new(&ledger), CONSENTRY_STATUS_OK);

    /* The parent's grant, signed through the ABI: the same bytes as the Rust library's. */
    json = fixture("grant.json", &len);
    EXPECT(consentry_issue_grant(json, len, parent, ceilings, &grant), CONSENTRY_STATUS_OK);
    free(json);
    CHECK(grant.ptr != NULL && grant.len > 100, "grant bytes: %zu", grant.len);
    EXPECT(consentry_digest_hex(grant.ptr, grant.len, &digest), CONSENTRY_STATUS_OK);
    expected_digest = fixture("grant.digest", NULL);
    CHECK(digest.len == 64 && memcmp(digest.ptr, expected_digest, 64) == 0,
          "grant digest differs from the Rust library's");
    free(expected_digest);
    consentry_buf_free(&digest);

    EXPECT(consentry_object_inspect(grant.ptr, grant.len, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"kind\":\"grant\"") && contains(out, "\"claims\":{"),
          "inspect: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);

    /* A grant beyond the ceilings is refused, and nothing is signed. */
    json = fixture("grant_beyond.json", &len);
    out.ptr = (uint8_t *)json; /* garbage in the out buffer must be overwritten */
    out.len = 3;
    EXPECT(consentry_issue_grant(json, len, parent, ceilings, &out),
           CONSENTRY_STATUS_BEYOND_CEILING);
    CHECK(out.ptr == NULL && out.len == 0, "refused grant left a buffer");
    CHECK(error_contains("categories") && error_contains("retention"),
          "the ceiling refusal names every excess");
    free(json);

    /* A habilitation from the authority. */
    json = fixture("habilitation.json", &len);
    EXPECT(consentry_issue_habilitation(json, len, authority, ceilings, &hab),
           CONSENTRY_STATUS_OK);
    free(json);
    EXPECT(consentry_object_inspect(hab.ptr, hab.len, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"kind\":\"habilitation\""), "habilitation inspect");
    consentry_buf_free(&out);

    /* A request for an extra category: denied, with the reason. */
    extra = issue_request("request_extra.json", mairie);
    EXPECT(decide(ledger, extra, grant, now, &out), CONSENTRY_STATUS_DENIED);
    CHECK(contains(out, "\"decision\":\"deny\"") &&
              contains(out, "\"code\":\"categories_not_covered\"") &&
              contains(out, "dgfip:composition_foyer") && contains(out, "\"message\":"),
          "extra category: %.*s", (int)out.len, out.ptr);
    CHECK(error_contains("categories_not_covered"), "last error names the reason");
    consentry_buf_free(&out);

    /* The request as granted: allowed, with exactly what may be sent. */
    request = issue_request("request.json", mairie);
    EXPECT(decide(ledger, request, grant, now, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"decision\":\"allow\"") &&
              contains(out, "\"categories\":[\"dgfip:revenu_fiscal_reference\"]"),
          "allow: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);

    /* The same request again: a replay. */
    EXPECT(decide(ledger, request, grant, now, &out), CONSENTRY_STATUS_DENIED);
    CHECK(contains(out, "\"code\":\"replayed_request\""), "replay: %.*s", (int)out.len,
          out.ptr);
    consentry_buf_free(&out);

    /* The parent revokes; a second revocation is refused. */
    json = fixture("revoke.json", &len);
    EXPECT(consentry_issue_statement(json, len, parent, &revoke), CONSENTRY_STATUS_OK);
    free(json);
    EXPECT(consentry_apply_statement(directory, ceilings, ledger, provider, revoke.ptr,
                                     revoke.len, grant.ptr, grant.len, revoke_at, &out),
           CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"applied\":true") && contains(out, "\"status\":\"revoked\""),
          "revocation: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_apply_statement(directory, ceilings, ledger, provider, revoke.ptr,
                                     revoke.len, grant.ptr, grant.len, revoke_at, &out),
           CONSENTRY_STATUS_REFUSED);
    CHECK(contains(out, "\"applied\":false") && contains(out, "\"code\":\"already_revoked\""),
          "second revocation: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);

    /* Forty days later, a fresh request: denied because revoked. */
    later_req = issue_request("request_later.json", mairie);
    EXPECT(decide(ledger, later_req, grant, later, &out), CONSENTRY_STATUS_DENIED);
    CHECK(contains(out, "\"code\":\"revoked\""), "after revocation: %.*s", (int)out.len,
          out.ptr);
    consentry_buf_free(&out);

    /* The ledger kept every decision. */
    EXPECT(consentry_ledger_take_decisions(ledger, &out), CONSENTRY_STATUS_OK);
    {
        int n = 0;
        const uint8_t *p = out.ptr, *end = out.ptr + out.len;
        while (p && (p = memmem(p, (size_t)(end - p), "\"allowed\":", 10)) != NULL) {
            n++;
            p += 10;
        }
        CHECK(n == 4, "decisions kept: %d", n);
        CHECK(contains(out, "\"allowed\":true"), "one decision allowed");
    }
    consentry_buf_free(&out);

    consentry_buf_free(&grant);
    consentry_buf_free(&grant); /* freeing twice is a no-op: the buffer was reset */
    consentry_buf_free(&request);
    consentry_buf_free(&extra);
    consentry_buf_free(&later_req);
    consentry_buf_free(&revoke);
    consentry_buf_free(&hab);
    consentry_ledger_free(ledger);
    consentry_signing_key_free(parent);
    consentry_signing_key_free(mairie);
    consentry_signing_key_free(authority);
}

/* ---- the Merkle log ---- */

static void log_flow(void) {
    consentry_log *log = NULL;
    consentry_buf root = {0}, old_root = {0}, proof = {0}, cproof = {0};
    uint64_t index = 99, size = 0;
    const char *entries[] = {"decision 1", "decision 2", "decision 3", "decision 4",
                             "decision 5"};
    int i;

    EXPECT(consentry_log_new(&log), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_root(log, 0, &root), CONSENTRY_STATUS_OK);
    CHECK(root.len == 32 && root.ptr[0] == 0xe3 && root.ptr[1] == 0xb0,
          "empty root is SHA-256 of nothing");
    consentry_buf_free(&root);
    for (i = 0; i < 5; i++) {
        EXPECT(consentry_log_append(log, (const uint8_t *)entries[i], strlen(entries[i]),
                                    &index),
               CONSENTRY_STATUS_OK);
        CHECK(index == (uint64_t)i, "append index %llu", (unsigned long long)index);
        if (i == 2) EXPECT(consentry_log_root(log, 3, &old_root), CONSENTRY_STATUS_OK);
    }
    EXPECT(consentry_log_append(log, (const uint8_t *)"x", 1, NULL), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_size(log, &size), CONSENTRY_STATUS_OK);
    CHECK(size == 6, "size %llu", (unsigned long long)size);

    EXPECT(consentry_log_root(log, 5, &root), CONSENTRY_STATUS_OK);
    CHECK(root.len == 32, "root length");
    EXPECT(consentry_log_inclusion_proof(log, 1, 5, &proof), CONSENTRY_STATUS_OK);
    CHECK(proof.len == 3 * 32, "inclusion proof of leaf 1 in 5 has 3 hashes: %zu", proof.len);
    EXPECT(consentry_log_verify_inclusion((const uint8_t *)entries[1], strlen(entries[1]), 1, 5,
                                          proof.ptr, proof.len, root.ptr, root.len),
           CONSENTRY_STATUS_OK);
    /* Another entry, another index, a tampered proof, a short root. */
    EXPECT(consentry_log_verify_inclusion((const uint8_t *)entries[2], strlen(entries[2]), 1, 5,
                                          proof.ptr, proof.len, root.ptr, root.len),
           CONSENTRY_STATUS_PROOF_INVALID);
    EXPECT(consentry_log_verify_inclusion((const uint8_t *)entries[1], strlen(entries[1]), 2, 5,
                                          proof.ptr, proof.len, root.ptr, root.len),
           CONSENTRY_STATUS_PROOF_INVALID);
    proof.ptr[5] ^= 1;
    EXPECT(consentry_log_verify_inclusion((const uint8_t *)entries[1], strlen(entries[1]), 1, 5,
                                          proof.ptr, proof.len, root.ptr, root.len),
           CONSENTRY_STATUS_PROOF_INVALID);
    proof.ptr[5] ^= 1;
    EXPECT(consentry_log_verify_inclusion((const uint8_t *)entries[1], strlen(entries[1]), 1, 5,
                                          proof.ptr, proof.len - 1, root.ptr, root.len),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_log_verify_inclusion((const uint8_t *)entries[1], strlen(entries[1]), 1, 5,
                                          proof.ptr, proof.len, root.ptr, 31),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_log_verify_inclusion((const uint8_t *)entries[1], strlen(entries[1]), 7, 5,
                                          proof.ptr, proof.len, root.ptr, root.len),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_log_inclusion_proof(log, 9, 5, &cproof), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_log_inclusion_proof(log, 0, 99, &cproof), CONSENTRY_STATUS_INVALID_INPUT);

    EXPECT(consentry_log_consistency_proof(log, 3, 5, &cproof), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_verify_consistency(3, 5, cproof.ptr, cproof.len, old_root.ptr,
                                            old_root.len, root.ptr, root.len),
           CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_verify_consistency(3, 5, cproof.ptr, cproof.len, root.ptr, root.len,
                                            old_root.ptr, old_root.len),
           CONSENTRY_STATUS_PROOF_INVALID);
    EXPECT(consentry_log_verify_consistency(5, 3, cproof.ptr, cproof.len, old_root.ptr,
                                            old_root.len, root.ptr, root.len),
           CONSENTRY_STATUS_INVALID_INPUT);

    consentry_buf_free(&root);
    consentry_buf_free(&old_root);
    consentry_buf_free(&proof);
    consentry_buf_free(&cproof);
    consentry_log_free(log);
}

/* ---- several threads on one log and one key ---- */

#define THREADS 8
#define PER_THREAD 50

struct shared {
    consentry_log *log;
    consentry_signing_key *key;
    int errors;
};

static void *worker(void *arg) {
    struct shared *s = arg;
    int i;
    for (i = 0; i < PER_THREAD; i++) {
        char entry[32];
        consentry_buf pk = {0};
        int n = snprintf(entry, sizeof entry, "entry %d", i);
        if (consentry_log_append(s->log, (const uint8_t *)entry, (size_t)n, NULL) !=
            CONSENTRY_STATUS_OK)
            __atomic_add_fetch(&s->errors, 1, __ATOMIC_SEQ_CST);
        if (consentry_signing_key_public_key(s->key, &pk) != CONSENTRY_STATUS_OK || pk.len != 32)
            __atomic_add_fetch(&s->errors, 1, __ATOMIC_SEQ_CST);
        consentry_buf_free(&pk);
        /* The last error is per thread: a failure here is not seen by the others. */
        if (consentry_directory_from_json((const uint8_t *)"{", 1, &(consentry_directory *){0}) !=
                CONSENTRY_STATUS_INVALID_JSON ||
            !error_contains("directory"))
            __atomic_add_fetch(&s->errors, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static void threads(void) {
    struct shared s = {NULL, key_from_seed("parent.seed"), 0};
    pthread_t t[THREADS];
    uint64_t size = 0;
    int i;
    EXPECT(consentry_log_new(&s.log), CONSENTRY_STATUS_OK);
    for (i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, &s);
    for (i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    EXPECT(consentry_log_size(s.log, &size), CONSENTRY_STATUS_OK);
    CHECK(size == THREADS * PER_THREAD, "concurrent appends: %llu", (unsigned long long)size);
    CHECK(s.errors == 0, "errors in threads: %d", s.errors);
    consentry_log_free(s.log);
    consentry_signing_key_free(s.key);
}

/* ---- misuse: every probe returns a status ---- */

static void misuse(void) {
    static const uint8_t garbage[] = {0xd2, 0x84, 0xff, 0x00, 0x13, 0x37, 0xc0, 0xfe};
    static const uint8_t not_utf8[] = {'{', '"', 0xff, 0xfe, '"', '}'};
    const char *not_utf8_cstr = "\xff\xfe";
    consentry_directory *dir = (consentry_directory *)&passed; /* must be reset to NULL */
    consentry_ceilings *ceil = NULL;
    consentry_signing_key *key = NULL, *parent = key_from_seed("parent.seed");
    consentry_ledger *ledger = NULL;
    consentry_buf out = {(uint8_t *)garbage, 99}, grant = {0}, pkcs8 = {0};
    size_t len;
    uint8_t *json;

    /* Statuses have names. */
    CHECK(strcmp(consentry_status_name(CONSENTRY_STATUS_DENIED), "DENIED") == 0, "name");
    CHECK(strcmp(consentry_status_name(999), "UNKNOWN") == 0, "unknown status name");
    CHECK(strcmp(consentry_status_name(-1), "UNKNOWN") == 0, "negative status name");
    CHECK(consentry_version() != NULL && strlen(consentry_version()) > 0, "version");

    /* NULL pointers. */
    EXPECT(consentry_directory_from_json(NULL, 5, &dir), CONSENTRY_STATUS_NULL_ARGUMENT);
    CHECK(dir == NULL, "the out handle is reset on failure");
    EXPECT(consentry_directory_from_json((const uint8_t *)"{}", 2, NULL),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    CHECK(error_contains("out is NULL"), "the message names the argument");
    EXPECT(consentry_directory_from_cbor(NULL, 1, &dir), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_ceilings_from_json(NULL, 1, &ceil), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_signing_key_from_seed(NULL, 32, &key), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_signing_key_from_pkcs8(NULL, 10, &key), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_signing_key_public_key(NULL, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    CHECK(out.ptr == NULL && out.len == 0, "the out buffer is reset on failure");
    EXPECT(consentry_signing_key_generate(NULL), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_ledger_new(NULL), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_ledger_take_decisions(NULL, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_last_error(NULL), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_digest_hex(NULL, 3, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_directory_to_json(NULL, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_directory_to_cbor(directory, NULL), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_object_inspect(NULL, 4, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_log_new(NULL), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_log_append(NULL, (const uint8_t *)"x", 1, NULL),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_log_size(NULL, NULL), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_log_root(NULL, 0, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_log_inclusion_proof(NULL, 0, 1, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_log_consistency_proof(NULL, 0, 1, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_log_verify_inclusion(NULL, 1, 0, 1, NULL, 0, NULL, 0),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_log_verify_consistency(1, 2, NULL, 32, NULL, 0, NULL, 0),
           CONSENTRY_STATUS_NULL_ARGUMENT);

    json = fixture("grant.json", &len);
    EXPECT(consentry_issue_grant(json, len, NULL, ceilings, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_issue_grant(json, len, parent, NULL, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_issue_grant(json, len, parent, ceilings, NULL),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_issue_grant(NULL, len, parent, ceilings, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_issue_habilitation(json, len, parent, NULL, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_issue_statement(json, len, NULL, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_issue_request(json, len, parent, NULL), CONSENTRY_STATUS_NULL_ARGUMENT);
    /* A grant is not a request, a statement or a habilitation. */
    EXPECT(consentry_issue_request(json, len, parent, &out), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_issue_statement(json, len, parent, &out), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_issue_habilitation(json, len, parent, ceilings, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_issue_grant(json, len, parent, ceilings, &grant), CONSENTRY_STATUS_OK);
    free(json);

    EXPECT(consentry_ledger_new(&ledger), CONSENTRY_STATUS_OK);
    EXPECT(consentry_decide(NULL, ceilings, ledger, provider, grant.ptr, grant.len, grant.ptr,
                            grant.len, 0, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_decide(directory, NULL, ledger, provider, grant.ptr, grant.len, grant.ptr,
                            grant.len, 0, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_decide(directory, ceilings, NULL, provider, grant.ptr, grant.len,
                            grant.ptr, grant.len, 0, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_decide(directory, ceilings, ledger, NULL, grant.ptr, grant.len, grant.ptr,
                            grant.len, 0, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_decide(directory, ceilings, ledger, provider, NULL, 10, grant.ptr,
                            grant.len, 0, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_decide(directory, ceilings, ledger, provider, grant.ptr, grant.len,
                            grant.ptr, grant.len, 0, NULL),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_apply_statement(directory, ceilings, ledger, provider, NULL, 1, grant.ptr,
                                     grant.len, 0, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);

    /* Zero lengths: the empty string, refused for what it is. */
    EXPECT(consentry_directory_from_json((const uint8_t *)"{}", 0, &dir),
           CONSENTRY_STATUS_INVALID_JSON);
    EXPECT(consentry_directory_from_json(NULL, 0, &dir), CONSENTRY_STATUS_INVALID_JSON);
    EXPECT(consentry_directory_from_cbor(garbage, 0, &dir), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_ceilings_from_json(NULL, 0, &ceil), CONSENTRY_STATUS_INVALID_JSON);
    EXPECT(consentry_signing_key_from_seed(garbage, 0, &key), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_signing_key_from_pkcs8(NULL, 0, &key), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_issue_grant(NULL, 0, parent, ceilings, &out),
           CONSENTRY_STATUS_INVALID_JSON);
    EXPECT(consentry_object_inspect(NULL, 0, &out), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_decide(directory, ceilings, ledger, provider, NULL, 0, NULL, 0, 0, &out),
           CONSENTRY_STATUS_DENIED);
    CHECK(contains(out, "\"code\":\"malformed\""), "empty objects: %.*s", (int)out.len,
          out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_digest_hex(NULL, 0, &out), CONSENTRY_STATUS_OK);
    CHECK(out.len == 64 && memcmp(out.ptr, "e3b0c442", 8) == 0, "SHA-256 of nothing");
    consentry_buf_free(&out);
    EXPECT(consentry_log_verify_inclusion(NULL, 0, 0, 1, NULL, 0, NULL, 0),
           CONSENTRY_STATUS_INVALID_INPUT);

    /* Garbage bytes. */
    EXPECT(consentry_directory_from_cbor(garbage, sizeof garbage, &dir),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_directory_from_json(garbage, sizeof garbage, &dir),
           CONSENTRY_STATUS_INVALID_UTF8);
    EXPECT(consentry_signing_key_from_pkcs8(garbage, sizeof garbage, &key),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_signing_key_from_seed(garbage, sizeof garbage, &key),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_object_inspect(garbage, sizeof garbage, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_decide(directory, ceilings, ledger, provider, garbage, sizeof garbage,
                            grant.ptr, grant.len, 0, &out),
           CONSENTRY_STATUS_DENIED);
    CHECK(contains(out, "\"code\":\"malformed\""), "garbage request: %.*s", (int)out.len,
          out.ptr);
    consentry_buf_free(&out);
    /* A grant presented as a request, the grant's bytes with one bit flipped. */
    EXPECT(consentry_decide(directory, ceilings, ledger, provider, grant.ptr, grant.len,
                            grant.ptr, grant.len, 0, &out),
           CONSENTRY_STATUS_DENIED);
    CHECK(contains(out, "\"code\":\"wrong_kind\"") || contains(out, "\"code\":\"malformed\""),
          "grant as request: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    grant.ptr[grant.len - 1] ^= 1;
    EXPECT(consentry_object_inspect(grant.ptr, grant.len, &out), CONSENTRY_STATUS_OK);
    consentry_buf_free(&out);
    EXPECT(consentry_apply_statement(directory, ceilings, ledger, provider, garbage,
                                     sizeof garbage, grant.ptr, grant.len, 0, &out),
           CONSENTRY_STATUS_REFUSED);
    CHECK(contains(out, "\"applied\":false"), "garbage statement");
    consentry_buf_free(&out);

    /* Invalid UTF-8 and invalid JSON. */
    EXPECT(consentry_ceilings_from_json(not_utf8, sizeof not_utf8, &ceil),
           CONSENTRY_STATUS_INVALID_UTF8);
    EXPECT(consentry_issue_grant(not_utf8, sizeof not_utf8, parent, ceilings, &out),
           CONSENTRY_STATUS_INVALID_UTF8);
    EXPECT(consentry_decide(directory, ceilings, ledger, not_utf8_cstr, grant.ptr, grant.len,
                            grant.ptr, grant.len, 0, &out),
           CONSENTRY_STATUS_INVALID_UTF8);
    EXPECT(consentry_decide(directory, ceilings, ledger, "not-a-uuid", grant.ptr, grant.len,
                            grant.ptr, grant.len, 0, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_directory_from_json((const uint8_t *)"{\"version\":", 11, &dir),
           CONSENTRY_STATUS_INVALID_JSON);
    EXPECT(consentry_ceilings_from_json((const uint8_t *)"[1,2]", 5, &ceil),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_ceilings_from_json((const uint8_t *)"{}", 2, &ceil),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_directory_from_json((const uint8_t *)"{\"version\":1}", 13, &dir),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_directory_from_json((const uint8_t *)"{\"version\":3,\"parties\":[]}", 26,
                                         &dir),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_issue_statement((const uint8_t *)"{\"basis\":1}", 11, parent, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(dir == NULL && ceil == NULL && key == NULL, "no handle after a failure");

    /* Ceilings listed twice. */
    json = fixture("ceilings.json", &len);
    {
        size_t dlen = 2 * len + 1;
        char *twice = malloc(dlen + 1);
        /* "[a, b]" + "[a, b]" -> "[a, b,a, b]" */
        memcpy(twice, json, len);
        while (len && twice[len - 1] != ']') len--;
        twice[len - 1] = ',';
        memcpy(twice + len, json + 1, strlen((const char *)json) - 1);
        twice[len + strlen((const char *)json) - 1] = 0;
        EXPECT(consentry_ceilings_from_json((const uint8_t *)twice, strlen(twice), &ceil),
               CONSENTRY_STATUS_INVALID_INPUT);
        CHECK(error_contains("two ceilings"), "duplicate ceilings named");
        free(twice);
    }
    free(json);

    /* PKCS#8 keys round trip. */
    EXPECT(consentry_signing_key_generate(&pkcs8), CONSENTRY_STATUS_OK);
    EXPECT(consentry_signing_key_from_pkcs8(pkcs8.ptr, pkcs8.len, &key), CONSENTRY_STATUS_OK);
    EXPECT(consentry_signing_key_public_key(key, &out), CONSENTRY_STATUS_OK);
    CHECK(out.len == 32, "public key length %zu", out.len);
    consentry_buf_free(&out);
    consentry_signing_key_free(key);
    EXPECT(consentry_signing_key_from_pkcs8(pkcs8.ptr, pkcs8.len - 1, &key),
           CONSENTRY_STATUS_INVALID_INPUT);
    consentry_buf_free(&pkcs8);

    /* The directory's two forms round trip. */
    EXPECT(consentry_directory_to_cbor(directory, &out), CONSENTRY_STATUS_OK);
    EXPECT(consentry_directory_from_cbor(out.ptr, out.len, &dir), CONSENTRY_STATUS_OK);
    consentry_buf_free(&out);
    EXPECT(consentry_directory_to_json(dir, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"parties\""), "directory JSON");
    consentry_buf_free(&out);
    consentry_directory_free(dir);

    /* A success clears the last error. */
    EXPECT(consentry_digest_hex(NULL, 0, &out), CONSENTRY_STATUS_OK);
    consentry_buf_free(&out);
    EXPECT(consentry_last_error(&out), CONSENTRY_STATUS_OK);
    CHECK(out.ptr == NULL && out.len == 0, "no message after a success");

    /* Freeing NULL, twice each; freeing an empty buffer; freeing a freed buffer. */
    consentry_buf_free(NULL);
    consentry_buf_free(NULL);
    consentry_buf_free(&out);
    consentry_buf_free(&grant);
    consentry_buf_free(&grant);
    CHECK(grant.ptr == NULL && grant.len == 0, "a freed buffer is reset");
    consentry_directory_free(NULL);
    consentry_directory_free(NULL);
    consentry_ceilings_free(NULL);
    consentry_ceilings_free(NULL);
    consentry_signing_key_free(NULL);
    consentry_signing_key_free(NULL);
    consentry_ledger_free(NULL);
    consentry_ledger_free(NULL);
    consentry_log_free(NULL);
    consentry_log_free(NULL);
    passed++;

    consentry_ledger_free(ledger);
    consentry_signing_key_free(parent);
}


/* ---- the service's whole job: signed directory, verifier with receipts, SQLite, log ---- */

static int count(consentry_buf b, const char *needle) {
    int n = 0;
    size_t k = strlen(needle);
    const uint8_t *p = b.ptr, *end = b.ptr + b.len;
    while (p && (p = memmem(p, (size_t)(end - p), needle, k)) != NULL) {
        n++;
        p += k;
    }
    return n;
}

static consentry_buf buf_of(const char *name) {
    size_t len;
    uint8_t *data = fixture(name, &len);
    consentry_buf b = {0};
    /* A library buffer is needed by nothing here: keep the bytes in a malloc'd buffer. */
    b.ptr = data;
    b.len = len;
    return b;
}

static void remove_db(const char *path) {
    char p[4200];
    remove(path);
    snprintf(p, sizeof p, "%s-wal", path);
    remove(p);
    snprintf(p, sizeof p, "%s-shm", path);
    remove(p);
}

static consentry_status verifier_decide(const consentry_verifier *v, const consentry_directory *d,
                                        const consentry_ledger *l, consentry_buf request,
                                        consentry_buf basis, uint64_t now, consentry_buf *out,
                                        consentry_decision **decision) {
    return consentry_verifier_decide(v, d, ceilings, l, request.ptr, request.len, basis.ptr,
                                     basis.len, now, out, decision);
}

static void service_story(void) {
    uint64_t now = fixture_u64("now"), genesis_at = fixture_u64("genesis_at"), version = 99,
             size = 0, index = 99;
    consentry_buf signed_dir = buf_of("directory.signed"), update = buf_of("directory_update.cose"),
                  anchor = buf_of("operator.pub"), wrong_anchor = {0}, out = {0}, grant = {0},
                  allowed_req = {0}, old_req = {0}, extra_req = {0}, paused_req = {0},
                  pause = {0}, receipt = {0}, issued = {0}, entry = {0}, head = {0},
                  provider_pub = {0}, proof = {0}, history = {0}, checkpoint = {0}, head2 = {0},
                  providers = {0};
    consentry_signing_key *parent = key_from_seed("parent.seed"),
                          *mairie_old = key_from_seed("mairie.seed"),
                          *mairie = key_from_seed("mairie2.seed"),
                          *dgfip = key_from_seed("dgfip.seed"),
                          *operator_key = key_from_seed("operator.seed"), *dgfip_ring = NULL;
    consentry_directory_history *dh = NULL, *dh2 = NULL;
    consentry_directory *dir = NULL, *old_dir = NULL;
    consentry_verifier *verifier = NULL, *v2 = NULL;
    consentry_ledger *ledger = NULL;
    consentry_decision *decision = NULL;
    consentry_log *log = NULL;
    char db[4200], *parent_id = (char *)fixture("parent.id", NULL),
                   *receipt_id = (char *)fixture("receipt.id", NULL);
    size_t len;
    uint8_t *json, *seed;

    /* 1. The directory, as its operator signed it, then a signed update: the city hall's key
     *    rotated the day before. */
    EXPECT(consentry_directory_history_load(signed_dir.ptr, signed_dir.len, anchor.ptr,
                                            anchor.len, &dh),
           CONSENTRY_STATUS_OK);
    EXPECT(consentry_directory_history_version(dh, &version), CONSENTRY_STATUS_OK);
    CHECK(version == 0, "first version %llu", (unsigned long long)version);
    EXPECT(consentry_signing_key_public_key(mairie_old, &wrong_anchor), CONSENTRY_STATUS_OK);
    EXPECT(consentry_directory_history_load(signed_dir.ptr, signed_dir.len, wrong_anchor.ptr,
                                            wrong_anchor.len, &dh2),
           CONSENTRY_STATUS_VERIFY_FAILED);
    CHECK(error_contains("update/not_operator_key") && dh2 == NULL, "another anchor refused");
    EXPECT(consentry_directory_history_apply(dh, update.ptr, update.len, &version),
           CONSENTRY_STATUS_OK);
    CHECK(version == 1, "version after the rotation %llu", (unsigned long long)version);
    EXPECT(consentry_directory_history_apply(dh, update.ptr, update.len, NULL),
           CONSENTRY_STATUS_REFUSED);
    CHECK(error_contains("update/already_applied"), "a redelivered update is named so");
    update.ptr[update.len - 1] ^= 1;
    EXPECT(consentry_directory_history_apply(dh, update.ptr, update.len, NULL),
           CONSENTRY_STATUS_VERIFY_FAILED);
    CHECK(error_contains("update/bad_signature"), "a tampered update");
    update.ptr[update.len - 1] ^= 1;
    EXPECT(consentry_directory_history_at(dh, genesis_at - 1, &old_dir),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(error_contains("update/before_history") && old_dir == NULL, "before the history");
    EXPECT(consentry_directory_history_at(dh, genesis_at, &old_dir), CONSENTRY_STATUS_OK);
    EXPECT(consentry_directory_history_at(dh, now, &dir), CONSENTRY_STATUS_OK);
    /* A checkpoint of version 1 loads on its own. */
    EXPECT(consentry_directory_history_checkpoint(dh, now, operator_key, &checkpoint),
           CONSENTRY_STATUS_OK);
    EXPECT(consentry_directory_history_load(checkpoint.ptr, checkpoint.len, anchor.ptr,
                                            anchor.len, &dh2),
           CONSENTRY_STATUS_OK);
    EXPECT(consentry_directory_history_version(dh2, &version), CONSENTRY_STATUS_OK);
    CHECK(version == 1, "checkpoint version %llu", (unsigned long long)version);

    /* 2. The provider's verifier: ring by name, receipts signed with its key. */
    EXPECT(consentry_crypto_providers(&providers), CONSENTRY_STATUS_OK);
    CHECK(contains(providers, "\"ring\""), "providers: %.*s", (int)providers.len, providers.ptr);
    EXPECT(consentry_verifier_new(provider, "no-such-provider", dgfip, &v2),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(error_contains("crypto/unknown_provider") && v2 == NULL, "unknown provider");
    EXPECT(consentry_verifier_new(provider, "aws-lc-rs", dgfip, &v2),
           contains(providers, "aws-lc-rs") ? CONSENTRY_STATUS_OK : CONSENTRY_STATUS_UNSUPPORTED);
    consentry_verifier_free(v2);
    v2 = NULL;
    seed = fixture("dgfip.seed", &len);
    EXPECT(consentry_signing_key_from_seed_with("ring", seed, len, &dgfip_ring),
           CONSENTRY_STATUS_OK);
    free(seed);
    EXPECT(consentry_verifier_new(provider, "ring", dgfip_ring, &verifier), CONSENTRY_STATUS_OK);
    /* The key is shared: the verifier keeps it alive. */
    consentry_signing_key_free(dgfip_ring);

    /* 3. The durable ledger, in a SQLite file. */
    snprintf(db, sizeof db, "%s/story.db", fixtures);
    remove_db(db);
    EXPECT(consentry_ledger_open_sqlite(db, &ledger), CONSENTRY_STATUS_OK);

    /* 4. The parent's grant; the consent manager logs it as issued. */
    json = fixture("grant.json", &len);
    EXPECT(consentry_issue_grant(json, len, parent, ceilings, &grant), CONSENTRY_STATUS_OK);
    free(json);
    EXPECT(consentry_log_new(&log), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_entry_grant_issued(grant.ptr, grant.len, &entry), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_append_entry(log, entry.ptr, entry.len, &index), CONSENTRY_STATUS_OK);
    CHECK(index == 0, "grant entry index");
    consentry_buf_free(&entry);

    /* 5. A request signed with the city hall's rotated-out key: denied. */
    old_req = issue_request("request_old_key.json", mairie_old);
    EXPECT(verifier_decide(verifier, dir, ledger, old_req, grant, now, &out, NULL),
           CONSENTRY_STATUS_DENIED);
    CHECK(contains(out, "\"code\":\"key_not_valid\""), "old key: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    /* The same request is good in the directory as it was before the rotation (on a ledger of
     * its own: an allow here uses the grant's quota). */
    {
        consentry_ledger *scratch = NULL;
        EXPECT(consentry_ledger_new(&scratch), CONSENTRY_STATUS_OK);
        EXPECT(consentry_decide(old_dir, ceilings, scratch, provider, old_req.ptr, old_req.len,
                                grant.ptr, grant.len, now, &out),
               CONSENTRY_STATUS_OK);
        consentry_buf_free(&out);
        consentry_ledger_free(scratch);
    }

    /* 6. The request as granted, with the new key: allowed, with a signed receipt. */
    allowed_req = issue_request("request.json", mairie);
    EXPECT(verifier_decide(verifier, dir, ledger, allowed_req, grant, now, &out, &decision),
           CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"decision\":\"allow\"") && contains(out, "\"receipt\":\""),
          "allow: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_decision_receipt(decision, &receipt), CONSENTRY_STATUS_OK);
    EXPECT(consentry_object_inspect(receipt.ptr, receipt.len, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"kind\":\"receipt\""), "receipt: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_decision_denial_entry(decision, &entry), CONSENTRY_STATUS_INVALID_INPUT);
    /* A receipt issued from the authorization, with a chosen id, for a log kept apart. */
    EXPECT(consentry_receipt_issue(decision, dgfip, "not-a-uuid", now, &issued),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_receipt_issue(decision, dgfip, receipt_id, now, &issued),
           CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_entry_receipt(issued.ptr, issued.len, &entry), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_entry_inspect(entry.ptr, entry.len, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"kind\":\"receipt\"") && contains(out, receipt_id) &&
              contains(out, parent_id),
          "receipt entry: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_log_append_entry(log, entry.ptr, entry.len, NULL), CONSENTRY_STATUS_OK);
    consentry_buf_free(&entry);
    consentry_decision_free(decision);
    decision = NULL;

    /* 7. An extra category: denied; its denial entry goes to the log kept apart. */
    extra_req = issue_request("request_extra.json", mairie);
    EXPECT(verifier_decide(verifier, dir, ledger, extra_req, grant, now, &out, &decision),
           CONSENTRY_STATUS_DENIED);
    CHECK(contains(out, "\"code\":\"categories_not_covered\""), "extra: %.*s", (int)out.len,
          out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_decision_receipt(decision, &out), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_receipt_issue(decision, dgfip, NULL, now, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_decision_denial_entry(decision, &entry), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_entry_inspect(entry.ptr, entry.len, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"kind\":\"denial\"") &&
              contains(out, "\"reasons\":[\"categories_not_covered\",\"frequency_exhausted\"]") &&
              contains(out, parent_id),
          "denial entry: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_log_append_entry(log, entry.ptr, entry.len, NULL), CONSENTRY_STATUS_OK);
    consentry_buf_free(&entry);
    consentry_decision_free(decision);
    decision = NULL;

    /* 8. The parent pauses the grant; a fresh request is then denied. */
    json = fixture("pause.json", &len);
    EXPECT(consentry_issue_statement(json, len, parent, &pause), CONSENTRY_STATUS_OK);
    free(json);
    EXPECT(consentry_verifier_apply_statement(verifier, dir, ceilings, ledger, pause.ptr,
                                              pause.len, grant.ptr, grant.len, now, &out),
           CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"status\":\"paused\""), "pause: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_log_entry_statement(pause.ptr, pause.len, grant.ptr, grant.len, &entry),
           CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_append_entry(log, entry.ptr, entry.len, NULL), CONSENTRY_STATUS_OK);
    consentry_buf_free(&entry);
    EXPECT(consentry_log_entry_statement(pause.ptr, pause.len, old_req.ptr, old_req.len, &entry),
           CONSENTRY_STATUS_INVALID_INPUT);
    paused_req = issue_request("request_paused.json", mairie);
    EXPECT(verifier_decide(verifier, dir, ledger, paused_req, grant, now, &out, NULL),
           CONSENTRY_STATUS_DENIED);
    CHECK(contains(out, "\"code\":\"paused\""), "paused: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);

    /* 9. The ledger's log: a denial, a receipt, a denial, the statement, a denial. Its head
     *    is signed by the provider, and checked with its public key alone. */
    EXPECT(consentry_ledger_log_size(ledger, &size), CONSENTRY_STATUS_OK);
    CHECK(size == 5, "ledger log size %llu", (unsigned long long)size);
    EXPECT(consentry_ledger_sign_head(ledger, dgfip, provider, now, &head), CONSENTRY_STATUS_OK);
    EXPECT(consentry_signing_key_public_key(dgfip, &provider_pub), CONSENTRY_STATUS_OK);
    EXPECT(consentry_tree_head_verify(head.ptr, head.len, provider, provider_pub.ptr,
                                      provider_pub.len, &out),
           CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"tree_size\":5"), "head: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_tree_head_verify(head.ptr, head.len, provider, wrong_anchor.ptr,
                                      wrong_anchor.len, &out),
           CONSENTRY_STATUS_VERIFY_FAILED);
    CHECK(error_contains("log/wrong_key"), "head under another key");
    EXPECT(consentry_tree_head_verify(head.ptr, head.len, parent_id, provider_pub.ptr,
                                      provider_pub.len, &out),
           CONSENTRY_STATUS_VERIFY_FAILED);
    CHECK(error_contains("log/wrong_log"), "head of another log");
    /* The receipt is entry 1: included under the head. */
    EXPECT(consentry_ledger_log_entry(ledger, 1, &entry), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_entry_inspect(entry.ptr, entry.len, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"kind\":\"receipt\""), "entry 1: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_ledger_log_inclusion_proof(ledger, 1, 5, &proof), CONSENTRY_STATUS_OK);
    EXPECT(consentry_tree_head_verify_inclusion(head.ptr, head.len, provider, provider_pub.ptr,
                                                provider_pub.len, entry.ptr, entry.len, 1,
                                                proof.ptr, proof.len),
           CONSENTRY_STATUS_OK);
    EXPECT(consentry_tree_head_verify_inclusion(head.ptr, head.len, provider, provider_pub.ptr,
                                                provider_pub.len, entry.ptr, entry.len, 2,
                                                proof.ptr, proof.len),
           CONSENTRY_STATUS_PROOF_INVALID);
    entry.ptr[entry.len / 2] ^= 1;
    EXPECT(consentry_tree_head_verify_inclusion(head.ptr, head.len, provider, provider_pub.ptr,
                                                provider_pub.len, entry.ptr, entry.len, 1,
                                                proof.ptr, proof.len),
           CONSENTRY_STATUS_PROOF_INVALID);
    consentry_buf_free(&entry);
    EXPECT(consentry_ledger_log_entry(ledger, 5, &entry), CONSENTRY_STATUS_INVALID_INPUT);

    /* 10. The parent's history, checked against the head: five entries, all proven. */
    EXPECT(consentry_ledger_access_history(ledger, parent_id, 5, &history), CONSENTRY_STATUS_OK);
    CHECK(count(history, "\"index\":") == 5, "history: %.*s", (int)history.len, history.ptr);
    EXPECT(consentry_verify_history(history.ptr, history.len, head.ptr, head.len, provider,
                                    provider_pub.ptr, provider_pub.len, &out),
           CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"clean\":true") && count(out, "\"leaf_hash\"") == 5 &&
              contains(out, "\"failures\":[]"),
          "history report: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    /* One changed digit in an entry: that entry fails, the others pass. */
    {
        uint8_t *digit = memmem(history.ptr, history.len, "\"entry\":\"", 9);
        CHECK(digit != NULL, "an entry in the history");
        if (digit) digit[20] = digit[20] == '0' ? '1' : '0';
    }
    EXPECT(consentry_verify_history(history.ptr, history.len, head.ptr, head.len, provider,
                                    provider_pub.ptr, provider_pub.len, &out),
           CONSENTRY_STATUS_VERIFY_FAILED);
    CHECK(contains(out, "\"clean\":false") && count(out, "\"position\":") == 1 &&
              count(out, "\"leaf_hash\"") == 4,
          "tampered history: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    consentry_buf_free(&history);
    EXPECT(consentry_verify_history((const uint8_t *)"{", 1, head.ptr, head.len, provider,
                                    provider_pub.ptr, provider_pub.len, &out),
           CONSENTRY_STATUS_INVALID_JSON);

    /* 11. The log kept apart: the grant, the receipt, the denial and the statement, checked the
     *     same way. */
    consentry_buf_free(&head);
    EXPECT(consentry_log_sign_head(log, dgfip, provider, now, &head), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_access_history(log, parent_id, 4, &history), CONSENTRY_STATUS_OK);
    EXPECT(consentry_verify_history(history.ptr, history.len, head.ptr, head.len, provider,
                                    provider_pub.ptr, provider_pub.len, &out),
           CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"clean\":true") && count(out, "\"leaf_hash\"") == 4 &&
              contains(out, "\"kind\":\"grant\"") && contains(out, "\"kind\":\"statement\""),
          "kept-apart history: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    consentry_buf_free(&history);
    EXPECT(consentry_log_access_history(log, parent_id, 5, &history),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_log_entry(log, 3, &entry), CONSENTRY_STATUS_OK);
    consentry_buf_free(&entry);

    /* 12. The SQLite ledger closed and opened again: the log, its head, the pause and the
     *     request ids seen are all still there. */
    consentry_ledger_free(ledger);
    ledger = NULL;
    EXPECT(consentry_ledger_open_sqlite(db, &ledger), CONSENTRY_STATUS_OK);
    EXPECT(consentry_ledger_log_size(ledger, &size), CONSENTRY_STATUS_OK);
    CHECK(size == 5, "log size after reopening %llu", (unsigned long long)size);
    EXPECT(consentry_ledger_latest_head(ledger, &head2), CONSENTRY_STATUS_OK);
    EXPECT(consentry_ledger_sign_head(ledger, dgfip, provider, now, &out), CONSENTRY_STATUS_OK);
    consentry_buf_free(&out);
    CHECK(head2.len > 0, "the signed head was kept");
    EXPECT(verifier_decide(verifier, dir, ledger, allowed_req, grant, now, &out, NULL),
           CONSENTRY_STATUS_DENIED);
    /* Paused, the request id seen and the month's use counted: all kept in the file. */
    CHECK(contains(out, "\"code\":\"paused\"") &&
              contains(out, "\"code\":\"replayed_request\"") &&
              contains(out, "\"code\":\"frequency_exhausted\""),
          "after reopening: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_ledger_take_decisions(ledger, &out), CONSENTRY_STATUS_UNSUPPORTED);
    EXPECT(consentry_ledger_log_size(ledger, &size), CONSENTRY_STATUS_OK);
    CHECK(size == 6, "the denial after reopening is logged: %llu", (unsigned long long)size);
    {
        char bad[4300];
        consentry_ledger *nowhere = NULL;
        snprintf(bad, sizeof bad, "%s/no/such/dir/x.db", fixtures);
        EXPECT(consentry_ledger_open_sqlite(bad, &nowhere), CONSENTRY_STATUS_STORAGE);
        CHECK(error_contains("store/") && nowhere == NULL, "an unopenable file");
        EXPECT(consentry_ledger_open_sqlite(NULL, &nowhere), CONSENTRY_STATUS_NULL_ARGUMENT);
    }

    consentry_ledger_free(ledger);
    remove_db(db);
    consentry_log_free(log);
    consentry_verifier_free(verifier);
    consentry_directory_free(dir);
    consentry_directory_free(old_dir);
    consentry_directory_history_free(dh);
    consentry_directory_history_free(dh2);
    consentry_signing_key_free(parent);
    consentry_signing_key_free(mairie_old);
    consentry_signing_key_free(mairie);
    consentry_signing_key_free(dgfip);
    consentry_signing_key_free(operator_key);
    free(signed_dir.ptr);
    free(update.ptr);
    free(anchor.ptr);
    free(parent_id);
    free(receipt_id);
    consentry_buf_free(&wrong_anchor);
    consentry_buf_free(&grant);
    consentry_buf_free(&allowed_req);
    consentry_buf_free(&old_req);
    consentry_buf_free(&extra_req);
    consentry_buf_free(&paused_req);
    consentry_buf_free(&pause);
    consentry_buf_free(&receipt);
    consentry_buf_free(&issued);
    consentry_buf_free(&head);
    consentry_buf_free(&head2);
    consentry_buf_free(&provider_pub);
    consentry_buf_free(&proof);
    consentry_buf_free(&checkpoint);
    consentry_buf_free(&providers);
}

/* ---- notifications, deletion evidence, statistics, derivations ---- */

/* Decodes `n` hexadecimal digits at `p` into a malloc'd buffer (freed with free()). */
static consentry_buf hex_decode(const uint8_t *p, size_t n) {
    consentry_buf b = {0};
    size_t i;
    b.len = n / 2;
    b.ptr = malloc(b.len ? b.len : 1);
    for (i = 0; i < b.len; i++) {
        int hi = p[2 * i] <= '9' ? p[2 * i] - '0' : (p[2 * i] | 0x20) - 'a' + 10;
        int lo = p[2 * i + 1] <= '9' ? p[2 * i + 1] - '0' : (p[2 * i + 1] | 0x20) - 'a' + 10;
        b.ptr[i] = (uint8_t)(hi << 4 | lo);
    }
    return b;
}

/* The signed bytes of the notification for `recipient` in an outbox listing (JSON objects
 * with sorted keys: {"bytes","emitter","recipient","seq"}); an empty buffer if none. */
static consentry_buf notification_for(consentry_buf listing, const char *recipient) {
    static const char key[] = "{\"bytes\":\"";
    consentry_buf none = {0};
    const uint8_t *p = listing.ptr, *end = listing.ptr + listing.len;
    while (p && (p = memmem(p, (size_t)(end - p), key, strlen(key))) != NULL) {
        const uint8_t *hex = p + strlen(key), *close = memchr(hex, '"', (size_t)(end - hex));
        const uint8_t *obj_end = close ? memchr(close, '}', (size_t)(end - close)) : NULL;
        if (!close || !obj_end) break;
        if (memmem(close, (size_t)(obj_end - close), recipient, strlen(recipient)))
            return hex_decode(hex, (size_t)(close - hex));
        p = obj_end;
    }
    return none;
}

static consentry_buf issue_from(const char *name, const consentry_signing_key *key,
                                const consentry_ceilings *ceil, int kind) {
    size_t len;
    uint8_t *json = fixture(name, &len);
    consentry_buf out = {0};
    consentry_status st =
        kind == 0   ? consentry_issue_grant(json, len, key, ceil, &out)
        : kind == 1 ? consentry_issue_habilitation(json, len, key, ceil, &out)
                    : consentry_issue_statement(json, len, key, &out);
    CHECK(st == CONSENTRY_STATUS_OK, "issue %s: %s", name, consentry_status_name(st));
    free(json);
    return out;
}

static consentry_status receive(consentry_inbox *inbox, const consentry_verifier *v,
                                const consentry_ledger *l, consentry_buf n, uint64_t now,
                                consentry_buf *out) {
    return consentry_inbox_receive_statement(inbox, v, directory, ceilings, l, n.ptr, n.len, now,
                                             out);
}

static void round_story(void) {
    uint64_t now = fixture_u64("now"), deleted_at = fixture_u64("deleted_at"),
             overdue_at = fixture_u64("overdue_at"), n = 99, index = 99;
    consentry_signing_key *parent = key_from_seed("parent.seed"),
                          *mairie = key_from_seed("mairie.seed"),
                          *dgfip = key_from_seed("dgfip.seed"), *cnaf = key_from_seed("cnaf.seed"),
                          *authority = key_from_seed("authority.seed");
    char *cnaf_id = (char *)fixture("cnaf.id", NULL), *mairie_id = (char *)fixture("mairie.id", NULL),
         *parent_id = (char *)fixture("parent.id", NULL), expected[512];
    consentry_verifier *v_dgfip = NULL, *v_cnaf = NULL, *bare = NULL;
    consentry_ledger *l_dgfip = NULL, *l_cnaf = NULL, *scratch = NULL;
    consentry_inbox *inbox = NULL, *restarted = NULL;
    consentry_decision *decision = NULL;
    consentry_log *log = NULL, *empty_log = NULL;
    consentry_ceilings *c_derived = NULL, *c_only = NULL;
    consentry_buf grant = {0}, hab = {0}, req = {0}, req_hab = {0}, req_cnaf = {0}, pause = {0},
                  out = {0}, pending = {0}, note_cnaf = {0}, note_mairie = {0}, receipt = {0},
                  saved = {0}, receipt_hab = {0}, deletion = {0}, head = {0}, pub = {0},
                  history = {0},
                  entries = {0}, report = {0}, usage = {0}, csv = {0}, entry = {0}, tampered = {0},
                  plain = {0}, derived = {0};
    size_t len;
    uint8_t *json;

    /* 1. The parent's grant covering DGFiP and CNAF, and the authority's habilitation. */
    grant = issue_from("grant_notified.json", parent, ceilings, 0);
    hab = issue_from("habilitation.json", authority, ceilings, 1);
    EXPECT(consentry_verifier_new(provider, NULL, dgfip, &v_dgfip), CONSENTRY_STATUS_OK);
    EXPECT(consentry_verifier_new(cnaf_id, NULL, cnaf, &v_cnaf), CONSENTRY_STATUS_OK);
    EXPECT(consentry_ledger_new(&l_dgfip), CONSENTRY_STATUS_OK);
    EXPECT(consentry_ledger_new(&l_cnaf), CONSENTRY_STATUS_OK);

    /* 2. Two transfers at DGFiP, each with its receipt: under the grant, under the
     *    habilitation. */
    req = issue_request("request_notified.json", mairie);
    EXPECT(verifier_decide(v_dgfip, directory, l_dgfip, req, grant, now, &out, &decision),
           CONSENTRY_STATUS_OK);
    consentry_buf_free(&out);
    EXPECT(consentry_decision_receipt(decision, &receipt), CONSENTRY_STATUS_OK);
    consentry_decision_free(decision);
    decision = NULL;
    req_hab = issue_request("request_habilitation.json", mairie);
    EXPECT(verifier_decide(v_dgfip, directory, l_dgfip, req_hab, hab, now, &out, &decision),
           CONSENTRY_STATUS_OK);
    consentry_buf_free(&out);
    EXPECT(consentry_decision_receipt(decision, &receipt_hab), CONSENTRY_STATUS_OK);
    consentry_decision_free(decision);
    decision = NULL;

    /* 3. DGFiP applies the parent's pause with notifications. */
    pause = issue_from("pause_notified.json", parent, NULL, 2);
    EXPECT(consentry_verifier_new(provider, NULL, NULL, &bare), CONSENTRY_STATUS_OK);
    EXPECT(consentry_verifier_apply_statement_notifying(bare, directory, ceilings, l_dgfip,
                                                        pause.ptr, pause.len, grant.ptr,
                                                        grant.len, now, NULL, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(out.ptr == NULL && error_contains("emitter_key is NULL"), "no key to sign with");
    EXPECT(consentry_verifier_apply_statement_notifying(v_dgfip, directory, ceilings, l_dgfip,
                                                        pause.ptr, pause.len, grant.ptr,
                                                        grant.len, now, NULL, &out),
           CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"applied\":true") && contains(out, "\"status\":\"paused\"") &&
              count(out, "\"seq\":1") == 2 && contains(out, cnaf_id) && contains(out, mairie_id),
          "applied with notifications: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    /* The same pause again: refused, and nothing more is queued. */
    EXPECT(consentry_verifier_apply_statement_notifying(v_dgfip, directory, ceilings, l_dgfip,
                                                        pause.ptr, pause.len, grant.ptr,
                                                        grant.len, now, dgfip, &out),
           CONSENTRY_STATUS_REFUSED);
    CHECK(contains(out, "\"applied\":false") && !contains(out, "\"notifications\""),
          "a second pause: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);

    /* 4. The outbox lists exactly the notifications for the city hall and CNAF. */
    EXPECT(consentry_ledger_outbox_pending(l_dgfip, 10, &pending), CONSENTRY_STATUS_OK);
    CHECK(count(pending, "\"recipient\":") == 2 && count(pending, "\"seq\":1") == 2 &&
              count(pending, provider) == 2,
          "outbox: %.*s", (int)pending.len, pending.ptr);
    EXPECT(consentry_ledger_outbox_pending(l_dgfip, 1, &out), CONSENTRY_STATUS_OK);
    CHECK(count(out, "\"recipient\":") == 1, "outbox limited to 1");
    consentry_buf_free(&out);
    note_cnaf = notification_for(pending, cnaf_id);
    note_mairie = notification_for(pending, mairie_id);
    CHECK(note_cnaf.len > 100 && note_mairie.len > 100, "notification bytes %zu %zu",
          note_cnaf.len, note_mairie.len);
    EXPECT(consentry_object_inspect(note_cnaf.ptr, note_cnaf.len, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"kind\":\"notification\"") && contains(out, "\"seq\":1") &&
              contains(out, cnaf_id),
          "notification inspected: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);

    /* 5. CNAF's inbox: a misaddressed, a forged and a malformed one are refused; its own is
     *    applied, then CNAF denies a request under the grant as paused; a redelivery is
     *    ignored. */
    EXPECT(consentry_inbox_new(cnaf_id, &inbox), CONSENTRY_STATUS_OK);
    EXPECT(receive(inbox, v_cnaf, l_cnaf, note_mairie, now, &out), CONSENTRY_STATUS_REFUSED);
    CHECK(error_contains("notification/misaddressed") && out.ptr == NULL, "misaddressed");
    note_cnaf.ptr[note_cnaf.len - 1] ^= 1;
    EXPECT(receive(inbox, v_cnaf, l_cnaf, note_cnaf, now, &out), CONSENTRY_STATUS_VERIFY_FAILED);
    CHECK(error_contains("notification/forged"), "forged");
    note_cnaf.ptr[note_cnaf.len - 1] ^= 1;
    EXPECT(receive(inbox, v_cnaf, l_cnaf, pause, now, &out), CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(error_contains("notification/malformed"), "a statement is not a notification");
    EXPECT(consentry_inbox_last_seq(inbox, provider, &n), CONSENTRY_STATUS_OK);
    CHECK(n == 0, "nothing applied yet: %llu", (unsigned long long)n);
    EXPECT(receive(inbox, v_cnaf, l_cnaf, note_cnaf, now, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"outcome\":\"applied\"") && contains(out, "\"status\":\"paused\""),
          "received: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_inbox_last_seq(inbox, provider, &n), CONSENTRY_STATUS_OK);
    CHECK(n == 1, "stream at 1: %llu", (unsigned long long)n);
    req_cnaf = issue_request("request_cnaf.json", mairie);
    EXPECT(verifier_decide(v_cnaf, directory, l_cnaf, req_cnaf, grant, now, &out, NULL),
           CONSENTRY_STATUS_DENIED);
    CHECK(contains(out, "\"code\":\"paused\""), "CNAF denies: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    EXPECT(receive(inbox, v_cnaf, l_cnaf, note_cnaf, now, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "{\"outcome\":\"already_applied\"}"), "redelivery: %.*s", (int)out.len,
          out.ptr);
    consentry_buf_free(&out);
    /*    The service saves the stream that changed (24 bytes of emitter and number, one
     *    digest), restarts and resumes from it: the redelivery is still recognised. */
    EXPECT(consentry_inbox_take_changed(inbox, &saved), CONSENTRY_STATUS_OK);
    CHECK(saved.len == 24 + 32 && saved.ptr[23] == 1, "saved %zu bytes", saved.len);
    EXPECT(consentry_inbox_take_changed(inbox, &out), CONSENTRY_STATUS_OK);
    CHECK(out.len == 0, "nothing changed since");
    EXPECT(consentry_inbox_new(cnaf_id, &restarted), CONSENTRY_STATUS_OK);
    EXPECT(consentry_inbox_resume(restarted, saved.ptr, saved.len - 1), CONSENTRY_STATUS_STORAGE);
    CHECK(error_contains("ledger_corrupt"), "a truncated state");
    EXPECT(consentry_inbox_resume(restarted, saved.ptr, saved.len), CONSENTRY_STATUS_OK);
    consentry_buf_free(&saved);
    EXPECT(receive(restarted, v_cnaf, l_cnaf, note_cnaf, now, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "{\"outcome\":\"already_applied\"}"), "after the restart: %.*s",
          (int)out.len, out.ptr);
    consentry_buf_free(&out);
    consentry_inbox_free(restarted);

    /* 6. Delivered to CNAF: acknowledged, and only the city hall's is left. */
    EXPECT(consentry_ledger_outbox_acknowledge(l_dgfip, provider, cnaf_id, 1, &n),
           CONSENTRY_STATUS_OK);
    CHECK(n == 1, "acknowledged %llu", (unsigned long long)n);
    EXPECT(consentry_ledger_outbox_pending(l_dgfip, 10, &out), CONSENTRY_STATUS_OK);
    CHECK(count(out, "\"recipient\":") == 1 && contains(out, mairie_id) && !contains(out, cnaf_id),
          "left: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_ledger_outbox_last_seq(l_dgfip, provider, cnaf_id, &n), CONSENTRY_STATUS_OK);
    CHECK(n == 1, "last number given %llu", (unsigned long long)n);

    /* 7. The city hall signs the deletion of the data the grant's transfer gave it; logged. */
    EXPECT(consentry_deletion_issue(receipt.ptr, receipt.len, mairie, deleted_at + 1, deleted_at,
                                    &deletion),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_deletion_issue(receipt.ptr, receipt.len, dgfip, deleted_at, deleted_at,
                                    &out),
           CONSENTRY_STATUS_OK);
    EXPECT(consentry_ledger_log_deletion(l_dgfip, directory, out.ptr, out.len),
           CONSENTRY_STATUS_VERIFY_FAILED);
    CHECK(error_contains("deletion/invalid_object"), "signed by another than the consumer");
    consentry_buf_free(&out);
    EXPECT(consentry_deletion_issue(receipt.ptr, receipt.len, mairie, deleted_at, deleted_at,
                                    &deletion),
           CONSENTRY_STATUS_OK);
    EXPECT(consentry_object_inspect(deletion.ptr, deletion.len, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"kind\":\"deletion\"") && contains(out, mairie_id) &&
              contains(out, parent_id),
          "deletion inspected: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_ledger_log_deletion(l_dgfip, directory, deletion.ptr, deletion.len),
           CONSENTRY_STATUS_OK);
    EXPECT(consentry_ledger_log_deletion(l_dgfip, directory, deletion.ptr, deletion.len),
           CONSENTRY_STATUS_REFUSED);
    CHECK(error_contains("deletion/already_deleted"), "a second deletion");
    EXPECT(consentry_ledger_log_size(l_dgfip, &n), CONSENTRY_STATUS_OK);
    CHECK(n == 4, "two receipts, the pause and the deletion: %llu", (unsigned long long)n);

    /* 8. The parent's history: the grant's data "deleted on", the habilitation's not yet. */
    EXPECT(consentry_signing_key_public_key(dgfip, &pub), CONSENTRY_STATUS_OK);
    EXPECT(consentry_ledger_sign_head(l_dgfip, dgfip, provider, overdue_at, &head),
           CONSENTRY_STATUS_OK);
    EXPECT(consentry_ledger_access_history(l_dgfip, parent_id, 4, &history), CONSENTRY_STATUS_OK);
    EXPECT(consentry_verify_history_retention(history.ptr, history.len, head.ptr, head.len,
                                              provider, pub.ptr, pub.len, directory, deleted_at,
                                              &out),
           CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"clean\":true") && count(out, "\"receipt_index\"") == 2 &&
              count(out, "\"state\":\"deleted\"") == 1 &&
              count(out, "\"state\":\"not_yet\"") == 1 && count(out, ", deleted on ") == 1 &&
              count(out, "not deleted yet") == 1 && contains(out, "\"kind\":\"deletion\""),
          "retention: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    EXPECT(consentry_verify_history_retention(history.ptr, history.len, head.ptr, head.len,
                                              provider, pub.ptr, pub.len, NULL, deleted_at, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);

    /* 9. The overdue query after every retention: exactly the habilitation's receipt (entry
     *    1), verified against every entry; refused when an entry is dropped or the receipt
     *    hidden. */
    EXPECT(consentry_ledger_overdue_report(l_dgfip, head.ptr, head.len, provider, pub.ptr,
                                           pub.len, directory, overdue_at + 1, &report),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(error_contains("overdue/after_head"), "a query after the head");
    EXPECT(consentry_ledger_overdue_report(l_dgfip, head.ptr, head.len, provider, pub.ptr,
                                           pub.len, directory, overdue_at, &report),
           CONSENTRY_STATUS_OK);
    CHECK(count(report, "\"index\":") == 1 && contains(report, "\"index\":1,"),
          "overdue: %.*s", (int)report.len, report.ptr);
    EXPECT(consentry_ledger_log_entries(l_dgfip, 4, &entries), CONSENTRY_STATUS_OK);
    CHECK(count(entries, "\"") == 8, "four entries: %.*s", (int)entries.len, entries.ptr);
    EXPECT(consentry_overdue_report(entries.ptr, entries.len, head.ptr, head.len, provider,
                                    pub.ptr, pub.len, directory, overdue_at, &out),
           CONSENTRY_STATUS_OK);
    CHECK(out.len == report.len && memcmp(out.ptr, report.ptr, out.len) == 0,
          "the same report from the entries");
    consentry_buf_free(&out);
    EXPECT(consentry_verify_overdue(report.ptr, report.len, entries.ptr, entries.len, provider,
                                    pub.ptr, pub.len, directory, &out),
           CONSENTRY_STATUS_OK);
    CHECK(count(out, "\"index\":1,") == 1 && count(out, "\"receipt\":") == 1,
          "confirmed: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    {
        /* The last entry dropped. */
        uint8_t *copy = malloc(entries.len);
        uint8_t *last = NULL, *p = copy;
        memcpy(copy, entries.ptr, entries.len);
        while ((p = memmem(p, entries.len - (size_t)(p - copy), ",\"", 2)) != NULL) last = p++;
        CHECK(last != NULL, "a last entry");
        if (last) {
            *last = ']';
            EXPECT(consentry_verify_overdue(report.ptr, report.len, copy,
                                            (size_t)(last - copy) + 1, provider, pub.ptr,
                                            pub.len, directory, &out),
                   CONSENTRY_STATUS_VERIFY_FAILED);
            CHECK(error_contains("overdue/entry_count") && out.ptr == NULL, "an entry dropped");
        }
        free(copy);
    }
    {
        /* The overdue receipt hidden. */
        uint8_t *items = memmem(report.ptr, report.len, "\"items\":[", 9);
        CHECK(items != NULL, "items in the report");
        if (items) {
            size_t cut = (size_t)(items - report.ptr) + 9;
            uint8_t *copy = malloc(cut + 2);
            memcpy(copy, report.ptr, cut);
            copy[cut] = ']';
            copy[cut + 1] = '}';
            EXPECT(consentry_verify_overdue(copy, cut + 2, entries.ptr, entries.len, provider,
                                            pub.ptr, pub.len, directory, &out),
                   CONSENTRY_STATUS_VERIFY_FAILED);
            CHECK(error_contains("overdue/result_mismatch"), "a receipt hidden");
            free(copy);
        }
    }

    /* 10. The usage report over the story's day, threshold 1; its CSV; its verification. */
    EXPECT(consentry_ledger_usage_report(l_dgfip, head.ptr, head.len, provider, pub.ptr, pub.len,
                                         now, now, 1, &usage),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(error_contains("terms/empty_range"), "an empty period");
    EXPECT(consentry_ledger_usage_report(l_dgfip, head.ptr, head.len, provider, pub.ptr, pub.len,
                                         now, overdue_at + 1, 1, &usage),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(error_contains("stats/period_after_head"), "a period after the head");
    EXPECT(consentry_ledger_usage_report(l_dgfip, head.ptr, head.len, provider, pub.ptr, pub.len,
                                         now, now + 86400, 1, &usage),
           CONSENTRY_STATUS_OK);
    snprintf(expected, sizeof expected,
             "{\"dimension\":\"provider\",\"total\":2,\"rows\":[{\"key\":\"%s\",\"count\":2}]}",
             provider);
    CHECK(contains(usage, expected), "providers: %.*s", (int)usage.len, usage.ptr);
    snprintf(expected, sizeof expected,
             "{\"dimension\":\"consumer\",\"total\":2,\"rows\":[{\"key\":\"%s\",\"count\":2}]}",
             mairie_id);
    CHECK(contains(usage, expected), "consumers");
    CHECK(contains(usage, "{\"dimension\":\"purpose\",\"total\":2,\"rows\":[{\"key\":"
                          "\"education:tarification_cantine\",\"count\":2}]}"),
          "purposes");
    CHECK(contains(usage, "{\"dimension\":\"legal_basis\",\"total\":2,\"rows\":[") &&
              contains(usage, "{\"key\":\"consent\",\"count\":1}") &&
              count(usage, "\"count\":1}") == 2,
          "legal bases");
    CHECK(contains(usage, "{\"dimension\":\"denial_reason\",\"total\":0,\"rows\":[]}"),
          "no denial");
    EXPECT(consentry_usage_report_csv(usage.ptr, usage.len, &csv), CONSENTRY_STATUS_OK);
    CHECK(csv.len > 19 && memcmp(csv.ptr, "section,key,value\r\n", 19) == 0 &&
              contains(csv, "provider,total,2\r\n") && contains(csv, "report,threshold,1\r\n") &&
              contains(csv, "legal_basis,consent,1\r\n"),
          "csv: %.*s", (int)csv.len, csv.ptr);
    EXPECT(consentry_usage_report_verify(usage.ptr, usage.len, entries.ptr, entries.len,
                                         head.ptr, head.len, provider, pub.ptr, pub.len),
           CONSENTRY_STATUS_OK);
    tampered.ptr = malloc(usage.len);
    tampered.len = usage.len;
    memcpy(tampered.ptr, usage.ptr, usage.len);
    {
        uint8_t *total = memmem(tampered.ptr, tampered.len, "\"total\":2", 9);
        if (total) total[8] = '3';
    }
    EXPECT(consentry_usage_report_verify(tampered.ptr, tampered.len, entries.ptr, entries.len,
                                         head.ptr, head.len, provider, pub.ptr, pub.len),
           CONSENTRY_STATUS_VERIFY_FAILED);
    CHECK(error_contains("stats/report_mismatch"), "figures the log does not support");
    free(tampered.ptr);

    /* 11. A log kept apart takes the receipt, then its deletion, once. */
    EXPECT(consentry_log_new(&log), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_new(&empty_log), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_append_deletion(empty_log, directory, deletion.ptr, deletion.len, &index),
           CONSENTRY_STATUS_REFUSED);
    CHECK(error_contains("deletion/unknown_receipt") && index == 0, "no such receipt logged");
    EXPECT(consentry_log_entry_receipt(receipt.ptr, receipt.len, &entry), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_append_entry(log, entry.ptr, entry.len, NULL), CONSENTRY_STATUS_OK);
    consentry_buf_free(&entry);
    EXPECT(consentry_log_append_deletion(log, directory, deletion.ptr, deletion.len, &index),
           CONSENTRY_STATUS_OK);
    CHECK(index == 1, "deletion index %llu", (unsigned long long)index);
    EXPECT(consentry_log_append_deletion(log, directory, deletion.ptr, deletion.len, NULL),
           CONSENTRY_STATUS_REFUSED);
    CHECK(error_contains("deletion/already_deleted"), "kept apart: a second deletion");
    EXPECT(consentry_log_entry(log, 1, &entry), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_entry_inspect(entry.ptr, entry.len, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"kind\":\"deletion\"") && contains(out, "\"deleted_at\":"),
          "deletion entry: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    consentry_buf_free(&entry);
    EXPECT(consentry_log_entries(log, 2, &out), CONSENTRY_STATUS_OK);
    CHECK(count(out, "\"") == 4, "two entries kept apart");
    consentry_buf_free(&out);
    EXPECT(consentry_log_entries(log, 3, &out), CONSENTRY_STATUS_INVALID_INPUT);

    /* 12. Derivations: a grant releasing the income as a bracket needs the vocabulary; ceilings
     *     releasing it only so refuse the plain grant. */
    json = fixture("ceilings.json", &len);
    EXPECT(consentry_ceilings_from_json(json, len, &c_derived), CONSENTRY_STATUS_OK);
    free(json);
    json = fixture("grant_derived.json", &len);
    EXPECT(consentry_issue_grant(json, len, parent, c_derived, &derived),
           CONSENTRY_STATUS_BEYOND_CEILING);
    CHECK(error_contains("\"excess\":\"derivation\""), "an undefined derivation");
    free(json);
    EXPECT(consentry_ceilings_define_derivations(c_derived, (const uint8_t *)"[", 1),
           CONSENTRY_STATUS_INVALID_JSON);
    {
        static const char clash[] = "[{\"code\":\"dgfip:tranche_rfr\",\"category\":"
                                    "\"dgfip:revenu_fiscal_reference\",\"kind\":\"below\"}]";
        json = fixture("derivations.json", &len);
        EXPECT(consentry_ceilings_define_derivations(c_derived, json, len), CONSENTRY_STATUS_OK);
        EXPECT(consentry_ceilings_define_derivations(c_derived, json, len), CONSENTRY_STATUS_OK);
        EXPECT(consentry_ceilings_define_derivations(c_derived, (const uint8_t *)clash,
                                                     strlen(clash)),
               CONSENTRY_STATUS_INVALID_INPUT);
        CHECK(error_contains("derivation/redefined"), "a code defined otherwise");
        free(json);
    }
    derived = issue_from("grant_derived.json", parent, c_derived, 0);
    EXPECT(consentry_ledger_new(&scratch), CONSENTRY_STATUS_OK);
    consentry_buf_free(&req);
    req = issue_request("request_derived.json", mairie);
    EXPECT(consentry_decide(directory, c_derived, scratch, provider, req.ptr, req.len, derived.ptr,
                            derived.len, now, &out),
           CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"decision\":\"allow\"") && contains(out, "dgfip:tranche_rfr"),
          "derived allow: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    json = fixture("ceilings_derived_only.json", &len);
    EXPECT(consentry_ceilings_from_json(json, len, &c_only), CONSENTRY_STATUS_OK);
    free(json);
    json = fixture("derivations.json", &len);
    EXPECT(consentry_ceilings_define_derivations(c_only, json, len), CONSENTRY_STATUS_OK);
    free(json);
    json = fixture("grant.json", &len);
    EXPECT(consentry_issue_grant(json, len, parent, c_only, &out), CONSENTRY_STATUS_BEYOND_CEILING);
    CHECK(error_contains("\"excess\":\"raw_where_derived_only\""),
          "a raw grant beyond derived-only ceilings");
    free(json);
    plain = issue_from("grant.json", parent, ceilings, 0);
    consentry_buf_free(&req);
    req = issue_request("request_raw.json", mairie);
    EXPECT(consentry_decide(directory, c_only, scratch, provider, req.ptr, req.len, plain.ptr,
                            plain.len, now, &out),
           CONSENTRY_STATUS_DENIED);
    CHECK(contains(out, "\"code\":\"raw_where_derived_only\""), "raw denied: %.*s",
          (int)out.len, out.ptr);
    consentry_buf_free(&out);

    consentry_ceilings_free(c_derived);
    consentry_ceilings_free(c_only);
    consentry_ledger_free(scratch);
    consentry_log_free(log);
    consentry_log_free(empty_log);
    consentry_inbox_free(inbox);
    consentry_verifier_free(v_dgfip);
    consentry_verifier_free(v_cnaf);
    consentry_verifier_free(bare);
    consentry_ledger_free(l_dgfip);
    consentry_ledger_free(l_cnaf);
    consentry_signing_key_free(parent);
    consentry_signing_key_free(mairie);
    consentry_signing_key_free(dgfip);
    consentry_signing_key_free(cnaf);
    consentry_signing_key_free(authority);
    free(cnaf_id);
    free(mairie_id);
    free(parent_id);
    free(note_cnaf.ptr);
    free(note_mairie.ptr);
    consentry_buf_free(&grant);
    consentry_buf_free(&hab);
    consentry_buf_free(&req);
    consentry_buf_free(&req_hab);
    consentry_buf_free(&req_cnaf);
    consentry_buf_free(&pause);
    consentry_buf_free(&pending);
    consentry_buf_free(&receipt);
    consentry_buf_free(&receipt_hab);
    consentry_buf_free(&deletion);
    consentry_buf_free(&head);
    consentry_buf_free(&pub);
    consentry_buf_free(&history);
    consentry_buf_free(&entries);
    consentry_buf_free(&report);
    consentry_buf_free(&usage);
    consentry_buf_free(&csv);
    consentry_buf_free(&plain);
    consentry_buf_free(&derived);
}

/* ---- misuse of the service functions: exact statuses ---- */

static void service_misuse(void) {
    static const uint8_t garbage[] = {0xd2, 0x84, 0xff, 0x00, 0x13, 0x37, 0xc0, 0xfe};
    consentry_buf out = {(uint8_t *)garbage, 99};
    consentry_directory_history *dh = (consentry_directory_history *)&passed;
    consentry_verifier *v = (consentry_verifier *)&passed;
    consentry_ledger *l = (consentry_ledger *)&passed;
    consentry_directory *d = NULL;
    consentry_signing_key *k = NULL;
    consentry_log *log = NULL;
    uint64_t n = 7;
    uint8_t key32[32] = {0};

    EXPECT(consentry_directory_history_load(NULL, 3, key32, 32, &dh),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    CHECK(dh == NULL, "history out reset");
    EXPECT(consentry_directory_history_load(garbage, sizeof garbage, key32, 32, &dh),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_directory_history_load(garbage, sizeof garbage, key32, 31, &dh),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_directory_history_apply(NULL, garbage, sizeof garbage, NULL),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_directory_history_version(NULL, &n), CONSENTRY_STATUS_NULL_ARGUMENT);
    CHECK(n == 0, "out_version reset");
    EXPECT(consentry_directory_history_at(NULL, 0, &d), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_directory_history_current(NULL, &d), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_directory_history_checkpoint(NULL, 0, NULL, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    CHECK(out.ptr == NULL && out.len == 0, "out buffer reset");
    EXPECT(consentry_verifier_new(NULL, NULL, NULL, &v), CONSENTRY_STATUS_NULL_ARGUMENT);
    CHECK(v == NULL, "verifier out reset");
    EXPECT(consentry_verifier_new("not-a-uuid", NULL, NULL, &v), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_verifier_new(provider, NULL, NULL, NULL), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_verifier_decide(NULL, directory, ceilings, NULL, NULL, 0, NULL, 0, 0, &out,
                                     NULL),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_verifier_apply_statement(NULL, directory, ceilings, NULL, NULL, 0, NULL, 0,
                                              0, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_decision_to_json(NULL, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_decision_receipt(NULL, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_decision_denial_entry(NULL, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_receipt_issue(NULL, NULL, NULL, 0, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_log_entry_receipt(NULL, 1, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_log_entry_receipt(garbage, sizeof garbage, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(error_contains("log/malformed_object"), "a garbage receipt");
    EXPECT(consentry_log_entry_grant_issued(garbage, sizeof garbage, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_log_entry_statement(garbage, sizeof garbage, garbage, sizeof garbage, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_log_entry_inspect(garbage, sizeof garbage, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(error_contains("log/malformed_entry"), "a garbage entry");
    EXPECT(consentry_log_entry_inspect(NULL, 0, &out), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_log_new(&log), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_append_entry(log, garbage, sizeof garbage, &n),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_log_size(log, &n), CONSENTRY_STATUS_OK);
    CHECK(n == 0, "nothing appended");
    EXPECT(consentry_log_append_entry(NULL, garbage, 1, NULL), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_log_entry(log, 0, &out), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_log_sign_head(log, NULL, provider, 0, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    k = key_from_seed("dgfip.seed");
    EXPECT(consentry_log_sign_head(log, k, "nope", 0, &out), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_log_access_history(log, NULL, 0, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_log_access_history(log, provider, 1, &out), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_log_access_history(log, provider, 0, &out), CONSENTRY_STATUS_OK);
    CHECK(contains(out, "\"items\":[]"), "an empty history: %.*s", (int)out.len, out.ptr);
    consentry_buf_free(&out);
    consentry_log_free(log);
    consentry_signing_key_free(k);
    EXPECT(consentry_tree_head_verify(garbage, sizeof garbage, provider, key32, 32, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(error_contains("log/malformed_head"), "a garbage head");
    EXPECT(consentry_tree_head_verify(NULL, 0, NULL, key32, 32, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_tree_head_verify_inclusion(garbage, sizeof garbage, provider, key32, 32,
                                                NULL, 0, 0, NULL, 0),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_verify_history(NULL, 5, NULL, 0, provider, key32, 32, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_verify_history((const uint8_t *)"{}", 2, NULL, 0, provider, key32, 32, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_ledger_open_sqlite("", &l), CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(l == NULL, "ledger out reset");
    EXPECT(consentry_ledger_log_size(NULL, &n), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_ledger_log_entry(NULL, 0, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_ledger_log_root(NULL, 0, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_ledger_log_inclusion_proof(NULL, 0, 0, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_ledger_log_consistency_proof(NULL, 0, 0, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_ledger_sign_head(NULL, NULL, NULL, 0, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_ledger_latest_head(NULL, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_ledger_access_history(NULL, provider, 0, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_crypto_providers(NULL), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_signing_key_from_seed_with("no-such", key32, 32, &k),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_signing_key_from_pkcs8_with(NULL, garbage, sizeof garbage, &k),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(k == NULL, "key out reset");
    consentry_directory_history_free(NULL);
    consentry_directory_history_free(NULL);
    consentry_verifier_free(NULL);
    consentry_decision_free(NULL);
    passed++;
}

/* ---- misuse of this round's functions: exact statuses ---- */

static void round_misuse(void) {
    static const uint8_t garbage[] = {0xd2, 0x84, 0xff, 0x00, 0x13, 0x37, 0xc0, 0xfe};
    consentry_buf out = {(uint8_t *)garbage, 99};
    consentry_inbox *inbox = (consentry_inbox *)&passed;
    consentry_ledger *l = NULL;
    consentry_log *log = NULL;
    uint64_t n = 7;
    uint8_t key32[32] = {0};

    EXPECT(consentry_inbox_new(NULL, &inbox), CONSENTRY_STATUS_NULL_ARGUMENT);
    CHECK(inbox == NULL, "inbox out reset");
    EXPECT(consentry_inbox_new("not-a-uuid", &inbox), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_inbox_new(provider, NULL), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_inbox_new(provider, &inbox), CONSENTRY_STATUS_OK);
    EXPECT(consentry_inbox_receive_statement(inbox, NULL, directory, ceilings, NULL, garbage,
                                             sizeof garbage, 0, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    CHECK(out.ptr == NULL && out.len == 0, "out reset");
    EXPECT(consentry_inbox_receive_update(inbox, NULL, garbage, sizeof garbage, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_inbox_last_seq(inbox, "nope", &n), CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(n == 0, "out_seq reset");
    EXPECT(consentry_inbox_last_seq(NULL, provider, &n), CONSENTRY_STATUS_NULL_ARGUMENT);
    consentry_inbox_free(inbox);
    consentry_inbox_free(NULL);
    EXPECT(consentry_ledger_new(&l), CONSENTRY_STATUS_OK);
    EXPECT(consentry_ledger_outbox_pending(l, 10, &out), CONSENTRY_STATUS_OK);
    CHECK(out.len == 2 && memcmp(out.ptr, "[]", 2) == 0, "an empty outbox");
    consentry_buf_free(&out);
    EXPECT(consentry_ledger_outbox_pending(NULL, 10, &out), CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_ledger_outbox_acknowledge(l, provider, provider, 1, &n),
           CONSENTRY_STATUS_OK);
    CHECK(n == 0, "nothing to acknowledge");
    EXPECT(consentry_ledger_outbox_acknowledge(l, NULL, provider, 1, NULL),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_ledger_outbox_last_seq(l, provider, provider, NULL),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_ledger_outbox_enqueue_update(l, NULL, garbage, sizeof garbage, provider,
                                                  NULL, 0, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_verifier_apply_statement_notifying(NULL, directory, ceilings, l, NULL, 0,
                                                        NULL, 0, 0, NULL, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_deletion_issue(garbage, sizeof garbage, NULL, 0, 0, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    {
        consentry_signing_key *k = key_from_seed("mairie.seed");
        EXPECT(consentry_deletion_issue(garbage, sizeof garbage, k, 0, 0, &out),
               CONSENTRY_STATUS_INVALID_INPUT);
        CHECK(error_contains("log/malformed_object"), "a garbage receipt to delete");
        consentry_signing_key_free(k);
    }
    EXPECT(consentry_ledger_log_deletion(l, directory, garbage, sizeof garbage),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(error_contains("deletion/invalid_object"), "a garbage deletion");
    EXPECT(consentry_ledger_log_deletion(l, NULL, garbage, sizeof garbage),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_log_new(&log), CONSENTRY_STATUS_OK);
    EXPECT(consentry_log_append_deletion(log, directory, NULL, 4, &n),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_log_append_deletion(log, directory, garbage, sizeof garbage, &n),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_log_size(log, &n), CONSENTRY_STATUS_OK);
    CHECK(n == 0, "no deletion appended");
    EXPECT(consentry_log_entries(log, 0, &out), CONSENTRY_STATUS_OK);
    consentry_buf_free(&out);
    consentry_log_free(log);
    EXPECT(consentry_ledger_log_entries(l, 1, &out), CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_verify_history_retention((const uint8_t *)"{", 1, NULL, 0, provider, key32,
                                              32, directory, 0, &out),
           CONSENTRY_STATUS_INVALID_JSON);
    EXPECT(consentry_overdue_report((const uint8_t *)"[\"zz\"]", 6, garbage, sizeof garbage,
                                    provider, key32, 32, directory, 0, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(error_contains("not hexadecimal"), "entries not in hexadecimal");
    EXPECT(consentry_overdue_report((const uint8_t *)"[]", 2, garbage, sizeof garbage, provider,
                                    key32, 32, directory, 0, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(error_contains("overdue/head"), "a garbage head");
    EXPECT(consentry_ledger_overdue_report(l, NULL, 0, provider, key32, 31, directory, 0, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_verify_overdue((const uint8_t *)"{}", 2, (const uint8_t *)"[]", 2, provider,
                                    key32, 32, directory, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_usage_report((const uint8_t *)"[]", 2, garbage, sizeof garbage, provider,
                                  key32, 32, 0, 1, 1, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    CHECK(error_contains("log/malformed_head"), "a garbage head for statistics");
    EXPECT(consentry_ledger_usage_report(NULL, NULL, 0, provider, key32, 32, 0, 1, 1, &out),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    EXPECT(consentry_usage_report_csv((const uint8_t *)"{}", 2, &out),
           CONSENTRY_STATUS_INVALID_INPUT);
    EXPECT(consentry_usage_report_csv(NULL, 0, &out), CONSENTRY_STATUS_INVALID_JSON);
    EXPECT(consentry_usage_report_verify((const uint8_t *)"{", 1, NULL, 0, NULL, 0, provider,
                                         key32, 32),
           CONSENTRY_STATUS_INVALID_JSON);
    EXPECT(consentry_ceilings_define_derivations(NULL, (const uint8_t *)"[]", 2),
           CONSENTRY_STATUS_NULL_ARGUMENT);
    consentry_ledger_free(l);
}

int main(int argc, char **argv) {
    size_t len;
    uint8_t *json;
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    fixtures = argv[1];
    provider = (char *)fixture("provider.id", NULL);

    json = fixture("directory.json", &len);
    EXPECT(consentry_directory_from_json(json, len, &directory), CONSENTRY_STATUS_OK);
    free(json);
    json = fixture("ceilings.json", &len);
    EXPECT(consentry_ceilings_from_json(json, len, &ceilings), CONSENTRY_STATUS_OK);
    free(json);
    if (!directory || !ceilings) {
        fprintf(stderr, "cannot load the scenario\n");
        return 1;
    }

    canteen_flow();
    log_flow();
    threads();
    misuse();
    service_story();
    service_misuse();
    round_story();
    round_misuse();

    consentry_directory_free(directory);
    consentry_ceilings_free(ceilings);
    free(provider);

    printf("consentry %s through the C ABI\n", consentry_version());
    printf("c-abi: %d passed, %d failed\n", passed, failed);
    /* Never pass vacuously. */
    if (passed < 500) {
        fprintf(stderr, "too few checks ran (%d)\n", passed);
        return 1;
    }
    return failed == 0 ? 0 : 1;
}
