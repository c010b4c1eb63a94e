// SPDX-License-Identifier: Apache-2.0
// Shared by `provision` and `check` (and later `run`/`status`): state-directory paths, the
// mapping from vault and GraphQL failures to exit codes (commands.hpp) and to one-line hints
// that tell the operator what to fix, and the network part of a station profile.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/graphql/graphql.hpp"
#include "agent/net/curl_graphql_client.hpp"
#include "agent/net/http_settings.hpp"
#include "agent/vault/key_providers.hpp"
#include "agent/vault/vault.hpp"
#include "hal/clock.hpp"
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

// The sealed credentials opened with the key provider named in the file's header.
struct OpenedVault {
  agent::Credentials creds;
  std::uint8_t provider_id = 0;
  std::string provider;  // its name for messages ("TPM 2.0 (device:/dev/tpmrm0)")
};
// settings.state_dir is set from state_dir. On failure *exit_code is the vault's exit code and
// *failure (if given) what failed.
hal::Result<OpenedVault> open_vault(const std::string& state_dir, agent::KeyProviderSettings settings,
                                    int* exit_code, agent::VaultFailure* failure = nullptr);
// Reads a token PIN like the secret is read: no-echo prompt on a terminal, else one stdin line.
agent::PinReader stdin_pin_reader();

// A GraphQL client built from the sealed credentials, as `check` and the daemon need it.
struct IonConnection {
  std::unique_ptr<agent::CurlGraphqlClient> client;
  agent::HttpSettings http;  // effective transport settings (CA, pin, proxy, timeouts)
  std::string client_id, api_url, token_url, region;
  std::int64_t sealed_at = 0;
  std::string key_provider;  // which provider protects the key
};

struct IonConnectOptions {
  std::string state_dir = agent::kDefaultStateDir;
  std::string profile_path;  // "" = none; else its "ion" network settings apply
  std::string ca_file;       // "" = none; else overrides profile and provisioned CA
  std::string tcti;          // TPM TCTI for a tpm2-sealed vault ("" = TSS conventions)
};

// Opens the vault and builds the client (no network traffic yet). CA precedence: options.ca_file,
// then the profile's ion.ca_file, then the CA given at provisioning, then the system store.
// On failure *exit_code is kExitConfig for profile/URL problems, else the vault's exit code.
hal::Result<IonConnection> connect_ion(const IonConnectOptions& options, const hal::Clock& clock,
                                       int* exit_code);

// The User-Agent every ION request carries ("ion-agent/0.1.0").
std::string user_agent();

}  // namespace firmware
