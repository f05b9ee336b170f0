/*
 * ESP-IDF 5.x client for the platform's native device API.
 *
 *   POST /api/v1/ota/check/   {product, device_id, version, secure_version, hw:{board, chip}, channel?, token?}
 *   POST /api/v1/ota/status/  {product, device_id, build_number, status, deployment_id?, message?, token?}
 *
 * Flow: check -> (update_available) report "downloading" -> esp_https_ota into the next OTA
 * partition -> verify size + SHA-256 of what is in flash (+ the detached ECDSA signature over that
 * SHA-256, for signed builds) -> report "installing" -> set boot partition, remember what we
 * installed (NVS), reboot -> the new image confirms itself
 * (esp_ota_mark_app_valid_cancel_rollback) and reports "success"; if the bootloader rolled back
 * instead, the old image finds the NVS record and reports "rolled_back". Between checks the
 * task sleeps for the server's next_check_s; a 5xx's Retry-After is honoured.
 *
 * See ../README.md for configuration, sdkconfig and local testing.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#include "cJSON.h"
#include "esp_app_desc.h"
#include "esp_crt_bundle.h"
#include "esp_event.h"
#include "esp_http_client.h"
#include "esp_https_ota.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "esp_netif.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "esp_random.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "mbedtls/base64.h"
#include "mbedtls/pk.h"
#include "mbedtls/sha256.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "protocol_examples_common.h"

/* ---- Configuration (override with -D... or replace) ------------------------------------- */

/* Cloud: the DeviceApiUrl stack output. Local: "http://<laptop LAN IP>:3000". No trailing slash. */
#ifndef OTA_API_BASE
#define OTA_API_BASE "https://abc123.execute-api.eu-west-1.amazonaws.com"
#endif
#ifndef OTA_PRODUCT_ID
#define OTA_PRODUCT_ID "demo"
#endif
#ifndef OTA_BOARD
#define OTA_BOARD "esp32-s3-devkitc-1"
#endif
/* "" = whatever the server has for this device (default "stable"). */
#ifndef OTA_CHANNEL
#define OTA_CHANNEL ""
#endif
/* Product key (product_key mode) or this device's token (device_token mode); "" for open products. */
#ifndef OTA_TOKEN
#define OTA_TOKEN ""
#endif

/* Signed builds (../README.md "Signed builds"; menuconfig "OTA native example"): the key id that
 * `otactl key add` printed for main/ota_signing_pub.pem. "" = signatures are not checked. */
#ifndef CONFIG_OTA_SIGNING_KEY_ID
#define CONFIG_OTA_SIGNING_KEY_ID ""
#endif
#ifdef CONFIG_OTA_REQUIRE_SIGNATURE
_Static_assert(sizeof(CONFIG_OTA_SIGNING_KEY_ID) == 65, "CONFIG_OTA_REQUIRE_SIGNATURE needs CONFIG_OTA_SIGNING_KEY_ID (64 hex digits)");
#endif

/* A freshly installed image that has not confirmed itself within this time rolls back. */
#define CONFIRM_DEADLINE_S 300
/* The server never asks for less than 30 s; cap sleeps at a week. */
#define MIN_SLEEP_S 30
#define MAX_SLEEP_S (7 * 24 * 3600)
/* Check responses stay well under 2 KB (at most two signed URLs plus a few fields). */
#define RESPONSE_MAX 2048

static const char *TAG = "ota_native";

/* ---- Device identity ----------------------------------------------------------------------- */

static char s_device_id[18]; /* "AA:BB:CC:DD:EE:FF" */

static void init_device_id(void)
{
    uint8_t mac[6];
    /* Readable before Wi-Fi starts; it is the STA MAC the radio will use. */
    ESP_ERROR_CHECK(esp_read_mac(mac, ESP_MAC_WIFI_STA));
    snprintf(s_device_id, sizeof(s_device_id), "%02X:%02X:%02X:%02X:%02X:%02X", MAC2STR(mac));
}

/* ---- HTTP: POST a JSON body, read the JSON answer and Retry-After -------------------------- */

typedef struct {
    int status;         /* HTTP status, 0 when the request never got an answer */
    int retry_after_s;  /* Retry-After in seconds, -1 when absent */
} http_result_t;

/* esp_http_client_get_header() reads *request* headers; response headers only reach us here. */
static esp_err_t on_http_event(esp_http_client_event_t *evt)
{
    http_result_t *res = evt->user_data;
    if (evt->event_id == HTTP_EVENT_ON_HEADER && strcasecmp(evt->header_key, "Retry-After") == 0) {
        char *end;
        long v = strtol(evt->header_value, &end, 10);
        if (end != evt->header_value && *end == '\0' && v >= 0) { /* delta-seconds; HTTP-dates are ignored */
            res->retry_after_s = (int)v;
        }
    }
    return ESP_OK;
}

