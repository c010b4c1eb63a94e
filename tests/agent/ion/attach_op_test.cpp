// SPDX-License-Identifier: Apache-2.0
// file.attach against a scripted GraphQL client and storage: the step is chosen and pinned,
// the step's attachments are looked at before creating, the copy is PUT to the uploadUrl with
// the attachment's content type, a cut PUT goes again to the same URL, a refused (expired)
// URL leads to a new attachment unless the bytes are already there.
#include <CppUTest/TestHarness.h>

#include <map>
#include <optional>

#include "agent/ion/ops.hpp"
#include "fake_graphql.hpp"

using agent::OpOutcome;
using agent::UploadResponse;
using testing_support::FakeGraphqlClient;
using testing_support::SentRequest;

namespace {

class Host final : public agent::OpHost {
 public:
  explicit Host(FakeGraphqlClient& c) : client_(c) {}
  agent::GraphqlClient& client() override { return client_; }
  hal::Status save_progress(const agent::IntentRecord&, const std::string& progress) override {
    saved.push_back(progress);
    return {};
  }
  std::vector<std::string> saved;

 private:
  FakeGraphqlClient& client_;
};

const char* kInputs = R"({"serial":"SN-1","procedureId":"13","source":"/out/r.csv","filename":"r.csv",)"
                      R"("copy":"/var/lib/ion-agent/files/u1","sha256":"ab","size":1234})";

const char* kUnit =
    R"({"units":{"edges":[{"node":{"id":5,"_etag":"u5","serialNumber":"SN-1","part":{"id":7,"partNumber":"P"}}}]}})";
const char* kRuns =
    R"({"runs":{"edges":[{"node":{"id":9,"status":"IN_PROGRESS","partInventoryId":5,"steps":[)"
    R"({"id":21,"title":"Build","position":1,"status":"COMPLETE","_etag":"a","fields":[]},)"
    R"({"id":22,"title":"Test","position":2,"status":"IN_PROGRESS","_etag":"b","fields":[]}]}}],)"
    R"("pageInfo":{"hasNextPage":false,"endCursor":null}}})";

std::string step_attachments(const std::string& attachments) {
  return R"({"run":{"id":9,"steps":[{"id":21,"entityId":121,"fileAttachments":[]},)"
         R"({"id":22,"entityId":122,"fileAttachments":[)" +
         attachments + "]}]}}";
}

const char* kCreated =
    R"({"createFileAttachment":{"fileAttachment":{"id":77,"contentType":"text/csv"},"uploadUrl":"https://sim/storage/77?sig=x"}})";

UploadResponse upload(UploadResponse::Outcome o, long status = 0) {
  UploadResponse r;
  r.outcome = o;
  r.http_status = status;
  r.message = "upload https://sim/storage/77: HTTP " + std::to_string(status);
  return r;
}

}  // namespace

TEST_GROUP(FileAttachOp) {
  FakeGraphqlClient client;
  Host host{client};
  std::vector<UploadResponse> puts;

  void answer(const std::string& op, const std::string& data) {
    client.answer(op, data);
  }
  void setup() override {
    client.use_script();
    client.upload_handler = [this](const agent::UploadRequest&) {
      if (puts.empty()) {
        FAIL("unexpected upload");
      }
      UploadResponse r = puts.front();
      puts.erase(puts.begin());
      return r;
    };
  }
  OpOutcome run(const std::string& progress = {}, const std::string& inputs = kInputs) {
    agent::IntentRecord rec;
    rec.uuid = "u1";
    rec.kind = "file.attach";
    rec.inputs_json = inputs;
    rec.progress = progress;
    std::optional<OpOutcome> out;
    auto op = agent::make_ion_op(rec, host, [&out](OpOutcome o) { out = std::move(o); });
    op->start();
    for (int i = 0; i < 50 && !out; ++i) {
      client.pump();
    }
    CHECK_TEXT(out.has_value(), "operation never finished");
    return *out;
  }
};

