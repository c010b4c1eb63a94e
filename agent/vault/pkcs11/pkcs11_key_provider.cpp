// SPDX-License-Identifier: Apache-2.0
#include "agent/vault/pkcs11_key_provider.hpp"

#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "agent/crypto/crypto.hpp"
#include "agent/vault/secure_file.hpp"

namespace agent {
namespace {

constexpr unsigned char kBlobMagic[4] = {'I', 'P', '1', '1'};
constexpr unsigned char kBlobVersion = 1;
constexpr std::size_t kSecretSize = 32, kIvSize = 12, kTagSize = 16;
constexpr std::size_t kWrappedSize = kSecretSize + kTagSize;
constexpr char kAad[] = "ion-agent vault key, pkcs11 v1";

std::string rv_text(CK_RV rv) {
  const char* m = p11_kit_strerror(rv);
  return m != nullptr ? m : "CKR " + std::to_string(rv);
}

void put_str(std::vector<unsigned char>& b, const std::string& s) {
  b.push_back(static_cast<unsigned char>(s.size() >> 8));
  b.push_back(static_cast<unsigned char>(s.size()));
  b.insert(b.end(), s.begin(), s.end());
}

std::string padded(const unsigned char* p, std::size_t n) {
  std::string s(reinterpret_cast<const char*>(p), n);
  while (!s.empty() && s.back() == ' ') {
    s.pop_back();
  }
  return s;
}

}  // namespace

// A loaded module, a session and the parsed URI, released in reverse order.
struct Pkcs11KeyProvider::Token {
  P11KitUri* uri = nullptr;
  CK_FUNCTION_LIST* m = nullptr;
  bool initialized = false;
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  bool logged_in = false;
  ~Token() {
    if (logged_in) {
      m->C_Logout(session);
    }
    if (session != CK_INVALID_HANDLE) {
      m->C_CloseSession(session);
    }
    if (initialized) {
      p11_kit_module_finalize(m);
    }
    if (m != nullptr) {
      p11_kit_module_release(m);
    }
    if (uri != nullptr) {
      p11_kit_uri_free(uri);
    }
  }
};

Pkcs11KeyProvider::Pkcs11KeyProvider(std::string uri, std::string module, PinReader pin_reader)
    : uri_(std::move(uri)), module_(std::move(module)), pin_reader_(std::move(pin_reader)) {
  set_name(uri_);
}

void Pkcs11KeyProvider::set_name(const std::string& uri) {
  std::string shown = uri.substr(0, uri.find('?'));  // the query holds module/pin paths only
  name_ = "PKCS#11 token key (" + (shown.empty() ? std::string("pkcs11:") : shown) + ")";
}

hal::Result<KeyBytes> Pkcs11KeyProvider::seal_key(std::vector<unsigned char>& blob) {
  blob.clear();
  return run(true, uri_, module_, &blob, nullptr, nullptr);
}

hal::Result<KeyBytes> Pkcs11KeyProvider::open_key(const unsigned char* data, std::size_t n) {
  failure_ = KeyFailure::none;
  auto bad = [&]() {
    return fail(KeyFailure::tampered, hal::Error(hal::Errc::security,
                                                 "PKCS#11: the wrapped key blob is malformed (altered or "
                                                 "truncated); provision again"));
  };
  std::size_t off = 0;
  auto take = [&](std::size_t k) -> const unsigned char* {
    if (k > n - off) {
      return nullptr;
    }
    const unsigned char* p = data + off;
    off += k;
    return p;
  };
  auto take_str = [&](std::string& out) {
    const unsigned char* l = take(2);
    if (l == nullptr) {
      return false;
    }
    const unsigned char* s = take((std::size_t{l[0]} << 8) | l[1]);
    if (s == nullptr) {
      return false;
    }
    out.assign(reinterpret_cast<const char*>(s), (std::size_t{l[0]} << 8) | l[1]);
    return true;
  };
  const unsigned char* magic = take(4);
  const unsigned char* version = take(1);
  std::string uri, module;
  if (magic == nullptr || version == nullptr || std::memcmp(magic, kBlobMagic, 4) != 0 ||
      *version != kBlobVersion || !take_str(uri) || !take_str(module)) {
    return bad();
  }
  const unsigned char* iv = take(kIvSize);
  const unsigned char* wrapped = take(kWrappedSize);
  if (iv == nullptr || wrapped == nullptr || off != n) {
    return bad();
  }
  set_name(uri);
  return run(false, uri, module, nullptr, iv, wrapped);
}

hal::Result<KeyBytes> Pkcs11KeyProvider::run(bool sealing, const std::string& uri_text,
                                             const std::string& module_arg, std::vector<unsigned char>* blob,
                                             const unsigned char* iv_in, const unsigned char* wrapped) {
  failure_ = KeyFailure::none;
  auto err = [&](KeyFailure f, const std::string& what) {
    return fail(f, hal::Error(hal::Errc::security, "PKCS#11: " + what));
  };
  Token t;
  t.uri = p11_kit_uri_new();
  int prc = p11_kit_uri_parse(uri_text.c_str(), P11_KIT_URI_FOR_OBJECT_ON_TOKEN_AND_MODULE, t.uri);
  if (prc != P11_KIT_URI_OK) {
    return err(sealing ? KeyFailure::io : KeyFailure::tampered,
               "cannot parse URI '" + uri_text + "': " + p11_kit_uri_message(prc));
  }
  if (p11_kit_uri_get_pin_value(t.uri) != nullptr) {
    return err(KeyFailure::io,
               "the URI carries pin-value=: a PIN must not be on the command line; use "
               "pin-source=file:PATH (mode 0600) or let ion-agent prompt for it");
  }
  std::string module = module_arg;
  if (module.empty() && p11_kit_uri_get_module_path(t.uri) != nullptr) {
    module = p11_kit_uri_get_module_path(t.uri);
  }
  if (module.empty()) {
    return err(KeyFailure::io, "no module: give --pkcs11-module PATH or module-path= in the URI");
  }
  std::string label = kDefaultObject;
  if (CK_ATTRIBUTE* a = p11_kit_uri_get_attribute(t.uri, CKA_LABEL); a != nullptr && a->ulValueLen > 0) {
    label.assign(static_cast<const char*>(a->pValue), a->ulValueLen);
  }

  // The module path comes from the sealed file, which is authenticated only after the key is
  // unwrapped: load only a module nobody but root (or this user) could have replaced.
  struct stat ms {};
  if (module[0] != '/' || ::stat(module.c_str(), &ms) != 0 || !S_ISREG(ms.st_mode)) {
    return err(KeyFailure::device_absent,
               "module " + module + " is not an absolute path to an existing file");
  }
  if ((ms.st_uid != 0 && ms.st_uid != ::geteuid()) || (ms.st_mode & 022) != 0) {
    return err(KeyFailure::io,
               "module " + module + " is writable by others or not owned by root; refusing to load it");
  }
  t.m = p11_kit_module_load(module.c_str(), 0);
  if (t.m == nullptr) {
    return err(KeyFailure::device_absent, "cannot load module " + module + ": " + p11_kit_message());
  }
  CK_RV rv = p11_kit_module_initialize(t.m);
  if (rv != CKR_OK) {
    return err(KeyFailure::device_absent, "module " + module + " did not initialise: " + rv_text(rv));
  }
  t.initialized = true;
  CK_ULONG count = 0;
  rv = t.m->C_GetSlotList(CK_TRUE, nullptr, &count);
  std::vector<CK_SLOT_ID> slots(count);
  if (rv == CKR_OK && count > 0) {
    rv = t.m->C_GetSlotList(CK_TRUE, slots.data(), &count);
    slots.resize(count);
  }
  if (rv != CKR_OK) {
    return err(KeyFailure::device_absent, "listing slots: " + rv_text(rv));
  }
  CK_SLOT_ID slot = 0;
  bool found = false;
  std::string token_label;
  for (CK_SLOT_ID s : slots) {
    CK_TOKEN_INFO info{};
    if (t.m->C_GetTokenInfo(s, &info) == CKR_OK && p11_kit_uri_match_token_info(t.uri, &info) == 1) {
      slot = s;
      found = true;
      token_label = padded(info.label, sizeof info.label);
      break;
    }
  }
  if (!found) {
    return err(KeyFailure::device_absent, "no token matching " + uri_text.substr(0, uri_text.find('?')) +
                                              " in module " + module + " (is the secure element attached?)");
  }
  rv = t.m->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &t.session);
  if (rv != CKR_OK) {
    return err(KeyFailure::device_absent, "open session on token '" + token_label + "': " + rv_text(rv));
  }