static esp_err_t post_json(const char *path, const char *body, char *resp, size_t resp_cap, http_result_t *res)
{
    char url[192];
    snprintf(url, sizeof(url), "%s%s", OTA_API_BASE, path);
    *res = (http_result_t){ .status = 0, .retry_after_s = -1 };
    resp[0] = '\0';

    esp_http_client_config_t cfg = {
        .url = url,
        .method = HTTP_METHOD_POST,
        .timeout_ms = 15000,
        .event_handler = on_http_event,
        .user_data = res,
        .crt_bundle_attach = esp_crt_bundle_attach, /* the IDF CA bundle includes Amazon Root CA 1 */
    };
    esp_http_client_handle_t client = esp_http_client_init(&cfg);
    if (client == NULL) {
        return ESP_ERR_NO_MEM;
    }
    esp_http_client_set_header(client, "Content-Type", "application/json");

    const int body_len = (int)strlen(body);
    esp_err_t err = esp_http_client_open(client, body_len);
    if (err == ESP_OK && esp_http_client_write(client, body, body_len) != body_len) {
        err = ESP_FAIL;
    }
    if (err == ESP_OK && esp_http_client_fetch_headers(client) < 0) {
        err = ESP_FAIL;
    }
    if (err == ESP_OK) {
        res->status = esp_http_client_get_status_code(client);
        int n = esp_http_client_read_response(client, resp, (int)resp_cap - 1);
        if (n < 0) {
            err = ESP_FAIL;
        } else {
            resp[n] = '\0';
            if (!esp_http_client_is_complete_data_received(client)) {
                ESP_LOGW(TAG, "response to %s larger than %u bytes, truncated", path, (unsigned)resp_cap - 1);
                err = ESP_ERR_INVALID_SIZE;
            }
        }
    }
    esp_http_client_close(client);
    esp_http_client_cleanup(client);
    return err;
}

/* ---- NVS: what we installed, so the next boot can tell success from rollback ---------------- */

#define NVS_NS "ota_native"

typedef struct {
    int32_t build;
    char deployment_id[65];
    char label[17];   /* partition label of the installed image */
    char outcome[16]; /* "" until decided, then "success" or "rolled_back" until reported */
} pending_t;

static bool pending_load(pending_t *p)
{
    nvs_handle_t h;
    if (nvs_open(NVS_NS, NVS_READONLY, &h) != ESP_OK) {
        return false;
    }
    memset(p, 0, sizeof(*p));
    size_t dep = sizeof(p->deployment_id), lbl = sizeof(p->label), out = sizeof(p->outcome);
    bool ok = nvs_get_i32(h, "build", &p->build) == ESP_OK && nvs_get_str(h, "label", p->label, &lbl) == ESP_OK;
    if (ok) {
        nvs_get_str(h, "dep", p->deployment_id, &dep); /* optional */
        nvs_get_str(h, "outcome", p->outcome, &out);   /* optional */
    }
    nvs_close(h);
    return ok;
}

static void pending_save(const pending_t *p)
{
    nvs_handle_t h;
    ESP_ERROR_CHECK(nvs_open(NVS_NS, NVS_READWRITE, &h));
    ESP_ERROR_CHECK(nvs_set_i32(h, "build", p->build));
    ESP_ERROR_CHECK(nvs_set_str(h, "dep", p->deployment_id));
    ESP_ERROR_CHECK(nvs_set_str(h, "label", p->label));
    ESP_ERROR_CHECK(nvs_set_str(h, "outcome", p->outcome));
    ESP_ERROR_CHECK(nvs_commit(h));
    nvs_close(h);
}

static void pending_clear(void)
{
    nvs_handle_t h;
    if (nvs_open(NVS_NS, NVS_READWRITE, &h) == ESP_OK) {
        nvs_erase_all(h);
        nvs_commit(h);
        nvs_close(h);
    }
}

/* ---- Status reports --------------------------------------------------------------------- */

/* ESP_OK once the server has answered (even with a 4xx: resending the same report will not
 * help); an error only for transport failures and 5xx, which are worth retrying. */
