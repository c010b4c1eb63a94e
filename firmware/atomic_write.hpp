// SPDX-License-Identifier: Apache-2.0
// write_file_atomic: replaces a small file so readers see the old or the new text, never a
// mix (status.json for `ion-agent status`, the node_exporter textfile). Writes PATH.tmp,
// fsyncs it, renames it over PATH. The directory is not fsynced: these files are rewritten
// often and losing the latest version in a power cut is harmless. Errors: Errc::io with path.
#pragma once

#include <sys/types.h>

#include <string>

#include "hal/result.hpp"

namespace firmware {

hal::Status write_file_atomic(const std::string& path, const std::string& text, mode_t mode = 0644);

}  // namespace firmware
