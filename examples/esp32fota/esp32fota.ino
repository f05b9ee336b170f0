/*
 * esp32FOTA against the platform's FireFly-compatible manifest endpoint.
 *
 *   GET https://<api-host>/ota/{class}/{product_hex}?current_version=<version>[&id=<device id>]
 *   200 {"type":"<firmware type>","version":"2026.03.001","url":"<signed CDN url>",...}
 *   (a release with a ui image: "host","port","bin","spiffs" instead of "url", so this library
 *   flashes the app and the filesystem image)
 *
 * Signed releases (SIGNED_RELEASES): esp32FOTA's own format, a 512-byte RSA-4096 PKCS#1 v1.5
 * SHA-256 signature in front of the app image. The library strips it, flashes the image and
 * verifies it with setPubKey()'s key before the new partition becomes bootable.
 *
 * Toolchain: Arduino-ESP32 core 3.x, esp32FOTA (chrisjoyce911) 0.2.x (0.2.1+ for setPubKey),
 * ArduinoJson 6 or 7. See README.md next to this file for the manifest keys esp32FOTA reads, TLS,
 * signed releases and local testing.
 */
#include <WiFi.h>
#include <esp32FOTA.hpp>

// ---- Configure ------------------------------------------------------------------------------

static const char *WIFI_SSID = "your-ssid";
static const char *WIFI_PASS = "your-password";

// Must equal the product's firmware_type (or the release's manifest.json `firmware_type`) byte for
// byte: esp32FOTA compares the manifest's `type` with strcmp and silently ignores a mismatch.
#define FIRMWARE_TYPE "FireFly Controller"

// The version of THIS build. Publish the binary with the same `version` in manifest.json.
// esp32FOTA parses it as MAJOR.MINOR.PATCH integers, so calendar versions work (2026.03.001 is
// 2026.3.1); pre-release suffixes such as -rc.1 do not (they parse as 0.0.0).
#define FIRMWARE_VERSION "2026.03.001"

// Cloud: the DeviceApiUrl stack output. Local: "http://<laptop LAN IP>:3000" (see ../README.md).
#define OTA_API_BASE "https://abc123.execute-api.eu-west-1.amazonaws.com"
#define PRODUCT_CLASS "Controller"
#define PRODUCT_HEX "0x1A2B"  // "0x" + 1-16 hex digits, matched case-insensitively

// Products in `product_key` (or `device_token`) security mode: the key. "" for `open` products.
#define PRODUCT_KEY ""

// How often to ask. The manifest carries no poll interval, so the sketch picks one (with jitter
// so a fleet that booted together does not poll together).
static const uint32_t CHECK_INTERVAL_S = 3600;

// Amazon Root CA 1. API Gateway (execute-api) and CloudFront (*.cloudfront.net) certificates
// both chain to it, as do ACM RSA certificates on custom domains; one root covers the manifest
// request and the firmware download. Paste the PEM from
//   https://www.amazontrust.com/repository/AmazonRootCA1.pem
// keeping the BEGIN/END lines. (ACM ECDSA certificates chain to Amazon Root CA 3: append it.)
static const char AMAZON_ROOT_CA1[] = R"PEM(
-----BEGIN CERTIFICATE-----
PASTE AmazonRootCA1.pem HERE
-----END CERTIFICATE-----
)PEM";

// Signed releases (README "Signed releases"): true once the product publishes only images signed
// with the RSA-4096 key below (esp32FOTA's format: signature + image in one file). Every image
// this device installs must then carry a valid signature, the filesystem image (ui.bin) included.
#define SIGNED_RELEASES false

// The product's RSA-4096 public key (`openssl rsa -in priv_key.pem -pubout`), the one registered
// with `otactl key add`. Keep the BEGIN/END lines. Only used when SIGNED_RELEASES is true.
static const char RSA_PUBLIC_KEY[] = R"PEM(
-----BEGIN PUBLIC KEY-----
PASTE rsa_key.pub HERE
-----END PUBLIC KEY-----
)PEM";

// ---------------------------------------------------------------------------------------------

// firmware type, current version, validate = false: the legacy switch that reads /rsa_key.pub
// from SPIFFS. setPubKey() below turns signature checks on with the key compiled in instead.
esp32FOTA esp32FOTA(FIRMWARE_TYPE, FIRMWARE_VERSION, false /* validate */);

// esp32FOTA 0.2.x releases differ: some copy the string passed to setManifestURL(), others keep
// a pointer into it. A global String that is never modified afterwards is safe with both.
static String manifestUrl;

static CryptoMemAsset rootCa("Amazon Root CA 1", AMAZON_ROOT_CA1, sizeof(AMAZON_ROOT_CA1));
// sizeof includes the terminating NUL, which mbedtls_pk_parse_public_key() needs for PEM.
static CryptoMemAsset rsaPublicKey("RSA-4096 release key", RSA_PUBLIC_KEY, sizeof(RSA_PUBLIC_KEY));

// Set when the library rejected a download's signature (see setUpdateCheckFailCb below).
static bool signatureRejected = false;

static uint32_t nextCheckAtMs = 0;