static esp_err_t report_status(int32_t build, const char *status, const char *deployment_id, const char *message)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "product", OTA_PRODUCT_ID);
    cJSON_AddStringToObject(root, "device_id", s_device_id);
    cJSON_AddNumberToObject(root, "build_number", build);
    cJSON_AddStringToObject(root, "status", status);
    if (deployment_id != NULL && deployment_id[0] != '\0') {
        cJSON_AddStringToObject(root, "deployment_id", deployment_id);
    }
    if (message != NULL && message[0] != '\0') {
        cJSON_AddStringToObject(root, "message", message); /* the server keeps up to 512 chars */
    }
    if (strlen(OTA_TOKEN) > 0) {
        cJSON_AddStringToObject(root, "token", OTA_TOKEN);
    }
    char *body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (body == NULL) {
        return ESP_ERR_NO_MEM;
    }

    char resp[256];
    http_result_t res;
    esp_err_t err = post_json("/api/v1/ota/status/", body, resp, sizeof(resp), &res);
    cJSON_free(body);
    if (err != ESP_OK && res.status == 0) {
        ESP_LOGW(TAG, "status %s for build %" PRId32 ": %s", status, build, esp_err_to_name(err));
        return err;
    }
    ESP_LOGI(TAG, "status %s for build %" PRId32 " -> HTTP %d %s", status, build, res.status, resp);
    return res.status >= 500 ? ESP_FAIL : ESP_OK;
}

static void flush_pending_report(void)
{
    pending_t p;
    if (!pending_load(&p) || p.outcome[0] == '\0') {
        return;
    }
    const char *msg = strcmp(p.outcome, "rolled_back") == 0 ? "bootloader returned to the previous image" : NULL;
    if (report_status(p.build, p.outcome, p.deployment_id, msg) == ESP_OK) {
        pending_clear();
    } /* else keep it and try again after the next check */
}

/* ---- After a reboot: confirm the new image, or notice a rollback ------------------------ */

static esp_timer_handle_t s_confirm_timer;
static bool s_pending_verify;

static void confirm_deadline_passed(void *arg)
{
    ESP_LOGE(TAG, "new firmware not confirmed within %d s, rolling back", CONFIRM_DEADLINE_S);
    esp_ota_mark_app_invalid_rollback_and_reboot(); /* returns only if there is nothing to roll back to */
}

/* Call early in app_main, before anything that could hang (e.g. bringing the network up). */
static void ota_boot_check(void)
{
    const esp_partition_t *running = esp_ota_get_running_partition();
    esp_ota_img_states_t state;

    /* With CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE a new image boots in PENDING_VERIFY: if it
     * resets before calling esp_ota_mark_app_valid_cancel_rollback(), the bootloader returns to
     * the previous image. The timer also covers an image that hangs without resetting. */
    s_pending_verify = esp_ota_get_state_partition(running, &state) == ESP_OK && state == ESP_OTA_IMG_PENDING_VERIFY;
    if (s_pending_verify) {
        const esp_timer_create_args_t args = { .callback = confirm_deadline_passed, .name = "ota_confirm" };
        ESP_ERROR_CHECK(esp_timer_create(&args, &s_confirm_timer));
        ESP_ERROR_CHECK(esp_timer_start_once(s_confirm_timer, (uint64_t)CONFIRM_DEADLINE_S * 1000000ULL));
    }

    pending_t p;
    if (!pending_load(&p) || p.outcome[0] != '\0') {
        return; /* nothing installed, or the outcome is decided and only waits to be reported */
    }
    if (strcmp(running->label, p.label) != 0) {
        /* We installed into p.label but run from elsewhere: the new image failed its boot-time
         * verification, or it never confirmed itself and the bootloader rolled back. */
        ESP_LOGW(TAG, "build %" PRId32 " in %s did not stay: running %s", p.build, p.label, running->label);
        snprintf(p.outcome, sizeof(p.outcome), "rolled_back");
        pending_save(&p);
    }
}

/* Your checks that the new firmware really works: peripherals answer, configuration loads,
 * the network came up (it has by the time this runs). Return false to roll back. */
static bool app_self_test(void)
{
    return true;
}

static void confirm_running_image(void)
{
    if (s_pending_verify) {
        if (!app_self_test()) {
            ESP_LOGE(TAG, "self-test failed, rolling back");
            esp_ota_mark_app_invalid_rollback_and_reboot(); /* returns only if there is no other image */
        }
        ESP_ERROR_CHECK(esp_ota_mark_app_valid_cancel_rollback());
        esp_timer_stop(s_confirm_timer);
        s_pending_verify = false;
        ESP_LOGI(TAG, "firmware %s confirmed", esp_app_get_description()->version);
    }

    pending_t p;
    if (pending_load(&p) && p.outcome[0] == '\0' && strcmp(esp_ota_get_running_partition()->label, p.label) == 0) {
        snprintf(p.outcome, sizeof(p.outcome), "success");
        pending_save(&p);
    }
}

