// SPDX-License-Identifier: Apache-2.0
#include "ion_connection.hpp"

#include <unistd.h>

#include "agent/common/read_file.hpp"
#include "agent/vault/file_key_provider.hpp"
#include "commands.hpp"
#include "secret_input.hpp"
#include "version.hpp"

namespace firmware {
namespace {

bool mentions(const agent::GraphqlResponse& r, const char* text) {
  for (const auto& m : r.messages) {
    if (m.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string sealed_path(const std::string& state_dir) {
  return state_dir + "/" + agent::kSealedFileName;
}

std::string device_key_path(const std::string& state_dir) {
  return state_dir + "/" + agent::kDeviceKeyFileName;
}

bool take_option_value(int argc, char** argv, int& i, std::string_view name, std::string& out) {
  std::string_view a = argv[i];
  if (a == name && i + 1 < argc) {
    out = argv[++i];
    return true;
  }
  if (a.size() > name.size() && a.substr(0, name.size()) == name && a[name.size()] == '=') {
    out = std::string(a.substr(name.size() + 1));
    return true;
  }
  return false;
}

std::string user_agent() {
  return std::string("ion-agent/") + ION_AGENT_VERSION;
}

int exit_code_for(agent::VaultFailure f) {
  switch (f) {
    case agent::VaultFailure::missing:
      return kExitNotProvisioned;
    case agent::VaultFailure::loose_mode:
      return kExitVaultPermissions;
    case agent::VaultFailure::unknown_format:
      return kExitVaultFormat;
    case agent::VaultFailure::auth_failed:
      return kExitVaultAuth;
    case agent::VaultFailure::board_identity:
    case agent::VaultFailure::device_key:
    case agent::VaultFailure::io:
      return kExitVaultIo;
    case agent::VaultFailure::key_other_device:
      return kExitKeyOtherDevice;
    case agent::VaultFailure::key_policy:
      return kExitKeyPolicy;
    case agent::VaultFailure::key_device_absent:
      return kExitKeyDeviceAbsent;
    case agent::VaultFailure::key_wrong_pin:
      return kExitKeyWrongPin;
    case agent::VaultFailure::key_pin_locked:
      return kExitKeyPinLocked;
    case agent::VaultFailure::key_tampered:
      return kExitKeyTampered;
    case agent::VaultFailure::key_unavailable:
      return kExitKeyUnavailable;
    case agent::VaultFailure::none:
      break;
  }
  return kExitFailure;
}

int exit_code_for(const agent::GraphqlResponse& r, int query_code) {
  using O = agent::GraphqlOutcome;
  switch (r.outcome) {
    case O::ok:
      return kExitOk;
    case O::network:
    case O::timeout:
      return r.tls_failure ? kExitTls : kExitNetwork;
    case O::credentials:
      return kExitCredentials;
    case O::rate_limited:
      return kExitRateLimited;
    case O::server_error:
      return kExitServer;
    case O::unauthorized:
      return r.token_stage ? kExitTokenEndpoint : kExitUnauthorized;
    default:
      return r.token_stage ? kExitTokenEndpoint : query_code;
  }
}

std::string fix_hint(const agent::GraphqlResponse& r, const agent::HttpSettings& http) {
  using O = agent::GraphqlOutcome;
  if (r.tls_failure) {
    return "the server's certificate was not accepted: if a factory proxy inspects TLS, pass its CA with "
           "--ca-file (or ion.ca_file in the profile); check the board's clock (a clock in 1970 makes every "
           "certificate look not-yet-valid); CA in use: " +
           (http.ca_file.empty() ? std::string("system default") : http.ca_file);
  }
  switch (r.outcome) {
    case O::network:
    case O::timeout:
      return "ION is unreachable: check DNS, routing and firewall, and the proxy (https_proxy / ion.proxy)";
    case O::credentials:
      return "the client id/secret was refused: check the key in ION (not revoked, its user active, created "
             "in "
             "this environment), then run 'ion-agent provision' again";
    case O::rate_limited:
      return "ION is rate-limiting this key" +
             (r.retry_after.count() >= 0 ? " (Retry-After " + std::to_string(r.retry_after.count()) + " s)"
                                         : std::string()) +
             "; try again later";
    case O::server_error:
      return "ION reported a server error; try again later";
    case O::unauthorized:
      if (mentions(r, "Unable to find appropriate RSA key")) {
        return "the token comes from another ION environment's auth server: the API URL and token URL belong "
               "to different environments (or the key to a third); provision again with the right --region";
      }
      if (mentions(r, "Unable to parse authentication token") ||
          mentions(r, "Please provide proper credentials")) {
        return "the Authorization header did not reach ION intact: a proxy may strip or rewrite it";
      }
      return "ION refused a fresh token: the key was revoked or its user deactivated; provision a new key";
    case O::malformed:
      return "the answer was not ION's JSON: a captive portal or proxy may be answering instead";
    case O::http_status:
      if (r.http_status == 403) {
        return "the key's user lacks permission for this query: grant it in ION";
      }
      if (r.http_status == 404) {
        return "no GraphQL endpoint at this URL: check --api-url (the API base, without /graphql)";
      }
      return "ION refused the request";
    case O::graphql_errors:
      return "ION rejected the query: this ION may not support the fields ion-agent uses (report it)";
    default:
      return "";
  }
}

hal::Status apply_profile_network(const std::string& path, agent::HttpSettings& http) {
  auto read = agent::read_file(path);
  if (!read.ok()) {
    return hal::Error(hal::Errc::config, "config: cannot read " + path);
  }
  const std::string& text = read.value();
  agent::Json root(cJSON_Parse(text.c_str()));
  if (!root) {
    const char* at = cJSON_GetErrorPtr();
    long off = at != nullptr ? static_cast<long>(at - text.c_str()) : -1;
    return hal::Error(hal::Errc::config,
                      "config: " + path + ": not valid JSON (near byte " + std::to_string(off) + ")");
  }
  const cJSON* ion = cJSON_GetObjectItemCaseSensitive(root.get(), "ion");
  if (ion == nullptr) {
    return {};
  }
  if (!cJSON_IsObject(ion)) {
    return hal::Error(hal::Errc::config, "config: " + path + ": $.ion: expected an object");
  }
  struct Str {
    const char* key;
    std::string* dst;
  } strs[] = {{"ca_file", &http.ca_file},
              {"ca_path", &http.ca_path},
              {"proxy", &http.proxy},
              {"pinned_public_key", &http.pinned_public_key}};
  for (const auto& s : strs) {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(ion, s.key);
    if (v == nullptr) {
      continue;
    }
    if (!cJSON_IsString(v)) {
      return hal::Error(hal::Errc::config, "config: " + path + ": $.ion." + s.key + ": expected a string");
    }
    *s.dst = v->valuestring;
  }
  struct Ms {
    const char* key;
    std::chrono::milliseconds* dst;
  } times[] = {{"connect_timeout_ms", &http.connect_timeout}, {"timeout_ms", &http.total_timeout}};
  for (const auto& t : times) {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(ion, t.key);
    if (v == nullptr) {
      continue;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 3600000) {
      return hal::Error(hal::Errc::config, "config: " + path + ": $.ion." + t.key +
                                               ": expected milliseconds between 1 and 3600000");
    }
    *t.dst = std::chrono::milliseconds(static_cast<long long>(v->valuedouble));
  }
  return {};
}

agent::PinReader stdin_pin_reader() {
  return [](const std::string& prompt, agent::Secret& pin) {
    return read_secret_line(STDIN_FILENO, prompt.c_str(), "token PIN", pin);
  };
}

hal::Result<OpenedVault> open_vault(const std::string& state_dir, agent::KeyProviderSettings settings,
                                    int* exit_code, agent::VaultFailure* failure) {
  agent::VaultFailure unused = agent::VaultFailure::none;
  agent::VaultFailure& why = failure != nullptr ? *failure : unused;
  why = agent::VaultFailure::none;
  settings.state_dir = state_dir;
  const std::string path = sealed_path(state_dir);
  auto id = agent::Vault::sealed_provider(path, &why);
  if (!id.ok()) {
    *exit_code = exit_code_for(why);
    return std::move(id).error();
  }
  agent::KeyFailure kf = agent::KeyFailure::none;
  auto keys = agent::make_key_provider(*id, settings, &kf);
  if (!keys.ok()) {
    why = kf == agent::KeyFailure::unavailable ? agent::VaultFailure::key_unavailable
                                               : agent::VaultFailure::unknown_format;
    *exit_code = kf == agent::KeyFailure::unavailable ? kExitKeyUnavailable : kExitVaultFormat;
    return std::move(keys).error().context("vault: " + path);
  }
  agent::FileBoardIdentity board;
  agent::Vault vault(path, **keys, board);
  auto creds = vault.open();
  if (!creds.ok()) {
    why = vault.last_failure();
    *exit_code = exit_code_for(why);
    return std::move(creds).error();
  }
  OpenedVault v;
  v.creds = std::move(creds).value();
  v.provider_id = *id;
  v.provider = (*keys)->name();
  *exit_code = kExitOk;
  return v;
}

hal::Result<IonConnection> connect_ion(const IonConnectOptions& options, const hal::Clock& clock,
                                       int* exit_code) {
  agent::KeyProviderSettings ks;
  ks.tcti = options.tcti;
  ks.pin_reader = stdin_pin_reader();
  auto opened = open_vault(options.state_dir, ks, exit_code);
  if (!opened.ok()) {
    return std::move(opened).error();
  }
  agent::Credentials* creds = &opened->creds;
  IonConnection c;
  c.key_provider = opened->provider;
  c.http.ca_file = creds->ca_file;
  c.http.pinned_public_key = creds->pinned_public_key;
  if (!options.profile_path.empty()) {
    hal::Status st = apply_profile_network(options.profile_path, c.http);
    if (!st.ok()) {
      *exit_code = kExitConfig;
      return std::move(st).error();
    }
  }
  if (!options.ca_file.empty()) {
    c.http.ca_file = options.ca_file;
  }
  c.http.user_agent = user_agent();
  c.client_id = creds->client_id;
  c.api_url = creds->api_url;
  c.token_url = creds->token_url;
  c.region = creds->region;
  c.sealed_at = creds->sealed_at;
  agent::GraphqlClientOptions o;
  o.api_url = creds->api_url;
  o.token_url = creds->token_url;
  o.client_id = creds->client_id;
  o.client_secret = std::move(creds->client_secret);
  o.http = c.http;
  auto client = agent::CurlGraphqlClient::create(std::move(o), clock);
  if (!client.ok()) {
    *exit_code = kExitConfig;
    return std::move(client).error();
  }
  c.client = std::move(client).value();
  *exit_code = kExitOk;
  return c;
}

}  // namespace firmware
