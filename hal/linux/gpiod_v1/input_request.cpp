// SPDX-License-Identifier: Apache-2.0
// libgpiod 1.6 (GPIO uAPI v1): each line is requested for events on its own and has its own
// fd; the kernel cannot debounce, so GpioInputs does it in software.
#include <cerrno>
#include <ctime>

#include "hal/linux/gpiod_handles.hpp"
#include "hal/linux/gpiod_input_request.hpp"

namespace hal::linux_gpiod {

struct InputRequest::Impl {
  Chip chip;
  std::vector<gpiod_line*> lines;  // owned by chip; released when it closes
};

namespace {

constexpr unsigned kBatch = 16;
constexpr unsigned kMaxBatchesPerCall = 16;

int flags_for(const InputLine& l) {
  int flags = l.active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
  switch (l.bias) {
    case Bias::as_is:
      break;
    case Bias::disabled:
      flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE;
      break;
    case Bias::pull_up:
      flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
      break;
    case Bias::pull_down:
      flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
      break;
  }
  return flags;
}

// The error for a refused request, naming who holds the line when it is busy.
Error request_error(gpiod_line* line, const LineAddress& chip, unsigned offset, int err) {
  std::string consumer;
  if (err == EBUSY && line != nullptr && gpiod_line_update(line) == 0) {
    consumer = text_or_empty(gpiod_line_consumer(line));
  }
  LineAddress a = chip;
  a.offset = offset;
  return gpio_request_error(a.where(), err, consumer);
}

}  // namespace

bool InputRequest::kernel_debounce() {
  return false;
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
  for (const auto& l : lines) {
    failed_offset = l.offset;
    gpiod_line* line = gpiod_chip_get_line(impl->chip.get(), l.offset);
    if (line == nullptr) {
      return request_error(nullptr, chip, l.offset, errno);
    }
    gpiod_line_request_config cfg{consumer, GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES, flags_for(l)};
    if (gpiod_line_request(line, &cfg, 0) != 0) {
      return request_error(line, chip, l.offset, errno);  // closing the chip releases the others
    }
    impl->lines.push_back(line);
  }
  return std::unique_ptr<InputRequest>(new InputRequest(std::move(impl)));
}

std::vector<int> InputRequest::fds() const {
  std::vector<int> fds;
  for (gpiod_line* l : impl_->lines) {
    fds.push_back(gpiod_line_event_get_fd(l));
  }
  return fds;
}

Status InputRequest::read_edges(int fd, std::vector<LineEdge>& out, bool& lost) {
  lost = false;  // uAPI v1 has no sequence numbers: a kernel overflow cannot be seen here
  for (gpiod_line* line : impl_->lines) {
    if (gpiod_line_event_get_fd(line) != fd) {
      continue;
    }
    for (unsigned batch = 0; batch < kMaxBatchesPerCall; ++batch) {
      timespec zero{0, 0};
      int pending = gpiod_line_event_wait(line, &zero);
      if (pending <= 0) {
        return pending == 0 ? ok() : errno_error(Errc::io, "gpio: wait for edges", errno);
      }
      gpiod_line_event ev[kBatch];
      int n = gpiod_line_event_read_multiple(line, ev, kBatch);
      if (n < 0) {
        return errno_error(Errc::io, "gpio: read edges", errno);
      }
      for (int i = 0; i < n; ++i) {
        std::chrono::nanoseconds ts =
            std::chrono::seconds(ev[i].ts.tv_sec) + std::chrono::nanoseconds(ev[i].ts.tv_nsec);
        out.push_back({gpiod_line_offset(line), ev[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE, ts});
      }
    }
    return ok();
  }
  return Error(Errc::internal, "gpio: read edges: fd " + std::to_string(fd) + " is not ours");
}

Result<bool> InputRequest::value(unsigned offset) const {
  for (gpiod_line* line : impl_->lines) {
    if (gpiod_line_offset(line) == offset) {
      int v = gpiod_line_get_value(line);
      if (v < 0) {
        return errno_error(Errc::io, "gpio: read line " + std::to_string(offset), errno);
      }
      return v == 1;
    }
  }
  return Error(Errc::internal, "gpio: line " + std::to_string(offset) + " is not requested");
}

}  // namespace hal::linux_gpiod