/* ---- Check ------------------------------------------------------------------------------ */

typedef struct {
    char status[24];
    bool update_available;
    int next_check_s;
    int32_t build_number;
    char version[33];
    char url[768]; /* the server keeps "GET <path>?<query> HTTP/1.1" within 512 bytes */
    int size;
    char sha256[65];
    char deployment_id[65];
    /* Signed builds only. `signature` is base64 of a DER ECDSA P-256 signature: at most 72 bytes,
     * so at most 96 characters; a longer one is left empty here and refused as bad_signature. */
    bool signed_build;
    char signature[97];
    char signature_alg[24];
    char key_id[65];
} check_result_t;

static bool json_str(const cJSON *obj, const char *key, char *dst, size_t cap)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(it) || strlen(it->valuestring) >= cap) {
        return false;
    }
    strcpy(dst, it->valuestring);
    return true;
}

static int json_int(const cJSON *obj, const char *key, int fallback)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(it) ? (int)it->valuedouble : fallback;
}

static uint32_t backoff_s(unsigned failures)
{
    uint32_t base = 60U << (failures > 6 ? 6 : failures); /* 1 min doubling to ~1 h */
    if (base > 3600) {
        base = 3600;
    }
    return base + esp_random() % (base / 2 + 1); /* jitter: a fleet must not retry in lockstep */
}

/* Returns ESP_OK when the server answered 200 and *r is filled; *sleep_s is always set. */
static esp_err_t check_for_update(check_result_t *r, uint32_t *sleep_s)
{
    static unsigned failures;
    memset(r, 0, sizeof(*r));

    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "product", OTA_PRODUCT_ID);
    cJSON_AddStringToObject(root, "device_id", s_device_id);
    cJSON_AddStringToObject(root, "version", esp_app_get_description()->version);
    /* The anti-rollback counter (eFuse-enforced with CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK). The
     * server never offers a build with a lower secure_version. */
    cJSON_AddNumberToObject(root, "secure_version", esp_app_get_description()->secure_version);
    cJSON *hw = cJSON_AddObjectToObject(root, "hw");
    cJSON_AddStringToObject(hw, "board", OTA_BOARD);
    cJSON_AddStringToObject(hw, "chip", CONFIG_IDF_TARGET); /* "esp32s3", "esp32c3", ... */
    if (strlen(OTA_CHANNEL) > 0) {
        cJSON_AddStringToObject(root, "channel", OTA_CHANNEL);
    }
    if (strlen(OTA_TOKEN) > 0) {
        cJSON_AddStringToObject(root, "token", OTA_TOKEN);
    }
    char *body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (body == NULL) {
        *sleep_s = backoff_s(failures++);
        return ESP_ERR_NO_MEM;
    }

    static char resp[RESPONSE_MAX];
    http_result_t res;
    esp_err_t err = post_json("/api/v1/ota/check/", body, resp, sizeof(resp), &res);
    cJSON_free(body);

    if (res.status >= 500) {
        /* Infrastructure trouble. The server says when to come back (already jittered). */
        *sleep_s = res.retry_after_s >= 0 ? (uint32_t)res.retry_after_s : backoff_s(failures);
        failures++;
        ESP_LOGW(TAG, "check: HTTP %d, retrying in %" PRIu32 " s", res.status, *sleep_s);
        return ESP_FAIL;
    }
    if (err != ESP_OK) {
        *sleep_s = backoff_s(failures++);
        ESP_LOGW(TAG, "check failed (%s), retrying in %" PRIu32 " s", esp_err_to_name(err), *sleep_s);
        return err;
    }
    if (res.status != 200) {
        /* 400/413/415: our request is malformed; retrying soon will not fix it. (A wrong token is
         * not a 4xx: it is a 200 with status "unknown_device".) */
        *sleep_s = 3600;
        ESP_LOGE(TAG, "check rejected: HTTP %d %s", res.status, resp);
        return ESP_FAIL;
    }

    cJSON *json = cJSON_Parse(resp);
    if (json == NULL) {
        *sleep_s = backoff_s(failures++);
        ESP_LOGE(TAG, "check: unparsable response");
        return ESP_FAIL;
    }
    failures = 0;
    json_str(json, "status", r->status, sizeof(r->status));
    r->next_check_s = json_int(json, "next_check_s", 3600);
    r->update_available = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "update_available"));
    if (r->update_available) {
        r->build_number = json_int(json, "build_number", 0);
        r->size = json_int(json, "size", 0);
        json_str(json, "version", r->version, sizeof(r->version));
        json_str(json, "deployment_id", r->deployment_id, sizeof(r->deployment_id));
        if (!json_str(json, "sha256", r->sha256, sizeof(r->sha256))) {
            /* Same digest, prefixed: "sha256:<hex>". */
            char checksum[80];
            if (json_str(json, "checksum", checksum, sizeof(checksum)) && strncmp(checksum, "sha256:", 7) == 0) {
                snprintf(r->sha256, sizeof(r->sha256), "%.64s", checksum + 7);
            }
        }
        /* A detached signature (builds of products that sign). A value that does not fit stays ""
         * and fails verification; it never makes the build look unsigned. */
        const cJSON *sig = cJSON_GetObjectItemCaseSensitive(json, "signature");
        r->signed_build = sig != NULL && !cJSON_IsNull(sig);
        if (r->signed_build) {
            json_str(json, "signature", r->signature, sizeof(r->signature));
            json_str(json, "signature_alg", r->signature_alg, sizeof(r->signature_alg));
            json_str(json, "key_id", r->key_id, sizeof(r->key_id));
        }
        if (!json_str(json, "url", r->url, sizeof(r->url)) || r->build_number < 1 || strlen(r->sha256) != 64) {
            ESP_LOGE(TAG, "update_available without a usable url/build_number/sha256, ignoring it");
            r->update_available = false;
        }
    }
    cJSON_Delete(json);

    /* update_available | no_update | inactive | unknown_product | unknown_device: all are
     * business outcomes; each comes with the interval to wait (product setting, +-20 %). */
    ESP_LOGI(TAG, "check: %s", r->status);
    *sleep_s = (uint32_t)r->next_check_s;
    return ESP_OK;
}

