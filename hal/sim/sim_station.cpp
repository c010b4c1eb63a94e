// SPDX-License-Identifier: Apache-2.0
#include "hal/sim/sim_station.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "hal/log.hpp"

namespace hal::sim {
namespace {

constexpr std::size_t kMaxLine = 4096;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::chrono::seconds kReopenRetry{1};
constexpr std::chrono::milliseconds kMaxSleep{3'600'000};
constexpr char kGs = 0x1d;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// "\x1d" -> GS, "\\" -> backslash; any other backslash is kept as it is.
std::string unescape(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 1 < in.size() && in[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (in[i] == '\\' && i + 3 < in.size() && in[i + 1] == 'x' && hex_digit(in[i + 2]) >= 0 &&
               hex_digit(in[i + 3]) >= 0) {
      out += static_cast<char>(hex_digit(in[i + 2]) * 16 + hex_digit(in[i + 3]));
      i += 3;
    } else {
      out += in[i];
    }
  }
  return out;
}

// "500", "500ms" or "2s".
std::optional<std::chrono::milliseconds> parse_sleep(std::string_view s) {
  long scale = 1;
  if (s.size() > 2 && s.substr(s.size() - 2) == "ms") {
    s.remove_suffix(2);
  } else if (s.size() > 1 && s.back() == 's') {
    s.remove_suffix(1);
    scale = 1000;
  }
  if (s.empty() || s.size() > 9) {
    return std::nullopt;
  }
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + (c - '0');
  }
  std::chrono::milliseconds d(v * scale);
  if (d > kMaxSleep) {
    return std::nullopt;
  }
  return d;
}

// Opens the source; creates a missing path as a FIFO. `is_fifo` tells how EOF is handled.
Result<UniqueFd> open_source(const std::string& path, bool& is_fifo) {
  if (path == "-") {
    is_fifo = false;
    int fd = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) {
      return errno_error(Errc::io, "sim: dup stdin", errno);
    }
    return UniqueFd(fd);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT || ::mkfifo(path.c_str(), 0600) != 0) {
      return errno_error(Errc::io, "sim: create FIFO " + path, errno);
    }
    st.st_mode = S_IFIFO;
  }
  is_fifo = S_ISFIFO(st.st_mode);
  // O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return errno_error(Errc::io, "sim: open " + path, errno);
  }
  return UniqueFd(fd);
}

}  // namespace

Result<std::unique_ptr<SimStation>> SimStation::open(SimStationConfig config) {
  bool is_fifo = false;
  auto fd = open_source(config.path, is_fifo);
  if (!fd.ok()) {
    return std::move(fd).error();
  }
  return std::unique_ptr<SimStation>(
      new SimStation(std::move(config), std::move(fd).value(), is_fifo ? Kind::fifo : Kind::file));
}

SimStation::SimStation(SimStationConfig config, UniqueFd fd, Kind kind)
    : config_(std::move(config)), fd_(std::move(fd)), kind_(kind) {
  for (auto b : config_.buttons) {
    b.debounce = std::chrono::nanoseconds(0);  // simulated contacts do not bounce
    buttons_.emplace_back(std::move(b));
  }
}

int SimStation::fd() const {
  if (resume_at_ || eof_) {
    return -1;
  }
  return fd_.get();
}

std::optional<Clock::MonoTime> SimStation::next_deadline() const {
  std::optional<Clock::MonoTime> best = resume_at_ ? resume_at_ : reopen_at_;
  for (const auto& b : buttons_) {
    auto d = b.next_deadline();
    if (d && (!best || *d < *best)) {
      best = d;
    }
  }
  return best;
}

bool SimStation::finished() const {
  return kind_ == Kind::file && eof_ && buffer_.empty() && !resume_at_;
}

void SimStation::on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) {
  if (fd() < 0) {
    return;
  }
  char chunk[4096];
  std::size_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd_.get(), chunk, sizeof chunk);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      total += static_cast<std::size_t>(n);
      // Stdin may be a blocking terminal: after poll said readable, read only once.
      if (config_.path == "-" || total >= kReadChunk || static_cast<std::size_t>(n) < sizeof chunk) {
        break;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      break;
    }
    if (n < 0) {
      warn("read: " + std::string(std::strerror(errno)));
    }
    // End of input: a last line without '\n' still counts.
    if (!buffer_.empty() && buffer_.back() != '\n') {
      buffer_ += '\n';
    }
    if (kind_ == Kind::fifo) {
      run_lines(now, out);
      (void)reopen(now);  // the last writer left; wait for the next one
      return;
    }
    eof_ = true;
    break;
  }
  run_lines(now, out);
}

void SimStation::on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) {
  if (reopen_at_ && now >= *reopen_at_) {
    (void)reopen(now);
  }
  if (resume_at_ && now >= *resume_at_) {
    resume_at_.reset();
    run_lines(now, out);
  }
  for (auto& b : buttons_) {
    b.on_deadline(now, out);
  }
}

DeviceStatus SimStation::status() const {
  DeviceStatus s;
  s.name = "sim";
  s.path = config_.path == "-" ? "stdin" : config_.path;
  s.connected = fd_.valid() && !eof_;
  s.last_error = last_error_;
  return s;
}

