// SPDX-License-Identifier: Apache-2.0
#include "hal/serial_framer.hpp"

#include <cstdio>
#include <utility>

namespace hal {

Result<SerialFramerOptions::Terminator> parse_serial_terminator(std::string_view name) {
  using T = SerialFramerOptions::Terminator;
  if (name == "cr") {
    return T::cr;
  }
  if (name == "lf") {
    return T::lf;
  }
  if (name == "crlf") {
    return T::crlf;
  }
  if (name == "none") {
    return T::none;
  }
  return Error(Errc::config, "serial: unknown terminator '" + std::string(name) + "' (cr, lf, crlf, none)");
}

SerialFramer::SerialFramer(SerialFramerOptions options) : options_(std::move(options)) {}

void SerialFramer::feed(std::string_view bytes, Clock::MonoTime now, std::vector<ScanRead>& out) {
  if (bytes.empty()) {
    return;
  }
  if (options_.gap.count() > 0 && last_ && (started_ || cr_seen_) && now - *last_ > options_.gap) {
    flush_idle(out);
  }
  last_ = now;
  for (char c : bytes) {
    on_byte(c, out);
  }
}

void SerialFramer::on_byte(char c, std::vector<ScanRead>& out) {
  using T = SerialFramerOptions::Terminator;
  bool skip_lf = std::exchange(skip_lf_, false);
  switch (options_.terminator) {
    case T::cr:
      if (c == '\r') {
        finish(out);
        skip_lf_ = true;
        return;
      }
      if (c == '\n' && skip_lf) {
        return;
      }
      break;
    case T::lf:
      if (c == '\n') {
        finish(out);
        return;
      }
      break;
    case T::crlf:
      if (c == '\n') {
        cr_seen_ = false;
        finish(out);
        return;
      }
      if (std::exchange(cr_seen_, false)) {
        put('\r');  // the CR was not part of CR LF: it is data, and data may not hold it
      }
      if (c == '\r') {
        cr_seen_ = true;
        return;
      }
      break;
    case T::none:
      break;
  }
  put(c);
}

void SerialFramer::put(char c) {
  started_ = true;
  if (!error_.empty()) {
    return;
  }
  auto u = static_cast<unsigned char>(c);
  if ((u < 0x20 && u != 0x1D) || u == 0x7F) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", u);
    error_ = std::string("control character ") + buf + " at byte " + std::to_string(text_.size()) +
             " (only GS, 0x1D, is allowed)";
    return;
  }
  if (text_.size() >= options_.max_length) {
    error_ = "scan longer than " + std::to_string(options_.max_length) + " bytes";
    return;
  }
  text_ += c;
}

void SerialFramer::flush_idle(std::vector<ScanRead>& out) {
  if (cr_seen_) {
    cr_seen_ = false;
    put('\r');
  }
  if (!started_) {
    return;
  }
  if (options_.terminator == SerialFramerOptions::Terminator::none) {
    finish(out);
  } else {
    finish(out, "scan ended without its terminator (no byte for more than " +
                    std::to_string(options_.gap.count()) + " ms); incomplete read");
  }
}

void SerialFramer::abandon(const std::string& why, std::vector<ScanRead>& out) {
  if (started_ || cr_seen_) {
    started_ = true;
    finish(out, why);
  }
  reset();
}

void SerialFramer::finish(std::vector<ScanRead>& out, std::string error) {
  if (!started_ && error.empty()) {
    return;
  }
  ScanRead r;
  r.text = std::move(text_);
  r.error = !error_.empty() ? std::move(error_) : std::move(error);
  out.push_back(std::move(r));
  text_.clear();
  error_.clear();
  started_ = false;
}

void SerialFramer::reset() {
  text_.clear();
  error_.clear();
  started_ = cr_seen_ = skip_lf_ = false;
  last_.reset();
}

}  // namespace hal