/* ---- Signatures ------------------------------------------------------------------------- */

/*
 * A signed build comes with a detached signature in the check response: `signature` is base64 of
 * a DER-encoded ECDSA P-256 signature over the SHA-256 of the whole file (what `openssl dgst
 * -sha256 -sign` and AWS KMS ECDSA_SHA_256 produce), `signature_alg` is "ecdsa-p256-sha256" and
 * `key_id` names the key. The device trusts one key: main/ota_signing_pub.pem (EMBED_TXTFILES),
 * which the platform knows as CONFIG_OTA_SIGNING_KEY_ID.
 *
 * Verified with mbedtls_pk_verify(), which takes the DER signature and the PEM key as they are
 * (PSA's psa_verify_hash() wants the raw 64-byte r||s and a bare EC point, so both would need
 * converting). Written for ESP-IDF v5.0 to v5.5 (Mbed TLS 3.x): their default sdkconfig builds
 * everything used here (MBEDTLS_PK_PARSE_C, PEM_PARSE_C, BASE64_C, ECDSA_C, ECP_DP_SECP256R1).
 * ESP-IDF master (v6, Mbed TLS 4) drops the legacy ECDSA module and verifies with PSA itself:
 * port this section when you move.
 */
extern const uint8_t ota_signing_pub_pem_start[] asm("_binary_ota_signing_pub_pem_start");
extern const uint8_t ota_signing_pub_pem_end[] asm("_binary_ota_signing_pub_pem_end");

#define SIGNATURE_ALG "ecdsa-p256-sha256"
#define SIGNATURE_DER_MAX 72 /* SEQUENCE { INTEGER r, INTEGER s } for P-256 */
/* The status message the server reads as "the signature failed" (status "failed"). */
#define BAD_SIGNATURE "bad_signature"

static bool signature_checks_on(void)
{
    return strlen(CONFIG_OTA_SIGNING_KEY_ID) > 0;
}

/* The embedded key. Its length includes the NUL that EMBED_TXTFILES appends, as PEM parsing needs. */
static esp_err_t load_signing_key(mbedtls_pk_context *pk)
{
    mbedtls_pk_init(pk);
    int ret = mbedtls_pk_parse_public_key(pk, ota_signing_pub_pem_start, (size_t)(ota_signing_pub_pem_end - ota_signing_pub_pem_start));
    if (ret != 0 || !mbedtls_pk_can_do(pk, MBEDTLS_PK_ECDSA) || mbedtls_pk_get_bitlen(pk) != 256) {
        ESP_LOGE(TAG, "main/ota_signing_pub.pem is not a P-256 public key (-0x%04x): signed builds cannot be installed", (unsigned)-ret);
        mbedtls_pk_free(pk);
        return ESP_ERR_INVALID_STATE;
    }
    return ESP_OK;
}

/*
 * Before the download: can this device accept the offer's signature at all? False (reason in
 * `why`) for an unsigned build when CONFIG_OTA_REQUIRE_SIGNATURE is set, another algorithm, or a
 * key id other than ours. The caller reports those as bad_signature: that build can never pass
 * here, so the server must not offer it again.
 */