Status SimStation::reopen(Clock::MonoTime now) {
  fd_.reset();
  bool is_fifo = true;
  auto fd = open_source(config_.path, is_fifo);
  if (!fd.ok()) {
    warn(fd.error().what);
    reopen_at_ = now + kReopenRetry;
    return std::move(fd).error();
  }
  fd_ = std::move(fd).value();
  reopen_at_.reset();
  line_no_ = 0;
  return ok();
}

void SimStation::run_lines(Clock::MonoTime now, std::vector<StationEvent>& out) {
  std::size_t start = 0;
  while (!resume_at_) {
    std::size_t nl = buffer_.find('\n', start);
    if (nl == std::string::npos) {
      break;
    }
    std::string_view line(buffer_.data() + start, nl - start);
    start = nl + 1;
    ++line_no_;
    if (discarding_) {
      discarding_ = false;  // the tail of an over-long line
      continue;
    }
    if (line.size() > kMaxLine) {
      warn("line " + std::to_string(line_no_) + ": longer than 4096 bytes, ignored");
      continue;
    }
    run_line(line, now, out);
  }
  buffer_.erase(0, start);
  if (buffer_.size() > kMaxLine && buffer_.find('\n') == std::string::npos) {
    warn("line " + std::to_string(line_no_ + 1) + ": longer than 4096 bytes, ignored");
    buffer_.clear();
    discarding_ = true;
  }
}

void SimStation::run_line(std::string_view raw, Clock::MonoTime now, std::vector<StationEvent>& out) {
  std::string_view line = trim(raw);
  if (line.empty() || line.front() == '#') {
    return;
  }
  std::size_t sp = line.find_first_of(" \t");
  std::string_view cmd = line.substr(0, sp);
  std::string_view arg = sp == std::string_view::npos ? std::string_view() : trim(line.substr(sp + 1));
  std::string where = "line " + std::to_string(line_no_) + ": ";
  if (cmd == "scan") {
    if (arg.empty()) {
      return warn(where + "'scan' needs the scanned text");
    }
    return scan(arg, now, out);
  }
  if (cmd == "press" || cmd == "release" || cmd == "click") {
    ButtonLogic* b = button(arg);
    if (b == nullptr) {
      std::string known;
      for (const auto& k : buttons_) {
        known += (known.empty() ? "" : ", ") + k.name();
      }
      return warn(where + "unknown input '" + std::string(arg) +
                  "' (known: " + (known.empty() ? "none" : known) + ")");
    }
    if (cmd != "release") {
      b->on_edge(true, now, out);
    }
    if (cmd != "press") {
      b->on_edge(false, now, out);
    }
    return;
  }
  if (cmd == "reading") {
    std::size_t nsp = arg.find_first_of(" \t");
    std::string name(arg.substr(0, nsp));
    bool known = false;
    std::string names;
    for (const auto& n : config_.instruments) {
      known = known || n == name;
      names += (names.empty() ? "" : ", ") + n;
    }
    if (!known) {
      return warn(where + "unknown instrument '" + name + "' (known: " + (names.empty() ? "none" : names) +
                  ")");
    }
    StationEvent e;
    e.kind = StationEvent::Kind::reading;
    e.input = name;
    e.text = nsp == std::string_view::npos ? std::string() : std::string(trim(arg.substr(nsp + 1)));
    e.at = now;
    out.push_back(std::move(e));
    return;
  }
  if (cmd == "sleep") {
    auto d = parse_sleep(arg);
    if (!d) {
      return warn(where + "'sleep' needs a time up to 1 hour, e.g. 500, 500ms or 2s");
    }
    resume_at_ = now + *d;
    return;
  }
  warn(where + "unknown command '" + std::string(cmd) +
       "' (expected scan, press, release, click, reading, sleep)");
}

void SimStation::scan(std::string_view text, Clock::MonoTime now, std::vector<StationEvent>& out) const {
  StationEvent e;
  e.kind = StationEvent::Kind::scan;
  e.input = config_.scanner;
  e.text = unescape(text);
  e.at = now;
  if (e.text.size() > config_.max_scan_length) {
    e.error = "scan too long (" + std::to_string(e.text.size()) + " bytes, limit " +
              std::to_string(config_.max_scan_length) + ")";
  }
  for (std::size_t i = 0; i < e.text.size() && e.error.empty(); ++i) {
    auto c = static_cast<unsigned char>(e.text[i]);
    if ((c < 0x20 || c == 0x7f) && c != kGs) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c);
      e.error = "control character " + std::string(hex) + " at byte " + std::to_string(i);
    }
  }
  out.push_back(std::move(e));
}

ButtonLogic* SimStation::button(std::string_view name) {
  for (auto& b : buttons_) {
    if (b.name() == name) {
      return &b;
    }
  }
  return nullptr;
}

void SimStation::warn(const std::string& what) {
  ++bad_lines_;
  last_error_ = (config_.path == "-" ? "stdin" : config_.path) + ": " + what;
  log::warning("sim", last_error_);
}

}  // namespace hal::sim
