// SPDX-License-Identifier: Apache-2.0
#include "agent/status_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

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
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return hal::errno_error(hal::Errc::io, "status: write " + tmp, errno);
  }
  const std::string body = std::string(text.get()) + "\n";
  std::size_t off = 0;
  while (off < body.size()) {
    ssize_t n = ::write(fd, body.data() + off, body.size() - off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return hal::errno_error(hal::Errc::io, "status: write " + tmp, err);
    }
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  // rename() is atomic: a reader sees the old file or the new one, never half of one.
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return hal::errno_error(hal::Errc::io, "status: rename to " + path, err);
  }
  return {};
}

hal::Result<Json> read_status_file(const std::string& state_dir) {
  const std::string path = state_dir + "/" + kStatusFileName;
  std::ifstream in(path);
  if (!in) {
    return hal::Error(hal::Errc::not_found, "status: no " + path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  Json doc(cJSON_ParseWithLength(text.data(), text.size()));
  if (!doc || !cJSON_IsObject(doc.get())) {
    return hal::Error(hal::Errc::parse, "status: " + path + ": not a JSON object");
  }
  return doc;
}

}  // namespace agent