static bool signature_acceptable(const check_result_t *r, char *why, size_t cap)
{
    if (!r->signed_build) {
#ifdef CONFIG_OTA_REQUIRE_SIGNATURE
        snprintf(why, cap, "unsigned build, and CONFIG_OTA_REQUIRE_SIGNATURE is set");
        return false;
#else
        return true;
#endif
    }
    if (!signature_checks_on()) {
        ESP_LOGW(TAG, "build %" PRId32 " is signed, but CONFIG_OTA_SIGNING_KEY_ID is empty: signature not checked", r->build_number);
        return true;
    }
    if (strcmp(r->signature_alg, SIGNATURE_ALG) != 0) {
        snprintf(why, cap, "signature_alg \"%s\", this device verifies only " SIGNATURE_ALG, r->signature_alg);
        return false;
    }
    if (strcasecmp(r->key_id, CONFIG_OTA_SIGNING_KEY_ID) != 0) {
        snprintf(why, cap, "signed with unknown key %.16s..., this device trusts %.16s...", r->key_id, CONFIG_OTA_SIGNING_KEY_ID);
        return false;
    }
    return true;
}

/*
 * After the download: does the signature verify over `digest`, the SHA-256 of the file as it
 * landed in flash? ESP_OK: yes. ESP_FAIL: no, the build is at fault (reported as bad_signature).
 * ESP_ERR_INVALID_STATE: our own key does not parse, which is not the build's fault.
 */
static esp_err_t verify_signature(const check_result_t *r, const uint8_t digest[32], char *why, size_t cap)
{
    uint8_t der[SIGNATURE_DER_MAX];
    size_t der_len = 0;
    int ret = mbedtls_base64_decode(der, sizeof(der), &der_len, (const unsigned char *)r->signature, strlen(r->signature));
    if (ret != 0 || der_len == 0) {
        snprintf(why, cap, "signature is not base64 of at most %d bytes (-0x%04x)", SIGNATURE_DER_MAX, (unsigned)-ret);
        return ESP_FAIL;
    }
    mbedtls_pk_context pk;
    if (load_signing_key(&pk) != ESP_OK) {
        snprintf(why, cap, "main/ota_signing_pub.pem does not parse");
        return ESP_ERR_INVALID_STATE;
    }
    ret = mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, digest, 32, der, der_len);
    mbedtls_pk_free(&pk);
    if (ret != 0) {
        snprintf(why, cap, "signature does not verify with key %.16s... (-0x%04x)", CONFIG_OTA_SIGNING_KEY_ID, (unsigned)-ret);
        return ESP_FAIL;
    }
    return ESP_OK;
}

/* ---- Update ----------------------------------------------------------------------------- */

/*
 * SHA-256 of the first `len` bytes of the update partition, i.e. of the file as it landed in
 * flash. Why not esp_partition_get_sha256()? For an app partition it returns the image digest:
 * the hash esptool appends (the last 32 bytes of the .bin), computed over everything before it.
 * The server's `sha256` is over the whole file, appended digest included, so the two never match.
 *
 * Reading back is done before esp_https_ota_finish(): the running image is still the boot
 * image, so a mismatch costs nothing (abort and carry on). Every byte is already in flash at
 * that point: esp_ota_write() holds back only a partial 16-byte block when flash encryption is
 * on, and ESP app images are 16-byte multiples. With flash encryption, esp_partition_read()
 * returns plaintext, so the hash still matches. A signed build's signature is checked over the
 * same `digest`, so the file is read back once.
 */
static esp_err_t sha256_of_partition(const esp_partition_t *part, size_t len, uint8_t digest[32], char hex[65])
{
    const size_t chunk = 4096;
    uint8_t *buf = malloc(chunk);
    if (buf == NULL) {
        return ESP_ERR_NO_MEM;
    }
    mbedtls_sha256_context ctx;
    mbedtls_sha256_init(&ctx);
    esp_err_t err = mbedtls_sha256_starts(&ctx, 0 /* SHA-256, not SHA-224 */) == 0 ? ESP_OK : ESP_FAIL;
    for (size_t off = 0; err == ESP_OK && off < len; off += chunk) {
        const size_t n = len - off < chunk ? len - off : chunk;
        err = esp_partition_read(part, off, buf, n);
        if (err == ESP_OK && mbedtls_sha256_update(&ctx, buf, n) != 0) {
            err = ESP_FAIL;
        }
    }
    if (err == ESP_OK && mbedtls_sha256_finish(&ctx, digest) != 0) {
        err = ESP_FAIL;
    }
    mbedtls_sha256_free(&ctx);
    free(buf);
    if (err == ESP_OK) {
        for (int i = 0; i < 32; i++) {
            sprintf(hex + 2 * i, "%02x", digest[i]);
        }
    }
    return err;
}

