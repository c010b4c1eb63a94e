// SPDX-License-Identifier: Apache-2.0
#include "time_sync.hpp"

#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/timex.h>
#include <unistd.h>

#include <chrono>

#include "agent/common/read_file.hpp"

namespace firmware {
namespace {

constexpr const char* kTimesyncdFlag = "/run/systemd/timesync/synchronized";

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string read_boot_id() {
  auto text = agent::read_file("/proc/sys/kernel/random/boot_id");
  const std::string id = text.ok() ? agent::first_line(text.value()) : std::string();
  return id.empty() ? "unknown" : id;
}

std::int64_t ms(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

TimeSync::TimeSync(const hal::Clock& clock, std::string flag_file)
    : clock_(clock), flag_file_(std::move(flag_file)), boot_id_(read_boot_id()) {
  timer_ = hal::UniqueFd(::timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC));
  arm();
  was_synced_ = synced();
}

void TimeSync::arm() {
  if (!timer_.valid()) {
    return;
  }
  // An absolute expiry far in the future that never fires by itself; CANCEL_ON_SET makes the
  // fd readable (read() fails with ECANCELED) whenever someone steps CLOCK_REALTIME.
  itimerspec spec{};
  spec.it_value.tv_sec = 0x7fffffff;
  ::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, nullptr);
}

void TimeSync::on_readable() {
  std::uint64_t n = 0;
  while (::read(timer_.get(), &n, sizeof n) > 0) {
  }
  arm();
}

bool TimeSync::synced() const {
  if (!flag_file_.empty()) {
    return exists(flag_file_);
  }
  if (exists(kTimesyncdFlag)) {
    return true;
  }
  timex tx{};
  int state = ::adjtimex(&tx);
  return state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
}

agent::EventTime TimeSync::stamp() const {
  agent::EventTime t;
  t.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.wall().time_since_epoch()).count();
  t.boot_id = boot_id_;
  t.since_boot_ns = clock_.since_boot().count();
  t.wall_synced = synced();
  return t;
}

std::optional<std::int64_t> TimeSync::newly_synced() {
  bool now = synced();
  bool changed = now && !was_synced_;
  was_synced_ = now;
  if (!changed) {
    return std::nullopt;
  }
  auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.wall().time_since_epoch()).count();
  return wall - ms(clock_.since_boot());
}

}  // namespace firmware
