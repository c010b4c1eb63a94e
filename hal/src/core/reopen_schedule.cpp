// SPDX-License-Identifier: Apache-2.0
#include "hal/reopen_schedule.hpp"

#include <utility>

#include "hal/log.hpp"

namespace hal {

ReopenSchedule::ReopenSchedule(std::string_view module, std::string name, std::string path, Backoff backoff)
    : module_(module), backoff_(backoff) {
  status_.name = std::move(name);
  status_.path = std::move(path);
  status_.last_error = "not opened yet";
}

void ReopenSchedule::opened(std::string path) {
  status_.path = std::move(path);
  status_.connected = true;
  status_.last_error.clear();
  backoff_.reset();
  reopen_at_.reset();
}

void ReopenSchedule::open_failed(Clock::MonoTime now, const Error& why) {
  missing(why.what);
  reopen_at_ = now + backoff_.next();
}

void ReopenSchedule::lost(Clock::MonoTime now, std::string why) {
  missing(std::move(why));
  reopen_at_ = now + backoff_.next();
  log::warning(module_, "input '" + status_.name + "': scanner missing: " + status_.last_error);
}

void ReopenSchedule::ended(std::string why) {
  // No reopen: a replayed recording would only start over. The backoff is left as it is.
  missing(std::move(why));
  reopen_at_.reset();
}

void ReopenSchedule::missing(std::string why) {
  status_.connected = false;
  status_.last_error = std::move(why);
}

void ReopenSchedule::still_missing(const Error& why) const {
  log::debug(module_, "input '" + status_.name + "': still missing: " + why.what);
}

}  // namespace hal