TEST(FileAttachOp, CreatesOnTheCurrentStepAndPutsTheCopyWithItsContentType) {
  answer("FindUnit", kUnit);
  answer("OpenRuns", kRuns);
  answer("StepAttachments", step_attachments(""));
  answer("CreateFileAttachment", kCreated);
  puts.push_back(upload(UploadResponse::Outcome::ok, 200));
  auto o = run();
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  STRCMP_EQUAL(R"({"input":{"entityId":"122","filename":"r.csv"}})", client.log[3].variables.c_str());
  LONGS_EQUAL(1, client.uploads.size());
  STRCMP_EQUAL("https://sim/storage/77?sig=x", client.uploads[0].url.c_str());
  STRCMP_EQUAL("text/csv", client.uploads[0].content_type.c_str());
  STRCMP_EQUAL("/var/lib/ion-agent/files/u1", client.uploads[0].file.c_str());
  LONGS_EQUAL(1234, client.uploads[0].size);
  // The step is pinned before the lookup, the URL before the PUT.
  LONGS_EQUAL(2, host.saved.size());
  STRCMP_EQUAL(R"({"runId":"9","runStepId":"22"})", host.saved[0].c_str());
  STRCMP_CONTAINS(R"("url":"https://sim/storage/77?sig=x")", host.saved[1].c_str());
}

TEST(FileAttachOp, AnAttachmentWithTheSameNameAndSizeIsOursAlready) {
  answer("StepAttachments", step_attachments(R"({"id":70,"filename":"r.csv","size":1234})"));
  auto o = run(R"({"runId":"9","runStepId":"22"})");
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(0, client.count("CreateFileAttachment"));
  LONGS_EQUAL(0, client.uploads.size());
}

TEST(FileAttachOp, AnEmptyOrDifferentAttachmentOfThatNameIsNot) {
  answer("StepAttachments", step_attachments(R"({"id":70,"filename":"r.csv","size":null},)"
                                             R"({"id":71,"filename":"r.csv","size":99})"));
  answer("CreateFileAttachment", kCreated);
  puts.push_back(upload(UploadResponse::Outcome::ok, 200));
  CHECK(run(R"({"runId":"9","runStepId":"22"})").verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(1, client.count("CreateFileAttachment"));
}

TEST(FileAttachOp, ACutPutIsRetriedLaterToTheSameUrl) {
  const std::string at_put =
      R"({"runId":"9","runStepId":"22","attachmentId":"77","url":"https://sim/storage/77?sig=x","contentType":"text/csv"})";
  puts.push_back(upload(UploadResponse::Outcome::network));
  auto o = run(at_put);
  CHECK(o.verdict == OpOutcome::Verdict::retry);
  CHECK(o.cause == agent::GraphqlOutcome::network);
  LONGS_EQUAL(0, client.log.size());  // nothing asked of ION: the URL is still good
  puts.push_back(upload(UploadResponse::Outcome::ok, 200));
  CHECK(run(at_put).verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(2, client.uploads.size());
  STRCMP_EQUAL(client.uploads[0].url.c_str(), client.uploads[1].url.c_str());
}

TEST(FileAttachOp, AnExpiredUrlGetsANewAttachment) {
  const std::string at_put =
      R"({"runId":"9","runStepId":"22","attachmentId":"76","url":"https://sim/storage/76?sig=old","contentType":"text/csv"})";
  puts.push_back(upload(UploadResponse::Outcome::refused, 403));
  answer("StepAttachments", step_attachments(R"({"id":76,"filename":"r.csv","size":null})"));
  answer("CreateFileAttachment", kCreated);
  puts.push_back(upload(UploadResponse::Outcome::ok, 200));
  CHECK(run(at_put).verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(2, client.uploads.size());
  STRCMP_EQUAL("https://sim/storage/77?sig=x", client.uploads[1].url.c_str());
  STRCMP_EQUAL(R"({"runId":"9","runStepId":"22"})", host.saved[0].c_str());  // the old URL forgotten
}

TEST(FileAttachOp, ARefusedPutWhoseBytesLandedIsDelivered) {
  // A single-use URL used by the earlier PUT whose answer was lost: storage refuses the repeat,
  // the step shows our file.
  const std::string at_put =
      R"({"runId":"9","runStepId":"22","attachmentId":"77","url":"https://sim/storage/77?sig=x","contentType":"text/csv"})";
  puts.push_back(upload(UploadResponse::Outcome::refused, 403));
  answer("StepAttachments", step_attachments(R"({"id":77,"filename":"r.csv","size":1234})"));
  CHECK(run(at_put).verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(0, client.count("CreateFileAttachment"));
}

TEST(FileAttachOp, NoOpenRunIsADeadLetterAndALostCopyToo) {
  answer("FindUnit", kUnit);
  answer("OpenRuns", R"({"runs":{"edges":[],"pageInfo":{"hasNextPage":false,"endCursor":null}}})");
  auto o = run();
  CHECK(o.verdict == OpOutcome::Verdict::rejected);
  STRCMP_CONTAINS("no open run of procedure 13", o.message.c_str());
  puts.push_back(upload(UploadResponse::Outcome::file_error));
  o = run(
      R"({"runId":"9","runStepId":"22","attachmentId":"77","url":"https://s/77","contentType":"text/csv"})");
  CHECK(o.verdict == OpOutcome::Verdict::rejected);
  STRCMP_CONTAINS("the file copy cannot be sent", o.message.c_str());
}

TEST(FileAttachOp, ANewUrlRefusedTooIsADeadLetterNotAnotherAttachment) {
  const std::string at_put =
      R"({"runId":"9","runStepId":"22","attachmentId":"76","url":"https://sim/storage/76?sig=old","contentType":"text/csv"})";
  puts.push_back(upload(UploadResponse::Outcome::refused, 403));
  answer("StepAttachments", step_attachments(R"({"id":76,"filename":"r.csv","size":null})"));
  answer("CreateFileAttachment", kCreated);
  puts.push_back(upload(UploadResponse::Outcome::refused, 403));
  auto o = run(at_put);
  CHECK(o.verdict == OpOutcome::Verdict::rejected);
  STRCMP_CONTAINS("storage refused a new upload URL too: ", o.message.c_str());
  LONGS_EQUAL(1, client.count("CreateFileAttachment"));
}

TEST(FileAttachOp, AnUploadUrlThePolicyRefusesIsADeadLetter) {
  puts.push_back(upload(UploadResponse::Outcome::refused, 0));
  auto o = run(
      R"({"runId":"9","runStepId":"22","attachmentId":"77","url":"http://10.0.0.1/x","contentType":"text/csv"})");
  CHECK(o.verdict == OpOutcome::Verdict::rejected);
  STRCMP_CONTAINS("the upload URL is not allowed", o.message.c_str());
}

TEST(FileAttachOp, ADamagedSizeIsADeadLetterNotACrash) {
  std::string inputs = kInputs;
  inputs.replace(inputs.find("1234"), 4, R"("12x")");
  auto o = run(
      R"({"runId":"9","runStepId":"22","attachmentId":"77","url":"https://s/77","contentType":"text/csv"})",
      inputs);
  CHECK(o.verdict == OpOutcome::Verdict::rejected);
  STRCMP_CONTAINS("inputs.size: not a byte count: '12x'", o.message.c_str());
}
