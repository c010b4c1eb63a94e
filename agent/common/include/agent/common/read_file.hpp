// SPDX-License-Identifier: Apache-2.0
// The one whole-file reader, beside the one writer (atomic_file.hpp): open(2) and read(2)
// until end of file, so a production file never needs <fstream>, whose std::locale facets
// would be linked into the static embedded binary (issue 17). Works on /proc and /sys files,
// whose size stat reports as 0. No O_NOFOLLOW and no mode check: secrets go through
// vault/secure_file.hpp instead.
#pragma once

#include <cstddef>
#include <limits>
#include <string>

#include "hal/result.hpp"

namespace agent {

// What went wrong, for callers whose message names the step in their own words.
enum class ReadFileError { none, open, read, too_large };

// The bytes of `path`, as they are (no newline or CR handling). Errors, each with the path:
// open fails: Errc::not_found (ENOENT) or Errc::io, "open PATH: strerror";
// a read fails: Errc::io, "read PATH: strerror";
// more than `max` bytes: Errc::io, "read PATH: larger than MAX bytes".
hal::Result<std::string> read_file(const std::string& path,
                                   std::size_t max = std::numeric_limits<std::size_t>::max(),
                                   ReadFileError* why = nullptr);

// The first line of `text`: up to the first '\n', without it (std::getline's result).
std::string first_line(const std::string& text);

}  // namespace agent
