// SPDX-License-Identifier: Apache-2.0
#include "hal/output_pattern.hpp"

#include <cctype>
#include <optional>

namespace hal {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kMinDuration{1};
constexpr milliseconds kMaxDuration{3'600'000};
constexpr unsigned kMaxCount = 1000;
constexpr size_t kMaxSteps = 2000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) {
      return parts;
    }
    start = pos + 1;
  }
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  for (auto w : split(trim(s), ' ')) {
    w = trim(w);
    if (!w.empty()) {
      out.push_back(w);
    }
  }
  return out;
}

std::optional<unsigned long> parse_uint(std::string_view s) {
  if (s.empty() || s.size() > 9) {
    return std::nullopt;
  }
  unsigned long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  return v;
}

// "250ms" or "2s"; the message names what was wrong.
Result<milliseconds> parse_duration(std::string_view s) {
  unsigned long scale = 0;
  std::string_view digits;
  if (s.size() > 2 && s.substr(s.size() - 2) == "ms") {
    scale = 1;
    digits = s.substr(0, s.size() - 2);
  } else if (s.size() > 1 && s.back() == 's') {
    scale = 1000;
    digits = s.substr(0, s.size() - 1);
  } else {
    return Error(Errc::config, "'" + std::string(s) + "' is not a duration (write e.g. 200ms or 2s)");
  }
  auto n = parse_uint(digits);
  if (!n) {
    return Error(Errc::config, "'" + std::string(s) + "' is not a duration (write e.g. 200ms or 2s)");
  }
  milliseconds d(*n * scale);
  if (d < kMinDuration || d > kMaxDuration) {
    return Error(Errc::config, "duration " + std::string(s) + " is out of range (1ms..3600s)");
  }
  return d;
}

Result<unsigned> parse_count(std::string_view s, bool with_x) {
  if (with_x) {
    if (s.empty() || s.front() != 'x') {
      return Error(Errc::config, "'" + std::string(s) + "' is not a count (write e.g. x3)");
    }
    s.remove_prefix(1);
  }
  auto n = parse_uint(s);
  if (!n || *n < 1 || *n > kMaxCount) {
    return Error(Errc::config, "count '" + std::string(s) + "' must be 1..1000");
  }
  return static_cast<unsigned>(*n);
}

struct Builder {
  OutputPattern p;
  bool last_only_seen = false;  // an item that must be last was parsed

  Status add(PatternStep s) {
    if (p.steps.size() >= kMaxSteps) {
      return Error(Errc::config, "more than 2000 steps");
    }
    p.steps.push_back(s);
    return ok();
  }
};

Status parse_blink(const std::vector<std::string_view>& w, Builder& b) {
  if (w.size() < 2 || w.size() > 3) {
    return Error(Errc::config, "expected 'blink PERIOD [xN]' or 'blink ON/OFF [xN]'");
  }
  milliseconds on_t{0};
  milliseconds off_t{0};
  auto slash = w[1].find('/');
  if (slash != std::string_view::npos) {
    auto a = parse_duration(w[1].substr(0, slash));
    ION_TRY(a, "blink on time");
    auto o = parse_duration(w[1].substr(slash + 1));
    ION_TRY(o, "blink off time");
    on_t = *a;
    off_t = *o;
  } else {
    auto period = parse_duration(w[1]);
    ION_TRY(period, "blink period");
    if (*period < milliseconds(2)) {
      return Error(Errc::config, "blink period " + std::string(w[1]) + " is too short (at least 2ms)");
    }
    on_t = *period / 2;
    off_t = *period - on_t;
  }
  if (w.size() == 2) {
    b.p.loop = {{true, on_t}, {false, off_t}};
    b.last_only_seen = true;
    return ok();
  }
  auto count = parse_count(w[2], true);
  ION_TRY(count, "blink count");
  for (unsigned i = 0; i < *count; ++i) {
    ION_TRY(b.add({true, on_t}), "blink");
    ION_TRY(b.add({false, off_t}), "blink");
  }
  return ok();
}

Status parse_repeat(const std::vector<std::string_view>& w, Builder& b) {
  if (b.p.steps.empty()) {
    return Error(Errc::config, "nothing to repeat");
  }
  b.last_only_seen = true;
  if (w.size() == 1) {
    b.p.loop = std::move(b.p.steps);
    b.p.steps.clear();
    b.p.final_on = false;
    return ok();
  }
  if (w.size() != 2) {
    return Error(Errc::config, "expected 'repeat' or 'repeat N'");
  }
  auto count = parse_count(w[1], false);
  ION_TRY(count, "repeat count");
  if (b.p.steps.size() * *count > kMaxSteps) {
    return Error(Errc::config, "more than 2000 steps");
  }
  auto once = b.p.steps;
  for (unsigned i = 1; i < *count; ++i) {
    b.p.steps.insert(b.p.steps.end(), once.begin(), once.end());
  }
  return ok();
}

