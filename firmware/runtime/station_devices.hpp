// SPDX-License-Identifier: Apache-2.0
// StationDevices: the inputs and outputs a station profile names, built as HAL objects
// (composition root: the only place that names EvdevScanner, TtyScanner, SimStation, ...),
// plus the Feedback that plays the profile's signal patterns on the outputs.
//
// With a sim source (`ion-agent run --sim FIFO|-`) every input comes from one SimStation
// (scan lines go to the profile's scanner input; press/release lines name button inputs) and
// every output is a SimOutput printing "output NAME on|off" on stdout. Otherwise evdev and
// serial inputs open their devices (a missing scanner is not fatal: it reports disconnected
// and reopens with backoff) and `sim` inputs are refused. Folder inputs watch their directory
// in both cases (a directory is not hardware). Owns everything it builds.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/profile/profile.hpp"
#include "hal/device.hpp"
#include "hal/feedback.hpp"
#include "hal/instrument.hpp"
#include "hal/result.hpp"

namespace firmware {

class StationDevices {
 public:
  static hal::Result<std::unique_ptr<StationDevices>> build(const agent::Profile& profile,
                                                            const std::string& sim_source,
                                                            hal::Clock::MonoTime now);

  std::vector<hal::Device*> inputs() const;
  hal::Feedback& feedback() { return feedback_; }
  // Plays a workflow signal's / action's pattern (unknown outputs are logged, not fatal).
  void play(const agent::Pattern& p, hal::Clock::MonoTime now);
  std::vector<hal::DeviceStatus> status() const;
  // Kind of each input for metrics: "scanner", "gpio", "sim", "instrument", "folder".
  std::string kind_of(const std::string& input) const;
  // Asks instrument `name` for a reading ({"read": NAME}); the reply, or why none came, comes
  // back from the loop as a reading event. With --sim it prints "read NAME COMMAND" on stdout:
  // answer with a `reading NAME TEXT` line.
  void query(const std::string& name, hal::Clock::MonoTime now);

 private:
  StationDevices() = default;
  hal::Status build_sim(const agent::Profile& profile, const std::string& source);
  hal::Status build_real(const agent::Profile& profile, hal::Clock::MonoTime now);
  hal::Status build_folders(const agent::Profile& profile, hal::Clock::MonoTime now);
  hal::Status build_outputs(const agent::Profile& profile, bool sim);

  std::vector<std::unique_ptr<hal::Device>> inputs_;
  std::vector<std::unique_ptr<hal::Output>> outputs_;
  std::vector<std::pair<std::string, std::string>> kinds_;
  hal::Feedback feedback_;
  std::map<std::string, hal::Instrument*> instruments_;  // real instruments, by input name
  std::map<std::string, std::string> sim_instruments_;   // --sim: name -> command
};

}  // namespace firmware