static uint32_t jitteredIntervalMs(uint32_t seconds) {
  // +-20 %, like the platform's own poll intervals.
  const uint32_t spread = seconds / 5;
  return (uint32_t)random(seconds - spread, seconds + spread + 1) * 1000UL;
}

static void connectWifi() {
  WiFi.mode(WIFI_STA);
  WiFi.begin(WIFI_SSID, WIFI_PASS);
  Serial.print("Wi-Fi");
  while (WiFi.status() != WL_CONNECTED) {
    delay(500);
    Serial.print('.');
  }
  Serial.printf(" %s\n", WiFi.localIP().toString().c_str());
}

void setup() {
  Serial.begin(115200);
  Serial.printf("\n%s %s\n", FIRMWARE_TYPE, FIRMWARE_VERSION);
  connectWifi();

  // current_version must be the running version: the endpoint picks the next release after it.
  // Keep versions to [0-9A-Za-z.-]; a '+' would need to be sent as %2B.
  manifestUrl = String(OTA_API_BASE) + "/ota/" + PRODUCT_CLASS + "/" + PRODUCT_HEX +
                "?current_version=" + FIRMWARE_VERSION;
  esp32FOTA.setManifestURL(manifestUrl);

  // Appends "&id=<device id>" to the manifest URL. The server uses `id` to place the device in
  // rollout cohorts; without it only deployments at 100 % reach the device.
  // Note the format: esp32FOTA sends ESP.getEfuseMac() as a decimal number, not AA:BB:...
  esp32FOTA.useDeviceId(true);

  // The credential travels as a header (query strings end up in access logs). esp32FOTA sends
  // extra headers with every request, so the CDN sees it too; it authorises by URL signature.
  if (sizeof(PRODUCT_KEY) > 1) {
    esp32FOTA.setExtraHTTPHeader("X-OTA-Key", PRODUCT_KEY);
  }

  // esp32FOTA looks for /root_ca.pem on SPIFFS by default; our CA lives in flash. Detaching the
  // filesystem also lets esp32FOTA flash a LittleFS image if a manifest ever carries one.
  esp32FOTA.setCertFileSystem(nullptr);
  if (manifestUrl.startsWith("https://")) {
    esp32FOTA.setRootCA(&rootCa);
  }

  if (SIGNED_RELEASES) {
    // After the download esp32FOTA hashes the flashed image (SHA-256) and checks the 512 bytes
    // that preceded it with mbedtls_pk_verify() (RSA PKCS#1 v1.5). The new app partition becomes
    // bootable only if that passes; otherwise the library erases it and execOTA() returns false.
    // Set after setCertFileSystem(nullptr): the key lives in flash, not on SPIFFS.
    esp32FOTA.setPubKey(&rsaPublicKey);
    esp32FOTA.setUpdateCheckFailCb([](int partition, int error_code) {
      // error_code -2: signature check failed; -1: partition not found.
      Serial.printf("Signature check of the %s image failed (%d), not installed\n",
                    partition == U_SPIFFS ? "filesystem" : "app", error_code);
      if (error_code == -2) {
        signatureRejected = true;
      }
    });
  }

  esp32FOTA.setProgressCb([](size_t done, size_t total) {
    static int lastPct = -1;
    const int pct = total ? (int)(done * 100 / total) : 0;
    if (pct != lastPct && pct % 10 == 0) {
      Serial.printf("  %d %%\n", pct);
      lastPct = pct;
    }
  });
}

void loop() {
  if ((int32_t)(millis() - nextCheckAtMs) < 0) {
    delay(1000);
    return;
  }
  nextCheckAtMs = millis() + jitteredIntervalMs(CHECK_INTERVAL_S);

  if (WiFi.status() != WL_CONNECTED) {
    Serial.println("Wi-Fi down, skipping this check");
    return;
  }

  // true only when the manifest's type matches and its version is newer than FIRMWARE_VERSION.
  // false covers "up to date" (the server answers 200 with the version we already run) AND every
  // error (non-200, unparsable JSON, TLS failure): esp32FOTA does not tell them apart, so turn on
  // Core Debug Level "Info" to see which. The library takes the app URL from the manifest's `url`
  // key only (README: "What esp32FOTA 0.2.x reads").
  if (!esp32FOTA.execHTTPcheck()) {
    Serial.println("No update");
    return;
  }

  char newVersion[48] = {0};  // semver_render() appends, so start from an empty string
  esp32FOTA.getPayloadVersion(newVersion);
  Serial.printf("Update %s -> %s, downloading\n", FIRMWARE_VERSION, newVersion);

  // Download straight away: the firmware URL in the manifest is a signed CDN URL that expires
  // 15 minutes after the check. Never store it for later; check again to get a fresh one.
  // execOTA() flashes the app partition and reboots on success, so it only returns on failure.
  signatureRejected = false;
  if (!esp32FOTA.execOTA()) {
    if (signatureRejected) {
      // The release itself is bad (or signed with another key): downloading it again will not
      // help, and this protocol has no status report to tell the server. Wait for the next
      // regular check; an operator has to revoke the release or publish a newer one.
      Serial.println("Update refused: bad signature; next check at the regular interval");
      return;
    }
    Serial.println("Update failed; retrying with a fresh manifest in 5 minutes");
    nextCheckAtMs = millis() + jitteredIntervalMs(300);
  }
}
