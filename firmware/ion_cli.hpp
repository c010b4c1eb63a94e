// SPDX-License-Identifier: Apache-2.0
// Shared by `provision` and `check` (and later `run`/`status`): state-directory paths, the
// mapping from vault and GraphQL failures to exit codes (commands.hpp) and to one-line hints
// that tell the operator what to fix, and the network part of a station profile.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "agent/curl_graphql_client.hpp"
#include "agent/graphql.hpp"
#include "agent/http_settings.hpp"
#include "agent/vault.hpp"
#include "hal/result.hpp"

namespace firmware {

std::string sealed_path(const std::string& state_dir);
std::string device_key_path(const std::string& state_dir);

int exit_code_for(agent::VaultFailure f);
// `query_code` is the exit code for a failure specific to the query (kExitQueryMe ...).
int exit_code_for(const agent::GraphqlResponse& r, int query_code);
// What to do about it, for the operator ("" if nothing specific to say).
std::string fix_hint(const agent::GraphqlResponse& r, const agent::HttpSettings& http);

// Network settings from a station profile's "ion" object: ca_file, ca_path, proxy,
// pinned_public_key (strings), connect_timeout_ms, timeout_ms (positive integers). Only the
// fields present are changed. Errors name the file and JSON path. Full profile validation
// belongs to the daemon's profile loader.
hal::Status apply_profile_network(const std::string& profile_path, agent::HttpSettings& http);

// Option parsing: "--name value" or "--name=value" at argv[i] (advances i past a value).
bool take_option_value(int argc, char** argv, int& i, std::string_view name, std::string& out);

// The User-Agent every ION request carries ("ion-agent/0.1.0").
std::string user_agent();

}  // namespace firmware
