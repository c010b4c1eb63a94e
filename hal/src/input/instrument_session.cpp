// SPDX-License-Identifier: Apache-2.0
#include "hal/instrument.hpp"
#include "hal/log.hpp"

namespace hal {

InstrumentSession::InstrumentSession(InstrumentOptions options) : options_(std::move(options)) {}

void InstrumentSession::emit(std::string text, std::string error, Clock::MonoTime now,
                             std::vector<StationEvent>& out) const {
  StationEvent e;
  e.kind = StationEvent::Kind::reading;
  e.input = options_.name;
  e.text = std::move(text);
  e.error = std::move(error);
  e.at = now;
  out.push_back(std::move(e));
}

void InstrumentSession::feed(std::string_view bytes, Clock::MonoTime now, std::vector<StationEvent>& out) {
  for (char c : bytes) {
    if (c == '\r' || c == '\n') {
      line(now, out);
      continue;
    }
    if (buf_.size() >= options_.max_length) {
      overlong_ = true;
      continue;
    }
    buf_.push_back(c);
  }
}

void InstrumentSession::line(Clock::MonoTime now, std::vector<StationEvent>& out) {
  std::string text = std::move(buf_);
  bool overlong = overlong_;
  buf_.clear();
  overlong_ = false;
  if (text.empty() && !overlong) {
    return;  // the LF of a CR LF, or a blank line
  }
  if (options_.mode == InstrumentOptions::Mode::query && !waiting_since_) {
    log::debug("instrument", options_.name + ": line with no query waiting (late reply?), dropped");
    return;
  }
  waiting_since_.reset();
  if (overlong) {
    emit({}, "reply longer than " + std::to_string(options_.max_length) + " bytes", now, out);
    return;
  }
  emit(std::move(text), {}, now, out);
}

std::optional<std::string> InstrumentSession::start_query(Clock::MonoTime now,
                                                          std::vector<StationEvent>& out) {
  if (options_.mode != InstrumentOptions::Mode::query || options_.command.empty()) {
    emit({}, "mode stream: the instrument is not asked, it sends", now, out);
    return std::nullopt;
  }
  if (waiting_since_) {
    emit({}, "busy: the previous query is still waiting for its reply", now, out);
    return std::nullopt;
  }
  buf_.clear();  // whatever came before the question is not its answer
  overlong_ = false;
  waiting_since_ = now;
  return options_.command + options_.terminator;
}

void InstrumentSession::fail_query(const std::string& why, Clock::MonoTime now,
                                   std::vector<StationEvent>& out) {
  waiting_since_.reset();
  emit({}, why, now, out);
}

void InstrumentSession::lost(const std::string& why, Clock::MonoTime now, std::vector<StationEvent>& out) {
  buf_.clear();
  overlong_ = false;
  if (waiting_since_) {
    fail_query("disconnected while waiting for the reply (" + why + ")", now, out);
  }
}

std::optional<Clock::MonoTime> InstrumentSession::deadline() const {
  if (!waiting_since_) {
    return std::nullopt;
  }
  return *waiting_since_ + options_.timeout;
}

void InstrumentSession::on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) {
  auto d = deadline();
  if (!d || now < *d) {
    return;
  }
  std::string why = "no reply within " + std::to_string(options_.timeout.count()) + " ms";
  if (!buf_.empty()) {
    why += " (half a line: " + std::to_string(buf_.size()) + " bytes without an end)";
  }
  buf_.clear();
  overlong_ = false;
  fail_query(why, now, out);
}

}  // namespace hal
