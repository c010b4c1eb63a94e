// SPDX-License-Identifier: Apache-2.0
// file.attach: the file the outbox copied at accept time goes onto a run step, with ION's own
// flow (ion-api.md §5.9 flow A): createFileAttachment {entityId: the step's entityId,
// filename} answers with the attachment and an uploadUrl; the bytes go there with an HTTP PUT
// and the attachment's contentType. Exactly once in effect:
//   - the step is chosen once and pinned in the checkpoint (runId, runStepId), so a retry
//     attaches to the same step even after the run moved on;
//   - before creating, the step's attachments are read: one with our filename and our size
//     is ours (an earlier attempt got through, perhaps with its answer lost): done;
//   - the uploadUrl is checkpointed as soon as ION hands it out; a PUT cut short is sent
//     again to it (a PUT of the same bytes is idempotent);
//   - storage refusing the PUT (400/403: the URL expired or was used already) sends us back
//     to the lookup: the bytes may have landed with the answer lost; if not, a new
//     attachment and URL are asked for, once per attempt: a new URL refused too is a dead
//     letter (a Content-Type or signing problem no retry fixes), not an endless series of
//     empty attachments.
// An attempt cut between createFileAttachment's commit at ION and our checkpoint leaves one
// empty attachment (no bytes, size null) behind; ION offers no way to get an upload URL for it
// again, so the next attempt creates another one (the lookup ignores attachments without our
// size).
#include <cerrno>
#include <cstdlib>
#include <string>

#include "agent/common/json.hpp"
#include "lookup.hpp"

namespace agent {
namespace {

class FileAttach final : public UnitRunOp {
 public:
  using UnitRunOp::UnitRunOp;

 private:
  void run() override {
    if (input_text("copy").empty() || input_text("sha256").empty()) {
      reject("the intent has no file copy (accepted by an agent that did not copy it)");
      return;
    }
    const cJSON* p = progress();
    if (json::str(p, "url") && json::str(p, "attachmentId")) {
      put();
      return;
    }
    if (json::str(p, "runStepId") && json::str(p, "runId")) {
      look(*json::str(p, "runId"), *json::str(p, "runStepId"));
      return;
    }
    find_open_run(true, [this](const UnitRef&, Json run) {
      if (!run) {
        reject("unit " + input_text("serial") + " has no open run of procedure " + input_id("procedureId"));
        return;
      }
      auto step = choose_step(run.get(), input("step"));
      if (!step.ok()) {
        reject(step.error().what);
        return;
      }
      const std::string run_id = json::id(run.get());
      Json pin = json::object();
      json::put_id(pin.get(), "runId", run_id);
      json::put_id(pin.get(), "runStepId", step->id);
      if (!checkpoint(std::move(pin))) {
        return;
      }
      look(run_id, step->id);
    });
  }

  std::string filename() const {
    std::string f = input_text("filename");
    return f.empty() ? "file" : f;
  }

  // The pinned step's entity and attachments: ours already there = delivered.
  void look(const std::string& run_id, const std::string& step_id) {
    Json vars = json::object();
    json::put_id(vars.get(), "run", run_id);
    send(
        "query StepAttachments($run: ID!) { run(id: $run) { id"
        " steps { id entityId fileAttachments { id filename size } } } }",
        std::move(vars), [this, run_id, step_id](const cJSON* data) {
          const cJSON* s = nullptr;
          cJSON_ArrayForEach(s, json::at(data, {"run", "steps"})) {
            if (json::id(s) != step_id) {
              continue;
            }
            const cJSON* a = nullptr;
            cJSON_ArrayForEach(a, json::get(s, "fileAttachments")) {
              if (json::str(a, "filename").value_or("") == filename() &&
                  json::id(a, "size") == input_id("size")) {
                deliver();  // an earlier attempt's bytes are there
                return;
              }
            }
            const std::string entity = json::id(s, "entityId");
            if (entity.empty()) {
              reject("run step " + step_id + " has no entityId to attach to");
              return;
            }
            create(run_id, step_id, entity);
            return;
          }
          reject("run step " + step_id + " is no longer in run " + run_id);
        });
  }

