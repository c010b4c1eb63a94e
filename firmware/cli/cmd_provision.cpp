// SPDX-License-Identifier: Apache-2.0
// ion-agent provision: seals an ION API key on this board (agent/vault.hpp). The client id
// and secret come from stdin only (one per line; no-echo prompts on a TTY). With --verify a
// token is exchanged first and nothing is written unless that works. Provisioning again
// replaces the sealed file atomically (key rotation). --key-provider chooses what protects the
// vault key (README "Key providers"); --rekey moves sealed credentials to another provider
// without reading the secret again: the new vault (with the provider's blob inside) replaces
// the old one by one rename, and only then is a no-longer-needed device.key removed.
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "agent/ion/regions.hpp"
#include "agent/net/curl_graphql_client.hpp"
#include "agent/vault/file_key_provider.hpp"
#include "agent/vault/key_providers.hpp"
#include "agent/vault/secure_file.hpp"
#include "agent/vault/vault.hpp"
#include "commands.hpp"
#include "hal/clock.hpp"
#include "ion_connection.hpp"
#include "secret_input.hpp"
#include "state_lock.hpp"

namespace firmware {
namespace {

constexpr const char* kUsage =
    "Usage: ion-agent provision [--state-dir DIR] (--region NAME | --api-url URL --token-url URL)\n"
    "                           [--ca-file FILE] [--pinned-public-key PIN] [--verify]\n"
    "                           [--key-provider file|tpm2|pkcs11] [--tcti CONF] [--pcrs LIST]\n"
    "                           [--pkcs11-uri URI] [--pkcs11-module PATH]\n"
    "       ion-agent provision --rekey --key-provider NAME [--state-dir DIR] [provider options]\n"
    "\n"
    "Reads the ION API key's client id, then its client secret, one per line from stdin\n"
    "(no-echo prompts on a terminal), and seals them with the ION environment in\n"
    "DIR/credentials.sealed (default " ION_AGENT_DEFAULT_STATE_DIR
    "). Never pass secrets as arguments.\n"
    "  --region NAME        production, staging, gov, gov-staging, aus, aus-staging\n"
    "  --api-url URL        API base (GraphQL at URL/graphql), with --token-url URL\n"
    "  --ca-file FILE       CA bundle to trust for this environment (stored with the key)\n"
    "  --pinned-public-key  libcurl pin, e.g. sha256//BASE64 (stored with the key)\n"
    "  --verify             exchange a token first; save only if that works\n"
    "  --key-provider NAME  what protects the vault key: file (default; DIR/device.key),\n"
    "                       tpm2 (sealed by this board's TPM), pkcs11 (wrapped by a token key)\n"
    "  --tcti CONF          tpm2: TSS TCTI, e.g. device:/dev/tpmrm0 (default: $TPM2TOOLS_TCTI,\n"
    "                       $TSS2_TCTI, device:/dev/tpmrm0) or swtpm:host=127.0.0.1,port=2321\n"
    "  --pcrs LIST          tpm2: bind the key to these SHA-256 PCRs' current values, e.g. 7\n"
    "  --pkcs11-uri URI     pkcs11: RFC 7512 URI of the token (and object=LABEL of the AES key;\n"
    "                       created if absent); PIN from ?pin-source=file:PATH or stdin\n"
    "  --pkcs11-module PATH pkcs11: the token's module (or module-path= in the URI)\n"
    "  --rekey              re-seal the existing credentials under --key-provider; the client\n"
    "                       secret is not asked for again\n";

struct Args {
  std::string state_dir = agent::kDefaultStateDir;
  std::string region, api_url, token_url, ca_file, pin;
  std::string key_provider = "file", tcti, pcrs, pkcs11_uri, pkcs11_module;
  bool verify = false;
  bool rekey = false;
  bool help = false;
};

bool parse(int argc, char** argv, Args& a, std::string& err) {
  for (int i = 0; i < argc; ++i) {
    std::string_view s = argv[i];
    if (s == "--help" || s == "-h") {
      a.help = true;
    } else if (s == "--verify") {
      a.verify = true;
    } else if (s == "--rekey") {
      a.rekey = true;
    } else if (!(take_option_value(argc, argv, i, "--state-dir", a.state_dir) ||
                 take_option_value(argc, argv, i, "--region", a.region) ||
                 take_option_value(argc, argv, i, "--api-url", a.api_url) ||
                 take_option_value(argc, argv, i, "--token-url", a.token_url) ||
                 take_option_value(argc, argv, i, "--ca-file", a.ca_file) ||
                 take_option_value(argc, argv, i, "--pinned-public-key", a.pin) ||
                 take_option_value(argc, argv, i, "--key-provider", a.key_provider) ||
                 take_option_value(argc, argv, i, "--tcti", a.tcti) ||
                 take_option_value(argc, argv, i, "--pcrs", a.pcrs) ||
                 take_option_value(argc, argv, i, "--pkcs11-uri", a.pkcs11_uri) ||
                 take_option_value(argc, argv, i, "--pkcs11-module", a.pkcs11_module))) {
      err = "unknown option or missing value: " + std::string(s) +
            (s.find("secret") != std::string_view::npos ? " (secrets are read from stdin only)" : "");
      return false;
    }
  }
  return true;
}

// Fills the environment from --region or the explicit URLs; returns an error text or "".
std::string resolve_environment(const Args& a, agent::Credentials& c) {
  if (!a.region.empty()) {
    if (!a.api_url.empty() || !a.token_url.empty()) {
      return "give either --region or --api-url/--token-url, not both";
    }
    const agent::IonRegion* r = agent::find_ion_region(a.region);
    if (r == nullptr) {
      return "unknown region '" + a.region + "' (known: " + agent::ion_region_names() + ")";
    }
    c.region = a.region;
    c.api_url = std::string(r->api_url);
    c.token_url = std::string(r->token_url);
  } else if (!a.api_url.empty() && !a.token_url.empty()) {
    c.api_url = a.api_url;
    c.token_url = a.token_url;
  } else {
    return "say which ION environment: --region NAME, or both --api-url and --token-url";
  }
  for (const std::string* u : {&c.api_url, &c.token_url}) {
    hal::Status st = agent::check_url_allowed(*u);
    if (!st.ok()) {
      return st.error().what;
    }
  }
  if (!a.ca_file.empty() && ::access(a.ca_file.c_str(), R_OK) != 0) {
    return "cannot read CA file " + a.ca_file;
  }
  c.ca_file = a.ca_file;
  c.pinned_public_key = a.pin;
  return "";
}

// Exchanges one token with the given key; returns the exit code (kExitOk on success).
int verify_key(const agent::Credentials& c) {
  agent::GraphqlClientOptions o;
  o.api_url = c.api_url;
  o.token_url = c.token_url;
  o.client_id = c.client_id;
  if (!o.client_secret.assign(c.client_secret.reveal())) {
    return kExitFailure;
  }
  o.http.ca_file = c.ca_file;
  o.http.pinned_public_key = c.pinned_public_key;
  o.http.user_agent = user_agent();
  hal::SystemClock clock;
  auto client = agent::CurlGraphqlClient::create(std::move(o), clock);
  if (!client.ok()) {
    std::fprintf(stderr, "ion-agent provision: %s\n", client.error().what.c_str());
    return kExitConfig;
  }
  auto& tokens = (*client)->tokens();
  if (tokens.ensure() == agent::TokenManager::Ready::pending) {
    (*client)->run_until_idle(std::chrono::seconds(60));
  }
  if (tokens.ensure() == agent::TokenManager::Ready::yes) {
    std::printf("verified: the token endpoint accepted the key\n");
    return kExitOk;
  }
  const agent::TokenFailure& f = tokens.last_failure();
  agent::GraphqlResponse r;
  r.outcome = f.outcome;
  r.http_status = f.http_status;
  r.messages = f.messages;
  r.tls_failure = f.tls;
  r.token_stage = true;
  r.retry_after = f.retry_after;
  agent::HttpSettings http;
  http.ca_file = c.ca_file;
  std::fprintf(stderr, "ion-agent provision: verify failed: %s\n  fix: %s\nNothing was saved.\n",
               r.summary().c_str(), fix_hint(r, http).c_str());
  return exit_code_for(r, kExitTokenEndpoint);
}

// The provider chosen on the command line; prints and returns an exit code on failure.
int make_provider(const Args& a, std::unique_ptr<agent::KeyProvider>& out) {
  const std::uint8_t id = agent::key_provider_id(a.key_provider);
  if (id == 0) {
    std::fprintf(stderr, "ion-agent provision: unknown --key-provider '%s' (built in: %s)\n",
                 a.key_provider.c_str(), agent::key_providers_built_in().c_str());
    return kExitUsage;
  }
  agent::KeyProviderSettings ks;
  ks.state_dir = a.state_dir;
  ks.tcti = a.tcti;
  ks.pkcs11_uri = a.pkcs11_uri;
  ks.pkcs11_module = a.pkcs11_module;
  ks.pin_reader = stdin_pin_reader();
  // With --rekey, --tcti may name the TPM the current vault is sealed with.
  if (id != 2 && (!a.pcrs.empty() || (!a.tcti.empty() && !a.rekey))) {
    std::fprintf(stderr, "ion-agent provision: --tcti and --pcrs go with --key-provider tpm2\n");
    return kExitUsage;
  }
  if (id != 4 && (!a.pkcs11_uri.empty() || !a.pkcs11_module.empty())) {
    std::fprintf(stderr,
                 "ion-agent provision: --pkcs11-uri and --pkcs11-module go with --key-provider pkcs11\n");
    return kExitUsage;
  }
  if (id == 4 && a.pkcs11_uri.empty()) {
    std::fprintf(stderr, "ion-agent provision: --key-provider pkcs11 needs --pkcs11-uri\n");
    return kExitUsage;
  }
  if (!a.pcrs.empty()) {
    std::string err;
    if (!agent::parse_pcr_list(a.pcrs, ks.pcrs, err)) {
      std::fprintf(stderr, "ion-agent provision: %s\n", err.c_str());
      return kExitUsage;
    }
  }
  agent::KeyFailure kf = agent::KeyFailure::none;
  auto keys = agent::make_key_provider(id, ks, &kf);
  if (!keys.ok()) {
    std::fprintf(stderr, "ion-agent provision: %s\n", keys.error().what.c_str());
    return kf == agent::KeyFailure::unavailable ? kExitKeyUnavailable : kExitUsage;
  }
  out = std::move(keys).value();
  return kExitOk;
}

// Seals c under `keys`; a device.key left from file-key provisioning is removed once the new
// vault is durably in place (a power cut before that leaves the old vault and its key intact).
int seal_with(const Args& a, agent::KeyProvider& keys, const agent::Credentials& c, const char* verb) {
  hal::Status st = agent::ensure_private_dir(a.state_dir);
  std::optional<StateLock> lock;
  StateLock::Holder holder;
  if (st.ok()) {
    // Never beside another provision. Beside the running daemon the new credentials are
    // handed over: the file is replaced atomically, and a daemon without usable credentials
    // picks it up within seconds (one with working credentials keeps them until restarted).
    auto l = StateLock::acquire(a.state_dir, "provision", &holder);
    if (!l.ok() && l.error().code == hal::Errc::busy && holder.command != "run") {
      std::fprintf(stderr, "ion-agent provision: %s: %s\n  fix: wait for it to finish. Nothing was saved.\n",
                   a.state_dir.c_str(), l.error().what.c_str());
      return kExitLocked;
    }
    if (l.ok()) {
      lock = std::move(l).value();
    }
  }
  agent::FileBoardIdentity board;
  agent::Vault vault(sealed_path(a.state_dir), keys, board);
  if (st.ok()) {
    st = vault.seal(c);
  }
  if (!st.ok()) {
    std::fprintf(stderr, "ion-agent provision: %s\n", st.error().what.c_str());
    int code = exit_code_for(vault.last_failure());
    return code == kExitVaultIo || code == kExitFailure ? kExitCantSave : code;
  }
  if (keys.id() != agent::FileKeyProvider::kId) {
    const std::string old_key = device_key_path(a.state_dir);
    if (::unlink(old_key.c_str()) == 0) {
      std::printf("removed %s: the key is now protected by %s\n", old_key.c_str(), keys.name());
    }
  }
  std::printf("%s: client %s for %s (%s), sealed in %s, key protected by %s\n", verb, c.client_id.c_str(),
              c.region.empty() ? "explicit URLs" : c.region.c_str(), c.api_url.c_str(), vault.path().c_str(),
              keys.name());
  if (!lock && holder.command == "run") {
    std::printf(
        "the running daemon (PID %d) uses them within seconds if it had no usable credentials;\n"
        "to replace working ones, restart it (systemctl restart ion-agent)\n",
        static_cast<int>(holder.pid));
  }
  return kExitOk;
}

int rekey(const Args& a) {
  if (!a.region.empty() || !a.api_url.empty() || !a.token_url.empty() || !a.ca_file.empty() ||
      !a.pin.empty() || a.verify) {
    std::fprintf(stderr,
                 "ion-agent provision: --rekey keeps the sealed key and environment; it takes only "
                 "--state-dir and the key provider options\n");
    return kExitUsage;
  }
  std::unique_ptr<agent::KeyProvider> keys;
  int rc = make_provider(a, keys);
  if (rc != kExitOk) {
    return rc;
  }
  // The old provider is the one in the header; a tpm2 vault is opened through the same TCTI.
  agent::KeyProviderSettings old;
  old.tcti = a.tcti;
  old.pin_reader = stdin_pin_reader();
  int code = kExitFailure;
  auto opened = open_vault(a.state_dir, old, &code);
  if (!opened.ok()) {
    std::fprintf(stderr, "ion-agent provision: --rekey: cannot open the current vault: %s\n",
                 opened.error().what.c_str());
    return code;
  }
  std::printf("opened: key was protected by %s\n", opened->provider.c_str());
  return seal_with(a, *keys, opened->creds, "rekeyed");
}

}  // namespace

int cmd_provision(int argc, char** argv) {
  Args a;
  std::string err;
  if (!parse(argc, argv, a, err)) {
    std::fprintf(stderr, "ion-agent provision: %s\n\n%s", err.c_str(), kUsage);
    return kExitUsage;
  }
  if (a.help) {
    std::printf("%s", kUsage);
    return kExitOk;
  }
  if (a.rekey) {
    return rekey(a);
  }
  agent::Credentials c;
  err = resolve_environment(a, c);
  if (!err.empty()) {
    std::fprintf(stderr, "ion-agent provision: %s\n", err.c_str());
    return a.region.empty() && a.api_url.empty() && a.token_url.empty() ? kExitUsage : kExitConfig;
  }
  std::unique_ptr<agent::KeyProvider> keys;
  int rc = make_provider(a, keys);
  if (rc != kExitOk) {
    return rc;
  }
  agent::Secret id;
  hal::Status st = read_secret_line(STDIN_FILENO, "ION client id: ", "client id", id);
  if (st.ok()) {
    st = read_secret_line(STDIN_FILENO, "ION client secret: ", "client secret", c.client_secret);
  }
  if (!st.ok()) {
    std::fprintf(stderr, "ion-agent %s\n", st.error().what.c_str());
    return kExitUsage;
  }
  c.client_id = std::string(id.reveal());
  id.clear();
  if (a.verify) {
    rc = verify_key(c);
    if (rc != kExitOk) {
      return rc;
    }
  }
  return seal_with(a, *keys, c, "provisioned");
}

}  // namespace firmware