/* Errors that mean the image itself is unusable, as opposed to the network failing. */
static bool is_image_error(esp_err_t err)
{
    return err == ESP_ERR_OTA_VALIDATE_FAILED || err == ESP_ERR_INVALID_VERSION /* chip id */;
}

/*
 * Downloads, verifies and installs the offered build; reboots on success (does not return).
 * Reports "failed" only when the build itself is bad (wrong version, size or hash, invalid
 * image, or a signature this device refuses, then with the message "bad_signature"): the server
 * then never offers it to this device again. Network trouble is not the build's fault, so it is
 * not reported; the next check hands out a fresh URL.
 */
static void install_update(const check_result_t *r)
{
#ifndef CONFIG_ESP_HTTPS_OTA_ALLOW_HTTP
    if (strncmp(r->url, "http://", 7) == 0) {
        ESP_LOGE(TAG, "esp_https_ota refuses plain-http URLs (local platform): set CONFIG_ESP_HTTPS_OTA_ALLOW_HTTP=y");
        return;
    }
#endif
    char why[160] = "";
    /* A signature we cannot accept (wrong algorithm, unknown key, none when one is required)
     * fails the build before a byte is downloaded. */
    if (!signature_acceptable(r, why, sizeof(why))) {
        ESP_LOGE(TAG, "build %" PRId32 " refused: %s", r->build_number, why);
        report_status(r->build_number, "failed", r->deployment_id, BAD_SIGNATURE);
        return;
    }
    ESP_LOGI(TAG, "update to %s (build %" PRId32 ", %d bytes%s)", r->version, r->build_number, r->size, r->signed_build ? ", signed" : "");
    report_status(r->build_number, "downloading", r->deployment_id, NULL);

    esp_http_client_config_t http = {
        .url = r->url,
        .crt_bundle_attach = esp_crt_bundle_attach,
        .timeout_ms = 30000,
        .keep_alive_enable = true,
        /* buffer_size_tx stays at its 512-byte default: it must hold the whole request line, and
         * the server signs URLs short enough for that. */
    };
    esp_https_ota_config_t ota_cfg = { .http_config = &http };

    bool build_is_bad = false;
    const char *message = why; /* what a "failed" report says; BAD_SIGNATURE for signature failures */
    esp_https_ota_handle_t ota = NULL;
    esp_app_desc_t desc;
    const esp_partition_t *target = esp_ota_get_next_update_partition(NULL); /* where esp_https_ota writes */
    uint8_t digest[32];
    char actual[65];
    int len;

    /* The URL expires 15 minutes after the check: start right away, never keep it for later. */
    esp_err_t err = esp_https_ota_begin(&ota_cfg, &ota);
    if (err != ESP_OK) {
        snprintf(why, sizeof(why), "download could not start: %s", esp_err_to_name(err));
        goto fail;
    }

    err = esp_https_ota_get_img_desc(ota, &desc);
    if (err != ESP_OK) {
        snprintf(why, sizeof(why), "no image header: %s", esp_err_to_name(err));
        build_is_bad = is_image_error(err);
        goto fail;
    }
    if (r->version[0] != '\0' && strcmp(desc.version, r->version) != 0) {
        snprintf(why, sizeof(why), "image says version %s, offer said %s", desc.version, r->version);
        build_is_bad = true;
        goto fail;
    }
    if (desc.secure_version < esp_app_get_description()->secure_version) {
        /* The server never offers this (we send our secure_version); anti-rollback would refuse it. */
        snprintf(why, sizeof(why), "image has secure_version %" PRIu32 ", this device runs %" PRIu32, desc.secure_version,
                 esp_app_get_description()->secure_version);
        build_is_bad = true;
        goto fail;
    }

    while ((err = esp_https_ota_perform(ota)) == ESP_ERR_HTTPS_OTA_IN_PROGRESS) {
        /* esp_https_ota_get_image_len_read(ota) for progress */
    }
    if (err != ESP_OK || !esp_https_ota_is_complete_data_received(ota)) {
        snprintf(why, sizeof(why), "download failed: %s", esp_err_to_name(err));
        build_is_bad = is_image_error(err);
        goto fail;
    }

    len = esp_https_ota_get_image_len_read(ota);
    if (r->size > 0 && len != r->size) {
        snprintf(why, sizeof(why), "got %d bytes, offer said %d", len, r->size);
        build_is_bad = true;
        goto fail;
    }
    err = sha256_of_partition(target, (size_t)len, digest, actual);
    if (err != ESP_OK) {
        snprintf(why, sizeof(why), "could not read back %s: %s", target->label, esp_err_to_name(err));
        goto fail;
    }
    if (strcasecmp(actual, r->sha256) != 0) {
        snprintf(why, sizeof(why), "sha256 mismatch: flash %.16s..., offer %.16s...", actual, r->sha256);
        build_is_bad = true;
        goto fail;
    }
    /* The signature covers the same bytes: check it over the digest just computed, before
     * esp_https_ota_finish() makes the partition bootable. On failure, `fail` aborts the OTA
     * (esp_https_ota_abort -> esp_ota_abort) and the boot partition stays as it is. */
    if (r->signed_build && signature_checks_on()) {
        err = verify_signature(r, digest, why, sizeof(why));
        if (err != ESP_OK) {
            build_is_bad = err == ESP_FAIL; /* not when our own key is broken */
            message = BAD_SIGNATURE;
            goto fail;
        }
        ESP_LOGI(TAG, "signature verified (key %.16s...)", CONFIG_OTA_SIGNING_KEY_ID);
    }

    report_status(r->build_number, "installing", r->deployment_id, NULL);
    /* Validates the image (header, checksum, appended hash, signature with secure boot) and
     * makes it the boot partition. Frees the handle either way. */
    err = esp_https_ota_finish(ota);
    ota = NULL;
    if (err != ESP_OK) {
        snprintf(why, sizeof(why), "image rejected: %s", esp_err_to_name(err));
        build_is_bad = true;
        goto fail;
    }

    {
        pending_t p = { .build = r->build_number, .outcome = "" }; /* outcome decided after the reboot */
        snprintf(p.deployment_id, sizeof(p.deployment_id), "%s", r->deployment_id);
        snprintf(p.label, sizeof(p.label), "%s", target->label);
        pending_save(&p);
        ESP_LOGI(TAG, "installed into %s, rebooting", target->label);
        esp_restart();
    }

fail:
    if (ota != NULL) {
        esp_https_ota_abort(ota);
    }
    ESP_LOGE(TAG, "update to build %" PRId32 " failed: %s", r->build_number, why);
    if (build_is_bad) {
        report_status(r->build_number, "failed", r->deployment_id, message);
    }
}

