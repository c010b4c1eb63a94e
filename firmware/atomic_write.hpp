// SPDX-License-Identifier: Apache-2.0
// write_file_atomic: replaces a small file so readers see the old or the new text, never a
// mix (the node_exporter textfile). Writes PATH.tmp and renames it over PATH, without fsync:
// the file is rewritten often and losing the latest version in a power cut is harmless.
// Errors: Errc::io with the path.
#pragma once

#include <sys/types.h>

#include <string>

#include "hal/result.hpp"

namespace firmware {

hal::Status write_file_atomic(const std::string& path, const std::string& text, mode_t mode = 0644);

}  // namespace firmware