  void create(const std::string& run_id, const std::string& step_id, const std::string& entity) {
    Json in = json::object();
    json::put_id(in.get(), "entityId", entity);
    json::put(in.get(), "filename", filename());
    Json vars = json::object();
    cJSON_AddItemToObject(vars.get(), "input", in.release());
    send(
        "mutation CreateFileAttachment($input: CreateFileAttachmentInput!) {"
        " createFileAttachment(input: $input) { fileAttachment { id contentType } uploadUrl } }",
        std::move(vars), [this, run_id, step_id](const cJSON* data) {
          const cJSON* payload = json::get(data, "createFileAttachment");
          auto url = json::str(payload, "uploadUrl");
          const std::string id = json::id(json::get(payload, "fileAttachment"));
          if (!url || url->empty() || id.empty()) {
            retry_later("createFileAttachment answered without an uploadUrl", GraphqlOutcome::malformed);
            return;
          }
          auto type = json::str(json::get(payload, "fileAttachment"), "contentType");
          Json pin = json::object();
          json::put_id(pin.get(), "runId", run_id);
          json::put_id(pin.get(), "runStepId", step_id);
          json::put_id(pin.get(), "attachmentId", id);
          json::put(pin.get(), "url", *url);
          json::put(pin.get(), "contentType", type && !type->empty() ? *type : "application/octet-stream");
          if (!checkpoint(std::move(pin))) {
            return;
          }
          put();
        });
  }

  void put() {
    const cJSON* p = progress();
    UploadRequest req;
    req.url = json::str(p, "url").value_or("");
    req.content_type = json::str(p, "contentType").value_or("application/octet-stream");
    req.file = input_text("copy");
    const std::string size = input_id("size");
    char* end = nullptr;
    errno = 0;
    req.size = std::strtoull(size.c_str(), &end, 10);
    if (size.empty() || errno != 0 || end == nullptr || *end != '\0') {
      reject("inputs.size: not a byte count: '" + size + "'");
      return;
    }
    auto self = std::static_pointer_cast<FileAttach>(shared_from_this());
    client().upload(std::move(req), [self](UploadResponse r) { self->on_put(std::move(r)); });
  }

  void on_put(UploadResponse r) {
    switch (r.outcome) {
      case UploadResponse::Outcome::ok:
        deliver();
        return;
      case UploadResponse::Outcome::refused: {
        if (r.http_status == 0) {
          reject("the upload URL is not allowed: " + r.message);  // e.g. http:// to another host
          return;
        }
        // Expired or used: forget the URL, look again (the bytes may be there), else create anew.
        const cJSON* p = progress();
        const std::string run_id = json::str(p, "runId").value_or("");
        const std::string step_id = json::str(p, "runStepId").value_or("");
        Json pin = json::object();
        json::put_id(pin.get(), "runId", run_id);
        json::put_id(pin.get(), "runStepId", step_id);
        if (!checkpoint(std::move(pin))) {
          return;
        }
        // A new URL refused as well is not an expiry: every further attempt would leave one
        // more empty attachment at ION. A dead letter says why; `queue retry` sends it again.
        if (refusals_++ >= 1) {
          reject("storage refused a new upload URL too: " + r.message);
          return;
        }
        look(run_id, step_id);
        return;
      }
      case UploadResponse::Outcome::file_error:
        reject("the file copy cannot be sent: " + r.message);
        return;
      case UploadResponse::Outcome::timeout:
        fail_with(GraphqlOutcome::timeout, r.message, true);
        return;
      case UploadResponse::Outcome::server_error:
        fail_with(GraphqlOutcome::server_error, r.message, true);
        return;
      case UploadResponse::Outcome::network:
        fail_with(GraphqlOutcome::network, r.message, true);
        return;
    }
  }

  int refusals_ = 0;
};

}  // namespace

std::shared_ptr<IonOp> make_file_attach(OpArgs a) {
  return std::make_shared<FileAttach>(std::move(a));
}

}  // namespace agent