  // The PIN: pin-source file, the service credential, or the reader (terminal / stdin).
  Secret pin;
  const char* source = p11_kit_uri_get_pin_source(t.uri);
  std::string pin_file;
  if (source != nullptr) {
    pin_file = source;
    if (pin_file.rfind("file:", 0) == 0) {
      pin_file = pin_file.substr(5);
    }
  } else {
    pin_file = service_credential_path(kPkcs11PinCredential);
  }
  if (!pin_file.empty()) {
    auto bytes = read_private_file(pin_file, Secret::kCapacity);
    if (!bytes.ok()) {
      return fail(KeyFailure::io, std::move(bytes).error().context("PKCS#11: PIN"));
    }
    std::size_t len = bytes->size();
    while (len > 0 && ((*bytes)[len - 1] == '\n' || (*bytes)[len - 1] == '\r')) {
      --len;
    }
    bool fits = pin.assign(std::string_view(reinterpret_cast<const char*>(bytes->data()), len));
    secure_zero(bytes->data(), bytes->size());
    if (!fits) {
      return err(KeyFailure::io, "PIN file too large");
    }
  } else if (pin_reader_) {
    hal::Status st = pin_reader_("PIN for token '" + token_label + "': ", pin);
    if (!st.ok()) {
      return fail(KeyFailure::io, std::move(st).error().context("PKCS#11"));
    }
  } else {
    return err(KeyFailure::io, "no PIN for token '" + token_label +
                                   "': add pin-source=file:PATH to the URI at provisioning, or give the "
                                   "service an ion-agent.pkcs11-pin credential");
  }
  rv = t.m->C_Login(t.session, CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(pin.bytes()), pin.size());
  pin.clear();
  if (rv == CKR_PIN_INCORRECT) {
    return err(KeyFailure::wrong_pin, "token '" + token_label +
                                          "' refused the PIN (wrong PIN; the token "
                                          "locks after a few more tries)");
  }
  if (rv == CKR_PIN_LOCKED) {
    return err(KeyFailure::pin_locked,
               "token '" + token_label + "': the user PIN is locked; unlock it with the SO PIN");
  }
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
    return err(KeyFailure::io, "login to token '" + token_label + "': " + rv_text(rv));
  }
  t.logged_in = rv == CKR_OK;

  // The AES key object.
  CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
  CK_KEY_TYPE type = CKK_AES;
  std::vector<CK_ATTRIBUTE> find = {
      {CKA_CLASS, &cls, sizeof cls},
      {CKA_KEY_TYPE, &type, sizeof type},
      {CKA_LABEL, label.data(), label.size()},
  };
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  CK_ULONG n_found = 0;
  rv = t.m->C_FindObjectsInit(t.session, find.data(), find.size());
  if (rv == CKR_OK) {
    rv = t.m->C_FindObjects(t.session, &key, 1, &n_found);
    t.m->C_FindObjectsFinal(t.session);
  }
  if (rv != CKR_OK) {
    return err(KeyFailure::io, "searching for key '" + label + "': " + rv_text(rv));
  }
  if (n_found == 0 && !sealing) {
    return err(KeyFailure::other_device, "token '" + token_label + "' has no AES key '" + label +
                                             "': another token, or the key was deleted; provision this "
                                             "board again");
  }
  if (n_found == 0) {
    CK_ULONG len = 32;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    std::vector<CK_ATTRIBUTE> tmpl = {
        {CKA_CLASS, &cls, sizeof cls},     {CKA_KEY_TYPE, &type, sizeof type},
        {CKA_VALUE_LEN, &len, sizeof len}, {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &yes, sizeof yes},   {CKA_SENSITIVE, &yes, sizeof yes},
        {CKA_EXTRACTABLE, &no, sizeof no}, {CKA_ENCRYPT, &yes, sizeof yes},
        {CKA_DECRYPT, &yes, sizeof yes},   {CKA_LABEL, label.data(), label.size()},
    };
    CK_MECHANISM gen = {CKM_AES_KEY_GEN, nullptr, 0};
    rv = t.m->C_GenerateKey(t.session, &gen, tmpl.data(), tmpl.size(), &key);
    if (rv != CKR_OK) {
      return err(KeyFailure::io,
                 "creating AES key '" + label + "' on token '" + token_label + "': " + rv_text(rv));
    }
  }

  unsigned char iv[kIvSize];
  if (sealing) {
    ION_TRY(crypto::random_bytes(iv, kIvSize), "PKCS#11: IV");
  } else {
    std::memcpy(iv, iv_in, kIvSize);
  }
  CK_GCM_PARAMS gcm{};
  gcm.pIv = iv;
  gcm.ulIvLen = kIvSize;
  gcm.ulIvBits = kIvSize * 8;
  gcm.pAAD = reinterpret_cast<CK_BYTE*>(const_cast<char*>(kAad));
  gcm.ulAADLen = sizeof kAad - 1;
  gcm.ulTagBits = kTagSize * 8;
  CK_MECHANISM mech = {CKM_AES_GCM, &gcm, sizeof gcm};
  KeyBytes secret;
  if (sealing) {
    rv = t.m->C_GenerateRandom(t.session, secret.bytes(), kSecretSize);
    if (rv != CKR_OK) {
      return err(KeyFailure::io, "token RNG: " + rv_text(rv));
    }
    secret.set_size(kSecretSize);
    unsigned char out[kWrappedSize];
    CK_ULONG out_len = sizeof out;
    rv = t.m->C_EncryptInit(t.session, &mech, key);
    if (rv == CKR_OK) {
      rv = t.m->C_Encrypt(t.session, secret.bytes(), kSecretSize, out, &out_len);
    }
    if (rv != CKR_OK || out_len != kWrappedSize) {
      return err(KeyFailure::io, "wrapping with key '" + label + "' (AES-GCM): " + rv_text(rv));
    }
    blob->insert(blob->end(), kBlobMagic, kBlobMagic + 4);
    blob->push_back(kBlobVersion);
    put_str(*blob, uri_text);
    put_str(*blob, module_arg);
    blob->insert(blob->end(), iv, iv + kIvSize);
    blob->insert(blob->end(), out, out + kWrappedSize);
    return secret;
  }
  unsigned char in[kWrappedSize];
  std::memcpy(in, wrapped, kWrappedSize);
  KeyBytes out;
  CK_ULONG out_len = KeyBytes::kCapacity;
  rv = t.m->C_DecryptInit(t.session, &mech, key);
  if (rv == CKR_OK) {
    rv = t.m->C_Decrypt(t.session, in, kWrappedSize, out.bytes(), &out_len);
  }
  // A failed GCM tag is CKR_ENCRYPTED_DATA_INVALID by the standard; SoftHSM2 (2.6) reports it
  // as CKR_GENERAL_ERROR. The key and mechanism were accepted by C_DecryptInit, so at this
  // point either means the wrapped bytes did not authenticate.
  if (rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE || rv == CKR_GENERAL_ERROR ||
      (rv == CKR_OK && out_len != kSecretSize)) {
    out.set_size(KeyBytes::kCapacity);
    out.clear();
    return err(KeyFailure::tampered, "the wrapped key failed authentication with key '" + label +
                                         "' (altered, or wrapped by another key of the same name); "
                                         "provision again");
  }
  if (rv != CKR_OK) {
    return err(KeyFailure::io, "unwrapping with key '" + label + "': " + rv_text(rv));
  }
  out.set_size(kSecretSize);
  return out;
}

}  // namespace agent
