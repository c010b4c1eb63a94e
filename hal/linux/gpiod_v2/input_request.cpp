// SPDX-License-Identifier: Apache-2.0
// libgpiod 2.x (GPIO uAPI v2): all input lines of a chip in one request with one fd; the
// kernel debounces each line (gpiolib-cdev runs a software debouncer when the chip has no
// hardware one), and stamps edges with CLOCK_MONOTONIC.
#include <cerrno>

#include "hal/linux/gpiod_handles.hpp"
#include "hal/linux/gpiod_input_request.hpp"

namespace hal::linux_gpiod {

struct InputRequest::Impl {
  Chip chip;
  LineRequest request;
  EdgeEventBuffer buffer;
  std::vector<unsigned> offsets;
  unsigned long next_seqno = 0;  // 0: none seen yet
};

namespace {

constexpr size_t kBatch = 64;
constexpr unsigned kMaxBatchesPerCall = 16;

gpiod_line_bias bias_of(Bias b) {
  switch (b) {
    case Bias::as_is:
      return GPIOD_LINE_BIAS_AS_IS;
    case Bias::disabled:
      return GPIOD_LINE_BIAS_DISABLED;
    case Bias::pull_up:
      return GPIOD_LINE_BIAS_PULL_UP;
    case Bias::pull_down:
      return GPIOD_LINE_BIAS_PULL_DOWN;
  }
  return GPIOD_LINE_BIAS_AS_IS;
}

// Who holds `offset` ("" if nobody or unknown).
std::string consumer_of(gpiod_chip* chip, unsigned offset) {
  LineInfo info(gpiod_chip_get_line_info(chip, offset));
  if (!info || !gpiod_line_info_is_used(info.get())) {
    return {};
  }
  return text_or_empty(gpiod_line_info_get_consumer(info.get()));
}

Error request_error(gpiod_chip* chip, const LineAddress& where, const std::vector<InputLine>& lines, int err,
                    unsigned& failed_offset) {
  // One request covers several lines: name the one that is taken.
  LineAddress a = where;
  a.offset = lines.front().offset;
  for (const auto& l : lines) {
    if (!consumer_of(chip, l.offset).empty()) {
      a.offset = l.offset;
      break;
    }
  }
  failed_offset = a.offset;
  return gpio_request_error(a.where(), err, err == EBUSY ? consumer_of(chip, a.offset) : std::string());
}

Result<LineConfig> line_config(const std::vector<InputLine>& lines) {
  LineConfig cfg(gpiod_line_config_new());
  if (!cfg) {
    return errno_error(Errc::io, "gpio: line config", errno);
  }
  for (const auto& l : lines) {
    LineSettings s(gpiod_line_settings_new());
    if (!s || gpiod_line_settings_set_direction(s.get(), GPIOD_LINE_DIRECTION_INPUT) != 0 ||
        gpiod_line_settings_set_edge_detection(s.get(), GPIOD_LINE_EDGE_BOTH) != 0 ||
        gpiod_line_settings_set_bias(s.get(), bias_of(l.bias)) != 0 ||
        gpiod_line_settings_set_event_clock(s.get(), GPIOD_LINE_CLOCK_MONOTONIC) != 0) {
      return errno_error(Errc::io, "gpio: line settings", errno);
    }
    gpiod_line_settings_set_active_low(s.get(), l.active_low);
    gpiod_line_settings_set_debounce_period_us(s.get(), static_cast<unsigned long>(l.debounce.count()));
    if (gpiod_line_config_add_line_settings(cfg.get(), &l.offset, 1, s.get()) != 0) {
      return errno_error(Errc::io, "gpio: line config", errno);
    }
  }
  return cfg;
}

}  // namespace

bool InputRequest::kernel_debounce() {
  return true;
}

InputRequest::InputRequest(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InputRequest::~InputRequest() = default;

Result<std::unique_ptr<InputRequest>> InputRequest::open(const LineAddress& chip,
                                                         const std::vector<InputLine>& lines,
                                                         const char* consumer, unsigned& failed_offset) {
  auto impl = std::make_unique<Impl>();
  failed_offset = lines.empty() ? 0 : lines.front().offset;
  impl->chip.reset(gpiod_chip_open(chip.chip_path.c_str()));
  if (!impl->chip) {
    return errno_error(Errc::io, "gpio: open chip " + chip.chip_path, errno);
  }
  auto cfg = line_config(lines);
  if (!cfg.ok()) {
    return std::move(cfg).error();
  }
  RequestConfig req_cfg(gpiod_request_config_new());
  impl->buffer.reset(gpiod_edge_event_buffer_new(kBatch));
  if (!req_cfg || !impl->buffer) {
    return errno_error(Errc::io, "gpio: request config", errno);
  }
  gpiod_request_config_set_consumer(req_cfg.get(), consumer);
  impl->request.reset(gpiod_chip_request_lines(impl->chip.get(), req_cfg.get(), cfg->get()));
  if (!impl->request) {
    return request_error(impl->chip.get(), chip, lines, errno, failed_offset);
  }
  for (const auto& l : lines) {
    impl->offsets.push_back(l.offset);
  }
  return std::unique_ptr<InputRequest>(new InputRequest(std::move(impl)));
}

std::vector<int> InputRequest::fds() const {
  return {gpiod_line_request_get_fd(impl_->request.get())};
}

Status InputRequest::read_edges(int fd, std::vector<LineEdge>& out, bool& lost) {
  lost = false;
  if (fd != gpiod_line_request_get_fd(impl_->request.get())) {
    return Error(Errc::internal, "gpio: read edges: fd " + std::to_string(fd) + " is not ours");
  }
  for (unsigned batch = 0; batch < kMaxBatchesPerCall; ++batch) {
    // The request fd is blocking: read only what the kernel says is pending.
    int pending = gpiod_line_request_wait_edge_events(impl_->request.get(), 0);
    if (pending <= 0) {
      return pending == 0 ? ok() : errno_error(Errc::io, "gpio: wait for edges", errno);
    }
    int n = gpiod_line_request_read_edge_events(impl_->request.get(), impl_->buffer.get(), kBatch);
    if (n < 0) {
      return errno_error(Errc::io, "gpio: read edges", errno);
    }
    for (int i = 0; i < n; ++i) {
      gpiod_edge_event* ev =
          gpiod_edge_event_buffer_get_event(impl_->buffer.get(), static_cast<unsigned long>(i));
      // The kernel numbers the request's events; a gap means its queue overflowed.
      unsigned long seq = gpiod_edge_event_get_global_seqno(ev);
      if (impl_->next_seqno != 0 && seq != impl_->next_seqno) {
        lost = true;
      }
      impl_->next_seqno = seq + 1;
      out.push_back({gpiod_edge_event_get_line_offset(ev),
                     gpiod_edge_event_get_event_type(ev) == GPIOD_EDGE_EVENT_RISING_EDGE,
                     std::chrono::nanoseconds(gpiod_edge_event_get_timestamp_ns(ev))});
    }
  }
  return ok();
}

Result<bool> InputRequest::value(unsigned offset) const {
  gpiod_line_value v = gpiod_line_request_get_value(impl_->request.get(), offset);
  if (v == GPIOD_LINE_VALUE_ERROR) {
    return errno_error(Errc::io, "gpio: read line " + std::to_string(offset), errno);
  }
  return v == GPIOD_LINE_VALUE_ACTIVE;
}

}  // namespace hal::linux_gpiod
