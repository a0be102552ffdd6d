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

    consentry_directory_free(directory);
    consentry_ceilings_free(ceilings);
    free(provider);

    printf("consentry %s through the C ABI\n", consentry_version());
    printf("c-abi: %d passed, %d failed\n", passed, failed);
    /* Never pass vacuously. */
    if (passed < 150) {
        fprintf(stderr, "too few checks ran (%d)\n", passed);
        return 1;
    }
    return failed == 0 ? 0 : 1;
}