Status parse_item(std::string_view item, bool last, Builder& b) {
  auto w = words(item);
  if (w.empty()) {
    return Error(Errc::config, "empty item");
  }
  if (b.last_only_seen) {
    return Error(Errc::config, "nothing may follow a loop or repeat");
  }
  if ((w[0] == "on" || w[0] == "off") && w.size() == 1) {
    if (!last) {
      return Error(Errc::config,
                   "a bare '" + std::string(w[0]) + "' must be the last item (give a duration)");
    }
    b.p.final_on = w[0] == "on";
    return ok();
  }
  if (w[0] == "on" || w[0] == "off" || w[0] == "pulse") {
    if (w.size() != 2) {
      return Error(Errc::config, "expected '" + std::string(w[0]) + " DURATION'");
    }
    auto d = parse_duration(w[1]);
    ION_TRY(d, std::string(w[0]));
    return b.add({w[0] != "off", *d});
  }
  if (w[0] == "blink") {
    return parse_blink(w, b);
  }
  if (w[0] == "repeat") {
    return parse_repeat(w, b);
  }
  return Error(Errc::config,
               "unknown word '" + std::string(w[0]) + "' (expected on, off, pulse, blink or repeat)");
}

std::string ms_text(milliseconds d) {
  if (d.count() % 1000 == 0) {
    return std::to_string(d.count() / 1000) + "s";
  }
  return std::to_string(d.count()) + "ms";
}

void append_steps(const std::vector<PatternStep>& steps, std::string& out) {
  for (const auto& s : steps) {
    if (!out.empty()) {
      out += ", ";
    }
    out += (s.on ? "on " : "off ") + ms_text(s.duration);
  }
}

}  // namespace

OutputPattern OutputPattern::on() {
  OutputPattern p;
  p.final_on = true;
  return p;
}

OutputPattern OutputPattern::off() {
  return {};
}

OutputPattern OutputPattern::pulse(milliseconds on_time) {
  OutputPattern p;
  p.steps.push_back({true, on_time});
  return p;
}

OutputPattern OutputPattern::blink(milliseconds on_time, milliseconds off_time, unsigned count) {
  OutputPattern p;
  if (count == 0) {
    p.loop = {{true, on_time}, {false, off_time}};
  }
  for (unsigned i = 0; i < count; ++i) {
    p.steps.push_back({true, on_time});
    p.steps.push_back({false, off_time});
  }
  return p;
}

milliseconds OutputPattern::length() const {
  milliseconds total{0};
  for (const auto& s : steps) {
    total += s.duration;
  }
  return total;
}

std::string OutputPattern::describe() const {
  std::string out;
  if (steps.empty() && loop.empty()) {
    return final_on ? "on" : "off";
  }
  if (steps.empty()) {
    append_steps(loop, out);
    return out + ", repeat";
  }
  append_steps(steps, out);
  if (loop.size() == 2 && loop[0].on && !loop[1].on) {
    return out + ", blink " + ms_text(loop[0].duration) + "/" + ms_text(loop[1].duration);
  }
  if (!loop.empty()) {
    std::string l;
    append_steps(loop, l);
    return out + ", " + l + ", repeat";  // not exact: the prefix joins the loop
  }
  return final_on ? out + ", on" : out;
}

Result<OutputPattern> parse_pattern(std::string_view text) {
  auto fail = [&](size_t index, std::string_view item, const Error& e) {
    return Error(Errc::config, "pattern '" + std::string(text) + "': item " + std::to_string(index + 1) +
                                   " ('" + std::string(trim(item)) + "'): " + e.what);
  };
  if (trim(text).empty()) {
    return Error(Errc::config, "pattern: empty (write e.g. on, off, pulse 200ms, blink 200ms x3)");
  }
  Builder b;
  auto items = split(text, ',');
  for (size_t i = 0; i < items.size(); ++i) {
    auto st = parse_item(items[i], i + 1 == items.size(), b);
    if (!st.ok()) {
      return fail(i, items[i], st.error());
    }
  }
  return std::move(b.p);
}

}  // namespace hal