/* ---- Task ------------------------------------------------------------------------------- */

static void sleep_seconds(uint32_t s)
{
    if (s < MIN_SLEEP_S) {
        s = MIN_SLEEP_S;
    }
    if (s > MAX_SLEEP_S) {
        s = MAX_SLEEP_S;
    }
    ESP_LOGI(TAG, "next check in %" PRIu32 " s", s);
    /* Not pdMS_TO_TICKS(s * 1000): that overflows 32 bits after ~12 h at 100 Hz. Battery devices
     * would esp_deep_sleep_start() here instead. */
    vTaskDelay((TickType_t)s * configTICK_RATE_HZ);
}

static void ota_task(void *arg)
{
    static check_result_t r; /* ~1 KB, keep it off the stack */
    confirm_running_image();

    int32_t retry_build = 0;
    unsigned retries = 0;
    for (;;) {
        flush_pending_report();
        uint32_t sleep_s;
        if (check_for_update(&r, &sleep_s) == ESP_OK && r.update_available) {
            install_update(&r); /* returns only if the update failed */
            /* A bad build was reported and will not be offered again. After a network failure
             * the same build comes back: retry with a fresh URL after 5, 10, 20 ... minutes,
             * never later than the normal poll interval. */
            retries = r.build_number == retry_build ? retries + 1 : 0;
            retry_build = r.build_number;
            const uint32_t retry_s = 300U << (retries > 5 ? 5 : retries);
            if (sleep_s > retry_s) {
                sleep_s = retry_s;
            }
        }
        sleep_seconds(sleep_s);
    }
}

void app_main(void)
{
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_ERROR_CHECK(nvs_flash_erase());
        err = nvs_flash_init();
    }
    ESP_ERROR_CHECK(err);

    init_device_id();
    ota_boot_check();

    const esp_app_desc_t *app = esp_app_get_description();
    ESP_LOGI(TAG, "%s %s on %s, device %s", app->project_name, app->version, CONFIG_IDF_TARGET, s_device_id);

    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    /* Wi-Fi (or Ethernet) from menuconfig "Example Connection Configuration"; a product would use
     * its own provisioning here. If this never returns, the confirm timer rolls a new image back. */
    ESP_ERROR_CHECK(example_connect());

    xTaskCreate(ota_task, "ota_native", 8192, NULL, 5, NULL);
}
