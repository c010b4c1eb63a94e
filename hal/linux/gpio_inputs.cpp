// SPDX-License-Identifier: Apache-2.0
#include "hal/linux/gpio_inputs.hpp"

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "hal/linux/gpiod_handles.hpp"
#include "hal/linux/gpiod_input_request.hpp"
#include "hal/linux/gpiod_locate.hpp"
#include "hal/log.hpp"

namespace hal::linux_gpiod {
namespace {

constexpr int kMaxReadyPerCall = 16;
// Kernel edge stamps further from the read time than this are not trusted (CLOCK_REALTIME
// stamps from uAPI v1 on kernels before 5.7, or a loop clock that is not CLOCK_MONOTONIC).
constexpr std::chrono::seconds kMaxEdgeAge{10};

Clock::MonoTime edge_time(std::chrono::nanoseconds stamp, Clock::MonoTime now) {
  Clock::MonoTime t(std::chrono::duration_cast<Clock::MonoTime::duration>(stamp));
  if (t > now || now - t > kMaxEdgeAge) {
    return now;
  }
  return t;
}

}  // namespace

GpioInputs::~GpioInputs() = default;

bool GpioInputs::kernel_debounce() {
  return InputRequest::kernel_debounce();
}

Result<std::unique_ptr<GpioInputs>> GpioInputs::open(const std::vector<GpioInputSpec>& specs) {
  std::vector<LineAddress> addresses;
  for (const auto& spec : specs) {
    auto a = locate(spec.line);
    ION_TRY(a, "input " + spec.name);
    for (std::size_t i = 0; i < addresses.size(); ++i) {
      if (addresses[i].chip_path == a->chip_path && addresses[i].offset == a->offset) {
        return Error(Errc::config,
                     "inputs " + specs[i].name + " and " + spec.name + " both use " + a->where());
      }
    }
    addresses.push_back(std::move(a).value());
  }
  std::unique_ptr<GpioInputs> in(new GpioInputs());
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    return errno_error(Errc::io, "gpio: epoll_create1", errno);
  }
  in->epoll_.reset(ep);
  // One request per chip, in the order chips first appear in the profile.
  std::vector<bool> done(specs.size(), false);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (done[i]) {
      continue;
    }
    std::vector<std::size_t> members;
    for (std::size_t j = i; j < specs.size(); ++j) {
      if (!done[j] && addresses[j].chip_path == addresses[i].chip_path) {
        members.push_back(j);
        done[j] = true;
      }
    }
    Status st = in->request_chip(specs, members, addresses);
    if (!st.ok()) {
      return std::move(st).error();  // ~GpioInputs releases the chips already requested
    }
  }
  return in;
}

// Requests the lines `members` (indexes into specs) that share one chip.
Status GpioInputs::request_chip(const std::vector<GpioInputSpec>& specs,
                                const std::vector<std::size_t>& members,
                                const std::vector<LineAddress>& addresses) {
  std::vector<InputLine> lines;
  for (std::size_t m : members) {
    const auto& s = specs[m];
    auto debounce = kernel_debounce() ? std::chrono::duration_cast<std::chrono::microseconds>(s.debounce)
                                      : std::chrono::microseconds(0);
    lines.push_back({addresses[m].offset, s.active_low, s.bias, debounce});
  }
  unsigned failed = 0;
  auto req = InputRequest::open(addresses[members.front()], lines, kConsumer, failed);
  if (!req.ok()) {
    for (std::size_t m : members) {
      if (addresses[m].offset == failed) {
        return std::move(req).error().context("input " + specs[m].name);
      }
    }
    return std::move(req).error();
  }
  std::size_t r = requests_.size();
  requests_.push_back(std::move(req).value());
  for (int fd : requests_.back()->fds()) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = fds_.size();
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      return errno_error(Errc::io, "gpio: epoll_ctl", errno);
    }
    fds_.push_back(fd);
    fd_request_.push_back(r);
  }
  for (std::size_t m : members) {
    const auto& s = specs[m];
    auto level = requests_.back()->value(addresses[m].offset);
    ION_TRY(level, "input " + s.name);
    auto software = kernel_debounce() ? std::chrono::nanoseconds(0) : std::chrono::nanoseconds(s.debounce);
    lines_.push_back({r, addresses[m].offset, addresses[m].where(),
                      ButtonLogic({s.name, software, s.long_press}, *level)});
    paths_ += (paths_.empty() ? "" : ", ") + addresses[m].where();
  }
  return ok();
}

