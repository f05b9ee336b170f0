/*
 * Arduino-ESP32 HTTPUpdate against the platform's Arduino endpoint.
 *
 *   GET https://<api-host>/api/v1/ota/arduino/{productId}
 *     x-ESP32-STA-MAC: AA:BB:CC:DD:EE:FF      (sent by HTTPUpdate: the device id)
 *     x-ESP32-version: <currentVersion>       (the third argument of httpUpdate.update())
 *     x-ESP32-sketch-sha256: <running image>  (sent by HTTPUpdate)
 *   304                      nothing for this device (also: unknown/inactive device, image too big)
 *   302 Location: <signed CDN URL>   an update; the URL is valid for 15 minutes
 *   403 bad credential, 404 unknown product, 400 not an HTTPUpdate request, 5xx trouble
 *
 * Toolchain: Arduino-ESP32 core 3.x (HTTPUpdate ships with the core). See README.md.
 */
#include <algorithm>

#include <WiFi.h>
#include <WiFiClientSecure.h>
#include <HTTPClient.h>
#include <HTTPUpdate.h>

// ---- Configure ------------------------------------------------------------------------------

static const char *WIFI_SSID = "your-ssid";
static const char *WIFI_PASS = "your-password";

// The version of THIS build, as published in the release's manifest.json. The server compares
// it with its releases to decide between 304 and 302.
#define FIRMWARE_VERSION "1.2.0"

// Cloud: the DeviceApiUrl stack output. Local: "http://<laptop LAN IP>:3000" (see ../README.md).
#define OTA_API_BASE "https://abc123.execute-api.eu-west-1.amazonaws.com"
#define PRODUCT_ID "demo"

// Products in `product_key` security mode: the key the operator API issued (pk_...).
// Leave empty ("") for products in `open` mode.
#define PRODUCT_KEY "pk_REPLACE_ME"

// 0: send the key as the Basic-auth password (HTTPUpdate::setAuthorization).
// 1: send it as an X-OTA-Key header instead (through the request callback).
#define SEND_KEY_AS_HEADER 0

static const uint32_t CHECK_INTERVAL_S = 3600;

// Amazon Root CA 1. The API (API Gateway) and the redirect target (CloudFront) both chain to it,
// and the same WiFiClientSecure serves both hops, so this one root must cover both hosts. Paste
//   https://www.amazontrust.com/repository/AmazonRootCA1.pem
// keeping the BEGIN/END lines. (ACM ECDSA certificates on custom domains chain to Amazon Root CA 3:
// append it to the same string.)
static const char AMAZON_ROOT_CA1[] = R"PEM(
-----BEGIN CERTIFICATE-----
PASTE AmazonRootCA1.pem HERE
-----END CERTIFICATE-----
)PEM";

// ---------------------------------------------------------------------------------------------

static uint32_t nextCheckAtMs = 0;
static uint32_t failures = 0;

static uint32_t jitteredMs(uint32_t seconds) {
  const uint32_t spread = seconds / 5;  // +-20 % so a fleet does not poll in lockstep
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
  Serial.printf(" %s, MAC %s\n", WiFi.localIP().toString().c_str(), WiFi.macAddress().c_str());
}

static void explainFailure(int err) {
  switch (err) {
    case HTTP_UE_SERVER_WRONG_HTTP_CODE:
      // Any status but 200/304/403/404: 400 (request not recognised as HTTPUpdate's), 429, 5xx,
      // or a 302 that was not followed.
      Serial.println("  unexpected HTTP status; see the server logs");
      break;
    case HTTP_UE_SERVER_FORBIDDEN:
      // From the API: missing or wrong product key. From the CDN: the signed URL was refused.
      Serial.println("  403: check PRODUCT_KEY (or the CDN refused the URL; the next check gets a fresh one)");
      break;
    case HTTP_UE_SERVER_FILE_NOT_FOUND:
      Serial.println("  404: unknown product id");
      break;
    case HTTP_UE_BIN_VERIFY_HEADER_FAILED:
      Serial.println("  the download is not an ESP app image (first byte is not 0xE9)");
      break;
    case HTTP_UE_TOO_LESS_SPACE:
      Serial.println("  the image does not fit the OTA partition");
      break;
    default:
      break;  // < -100: HTTPClient/TLS errors; > 0: Update library errors; the string says which
  }
}

