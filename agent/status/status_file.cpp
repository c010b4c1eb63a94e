// SPDX-License-Identifier: Apache-2.0
#include "agent/status/status_file.hpp"

#include "agent/common/atomic_file.hpp"
#include "agent/common/read_file.hpp"

namespace agent {

Json dispatcher_status_json(const DispatcherStatus& s) {
  Json o(cJSON_CreateObject());
  cJSON_AddBoolToObject(o.get(), "link_ok", s.link_ok);
  cJSON_AddNumberToObject(o.get(), "link_failures", s.link_failures);
  cJSON_AddNumberToObject(o.get(), "retry_in_ms", static_cast<double>(s.retry_in.count()));
  cJSON_AddNumberToObject(o.get(), "in_flight", static_cast<double>(s.in_flight));
  cJSON_AddNumberToObject(o.get(), "delivered", static_cast<double>(s.delivered));
  cJSON_AddNumberToObject(o.get(), "rejected", static_cast<double>(s.rejected));
  cJSON_AddNumberToObject(o.get(), "retried", static_cast<double>(s.retried));
  cJSON_AddStringToObject(o.get(), "last_error", s.last_error.c_str());
  return o;
}

hal::Status write_status_file(const std::string& state_dir, const cJSON* status) {
  JsonText text(cJSON_Print(status));
  if (!text) {
    return hal::Error(hal::Errc::internal, "status: write: cannot format JSON");
  }
  const std::string path = state_dir + "/" + kStatusFileName;
  // Not durable: rewritten on every change, and a power cut only loses the latest state.
  ION_TRY(write_file_atomic(path, std::string(text.get()) + "\n", AtomicWrite{0640, false, false}), "status");
  return {};
}

hal::Result<Json> read_status_file(const std::string& state_dir) {
  const std::string path = state_dir + "/" + kStatusFileName;
  ReadFileError why = ReadFileError::none;
  auto read = read_file(path, std::numeric_limits<std::size_t>::max(), &why);
  if (why == ReadFileError::open) {
    return hal::Error(hal::Errc::not_found, "status: no " + path);
  }
  if (!read.ok()) {
    return std::move(read).error().context("status");
  }
  const std::string& text = read.value();
  Json doc(cJSON_ParseWithLength(text.data(), text.size()));
  if (!doc || !cJSON_IsObject(doc.get())) {
    return hal::Error(hal::Errc::parse, "status: " + path + ": not a JSON object");
  }
  return doc;
}

}  // namespace agent
