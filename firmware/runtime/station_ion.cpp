// SPDX-License-Identifier: Apache-2.0
// The station's link to ION: the sealed credentials opened with their key provider, the
// GraphQL client, the dispatcher and the interlock checker built on it, and the retry while
// the credentials do not open (events are accepted and kept meanwhile).
#include "station_impl.hpp"

namespace firmware {
namespace {

// What fixes each vault failure: the message must not send someone to re-provision when a
// chmod would do.
const char* credential_fix(agent::VaultFailure f) {
  switch (f) {
    case agent::VaultFailure::missing:
      return "run `ion-agent provision` first";
    case agent::VaultFailure::loose_mode:
      return "make credentials.sealed and device.key readable by their owner only (chmod 600)";
    case agent::VaultFailure::unknown_format:
      return "not a credentials file this program reads: run `ion-agent provision` again";
    case agent::VaultFailure::auth_failed:
      return "altered, or sealed on another board: run `ion-agent provision` again";
    case agent::VaultFailure::key_other_device:
      return "the key was sealed by another TPM or is not on this token: provision this board";
    case agent::VaultFailure::key_policy:
      return "the TPM's PCR values changed since provisioning: provision again";
    case agent::VaultFailure::key_device_absent:
      return "the TPM or token is not reachable (yet): check --tcti or the PKCS#11 module";
    case agent::VaultFailure::key_wrong_pin:
      return "the token PIN is wrong: fix the pin-source file or the ion-agent.pkcs11-pin credential";
    case agent::VaultFailure::key_pin_locked:
      return "the token PIN is locked or the TPM is in lockout: unlock it, then it is picked up";
    case agent::VaultFailure::key_tampered:
      return "the TPM or token refused the stored key blob as altered: provision again";
    case agent::VaultFailure::key_unavailable:
      return "sealed by a key provider this build does not include";
    case agent::VaultFailure::board_identity:
    case agent::VaultFailure::device_key:
    case agent::VaultFailure::io:
    case agent::VaultFailure::none:
      break;
  }
  return "the state directory, the device key or /etc/machine-id cannot be read";
}

}  // namespace

// The token endpoint's backoff while ION or the link is down: short, because the dispatcher
// already paces the requests that need a token (one link-down probe every 24-30 s) and a
// token backoff of minutes would outlast ION's return (seen in the fleet test: stations
// idle up to 47 s after ION was back). Still at most the profile's retry cap.
std::chrono::milliseconds token_backoff_cap(std::chrono::milliseconds retry_cap) {
  return std::min(retry_cap, std::chrono::milliseconds(10000));
}

hal::Status Station::Impl::open_client() {
  vault_failure = agent::VaultFailure::none;
  // No PIN prompt here: the daemon's stdin may be the simulator's input. A token PIN comes from
  // the URI's pin-source or the service credential (Pkcs11KeyProvider).
  agent::KeyProviderSettings ks;
  ks.tcti = opt.tcti;
  int code = 0;
  auto opened = open_vault(opt.state_dir, ks, &code, &vault_failure);
  if (!opened.ok()) {
    return std::move(opened).error().context(std::string("credentials (") + credential_fix(vault_failure) +
                                             ")");
  }
  hal::log::info("vault", "key protected by " + opened->provider);
  agent::Credentials* creds = &opened->creds;
  agent::GraphqlClientOptions o;
  o.http.ca_file = creds->ca_file;
  o.http.pinned_public_key = creds->pinned_public_key;
  const agent::IonSettings& ion = profile->ion;
  if (!ion.ca_file.empty())
    o.http.ca_file = ion.ca_file;
  if (!ion.ca_path.empty())
    o.http.ca_path = ion.ca_path;
  if (!ion.pinned_public_key.empty())
    o.http.pinned_public_key = ion.pinned_public_key;
  if (!opt.ca_file.empty())
    o.http.ca_file = opt.ca_file;
  o.http.proxy = ion.proxy;
  o.http.connect_timeout = std::chrono::milliseconds(ion.connect_timeout_ms);
  o.http.total_timeout = std::chrono::milliseconds(ion.timeout_ms);
  o.http.user_agent = user_agent();
  o.api_url = creds->api_url;
  o.token_url = creds->token_url;
  o.client_id = creds->client_id;
  o.client_secret = std::move(creds->client_secret);
  // The client must not wake an idle loop: it gets a timeout only for real transfers.
  o.max_idle_wait = agent::HttpMulti::kForever;
  o.token_policy.max_backoff = token_backoff_cap(std::chrono::milliseconds(ion.retry_cap_ms));
  o.token_policy.min_backoff = std::min(o.token_policy.min_backoff, o.token_policy.max_backoff);
  o.token_policy.rejected_backoff = std::chrono::milliseconds(ion.rejected_retry_ms);
  o.batch_max = static_cast<std::size_t>(ion.batch_max);
  auto c = agent::CurlGraphqlClient::create(std::move(o), clock);
  if (!c.ok()) {
    return std::move(c).error();
  }
  client = std::move(c).value();
  agent::DispatcherOptions d;
  // `ion-agent queue retry` from another process writes the outbox WAL; the FileWatch on it
  // (open_outbox) wakes the loop and poll() sees the change, so no look by time is needed
  // (an idle station must not wake). Without inotify it looks once a minute instead.
  d.rescan_interval = outbox_watch ? std::chrono::milliseconds(0) : std::chrono::milliseconds(60s);
  d.backoff_base = std::chrono::milliseconds(ion.retry_base_ms);
  d.backoff_cap = std::chrono::milliseconds(ion.retry_cap_ms);
  d.in_doubt_hold = std::chrono::milliseconds(ion.timeout_ms);  // see DispatcherOptions
  // Two batches' worth of intents in flight: one batch's mutations travel while the next
  // batch's lookups do (multiplexed on HTTP/2, queued on the one HTTP/1.1 connection).
  d.max_in_flight = 2 * static_cast<std::size_t>(std::max(1, ion.batch_max));
  dispatcher = std::make_unique<agent::Dispatcher>(*outbox, *client, clock, d);
  interlocks = std::make_unique<agent::IonInterlocks>(*client, clock, interlock_options(*profile));
  return hal::ok();
}

// The loop's wait: the client's (curl_multi_poll on its transfers and our fds), or, while there
// is no client (no usable credentials), a plain poll(2) on our fds.
hal::Status Station::Impl::wait(std::vector<curl_waitfd>& fds, std::optional<std::chrono::milliseconds> max) {
  if (client) {
    return client->wait(fds, max.value_or(agent::HttpMulti::kForever));
  }
  std::vector<pollfd> p(fds.size());
  for (std::size_t i = 0; i < fds.size(); ++i) {
    p[i].fd = fds[i].fd;
    p[i].events = static_cast<short>(((fds[i].events & CURL_WAIT_POLLIN) ? POLLIN : 0) |
                                     ((fds[i].events & CURL_WAIT_POLLPRI) ? POLLPRI : 0) |
                                     ((fds[i].events & CURL_WAIT_POLLOUT) ? POLLOUT : 0));
  }
  const int timeout = max ? static_cast<int>(std::min<std::int64_t>(max->count(), 1 << 30)) : -1;
  if (::poll(p.data(), p.size(), timeout) < 0 && errno != EINTR) {
    return hal::errno_error(hal::Errc::io, "poll", errno);
  }
  for (std::size_t i = 0; i < fds.size(); ++i) {
    fds[i].revents = static_cast<short>(((p[i].revents & POLLIN) ? CURL_WAIT_POLLIN : 0) |
                                        ((p[i].revents & POLLPRI) ? CURL_WAIT_POLLPRI : 0) |
                                        ((p[i].revents & POLLOUT) ? CURL_WAIT_POLLOUT : 0));
  }
  return hal::ok();
}

void Station::Impl::try_credentials(MonoTime now) {
  next_credentials_try = now + kCredentialsRetry;
  auto st = open_client();
  if (!st.ok()) {
    workflow->set_interlocks(nullptr);
    interlocks.reset();
    dispatcher.reset();
    client.reset();
    if (st.error().what != credentials_problem) {
      credentials_problem = st.error().what;
      hal::log::error("ion", credentials_problem + "; events are still accepted and kept");
      report->set_credentials_problem(to_string(vault_failure), credentials_problem);
    }
    return;
  }
  credentials_problem.clear();
  workflow->set_interlocks(interlocks.get());
  report->set_link(dispatcher.get(), client.get());
  report->set_credentials_problem("", "");
  hal::log::notice("ion", "the sealed credentials open now: delivering what was kept");
  dispatcher->poll(now);
}

}  // namespace firmware