static void checkForUpdate() {
  const String url = String(OTA_API_BASE) + "/api/v1/ota/arduino/" + PRODUCT_ID;

  // Locally the platform speaks plain http; in the cloud everything is https and the server
  // certificate is verified against the root above. Both hops (API, then CDN) use this client.
  WiFiClientSecure secureClient;
  WiFiClient plainClient;
  const bool tls = url.startsWith("https://");
  if (tls) {
    secureClient.setCACert(AMAZON_ROOT_CA1);
  }
  WiFiClient &client = tls ? static_cast<WiFiClient &>(secureClient) : plainClient;

#if SEND_KEY_AS_HEADER
  // The request callback runs after HTTPUpdate has added its own x-ESP32-* headers.
  const HTTPUpdateResult result = httpUpdate.update(client, url, FIRMWARE_VERSION, [](HTTPClient *http) {
    if (sizeof(PRODUCT_KEY) > 1) {
      http->addHeader("X-OTA-Key", PRODUCT_KEY);
    }
  });
#else
  const HTTPUpdateResult result = httpUpdate.update(client, url, FIRMWARE_VERSION);
#endif

  switch (result) {
    case HTTP_UPDATE_NO_UPDATES:  // 304
      Serial.println("Up to date");
      failures = 0;
      nextCheckAtMs = millis() + jitteredMs(CHECK_INTERVAL_S);
      break;

    case HTTP_UPDATE_OK:  // 302 followed, image written and validated by the core
      Serial.println("Update installed, rebooting");
      delay(200);
      ESP.restart();
      break;

    case HTTP_UPDATE_FAILED:
    default: {
      const int err = httpUpdate.getLastError();
      Serial.printf("Update check failed (%d): %s\n", err, httpUpdate.getLastErrorString().c_str());
      explainFailure(err);
      // HTTPUpdate does not expose response headers, so a 503's Retry-After cannot be read
      // here: back off on our own, 1, 2, 4 ... 60 minutes, jittered.
      failures = failures < 7 ? failures + 1 : 7;
      nextCheckAtMs = millis() + jitteredMs(std::min<uint32_t>(60U << (failures - 1), 3600));
      break;
    }
  }
}

void setup() {
  Serial.begin(115200);
  Serial.printf("\n%s %s\n", PRODUCT_ID, FIRMWARE_VERSION);
  connectWifi();

  // The API answers an update with 302 to a signed CloudFront URL. HTTPUpdate's default is
  // HTTPC_DISABLE_FOLLOW_REDIRECTS, which turns every update into HTTP_UPDATE_FAILED
  // ("Wrong HTTP Code"). HTTPClient only follows a redirect that keeps the scheme (https ->
  // https, or http -> http locally).
  httpUpdate.setFollowRedirects(HTTPC_FORCE_FOLLOW_REDIRECTS);

  // Return HTTP_UPDATE_OK instead of restarting inside update(), so we can log first.
  httpUpdate.rebootOnUpdate(false);

#if !SEND_KEY_AS_HEADER
  // product_key mode: Basic auth, user = anything, password = the product key. The user must not
  // contain ':' (RFC 7617: the first colon separates user and password), so the MAC goes without
  // its colons. HTTPUpdate only sends the header when both strings are non-empty.
  if (sizeof(PRODUCT_KEY) > 1) {
    String user = WiFi.macAddress();
    user.replace(":", "");
    httpUpdate.setAuthorization(user, PRODUCT_KEY);
  }
#endif

  httpUpdate.onProgress([](int done, int total) {
    static int lastPct = -1;
    const int pct = total > 0 ? done * 100 / total : 0;
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
  if (WiFi.status() != WL_CONNECTED) {
    nextCheckAtMs = millis() + 10000;
    return;
  }
  checkForUpdate();
}
