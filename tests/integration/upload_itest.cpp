// SPDX-License-Identifier: Apache-2.0
// CurlGraphqlClient::upload against the simulator's storage over HTTPS: a PUT of a file to a
// createFileAttachment uploadUrl stores exactly its bytes with the signed Content-Type and
// no Authorization header; a used or expired URL is `refused` with storage's status; a cut
// PUT is sent again (by libcurl at once on a reused connection, else after `network`); a local file that is
// missing or of another size is `file_error` before anything is sent; a URL the TLS policy refuses (http://
// off loopback) is `refused` at once.
#include <CppUTest/TestHarness.h>

#include <fstream>
#include <memory>
#include <string>

#include "agent/net/curl_graphql_client.hpp"
#include "hal/clock.hpp"
#include "ion_sim.hpp"
#include "sim_client.hpp"
#include "sim_state.hpp"

namespace {

using agent::UploadResponse;

using ion_test::make_client;  // sim_client.hpp

// An attachment on run step 19011 (entity of the fixture's run 1901): its upload URL.
std::string new_upload_url(agent::CurlGraphqlClient& c, const ion_test::IonSim& sim) {
  agent::Json st = const_cast<ion_test::IonSim&>(sim).state();
  double entity = -1;
  const cJSON* s = nullptr;
  cJSON_ArrayForEach(s, ion_test::table(st, "run_steps")) {
    if (ion_test::num(s, "id") == 19011) {
      entity = ion_test::num(s, "entityId");
    }
  }
  agent::GraphqlRequest req;
  req.document =
      "mutation CreateFileAttachment($input: CreateFileAttachmentInput!) {"
      " createFileAttachment(input: $input) { fileAttachment { id contentType } uploadUrl } }";
  req.variables = agent::Json(cJSON_Parse(
      (R"({"input":{"entityId":")" + std::to_string(static_cast<long>(entity)) + R"(","filename":"r.csv"}})")
          .c_str()));
  std::string url;
  c.submit(std::move(req), [&](agent::GraphqlResponse r) {
    const cJSON* p = cJSON_GetObjectItemCaseSensitive(r.data.get(), "createFileAttachment");
    url = ion_test::str(p, "uploadUrl");
  });
  CHECK_TRUE(c.run_until_idle(std::chrono::seconds(30)));
  CHECK_FALSE(url.empty());
  return url;
}

UploadResponse put(agent::CurlGraphqlClient& c, agent::UploadRequest req) {
  UploadResponse out;
  int calls = 0;
  c.upload(std::move(req), [&](UploadResponse r) {
    ++calls;
    out = std::move(r);
  });
  CHECK_EQUAL(0, calls);  // never from inside upload()
  CHECK_TRUE(c.run_until_idle(std::chrono::seconds(60)));
  CHECK_EQUAL(1, calls);
  return out;
}

}  // namespace

TEST_GROUP(Upload) {
  hal::SystemClock clock;
  std::string dir = ion_test::make_temp_dir("ion-upload-itest");
  std::string file = dir + "/r.csv";
  void setup() override {
    std::ofstream(file, std::ios::binary) << std::string(200000, 'q');
  }
  void teardown() override {
    ion_test::remove_tree(dir);
  }
  agent::UploadRequest request(const std::string& url, std::uint64_t size = 200000) {
    return agent::UploadRequest{url, "text/csv", file, size};
  }
};

TEST(Upload, APutStoresTheFileAndAUsedUrlIsRefused) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  auto c = make_client(sim, clock);
  const std::string url = new_upload_url(*c, sim);
  auto r = put(*c, request(url));
  CHECK_TEXT(r.outcome == UploadResponse::Outcome::ok, r.message.c_str());
  LONGS_EQUAL(200, r.http_status);
  CHECK_TEXT(r.message.find("X-Sim-Token") == std::string::npos, r.message.c_str());  // the URL's secret
  agent::Json st = sim.state();
  const cJSON* att = cJSON_GetArrayItem(ion_test::table(st, "file_attachments"), 0);
  DOUBLES_EQUAL(200000, ion_test::num(att, "size"), 0.1);
  r = put(*c, request(url));
  CHECK(r.outcome == UploadResponse::Outcome::refused);
  LONGS_EQUAL(403, r.http_status);
  STRCMP_CONTAINS("used already", r.message.c_str());
  CHECK_EQUAL(2, static_cast<int>(c->uploads_sent()));
}

TEST(Upload, AnExpiredUrlIsRefusedAndACutPutIsNetwork) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  auto c = make_client(sim, clock);
  std::string url = new_upload_url(*c, sim);
  CHECK(sim.admin("/_sim/storage/expire") != nullptr);
  auto r = put(*c, request(url));
  CHECK(r.outcome == UploadResponse::Outcome::refused);
  STRCMP_CONTAINS("Request has expired", r.message.c_str());
  url = new_upload_url(*c, sim);
  CHECK(sim.admin("/_sim/faults", R"({"kind":"close","match":"storage","after_bytes":50000})") != nullptr);
  r = put(*c, request(url));
  // Cut on a kept-alive connection, libcurl rewinds the file (PUT is idempotent) and sends it
  // again at once on a new one; cut otherwise, the caller sees network and sends it again.
  if (r.outcome == UploadResponse::Outcome::network) {
    r = put(*c, request(url));  // the same URL again: nothing was stored
  }
  CHECK_TEXT(r.outcome == UploadResponse::Outcome::ok, r.message.c_str());
  agent::Json log = sim.request_log();
  int cut = 0;
  const cJSON* e = nullptr;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(log.get(), "entries")) {
    cut += ion_test::str(e, "fault") == "close" && ion_test::num(e, "bytes") == 50000 ? 1 : 0;
  }
  LONGS_EQUAL(1, cut);
  agent::Json st = sim.state();
  const cJSON* att = cJSON_GetArrayItem(ion_test::table(st, "file_attachments"), 1);
  DOUBLES_EQUAL(200000, ion_test::num(att, "size"), 0.1);
}

TEST(Upload, LocalFileTroubleAndPolicyRefusalsSendNothing) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  auto c = make_client(sim, clock);
  const std::string url = new_upload_url(*c, sim);
  auto r = put(*c, request(url, 12345));
  CHECK(r.outcome == UploadResponse::Outcome::file_error);
  STRCMP_CONTAINS("holds 200000 bytes, expected 12345", r.message.c_str());
  auto missing = request(url);
  missing.file = dir + "/gone.csv";
  r = put(*c, missing);
  CHECK(r.outcome == UploadResponse::Outcome::file_error);
  r = put(*c, request("http://192.0.2.1/storage/x"));
  CHECK(r.outcome == UploadResponse::Outcome::refused);
  LONGS_EQUAL(0, r.http_status);
  LONGS_EQUAL(0, sim.count_requests("storage"));
}