std::optional<Clock::MonoTime> GpioInputs::next_deadline() const {
  std::optional<Clock::MonoTime> best;
  for (const auto& l : lines_) {
    auto d = l.logic.next_deadline();
    if (d && (!best || *d < *best)) {
      best = d;
    }
  }
  return best;
}

void GpioInputs::on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) {
  epoll_event ready[kMaxReadyPerCall];
  int n = ::epoll_wait(epoll_.get(), ready, kMaxReadyPerCall, 0);
  for (int i = 0; i < n; ++i) {
    std::size_t slot = ready[i].data.u64;
    read_request(fd_request_[slot], fds_[slot], now, out);
  }
  on_deadline(now, out);
}

void GpioInputs::read_request(std::size_t request, int fd, Clock::MonoTime now,
                              std::vector<StationEvent>& out) {
  std::vector<LineEdge> edges;
  bool lost = false;
  Status st = requests_[request]->read_edges(fd, edges, lost);
  for (const auto& e : edges) {
    if (Line* l = find(request, e.offset)) {
      l->logic.on_edge(e.active, edge_time(e.timestamp, now), out);
    }
  }
  if (!kernel_debounce()) {
    confirm_levels(request, edges, now, out);
  }
  if (lost) {
    // The kernel's queue overflowed: the last edge may not be the line's level. Treat the
    // level read now as one more edge, so the debounced state converges on the truth.
    log::warning("gpio", "edge events were lost; re-reading the input levels");
    for (auto& l : lines_) {
      if (l.request != request) {
        continue;
      }
      auto v = requests_[request]->value(l.offset);
      if (v.ok()) {
        l.logic.on_edge(*v, now, out);
      }
    }
  }
  if (!st.ok()) {
    // A chip that went away keeps its fd readable (error) forever: stop waiting on it.
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    last_error_ = st.error().what;
    log::error("gpio", "inputs: " + last_error_ + "; no longer watching that line");
  }
}

// uAPI v1 reports the level the kernel read when it got round to the interrupt, so the edges
// of a fast burst can all say the same thing: read back the level each line ended at.
void GpioInputs::confirm_levels(std::size_t request, const std::vector<LineEdge>& edges, Clock::MonoTime now,
                                std::vector<StationEvent>& out) {
  std::vector<std::pair<unsigned, std::chrono::nanoseconds>> last;  // offset -> stamp of its last edge
  for (const auto& e : edges) {
    auto it = std::find_if(last.begin(), last.end(), [&](const auto& p) { return p.first == e.offset; });
    if (it == last.end()) {
      last.emplace_back(e.offset, e.timestamp);
    } else {
      it->second = e.timestamp;
    }
  }
  for (const auto& [offset, stamp] : last) {
    Line* l = find(request, offset);
    auto v = requests_[request]->value(offset);
    if (l != nullptr && v.ok()) {
      l->logic.confirm_level(*v, edge_time(stamp, now), out);
    }
  }
}

void GpioInputs::on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) {
  for (auto& l : lines_) {
    l.logic.on_deadline(now, out);
  }
}

GpioInputs::Line* GpioInputs::find(std::size_t request, unsigned offset) {
  for (auto& l : lines_) {
    if (l.request == request && l.offset == offset) {
      return &l;
    }
  }
  return nullptr;
}

DeviceStatus GpioInputs::status() const {
  DeviceStatus s;
  for (const auto& l : lines_) {
    s.name += (s.name.empty() ? "" : ",") + l.logic.name();
  }
  s.path = paths_;
  s.connected = last_error_.empty();
  s.last_error = last_error_;
  return s;
}

std::uint64_t GpioInputs::raw_edges() const {
  std::uint64_t n = 0;
  for (const auto& l : lines_) {
    n += l.logic.raw_edges();
  }
  return n;
}

std::vector<std::string> GpioInputs::lines() const {
  std::vector<std::string> out;
  for (const auto& l : lines_) {
    out.push_back(l.where);
  }
  return out;
}

}  // namespace hal::linux_gpiod
