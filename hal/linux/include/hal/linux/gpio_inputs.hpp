// SPDX-License-Identifier: Apache-2.0
// GpioInputs: the station's GPIO inputs (buttons, pedals) on real hardware through libgpiod,
// as one hal::Device. Lines are found by chip + offset or by line name (GpioLineRef), and
// requested with their bias and active-low, for both edges: one request per chip. fd() is an
// epoll fd over the request fds (one per chip on libgpiod 2.x, one per line on 1.6), so the
// loop waits on one fd however many lines there are. Debounce: the kernel's (GPIO uAPI v2)
// where libgpiod 2.x is built in, else ButtonLogic's software debounce with the same
// semantics; then press / release / long_press as StationEvents named after the profile input.
// Start-up fails, with nothing left requested, when a line does not exist or is in use:
//   "input pass: gpio: request line 17 on gpiochip0: Device or resource busy (used by 'foo')"
// At run time a failing request fd (chip removed) is dropped with an error in status();
// the other lines go on. Loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hal/button_logic.hpp"
#include "hal/c_handle.hpp"
#include "hal/device.hpp"
#include "hal/gpio_spec.hpp"
#include "hal/linux/gpiod_input_request.hpp"
#include "hal/linux/gpiod_locate.hpp"

namespace hal::linux_gpiod {

class GpioInputs final : public Device {
 public:
  static Result<std::unique_ptr<GpioInputs>> open(const std::vector<GpioInputSpec>& specs);
  ~GpioInputs() override;
  GpioInputs(const GpioInputs&) = delete;
  GpioInputs& operator=(const GpioInputs&) = delete;

  int fd() const override { return epoll_.get(); }
  std::optional<Clock::MonoTime> next_deadline() const override;
  void on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  void on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  DeviceStatus status() const override;

  // True when the kernel debounces (libgpiod 2.x); false: software debounce.
  static bool kernel_debounce();
  std::uint64_t raw_edges() const;
  // "line 17 on gpiochip0" for each input, grouped by chip.
  std::vector<std::string> lines() const;

 private:
  struct Line {
    std::size_t request;
    unsigned offset;
    std::string where;
    ButtonLogic logic;
  };
  GpioInputs() = default;
  Status request_chip(const std::vector<GpioInputSpec>& specs, const std::vector<std::size_t>& members,
                      const std::vector<LineAddress>& addresses);
  void read_request(std::size_t request, int fd, Clock::MonoTime now, std::vector<StationEvent>& out);
  void confirm_levels(std::size_t request, const std::vector<LineEdge>& edges, Clock::MonoTime now,
                      std::vector<StationEvent>& out);
  Line* find(std::size_t request, unsigned offset);

  UniqueFd epoll_;
  std::vector<std::unique_ptr<InputRequest>> requests_;
  std::vector<int> fds_;                 // epoll data -> fd
  std::vector<std::size_t> fd_request_;  // epoll data -> request
  std::vector<Line> lines_;
  std::string paths_;
  std::string last_error_;
};

}  // namespace hal::linux_gpiod
